"""IMS900-IMS902: what the reading layer could not parse, resolve or read."""

from __future__ import annotations

from typing import Iterable

from iac_ims.checks import register
from iac_ims.checks.context import CheckContext
from iac_ims.findings import Finding


@register("reading")
def reading_findings(ctx: CheckContext) -> Iterable[Finding]:
    for diagnostic in ctx.diagnostics:
        yield ctx.finding(
            diagnostic.rule_id, None, diagnostic.message,
            resource=None if diagnostic.rule_id == "IMS900" else diagnostic.address,
            file=diagnostic.file, line=diagnostic.line or 1, end_line=diagnostic.end_line or diagnostic.line or 1,
            evidence=list(diagnostic.details.get("depends_on", [])))
