"""IMS300-IMS307: can each role and principal perform the image operations it is meant to?"""

from __future__ import annotations

from typing import Any, Iterable

from iac_ims.catalog import Operation
from iac_ims.checks import outcomes_rule
from iac_ims.checks.deployer import deployer_outcomes
from iac_ims.checks.context import CheckContext
from iac_ims.findings import Finding
from iac_ims.decisions import NO_IMS, NOT_AT_SCOPE, OperationDecision
from iac_ims.iam.actions import is_wildcard
from iac_ims.iam.model import ENTERPRISE_PROJECT, Assignment, Principal, Role
from iac_ims.iam.policy_decide import ALLOWED, DENIED, UNKNOWN
from iac_ims.iam.policy_queries import ims_actions_named


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


for _rule_id in ("IMS300", "IMS301", "IMS302", "IMS304", "IMS306", "IMS307"):
    outcomes_rule(_rule_id, _intent_outcomes)
outcomes_rule("IMS303", _prerequisite_outcomes)
# IMS305: an intent, a prerequisite or the deployer's need that cannot be confirmed
outcomes_rule("IMS305", _intent_outcomes, _prerequisite_outcomes, deployer_outcomes)


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


# ---- intents declared on a role ------------------------------------------------------------

def _role_intents(ctx: CheckContext, role: Role) -> Iterable[Finding]:
    operations, findings = _declared(ctx, role, role.instance.address, role.intents, role.instance)
    yield from findings
    if not operations:
        return
    assignments = ctx.graph.assignments_of_role(role.key)
    for operation in operations:
        as_written = ctx.decisions.decide(role.key, operation)
        if as_written.state != ALLOWED:
            yield from _decision_findings(ctx, role.instance, role.label, operation, as_written, [role.key], None)
        for assignment in assignments:
            held = ctx.decisions.decide(role.key, operation, assignment)
            if held.state == NOT_AT_SCOPE:
                yield _not_at_scope(ctx, assignment, role, operation)
            elif as_written.state == ALLOWED and held.state in (DENIED, UNKNOWN):
                # allowed as written, but a Deny of another role its holders have there wins
                yield from _decision_findings(
                    ctx, role.instance, f"{role.label} (as held by {', '.join(assignment.principals)})",
                    operation, held, [*assignment.principals, assignment.key, role.key], assignment.scope.kind)
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
    extra: list[str] = []
    for entry in ims_actions_named(role.policy, ctx.catalog, effect="Allow"):
        if is_wildcard(entry.text):
            if any(a not in needed for a in ctx.catalog.actions_matching(entry.text)):
                extra.append(entry.text)
        elif (ctx.catalog.canonical_action(entry.text) or entry.text) not in needed:
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
    for operation in operations:
        decision = ctx.decisions.decide(principal.key, operation)
        for assignment in decision.not_at_scope:
            yield _not_at_scope(ctx, assignment, ctx.model.roles[assignment.role], operation)
        if decision.state in (ALLOWED, NOT_AT_SCOPE):
            continue
        if decision.via is not None:
            first = decision.via
            path = [principal.key, first.key, decision.granted_by.get(operation.actions[0], first.role)
                    if operation.actions else first.role]
            yield from _decision_findings(ctx, principal.instance, principal.key, operation, decision, path,
                                          first.scope.kind)
        elif decision.state == UNKNOWN:
            yield from _decision_findings(ctx, principal.instance, principal.key, operation, decision,
                                          [principal.key], None)
        else:
            where = " (it holds no role in the scanned code)" if decision.holds_nothing else ""
            detail = ("its roles allow it only at global-service scope, which does not reach IMS"
                      if decision.state == NO_IMS
                      else f"no role it holds at a project-level scope allows {_quote(decision.missing)}{where}")
            yield ctx.finding("IMS300", principal.instance,
                              f"{principal.key} is meant to perform {operation.id} but {detail}",
                              operation=operation.id, evidence=[principal.key, *decision.missing, operation.id],
                              fix=f"assign it a role allowing {_quote(operation.actions)} at project scope")


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
            holds, unsure = ctx.decisions.holds_prerequisite(principal_key, prerequisite)
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
