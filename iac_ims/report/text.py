"""`--format text`: findings grouped by file, a summary line; colour only on a terminal."""

from __future__ import annotations

import os
from itertools import groupby
from typing import Any

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m", "dim": "\033[2m", "bold": "\033[1m"}
_RESET = "\033[0m"


def use_colour(stream: Any, no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def render_text(report: Any, *, colour: bool = False, quiet: bool = False, show_suppressed: bool = False) -> str:
    """Suppressed findings are counted in the summary and listed only with `show_suppressed`."""
    def paint(text: str, style: str) -> str:
        return f"{_COLOURS[style]}{text}{_RESET}" if colour else text

    lines: list[str] = []
    shown = [f for f in report.findings if show_suppressed or not f.suppressed]
    for file, group in groupby(shown, key=lambda f: f.file or "(no file)"):
        lines.append(paint(file, "bold"))
        for finding in group:
            where = f"{finding.line}" if finding.line else "-"
            tag = "suppressed " if finding.suppressed else ""
            head = f"  {where:>5}  {paint(finding.severity, finding.severity):<7} {finding.rule_id}  {tag}"
            lines.append(f"{head}{finding.message}")
            details = []
            if finding.resource:
                details.append(finding.resource)
            if finding.operation:
                details.append(f"operation {finding.operation}")
            if finding.scope:
                details.append(f"scope {finding.scope}")
            if details:
                lines.append(paint(f"{'':9}{' | '.join(details)}", "dim"))
            for place in finding.related:
                lines.append(paint(f"{'':9}{place.get('message')}: {place.get('file')}:{place.get('line')}", "dim"))
            if finding.fix and not finding.suppressed:
                lines.append(f"{'':9}fix: {finding.fix}")
        lines.append("")
    for error in getattr(report, "internal_errors", []):
        lines.append(f"internal error: {error.describe()}; this is a bug in iac-ims, please report it")
    if not quiet:
        counts = report.counts()
        lines.append(
            f"{_count(report.files_scanned, 'file')}, {_count(report.resources, 'resource')}: "
            f"{_count(counts['error'], 'error')}, {_count(counts['warning'], 'warning')}, {counts['info']} info, "
            f"{report.suppressed} suppressed ({report.duration_s:.2f} s)")
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
