"""`--format json`, schema version 1 (INTERFACE.md): deterministic apart from duration_s."""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSION = 1


def report_to_json(report: Any) -> dict[str, Any]:
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
        "findings": [f.to_json() for f in report.findings],
        **({"internal_errors": [e.__dict__ for e in report.internal_errors]} if report.internal_errors else {}),
    }


def render_json(report: Any) -> str:
    return json.dumps(report_to_json(report), indent=2, ensure_ascii=False) + "\n"
