"""IMS100-IMS107: what is wrong with a custom role's policy document itself."""

from __future__ import annotations

from typing import Iterable

from iac_ims.checks import register
from iac_ims.checks.context import CheckContext
from iac_ims.findings import Finding
from iac_ims.iam.policy import check_policy


@register("policy", reads_diagnostics=False)
def policy_findings(ctx: CheckContext) -> Iterable[Finding]:
    for role in ctx.visit(ctx.model.custom_roles()):
        if role.policy is None:
            continue
        role_type = role.role_type if isinstance(role.role_type, str) else None
        instance = role.instance
        for problem in check_policy(role.policy, ctx.catalog, role_type=role_type, custom=True):
            where = f" ({problem.json_path})" if problem.json_path and problem.json_path not in problem.message else ""
            yield ctx.finding(
                problem.rule_id, instance, problem.message + where,
                operation=problem.operation, fix=problem.fix,
                evidence=[role.key, *problem.actions, problem.operation or ""])
