"""The task result HCP Terraform shows on the run: the JSON:API body of the callback PATCH.

Shape and limits: https://developer.hashicorp.com/terraform/cloud-docs/api-docs/tasks/run-tasks-integration
and the run task result schema it links (runtask-result.json, runtask-outcome.json,
runtask-tag.json). Where the docs and the schema disagree the stricter one is kept (a body of at
most 10,000 characters, at most 250 outcomes, tag keys of letters, digits and `_`), so no body
built here is one the API may reject. Findings beyond the limits are summarised in one last
outcome rather than dropped unseen.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from iac_ims.findings import FAIL_ON_RANK, SEVERITY_RANK, Finding
from iac_ims.report.markdown import escape_cell

MAX_MESSAGE = 1000
MAX_DESCRIPTION = 1000
MAX_BODY = 10_000
MAX_BODY_PART = 3000  # the message, the fix
MAX_EVIDENCE = 10
MAX_EVIDENCE_CHARS = 300
MAX_OUTCOME_ID = 64
MAX_LABEL = 32
MAX_OUTCOMES = 250
# what all outcomes may add up to, serialised: the docs advise bodies under 1 MB each and
# allow 5 MB; a whole result far under that stays clear of any proxy's request limit
MAX_OUTCOMES_BYTES = 2 * 1024 * 1024
LEVELS = {"error": "error", "warning": "warning", "info": "info"}
ELLIPSIS = "…"
OUTSIDE = "(outside the configuration)"


@dataclass(frozen=True)
class TaskResult:
    """What one callback says: `running`, `passed` or `failed`, a one-line message, outcomes
    (None: none sent, as when HCP Terraform does not accept them)."""

    status: str
    message: str
    outcomes: list[dict[str, Any]] | None = None

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "task-results",
                                "attributes": {"status": self.status, "message": one_line(self.message, MAX_MESSAGE)}}
        if self.outcomes:
            data["relationships"] = {"outcomes": {"data": self.outcomes}}
        return {"data": data}

    def without_outcomes(self) -> TaskResult:
        return TaskResult(self.status, self.message)


def could_not_check(reason: str) -> TaskResult:
    return TaskResult("failed", f"iac-ims could not check this run: {reason}")


INTERNAL_ERROR = could_not_check("internal error (details are in the iac-ims server's log)")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - len(ELLIPSIS)] + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    return clip(" ".join(text.split()), limit) or "-"


def scan_result(findings: Iterable[Finding], files_scanned: int, fail_on: str, *, with_outcomes: bool,
                notes: Iterable[str] = ()) -> TaskResult:
    """`failed` when a finding reaches `fail_on` (as `iac-ims scan` exits 1), else `passed`."""
    everything = list(findings)
    shown = sorted((f for f in everything if not f.suppressed), key=_most_severe_first)
    failing = any(SEVERITY_RANK[f.severity] >= FAIL_ON_RANK[fail_on] for f in shown)
    message = summary(shown, len(everything) - len(shown), files_scanned, fail_on, notes)
    return TaskResult("failed" if failing else "passed", message, outcomes_for(shown) if with_outcomes else None)


def _most_severe_first(finding: Finding) -> tuple:
    return (-SEVERITY_RANK[finding.severity], *finding.sort_key())


def summary(shown: list[Finding], suppressed: int, files_scanned: int, fail_on: str, notes: Iterable[str]) -> str:
    counts = Counter(f.severity for f in shown)
    parts = [f"{counts[s]} {s}{'' if counts[s] == 1 else 's'}" for s in ("error", "warning", "info") if counts[s]]
    found = ", ".join(parts) if parts else "no findings"
    files = f"{files_scanned} Terraform file{'' if files_scanned == 1 else 's'}"
    extra = [f"{suppressed} suppressed"] if suppressed else []
    threshold = "never fails" if fail_on == "never" else f"fails on {fail_on}"
    return one_line("; ".join([f"iac-ims: {found} in {files} ({threshold})", *extra, *notes]), MAX_MESSAGE)


def outcomes_for(findings: list[Finding]) -> list[dict[str, Any]]:
    """One outcome per finding, most severe first, within the count and size limits; the rest
    summarised in a last outcome."""
    outcomes: list[dict[str, Any]] = []
    size = 0
    for index, finding in enumerate(findings):
        outcome = finding_outcome(finding)
        cost = len(json.dumps(outcome, ensure_ascii=False).encode("utf-8"))
        last_slot = len(outcomes) == MAX_OUTCOMES - 1 and index < len(findings) - 1
        if last_slot or size + cost > MAX_OUTCOMES_BYTES:
            outcomes.append(rest_outcome(findings[index:]))
            break
        outcomes.append(outcome)
        size += cost
    return outcomes


def finding_outcome(finding: Finding) -> dict[str, Any]:
    # most messages name their resource already
    subject = f"{finding.resource}: " if finding.resource and finding.resource not in finding.message else ""
    return {"type": "task-result-outcomes",
            "attributes": {"outcome-id": clip(finding.rule_id, MAX_OUTCOME_ID),
                           "description": one_line(f"{subject}{finding.message}", MAX_DESCRIPTION),
                           "tags": {"Severity": [label(finding.severity.capitalize(), LEVELS[finding.severity])],
                                    "Rule": [label(finding.rule_id, "none")]},
                           "body": clip(markdown(finding), MAX_BODY)}}


def label(text: str, level: str) -> dict[str, str]:
    return {"label": one_line(text, MAX_LABEL), "level": level}


def shown_file(file: str | None) -> str | None:
    """A file as the run's page shows it: relative to the configuration's root; one outside it
    (a module called from beyond the archive) is not named, its path is the server's."""
    if file is None:
        return None
    return OUTSIDE if file.startswith(("/", "..")) else file


def markdown(finding: Finding) -> str:
    """The outcome's body. Text from the scanned code is escaped (as in `--format markdown`) or
    in code spans, so it cannot add links or HTML to the run's page; each part is cut on its own
    first, so that a long message or piece of evidence cannot push the file and line out of the
    body's limit."""
    lines = [f"**{finding.rule_id}: {escape_cell(finding.title)}**", "", escape_cell(finding.message, MAX_BODY_PART), ""]
    where = shown_file(finding.file)
    details = (("File", where and code(where) + (f", line {finding.line}" if finding.line else "")),
               ("Resource", finding.resource and code(finding.resource)),
               ("Operation", finding.operation and code(finding.operation)),
               ("Scope", finding.scope and escape_cell(finding.scope)))
    lines += [f"- **{name}:** {value}" for name, value in details if value]
    if finding.evidence:
        shown = finding.evidence[:MAX_EVIDENCE]
        lines += ["", "**Evidence**", "", *(f"- {code(clip(e, MAX_EVIDENCE_CHARS))}" for e in shown)]
        if len(finding.evidence) > len(shown):
            lines.append(f"- ... and {len(finding.evidence) - len(shown)} more")
    if finding.fix:
        lines += ["", f"**Fix:** {escape_cell(finding.fix, MAX_BODY_PART)}"]
    return "\n".join(lines)


def code(text: str) -> str:
    """An inline code span that holds any text: a run of backquotes longer than any inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def rest_outcome(rest: list[Finding]) -> dict[str, Any]:
    by_rule = Counter(f.rule_id for f in rest)
    worst = max(rest, key=lambda f: SEVERITY_RANK[f.severity]).severity
    listed = "\n".join(f"- {rule}: {count}" for rule, count in sorted(by_rule.items()))
    body = (f"{len(rest)} more findings are not listed here (a run task result holds at most {MAX_OUTCOMES} "
            f"outcomes). By rule:\n\n{listed}\n\nRun `iac-ims scan` on the configuration for all of them.")
    return {"type": "task-result-outcomes",
            "attributes": {"outcome-id": "more-findings",
                           "description": one_line(f"{len(rest)} more findings not listed", MAX_DESCRIPTION),
                           "tags": {"Severity": [label(worst.capitalize(), LEVELS[worst])]},
                           "body": clip(body, MAX_BODY)}}
