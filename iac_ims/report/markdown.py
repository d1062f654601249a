"""`--format markdown`: a pull-request comment or GitHub job summary (`$GITHUB_STEP_SUMMARY`).

A title, a counts line, a table of the unsuppressed findings (errors first; at most `MAX_ROWS`
rows, then "and N more") and a Mermaid `flowchart LR` of the graph paths behind the ERROR
findings (each finding's `evidence`, consecutive items joined), omitted when there are none.
Everything taken from the scanned code is escaped, so a message cannot break the table or inject
Markdown/HTML.
"""

from __future__ import annotations

import re
from typing import Any

from iac_ims.findings import SEVERITY_RANK, Finding

MAX_ROWS = 200
MAX_CELL = 400  # characters of a message in the table: GitHub comments are limited to 65536
MAX_EDGES = 300  # a bigger Mermaid picture is unreadable (and GitHub refuses very large ones)

_ICONS = {"error": ":x:", "warning": ":warning:", "info": ":information_source:"}
# ASCII punctuation that means something in a GitHub-flavoured Markdown table cell (emphasis, code,
# links, HTML, math, strikethrough, @mentions, the cell separator); `_` only where it could start
# or end emphasis (GitHub never treats an underscore inside a word as emphasis)
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~&$@]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def escape_cell(text: Any, limit: int | None = None) -> str:
    """Text for a table cell: Markdown/HTML punctuation backslash-escaped (so `|` is `\\|`),
    line breaks as `<br>`."""
    value = str(text)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    value = _MD_SPECIAL.sub(r"\\\1", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\n", "<br>")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _location(finding: Finding) -> str:
    if not finding.file:
        return "-"
    where = finding.file
    if finding.line is not None:
        where += f":{finding.line}"
    for place in finding.related:
        where += f"\n({place.get('message')}: {place.get('file')}:{place.get('line')})"
    return escape_cell(where)


def _mermaid_label(node: str) -> str:
    # inside a quoted Mermaid label: entity codes for what would end or confuse it
    text = node.replace("#", "#35;").replace('"', "#quot;")
    return text.replace("<", "#lt;").replace(">", "#gt;").replace("\n", " ")


def mermaid_paths(findings: list[Finding]) -> str | None:
    """`flowchart LR` of the evidence paths of these findings, or None when there is no edge."""
    ids: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        path = [str(item) for item in finding.evidence if item not in (None, "")]
        for source, target in zip(path, path[1:]):
            if source == target or (source, target) in seen:
                continue
            seen.add((source, target))
            edges.append((source, target))
    if not edges:
        return None
    truncated = len(edges) - MAX_EDGES
    edges = edges[:MAX_EDGES]
    for source, target in edges:
        for node in (source, target):
            if node not in ids:
                ids[node] = f"n{len(ids)}"  # sanitised: Mermaid keywords such as `end` cannot clash
    lines = ["flowchart LR"]
    lines += [f'  {node_id}["{_mermaid_label(node)}"]' for node, node_id in ids.items()]
    lines += [f"  {ids[source]} --> {ids[target]}" for source, target in edges]
    text = "\n".join(lines)
    if truncated > 0:
        text += f"\n  %% {truncated} more edges left out"
    return text


def render_markdown(report: Any, *, show_suppressed: bool = False) -> str:
    counts = report.counts()
    shown = [f for f in report.findings if show_suppressed or not f.suppressed]
    shown.sort(key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), *f.sort_key()))

    lines = ["## iac-ims: Huawei Cloud IMS permissions", ""]
    status = ":x:" if counts.get("error") else (":warning:" if counts.get("warning") else ":white_check_mark:")
    lines.append(
        f"{status} **{_plural(counts.get('error', 0), 'error')}**, {_plural(counts.get('warning', 0), 'warning')}, "
        f"{counts.get('info', 0)} info, {report.suppressed} suppressed "
        f"({_plural(report.files_scanned, 'file')}, {_plural(report.resources, 'resource')} scanned)")
    for error in getattr(report, "internal_errors", []) or []:
        lines += ["", f"> **Internal error** in check {escape_cell(error.check)}: {escape_cell(error.message)} "
                      "- please report this at the iac-ims issue tracker."]
    lines.append("")
    if not shown:
        lines += ["No findings.", ""]
    else:
        lines += ["| Severity | Rule | Location | Resource | Message |", "|---|---|---|---|---|"]
        for finding in shown[:MAX_ROWS]:
            message = finding.message if not finding.fix else f"{finding.message}\nFix: {finding.fix}"
            if finding.suppressed:
                message = f"(suppressed: {finding.suppression_reason or 'suppressed'}) {finding.message}"
            lines.append(
                f"| {_ICONS.get(finding.severity, '')} {escape_cell(finding.severity)} "
                f"| {escape_cell(finding.rule_id)} | {_location(finding)} "
                f"| {escape_cell(finding.resource) if finding.resource else '-'} "
                f"| {escape_cell(message, MAX_CELL)} |")
        if len(shown) > MAX_ROWS:
            lines += ["", f"… and {len(shown) - MAX_ROWS} more."]
        lines.append("")

    errors = [f for f in shown if f.severity == "error" and not f.suppressed]
    chart = mermaid_paths(errors) if errors else None
    if chart:
        lines += ["### Paths behind the errors", "", "```mermaid", chart, "```", ""]
    return "\n".join(lines)
