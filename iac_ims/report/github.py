"""`--format github`: GitHub Actions workflow commands, one line per unsuppressed finding, which
GitHub shows as annotations on the pull request's diff:

    ::error file=modules/iam/main.tf,line=12,endLine=30,title=IMS300 Intended operation not granted::message

`error` -> `::error`, `warning` -> `::warning`, `info` -> `::notice`. Values are escaped as the
Actions runner expects (`%`, CR and LF in the message; also `:` and `,` in property values).
"""

from __future__ import annotations

from typing import Any

from iac_ims.findings import Finding

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: Any) -> str:
    """The message part of a workflow command."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: Any) -> str:
    """A property value (file, title, ...) of a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command_line(command: str, properties: list[tuple[str, Any]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties if value is not None)
    return f"::{command} {props}::{escape_data(message)}" if props else f"::{command}::{escape_data(message)}"


def finding_command(finding: Finding) -> str:
    """An annotation; a suppressed finding (shown only on request) is a notice saying so."""
    properties: list[tuple[str, Any]] = [("file", finding.file)]
    if finding.file and finding.line is not None:
        properties.append(("line", finding.line))
        end = finding.end_line if finding.end_line is not None and finding.end_line >= finding.line else None
        properties.append(("endLine", end))
    title = f"{finding.rule_id} {finding.title}".strip() if finding.title else finding.rule_id
    properties.append(("title", title))
    message = finding.message
    if finding.resource and finding.resource not in message:
        message = f"{finding.resource}: {message}"
    for place in finding.related:
        message = f"{message}\n({place.get('message')}: {place.get('file')}:{place.get('line')})"
    if finding.suppressed:
        return command_line("notice", properties,
                            f"suppressed ({finding.suppression_reason or 'suppressed'}): {message}")
    if finding.fix:
        message = f"{message}\nFix: {finding.fix}"
    return command_line(COMMANDS.get(finding.severity, "warning"), properties, message)


def render_github(report: Any, *, show_suppressed: bool = False) -> str:
    lines = [finding_command(f) for f in report.findings if show_suppressed or not f.suppressed]
    for error in getattr(report, "internal_errors", []) or []:
        lines.append(command_line(
            "error", [("title", f"iac-ims internal error in check {error.check}")],
            f"{error.message} ({error.where}); please report this at the iac-ims issue tracker"))
    return "".join(line + "\n" for line in lines)
