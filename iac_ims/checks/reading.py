"""IMS900-IMS904: what the reading layer could not parse, resolve or read, and the directives it
could not understand; each a Diagnostic the loader or the IAM model made, reported as it is."""

from __future__ import annotations

from typing import Iterable

from iac_ims.checks import rule
from iac_ims.checks.context import CheckContext
from iac_ims.findings import Finding

READING_RULES = ("IMS900", "IMS901", "IMS902", "IMS903", "IMS904")


def _diagnostics_of(rule_id: str):
    def check(ctx: CheckContext) -> Iterable[Finding]:
        for diagnostic in ctx.diagnostics:
            if diagnostic.rule_id != rule_id:
                continue
            yield ctx.finding(
                diagnostic.rule_id, None, diagnostic.message,
                resource=None if diagnostic.rule_id == "IMS900" else diagnostic.address,
                file=diagnostic.file, line=diagnostic.line or 1,
                end_line=diagnostic.end_line or diagnostic.line or 1,
                evidence=list(diagnostic.details.get("depends_on", [])))

    check.__name__ = f"diagnostics_{rule_id}"
    check.__doc__ = f"{rule_id}: the diagnostics of that rule the reading layer made."
    return check


for _rule_id in READING_RULES:
    rule(_rule_id, reads_diagnostics=True)(_diagnostics_of(_rule_id))
