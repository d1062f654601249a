"""IMS200-IMS205: where roles are assigned, and whether that scope can work for IMS."""

from __future__ import annotations

import re
from typing import Any, Iterable

from iac_ims.checks import rule
from iac_ims.checks.context import CheckContext
from iac_ims.findings import Finding
from iac_ims.iam.resources import SCOPE_ARGUMENTS
from iac_ims.iam.model import CUSTOM, DOMAIN, ENTERPRISE_PROJECT, NAMED_FORMER, Assignment, RoleMention
from iac_ims.iam.policy_queries import ims_actions_named
from iac_ims.suggest import edit_distance

MAX_NAMED = 8  # operations named in one message before "and N more"
TYPO_DISTANCE = 2  # edits between a role name and a known one that make it a likely typo


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _evidence(assignment: Assignment) -> list[str]:
    """Principal, assignment (an agency is both), role."""
    where = assignment.key if assignment.via == "assignment" else assignment.resource
    return list(dict.fromkeys([*assignment.principals, where, assignment.role]))


def _scope_value(assignment: Assignment) -> tuple[Any, tuple[str, ...]]:
    """The block and attributes that set an assignment's scope (for locating findings)."""
    if assignment.via == "assignment":
        return assignment.instance, SCOPE_ARGUMENTS
    return assignment.instance, (assignment.scope.origin,) if assignment.scope else ()


def _has_ims_actions(ctx: CheckContext, role_key: str) -> bool:
    role = ctx.model.roles[role_key]
    return role.kind == CUSTOM and role.policy is not None and bool(
        ims_actions_named(role.policy, ctx.catalog, effect="Allow"))


@rule("IMS200")
def _enterprise_project_assignments(ctx: CheckContext) -> Iterable[Finding]:
    """IMS200: an enterprise-project assignment whose role's IMS operations cannot go through it."""
    for assignment in ctx.visit(ctx.model.assignments):
        role = ctx.model.roles[assignment.role]
        if assignment.scope is None or assignment.scope.kind != ENTERPRISE_PROJECT or role.kind != CUSTOM:
            continue
        operations = ctx.decisions.operations_of_role(role.key)
        if not operations:
            continue
        lost = [op.id for op in operations if not op.enterprise_project]
        kept = [op.id for op in operations if op.enterprise_project]
        if not lost:
            continue
        scope_fix = 'assign the role at project scope (project_id) or to all projects (project_id = "all")'
        if not kept:
            yield ctx.finding(
                "IMS200", assignment.instance,
                f"{role.label} is assigned at enterprise-project scope, but none of its IMS operations "
                f"({_names(lost)}) can be granted through an enterprise project: the assignment gives "
                "nothing in IMS",
                line=assignment.line, end_line=assignment.end_line, scope=ENTERPRISE_PROJECT,
                evidence=_evidence(assignment), fix=scope_fix, value_of=_scope_value(assignment))
        elif not ctx.role_intents(role):
            yield ctx.finding(
                "IMS200", assignment.instance,
                f"{role.label} is assigned at enterprise-project scope, where {_names(lost)} cannot be granted "
                f"(only {_names(kept)} work through an enterprise project)",
                line=assignment.line, end_line=assignment.end_line, scope=ENTERPRISE_PROJECT, severity="info",
                evidence=_evidence(assignment), value_of=_scope_value(assignment),
                fix=f"if the role is meant for {lost[0]}, {scope_fix}; declare intents to make this precise")


@rule("IMS201")
def _domain_only_roles(ctx: CheckContext) -> Iterable[Finding]:
    """IMS201: a custom role with IMS actions assigned only at global-service scope."""
    by_role: dict[str, list[Assignment]] = {}
    for assignment in ctx.model.assignments:
        by_role.setdefault(assignment.role, []).append(assignment)
    for role_key, assignments in by_role.items():
        if not _has_ims_actions(ctx, role_key):
            continue
        if any(a.scope is None or a.scope.kind != DOMAIN for a in assignments):
            continue
        role = ctx.model.roles[role_key]
        for assignment in assignments:
            yield ctx.finding(
                "IMS201", assignment.instance,
                f"{role.label} grants IMS actions but is assigned only at global-service scope "
                f"({assignment.scope.origin}); IMS is a project-level service and gains nothing from it",
                line=assignment.line, end_line=assignment.end_line, scope=DOMAIN, evidence=_evidence(assignment),
                value_of=_scope_value(assignment),
                fix='assign it at project scope (project_id, or project_id = "all" for all projects)'
                if assignment.via == "assignment" else "list the role in project_role or all_resources_roles")


@rule("IMS202")
def _assignments_without_scope(ctx: CheckContext) -> Iterable[Finding]:
    """IMS202: no scope, or more than one."""
    for assignment in ctx.visit(ctx.model.assignments):
        if assignment.scope is None and assignment.scope_problem:
            yield ctx.finding(
                "IMS202", assignment.instance,
                f"{assignment.resource} {assignment.scope_problem}: a role assignment needs exactly one scope",
                line=assignment.line, end_line=assignment.end_line, evidence=_evidence(assignment),
                fix="set exactly one of domain_id, project_id, enterprise_project_id", value_of=_scope_value(assignment))


@rule("IMS203")
def _unassigned_roles(ctx: CheckContext) -> Iterable[Finding]:
    """IMS203: a custom role with IMS actions that nothing in the scanned code assigns."""
    assigned = {a.role for a in ctx.model.assignments}
    unresolved = sum(1 for a in ctx.model.assignments if ctx.model.roles[a.role].unresolved is not None)
    for role in ctx.visit(ctx.model.custom_roles()):
        if role.key in assigned or not _has_ims_actions(ctx, role.key):
            continue
        note = f" ({unresolved} role references could not be resolved and may name it)" if unresolved else ""
        yield ctx.finding(
            "IMS203", role.instance, f"{role.label} grants IMS actions but nothing in the scanned code assigns it{note}",
            evidence=[role.key], fix="assign it to a group or agency at project scope, or remove it")


def _head(name: str) -> str:
    """The service token of a role name: `IMS` of `IMS FullAccess`, `te` of `te_admin`."""
    return re.split(r"[\s_]+", name.strip(), maxsplit=1)[0].lower()


def _known_names(ctx: CheckContext) -> dict[str, str]:
    """Every name a role is known by -> the display name to suggest."""
    known: dict[str, str] = {}
    for role in ctx.catalog.system_roles:
        for name in (role.display_name, role.name, *role.former_names):
            if name:
                known.setdefault(name, role.display_name)
    for role in ctx.model.custom_roles():
        if isinstance(role.display_name, str):
            known.setdefault(role.display_name, role.display_name)
    return known


def _likely_meant(text: str, known: dict[str, str]) -> str | None:
    """The known role a name is a near-typo of: a few edits away, with the same service token
    ("LTS FullAccess" is not a typo of "ECS FullAccess")."""
    limit = min(TYPO_DISTANCE, max(1, len(text) // 4))
    head = _head(text)
    near = sorted((edit_distance(text.lower(), name.lower(), limit + 1), name) for name in known
                  if _head(name) == head)
    close = [name for distance, name in near if distance <= limit]
    return known[close[0]] if close else None


@rule("IMS204")
def _misspelt_role_names(ctx: CheckContext) -> Iterable[Finding]:
    """IMS204: a role named by text that is not what iac-ims knows by that name. Once per block
    and name, whatever the module instance; never for a custom-role data source (it names a role
    of another workspace: IMS901 says so)."""
    known = _known_names(ctx)
    first: dict[tuple, RoleMention] = {}
    for mention in ctx.model.mentions:
        if mention.resolved or mention.custom_only:
            continue
        key = (mention.instance.file, mention.instance.line, mention.line, mention.text)
        if key not in first or mention.instance.address < first[key].instance.address:
            first[key] = mention
    for mention in ctx.visit(first.values()):
        evidence = [mention.instance.address, mention.text]
        if mention.status == NAMED_FORMER:
            yield ctx.finding(
                "IMS204", mention.instance,
                f"role {mention.text!r} ({mention.where}) was renamed to {mention.current!r}; whether IAM still "
                "finds a role by its former name is unconfirmed, so what it grants here cannot be confirmed",
                line=mention.line, end_line=mention.line, severity="info", evidence=evidence,
                fix=f"use {mention.current!r}", value_of=(mention.instance, (mention.where,)))
            continue
        meant = _likely_meant(mention.text, known)
        if meant is not None:
            yield ctx.finding(
                "IMS204", mention.instance,
                f"role {mention.text!r} ({mention.where}) is not a role of the scanned code nor a known system "
                f"role; did you mean {meant!r}? The provider can skip an unknown name silently",
                line=mention.line, end_line=mention.line, evidence=evidence, fix=f"use {meant!r}",
                value_of=(mention.instance, (mention.where,)))
        else:
            yield ctx.finding(
                "IMS204", mention.instance,
                f"role {mention.text!r} ({mention.where}) is neither a role of the scanned code nor one of the "
                "system roles Huawei Cloud lists (a custom role of another workspace?); what it grants cannot be "
                "confirmed, and the provider skips a name it cannot find",
                line=mention.line, end_line=mention.line, severity="info", evidence=evidence)


def _dependency_scope(dependency: Any) -> str:
    return "at global-service scope (domain_id or all resources)" if dependency.scope == "global" \
        else "in the same project (or all projects)"


@rule("IMS205")
def _missing_dependencies(ctx: CheckContext) -> Iterable[Finding]:
    """IMS205: an RBAC system role granted without the roles it depends on: it does not take
    effect (the console adds them; Terraform grants only the role it names)."""
    for assignment in ctx.visit(ctx.model.assignments):
        if not assignment.unmet or assignment.granted_role is None:
            continue
        role = ctx.model.roles[assignment.granted_role]
        holders = ", ".join(assignment.principals)
        missing = "; ".join(f"{d.role} {_dependency_scope(d)}" for d in assignment.unmet)
        scope = assignment.scope.describe() if assignment.scope else "its scope"
        yield ctx.finding(
            "IMS205", assignment.instance,
            f"{role.label} is granted to {holders} at {scope} without the roles it depends on: {missing}. Without "
            "them the role does not take effect (the console adds them, Terraform does not), so what it would "
            "grant cannot be confirmed",
            line=assignment.line, end_line=assignment.end_line,
            scope=assignment.scope.kind if assignment.scope else None,
            evidence=[*assignment.principals, assignment.key if assignment.via == "assignment" else assignment.resource,
                      role.key, *(f"system:{d.role}" for d in assignment.unmet)],
            fix="also assign " + "; ".join(f"{d.role} to {holders} {_dependency_scope(d)}" for d in assignment.unmet))
