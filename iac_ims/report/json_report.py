"""`--format json`, schema version 1: deterministic apart from duration_s."""

from __future__ import annotations

import json
from typing import Any, Iterator

SCHEMA_VERSION = 1


def report_to_json(report: Any, findings: bool = True) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "iac-ims", "version": report.tool_version},
        "summary": {
            "files_scanned": report.files_scanned,
            "resources": report.resources,
            "findings": report.counts(),
            "suppressed": report.suppressed,
            "duration_s": report.duration_s,
        },
        "findings": [f.to_json() for f in report.findings] if findings else [],
        **({"internal_errors": [e.__dict__ for e in report.internal_errors]} if report.internal_errors else {}),
    }


_PLACEHOLDER = "@@iac-ims-findings@@"


def render_json(report: Any) -> str:
    return "".join(json_chunks(report))


def json_chunks(report: Any) -> Iterator[str]:
    """The document `json.dumps(report_to_json(report), indent=2)` writes, in pieces, one finding
    at a time: written as it is made, a report of many thousand findings is never held whole."""
    document = report_to_json(report, findings=False)
    if not report.findings:
        yield json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        return
    document["findings"] = [_PLACEHOLDER]
    if "internal_errors" in document:  # after the findings, as in report_to_json
        document["internal_errors"] = document.pop("internal_errors")
    head, tail = json.dumps(document, indent=2, ensure_ascii=False).split(f'    "{_PLACEHOLDER}"')
    yield head
    for index, finding in enumerate(report.findings):
        text = json.dumps(finding.to_json(), indent=2, ensure_ascii=False)
        yield ("    " if index == 0 else ",\n    ") + text.replace("\n", "\n    ")
    yield tail + "\n"
