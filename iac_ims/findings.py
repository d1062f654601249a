"""Findings: what a check reports, in the shape of the JSON report (see the README)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}
FAIL_ON_RANK = {"info": 1, "warning": 2, "error": 3, "never": 99}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: Any) -> Any:
    """`text` with control characters escaped (`\x1b`, `\n`); other values unchanged."""
    if not isinstance(text, str) or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(slots=True)
class Finding:
    rule_id: str
    severity: str
    title: str
    message: str
    resource: str | None
    file: str | None
    line: int | None
    end_line: int | None
    operation: str | None = None
    scope: str | None = None
    evidence: list[str] = field(default_factory=list)
    fix: str | None = None
    suppressed: bool = False
    suppression_reason: str | None = None
    # other places that explain it: where a module uses the input whose value the finding is
    # about, when the finding is located at the caller's argument ({"file", "line", "message"})
    related: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Text from scanned code (names, actions, file names) must not steer a terminal or a CI
        # log: control characters are shown escaped in every output format.
        self.message = printable(self.message)
        self.title = printable(self.title)
        self.fix = printable(self.fix)
        self.resource = printable(self.resource)
        self.file = printable(self.file)
        self.suppression_reason = printable(self.suppression_reason)
        self.evidence = [printable(e) for e in self.evidence]
        self.related = [{**r, "file": printable(r.get("file")), "message": printable(r.get("message"))}
                        for r in self.related]

    def sort_key(self) -> tuple:
        return (
            self.file or "",
            self.line or 0,
            self.rule_id,
            self.resource or "",
            self.operation or "",
            self.scope or "",
            self.message,
        )

    def identity(self) -> tuple:
        """What makes two findings the same finding (used to drop exact duplicates)."""
        return (self.rule_id, self.resource, self.file, self.line, self.operation, self.scope, self.message)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "resource": self.resource,
            "file": self.file,
            "line": self.line,
            "end_line": self.end_line,
        }
        if self.operation is not None:
            out["operation"] = self.operation
        if self.scope is not None:
            out["scope"] = self.scope
        out["evidence"] = list(self.evidence)
        out["fix"] = self.fix
        out["suppressed"] = self.suppressed
        if self.suppression_reason:
            out["suppression_reason"] = self.suppression_reason
        if self.related:
            out["related"] = [dict(r) for r in self.related]
        return out
