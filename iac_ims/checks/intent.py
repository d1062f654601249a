"""IMS300-IMS307: can each role and principal perform the image operations it is meant to?"""

from __future__ import annotations

from typing import Any, Iterable

from iac_ims.catalog import Operation
from iac_ims.checks import rule
from iac_ims.checks.context import CheckContext
from iac_ims.findings import Finding
from iac_ims.graph import ALLOWED, DENIED, UNKNOWN, OperationDecision
from iac_ims.iam.actions import action_matches, canonical_index, is_wildcard
from iac_ims.iam.model import ENTERPRISE_PROJECT, UNRESOLVED, Assignment, Principal, Role
from iac_ims.iam.policy import ims_actions_named


def _quote(actions: Iterable[str]) -> str:
    return ", ".join(f'"{a}"' for a in actions)


def _api(operation: Operation) -> str:
    return f"{operation.method} {operation.path}".strip()


def _intent_outcomes(ctx: CheckContext) -> list[Finding]:
    """What the declared intents of every role and principal come to (IMS300-IMS302, IMS304-IMS307):
    one computation, which each of those rules takes its own findings from."""

    def compute() -> list[Finding]:
        found: list[Finding] = []
        for role in ctx.visit(ctx.model.custom_roles()):
            found.extend(_role_intents(ctx, role))
        for principal in ctx.visit(ctx.model.principals.values()):
            found.extend(_principal_intents(ctx, principal))
        return found

    return ctx.memo("intent outcomes", compute)


def _prerequisite_outcomes(ctx: CheckContext) -> list[Finding]:
    return ctx.memo("prerequisite outcomes", lambda: list(_prerequisites(ctx)))


def _outcomes_of(rule_id: str, *sources: Any):
    def check(ctx: CheckContext) -> Iterable[Finding]:
        for source in sources:
            yield from (f for f in source(ctx) if f.rule_id == rule_id)

    check.__name__ = f"intent_{rule_id}"
    return check


for _rule_id in ("IMS300", "IMS301", "IMS302", "IMS304", "IMS306", "IMS307"):
    rule(_rule_id)(_outcomes_of(_rule_id, _intent_outcomes))
rule("IMS303")(_outcomes_of("IMS303", _prerequisite_outcomes))
rule("IMS305")(_outcomes_of("IMS305", _intent_outcomes, _prerequisite_outcomes))


# ---- shared pieces -------------------------------------------------------------------------

def _declared(ctx: CheckContext, subject: Any, address: str, comments: list, instance: Any) -> tuple[list[Operation], list[Finding]]:
    items = ctx.declared_intents(address, comments)
    resolved, problems = ctx.resolve_intents(items)
    findings = [ctx.finding("IMS306", instance, problem.message, fix=problem.fix,
                            line=problem.item.line or None, end_line=problem.item.line or None)
                for problem in problems]
    operations = list(dict.fromkeys(op for _, op in resolved))
    for operation in operations:
        if operation.deprecated:
            replacement = ctx.catalog.operations.get(operation.replacement or "")
            instead = f"{replacement.id} ({_api(replacement)})" if replacement else "a supported API"
            findings.append(ctx.finding(
                "IMS304", instance, f"intended operation {operation.id} ({_api(operation)}) is deprecated; use {instead}",
                operation=operation.id, fix=f"call {instead} and declare that intent instead"))
    return operations, findings


def _decision_findings(ctx: CheckContext, instance: Any, subject: str, operation: Operation,
                       decision: OperationDecision, path: list[str], scope: str | None) -> Iterable[Finding]:
    """IMS300 / IMS301 / IMS305 for one intended operation, from its decision."""
    if decision.state == ALLOWED:
        return
    row = f" (table row: {_api(operation)} needs {_quote(operation.actions)})"
    if decision.state == UNKNOWN:
        reasons = "; ".join(dict.fromkeys(decision.reasons)) or "a value cannot be resolved statically"
        yield ctx.finding("IMS305", instance, f"{subject} may perform {operation.id}, but it cannot be confirmed: "
                          f"{reasons}", operation=operation.id, scope=scope,
                          evidence=[*path, *operation.actions, operation.id])
        return
    if decision.explicitly_denied:
        denials = "; ".join(s.describe() for _, s in decision.denied[:3])
        denied_actions = sorted({a for a in operation.actions for _, s in decision.denied if s.matches(a)})
        yield ctx.finding("IMS301", instance, f"{subject} is meant to perform {operation.id}, and every action it "
                          f"needs is allowed, but {_quote(denied_actions)} is denied by {denials} (Deny wins)",
                          operation=operation.id, scope=scope,
                          evidence=[*path, decision.denied[0][0], *denied_actions, operation.id],
                          fix=f"remove {_quote(denied_actions)} from that Deny statement, or do not combine the roles")
        return
    yield ctx.finding("IMS300", instance, f"{subject} is meant to perform {operation.id} but is not granted "
                      f"{_quote(decision.missing)}{row}", operation=operation.id, scope=scope,
                      evidence=[*path, *decision.missing, operation.id],
                      fix=f"add {_quote(decision.missing)} to the policy's Allow statement")


def _holder_denies(ctx: CheckContext, role: Role, assignment: Assignment) -> list[str]:
    """Other roles held by the holders of `assignment` at a scope that covers it: their Deny counts."""
    others: list[str] = []
    if assignment.scope is None:
        return others
    for principal in assignment.principals:
        for held, _group in ctx.graph.assignments_of(principal):
            if held.role != role.key and held.scope is not None and held.scope.covers(assignment.scope):
                others.append(held.role)
    return others


# ---- intents declared on a role ------------------------------------------------------------

def _role_intents(ctx: CheckContext, role: Role) -> Iterable[Finding]:
    operations, findings = _declared(ctx, role, role.instance.address, role.intents, role.instance)
    yield from findings
    if not operations:
        return
    assignments = ctx.graph.assignments_of_role(role.key)
    for operation in operations:
        decision = ctx.graph.decide_operation(operation, [role.key])
        if decision.state != ALLOWED:
            yield from _decision_findings(ctx, role.instance, role.label, operation, decision, [role.key], None)
        else:
            for assignment in assignments:
                if assignment.scope is None or not assignment.scope.reaches_project_services:
                    continue
                denies = _holder_denies(ctx, role, assignment)
                if denies:
                    combined = ctx.graph.decide_operation(operation, [role.key], deny_roles=denies)
                    if combined.state != ALLOWED:
                        yield from _decision_findings(
                            ctx, role.instance, f"{role.label} (as held by {', '.join(assignment.principals)})",
                            operation, combined, [*assignment.principals, assignment.key, role.key],
                            assignment.scope.kind)
        for assignment in assignments:
            if assignment.scope is not None and assignment.scope.kind == ENTERPRISE_PROJECT and not operation.enterprise_project:
                yield _not_at_scope(ctx, assignment, role, operation)
    yield from _unneeded_actions(ctx, role, operations)


def _not_at_scope(ctx: CheckContext, assignment: Assignment, role: Role, operation: Operation) -> Finding:
    return ctx.finding(
        "IMS302", assignment.instance,
        f"{operation.id} ({_api(operation)}) cannot be granted through an enterprise project, but "
        f"{role.label} is assigned at enterprise-project scope for it; the permission only takes effect when "
        "granted in IAM (project scope)",
        line=assignment.line, end_line=assignment.end_line, operation=operation.id, scope=ENTERPRISE_PROJECT,
        evidence=[*assignment.principals, assignment.key, role.key, *operation.actions, operation.id],
        fix='assign the role at project scope (project_id, or project_id = "all")')


def _unneeded_actions(ctx: CheckContext, role: Role, operations: list[Operation]) -> Iterable[Finding]:
    """IMS307: IMS actions granted that no declared intent needs."""
    needed = {a for op in operations for a in op.actions}
    canonical = canonical_index(ctx.catalog.actions)
    extra: list[str] = []
    for entry in ims_actions_named(role.policy, ctx.catalog, effect="Allow"):
        if is_wildcard(entry.text):
            if any(action_matches(entry.text, a) for a in ctx.catalog.actions if a not in needed):
                extra.append(entry.text)
        elif canonical.get(entry.text.lower(), entry.text) not in needed:
            extra.append(entry.text)
    extra = list(dict.fromkeys(extra))
    if extra:
        yield ctx.finding("IMS307", role.instance,
                          f"{role.label} grants {_quote(extra)}, which none of its intents "
                          f"({', '.join(op.id for op in operations)}) needs",
                          evidence=[role.key, *extra], fix=f"remove {_quote(extra)} (least privilege)")


# ---- intents declared on a principal -------------------------------------------------------

def _principal_intents(ctx: CheckContext, principal: Principal) -> Iterable[Finding]:
    operations, findings = _declared(ctx, principal, principal.instance.address, principal.intents,
                                  principal.instance)
    yield from findings
    if not operations:
        return
    holdings = [a for a, _ in ctx.graph.assignments_of(principal.key) if a.scope is not None]
    project_level = [a for a in holdings if a.scope.reaches_project_services]
    for operation in operations:
        doubt = _membership_doubt(ctx, principal.key, operation, holdings)
        usable = [a for a in project_level if a.scope.kind != ENTERPRISE_PROJECT or operation.enterprise_project]
        if usable:
            decision, first = _best_scope_decision(ctx, operation, usable, project_level)
            path = [principal.key, first.key, decision.granted_by.get(operation.actions[0], first.role)
                    if operation.actions else first.role]
            if doubt and decision.state != ALLOWED and not decision.explicitly_denied:
                decision.state, decision.reasons = UNKNOWN, [*decision.reasons, doubt]
            yield from _decision_findings(ctx, principal.instance, principal.key, operation, decision, path,
                                          first.scope.kind)
            if decision.state == ALLOWED:
                continue
        unsupported = [a for a in project_level if a not in usable]
        granting = [a for a in unsupported
                    if ctx.graph.decide_operation(operation, [a.role]).state == ALLOWED]
        for assignment in granting:
            yield _not_at_scope(ctx, assignment, ctx.model.roles[assignment.role], operation)
        if not usable and not granting:
            everything = ctx.graph.decide_operation(operation, [a.role for a in holdings])
            if doubt and everything.state != ALLOWED and not everything.explicitly_denied:
                everything.state, everything.reasons = UNKNOWN, [*everything.reasons, doubt]
            missing = everything.missing or list(operation.actions)
            where = "" if holdings else " (it holds no role in the scanned code)"
            if everything.state == ALLOWED:
                detail = "its roles allow it only at global-service scope, which does not reach IMS"
            elif everything.state == UNKNOWN:
                yield from _decision_findings(ctx, principal.instance, principal.key, operation, everything,
                                              [principal.key], None)
                continue
            else:
                detail = f"no role it holds at a project-level scope allows {_quote(missing)}{where}"
            yield ctx.finding("IMS300", principal.instance,
                              f"{principal.key} is meant to perform {operation.id} but {detail}",
                              operation=operation.id, evidence=[principal.key, *missing, operation.id],
                              fix=f"assign it a role allowing {_quote(operation.actions)} at project scope")


def _membership_doubt(ctx: CheckContext, principal: str, operation: Operation,
                      holdings: list[Assignment]) -> str | None:
    """Why a principal may hold `operation` through a group membership that could not be fully
    resolved (never a reason to call it not granted), or None."""
    possible, unknown_groups = ctx.graph.possible_assignments_of(principal)
    if unknown_groups is not None:
        return f"it may belong to groups the scanned code cannot tell ({unknown_groups.reason})"
    reaching = [(a, group) for a, group in possible if a.scope is not None and a.scope.reaches_project_services
                and (a.scope.kind != ENTERPRISE_PROJECT or operation.enterprise_project)]
    if not reaching:
        return None
    combined = ctx.graph.decide_operation(operation, [a.role for a in holdings] + [a.role for a, _ in reaching])
    if combined.state == DENIED:
        return None
    groups = ", ".join(dict.fromkeys(group for _, group in reaching))
    return (f"it may be a member of {groups}, whose members are not all known "
            f"({ctx.model.open_groups[reaching[0][1]].reason}), and what that group holds may grant it")


def _best_scope_decision(ctx: CheckContext, operation: Operation, usable: list[Assignment],
                         project_level: list[Assignment]) -> tuple[OperationDecision, Assignment]:
    """The decision at the scope where the principal fares best.  At each usable assignment's
    scope, the Allows and Denies that count are those of assignments whose scope covers it (as
    for a role's intents): a Deny held in another project does not stop this one."""
    best: tuple[tuple[int, int], OperationDecision, Assignment] | None = None
    for target in usable:
        roles = [a.role for a in usable if a.scope.covers(target.scope)]
        denies = [a.role for a in project_level if a.scope.covers(target.scope)]
        decision = ctx.graph.decide_operation(operation, roles, deny_roles=denies)
        rank = ((0, 0) if decision.state == ALLOWED else (1, 0) if decision.state == UNKNOWN
                else (2, 0) if decision.explicitly_denied else (3, len(decision.missing)))
        if best is None or rank < best[0]:
            best = (rank, decision, target)
    assert best is not None
    return best[1], best[2]


# ---- prerequisites outside IMS -------------------------------------------------------------

def _prerequisites(ctx: CheckContext) -> Iterable[Finding]:
    """IMS303: meant operations that need OBS / CBR rights the principal is not given."""
    reported: set[tuple[str, str]] = set()
    meant: list[tuple[str, Operation, list[str], str]] = []  # (principal, operation, path, how it is meant)
    for role in ctx.model.custom_roles():
        declared = ctx.role_intents(role)
        resolved, _ = ctx.resolve_intents(declared)
        operations = list(dict.fromkeys(op for _, op in resolved)) if declared else ctx.inferred_operations(role)
        how = "is meant to perform" if declared else f"holds {role.label}, which names every action of"
        for assignment in ctx.graph.assignments_of_role(role.key):
            for principal in assignment.principals:
                for operation in operations:
                    meant.append((principal, operation, [principal, assignment.key, role.key], how))
    for principal in ctx.model.principals.values():
        resolved, _ = ctx.resolve_intents(ctx.declared_intents(principal.instance.address, principal.intents))
        for _, operation in resolved:
            meant.append((principal.key, operation, [principal.key], "is meant to perform"))
    for principal_key, operation, path, how in meant:
        ctx.visit_one(ctx.model.principals.get(principal_key))
        if not operation.prerequisites or (principal_key, operation.id) in reported:
            continue
        principal = ctx.model.principals.get(principal_key)
        if principal is None:
            continue
        reported.add((principal_key, operation.id))
        for prerequisite in operation.prerequisites:
            holds, unsure = _holds_prerequisite(ctx, principal_key, prerequisite)
            if holds:
                continue
            level = ctx.catalog.services.get(prerequisite.service)
            reach = "global-service, all-resources or all-projects scope" if level and level.level == "global" \
                else "a project-level scope"
            names = " or ".join(prerequisite.any_of)
            if unsure:
                yield ctx.finding("IMS305", principal.instance,
                                  f"{principal_key} {how} {operation.id}; that operation also needs {names} "
                                  f"({prerequisite.service.upper()}) at {reach}, and some of its roles cannot be "
                                  "resolved, so whether it has it cannot be confirmed", operation=operation.id,
                                  evidence=[*path, operation.id])
                continue
            yield ctx.finding("IMS303", principal.instance,
                              f"{principal_key} {how} {operation.id} ({_api(operation)}); that operation also needs "
                              f"{names} for {prerequisite.service.upper()} at {reach}, which the scanned code does "
                              "not give it", operation=operation.id, evidence=[*path, operation.id],
                              fix=f"assign {prerequisite.any_of[0]} to {principal_key} at {reach}")


def _holds_prerequisite(ctx: CheckContext, principal: str, prerequisite: Any) -> tuple[bool, bool]:
    """(holds one of the alternatives at a scope reaching the service, some role unresolved)."""
    wanted = set()
    for name in prerequisite.any_of:
        role = ctx.catalog.system_role(name)
        wanted.add(f"system:{role.display_name}" if role else f"system:{name}")
    service = ctx.catalog.services.get(prerequisite.service)
    level = service.level if service else None
    unsure = False
    for assignment, _group in ctx.graph.assignments_of(principal):
        if assignment.scope is None or not assignment.scope.reaches(level):
            continue
        if assignment.role in wanted:
            return True, False
        if ctx.model.roles[assignment.role].kind == UNRESOLVED:
            unsure = True
    possible, unknown_groups = ctx.graph.possible_assignments_of(principal)
    if unknown_groups is not None or any(a.role in wanted and a.scope is not None and a.scope.reaches(level)
                                         for a, _ in possible):
        unsure = True
    return False, unsure
