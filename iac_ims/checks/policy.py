"""IMS100-IMS107: what is wrong with a custom role's policy document, and (IMS103) which part of a
mixed policy takes no effect where the role is assigned."""

from __future__ import annotations

from typing import Iterable

from iac_ims.checks import rule
from iac_ims.checks.context import CheckContext
from iac_ims.checks.policy_document import DOCUMENT_RULES, check_policy
from iac_ims.findings import Finding
from iac_ims.iam.actions import split_action
from iac_ims.iam.model import ALL_PROJECTS, DOMAIN, Assignment, Role, is_global_role_type
from iac_ims.iam.policy_model import ActionEntry
from iac_ims.iam.policy_queries import allowed_by_level, ims_service

MAX_NAMED = 6  # actions or assignments named in one message before "and N more"


def _role_type(role: Role) -> str | None:
    return role.role_type if isinstance(role.role_type, str) else None


def _document_findings(rule_id: str):
    """The rule `rule_id` over every custom role's policy document."""

    def check(ctx: CheckContext) -> Iterable[Finding]:
        for role in ctx.visit(ctx.model.custom_roles()):
            if role.policy is None:
                continue
            if rule_id == "IMS107" and ctx.role_intents(role):
                # a role that declares what it is for is judged on that (IMS300, IMS307): an
                # operation it is not meant for being half-granted says nothing about it
                continue
            for problem in check_policy(role.policy, ctx.catalog, role_type=_role_type(role), rules=(rule_id,)):
                where = f" ({problem.json_path})" if problem.json_path and problem.json_path not in problem.message \
                    else ""
                yield ctx.finding(
                    problem.rule_id, role.instance, problem.message + where,
                    operation=problem.operation, fix=problem.fix,
                    evidence=[role.key, *problem.actions, problem.operation or ""],
                    value_of=(role.instance, ("type", "policy") if rule_id == "IMS104" else ("policy",)))

    check.__name__ = f"policy_document_{rule_id}"
    return check


for _rule_id in DOCUMENT_RULES:
    rule(_rule_id)(_document_findings(_rule_id))


@rule("IMS103")
def _mixed_policies(ctx: CheckContext) -> Iterable[Finding]:
    for role in ctx.visit(ctx.model.custom_roles()):
        if role.policy is not None:
            yield from _mixed_levels(ctx, role, _role_type(role))


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _services(entries: list[ActionEntry]) -> list[str]:
    return list(dict.fromkeys(split_action(e.text)[0].lower() for e in entries))  # type: ignore[index]


def _lost_at(assignment: Assignment, by_level: dict[str, list[ActionEntry]], ax: bool,
             ims_elsewhere: bool, ims: str | None) -> list[ActionEntry]:
    """The Allow entries that take no effect where this assignment grants the role."""
    kind = assignment.scope.kind if assignment.scope else None
    if kind is None or kind == ALL_PROJECTS:
        return []
    if kind == DOMAIN:
        lost = list(by_level["project"])
    else:
        lost = list(by_level["global"]) + (list(by_level["project"]) if ax else [])

    def reported_elsewhere(entry: ActionEntry) -> bool:
        # IMS actions of an AX role are IMS104's, those of a role only at domain scope IMS201's
        return (split_action(entry.text)[0].lower() == ims  # type: ignore[index]
                and (ax or (kind == DOMAIN and not ims_elsewhere)))

    return [e for e in lost if not reported_elsewhere(e)]


def _mixed_levels(ctx: CheckContext, role: Role, role_type: str | None) -> Iterable[Finding]:
    """IMS103: a policy mixing global-service and project-level actions, assigned where one kind
    takes no effect. IAM accepts such policies; the loss is silent."""
    by_level = allowed_by_level(role.policy, ctx.catalog)
    if not by_level["global"] or not by_level["project"]:
        return
    ax = is_global_role_type(role_type)
    assignments = ctx.graph.assignments_of_role(role.key)
    ims_elsewhere = any(a.scope is not None and a.scope.kind != DOMAIN for a in assignments)
    ims = ims_service(ctx.catalog)
    losses: list[tuple[Assignment, list[ActionEntry]]] = []
    for assignment in assignments:
        lost = _lost_at(assignment, by_level, ax, ims_elsewhere, ims)
        if lost:
            losses.append((assignment, lost))
    if not losses:
        return
    globals_, projects = _services(by_level["global"]), _services(by_level["project"])
    parts = []
    for assignment, lost in losses[:MAX_NAMED]:
        where = assignment.key if assignment.via == "assignment" else f"{assignment.resource} ({assignment.scope.origin})"
        actions = _listed(list(dict.fromkeys(f'"{e.text}"' for e in lost)))
        parts.append(f"at {where} ({assignment.scope.describe()}) {actions} take no effect")
    more = f"; and {len(losses) - MAX_NAMED} more assignments" if len(losses) > MAX_NAMED else ""
    lost_entries = list(dict.fromkeys(e.text for _, lost in losses for e in lost))
    yield ctx.finding(
        "IMS103", role.instance,
        f"the policy mixes global-service actions ({', '.join(globals_)}) with project-level actions "
        f"({', '.join(projects)}){' in an AX role' if ax else ''}, and where it is assigned part of it takes no "
        f"effect: {'; '.join(parts)}{more}",
        line=role.instance.attr_line("policy"), value_of=(role.instance, ("policy",)),
        evidence=[role.key, *(a.key for a, _ in losses), *lost_entries],
        fix=f'assign the role to all projects (project_id = "all") where both kinds apply, or split it into an '
            f'AX role for {", ".join(globals_)} and an XA role for {", ".join(projects)}')
