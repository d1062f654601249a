"""Suppressions: `iac-ims:skip=` comments on a block (or on the module call that contains it)
and baseline files keyed by file, resource address and rule (never line numbers)."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, Iterable

from iac_ims.directives import suppressions_in
from iac_ims.findings import Finding

BASELINE_VERSION = 1


class BaselineError(Exception):
    pass


def baseline_key(finding: Finding) -> tuple[str, str, str]:
    return (finding.file or "", finding.resource or "", finding.rule_id)


def write_baseline(path: str | Path, findings: Iterable[Finding]) -> int:
    keys = sorted({baseline_key(f) for f in findings})
    document = {"version": BASELINE_VERSION, "tool": "iac-ims",
                "findings": [{"file": f, "resource": r, "rule_id": i} for f, r, i in keys]}
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return len(keys)


def read_baseline(path: str | Path) -> set[tuple[str, str, str]]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return {(e.get("file") or "", e.get("resource") or "", e["rule_id"]) for e in document["findings"]}
    except RecursionError:
        raise BaselineError(f"cannot read baseline {path}: nested too deeply") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None


def apply_suppressions(findings: list[Finding], instances: Iterable[Any], baseline: str | None,
                       today: _dt.date) -> None:
    by_address: dict[str, list[Any]] = {}
    for instance in instances:
        by_address.setdefault(instance.address, []).append(instance)
    baseline_keys = read_baseline(baseline) if baseline else set()
    for finding in findings:
        instance = _instance_of(finding, by_address.get(finding.resource or "", []))
        if instance is not None:
            _apply_comments(finding, instance, today)
        if not finding.suppressed and baseline_key(finding) in baseline_keys:
            finding.suppressed = True
            finding.suppression_reason = "baseline"


def _instance_of(finding: Finding, candidates: list[Any]) -> Any:
    """The block a finding is about. Several root modules of one scan may have the same
    address: the one written in the finding's file (or, for a finding located at a caller's
    argument, in its related file) is meant."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    files = {finding.file, *(place.get("file") for place in finding.related)}
    return next((c for c in candidates if c.file in files), candidates[0])


def _apply_comments(finding: Finding, instance: Any, today: _dt.date) -> None:
    directives = list(instance.directives)
    for call in instance.module_calls:
        directives.extend(call.directives)
    for suppression in suppressions_in(directives):
        if finding.rule_id not in suppression.rule_ids:
            continue
        if suppression.problem:  # a malformed directive suppresses nothing, and says so
            finding.message += f" (a suppression at line {suppression.line} was not applied: {suppression.problem})"
            continue
        if suppression.active(today):
            finding.suppressed = True
            finding.suppression_reason = suppression.reason or "suppressed by comment"
            return
        finding.message += f" (its suppression expired on {suppression.expires.isoformat()})"
