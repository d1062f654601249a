"""The one place that decides whether a role or a principal can perform an IMS operation.

`Decisions.decide(subject, operation, at)` owns every part of the answer: which roles count at
a scope (scope coverage), Deny winning over Allow across all of them, Conditions and values that
cannot be resolved (unknown, never a pass nor a failure), group memberships that cannot be fully
resolved, system roles held without their dependencies, and the operations that cannot be granted
through an enterprise project. The intent checks, the scope checks and `iac-ims explain` all ask
it, so that what a finding says and what `explain` shows cannot drift apart.

The states of an answer: ALLOWED, DENIED, UNKNOWN (iam.policy_decide's, for one action), and, for an
operation at a scope, NOT_AT_SCOPE (the table says the API cannot be granted through an enterprise
project) and NO_IMS (the scope does not reach the operation's service: a global-service scope for
IMS, which is project-level; a project for a global service such as EPS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from iac_ims.catalog import ROLE_ACTION_SERVICES, Operation, Prerequisite
from iac_ims.graph import IamGraph
from iac_ims.iam.model import CUSTOM, ENTERPRISE_PROJECT, UNRESOLVED, Assignment, Scope, is_global_role_type
from iac_ims.iam.policy_decide import ALLOWED, DENIED, UNKNOWN, decide as decide_action

NOT_AT_SCOPE = "not_at_this_scope"
NO_IMS = "no_ims_at_this_scope"


@dataclass
class OperationDecision:
    """Whether a subject can perform an operation (at a scope), and why."""

    state: str
    operation: Operation
    missing: list[str] = field(default_factory=list)  # required actions with no applicable Allow
    denied: list[tuple[str, Any]] = field(default_factory=list)  # (role key, Deny statement) that deny
    granted_by: dict[str, str] = field(default_factory=dict)  # action -> role key whose Allow grants it
    reasons: list[str] = field(default_factory=list)  # why unknown
    scope: Scope | None = None  # where the answer holds (a principal's best scope)
    via: Assignment | None = None  # the assignment that scope comes from
    not_at_scope: list[Assignment] = field(default_factory=list)  # would grant it, but through an EP
    holds_nothing: bool = False  # the principal holds no role in the scanned code

    @property
    def explicitly_denied(self) -> bool:
        return self.state == DENIED and not self.missing and bool(self.denied)


class Decisions:
    def __init__(self, graph: IamGraph):
        self.graph = graph
        self.model = graph.model
        self.catalog = graph.catalog

    # ---- the question ---------------------------------------------------------------------

    def decide(self, subject: str, operation: Operation, at: Assignment | Scope | None = None) -> OperationDecision:
        """`subject`: a role key or a principal key. For a role: `at` None is what its policy
        allows as written; an Assignment is the role as held there (its holders' Denies count).
        For a principal: `at` None is the best scope it has; a Scope is that scope."""
        if subject in self.model.roles:
            if at is None:
                return self.of_roles(operation, [subject])
            if not isinstance(at, Assignment):
                raise TypeError("a role is decided at one of its assignments")
            return self._role_held(subject, operation, at)
        if subject in self.model.principals:
            if at is None:
                return self._principal_best(subject, operation)
            if not isinstance(at, Scope):
                raise TypeError("a principal is decided at a scope")
            return self._principal_at(subject, operation, at)
        raise KeyError(f"no role or principal {subject!r}")

    def operations_of_role(self, role_key: str) -> list[Operation]:
        """The IMS operations a role's policy allows outright (every required action), excluding
        those that need no action."""
        return [op for op in self.catalog.operations.values()
                if op.actions and self.of_roles(op, [role_key]).state == ALLOWED]

    def holds_role(self, principal: str, names: Iterable[str], level: str | None) -> tuple[bool, bool]:
        """(holds one of the system roles `names` at a scope reaching a service of `level`, some
        role or membership that might be one cannot be resolved)."""
        wanted = set()
        for name in names:
            role = self.catalog.system_role(name)
            wanted.add(f"system:{role.display_name}" if role else f"system:{name}")
        unsure = False
        for assignment, _group in self.graph.assignments_of(principal):
            if assignment.scope is None or not assignment.scope.reaches(level):
                continue
            if assignment.role in wanted:
                return True, False
            if self.model.roles[assignment.role].kind == UNRESOLVED:
                unsure = True
        possible, unknown_groups = self.graph.possible_assignments_of(principal)
        if unknown_groups is not None or any(a.role in wanted and a.scope is not None and a.scope.reaches(level)
                                             for a, _ in possible):
            unsure = True
        return False, unsure

    def holds_prerequisite(self, principal: str, prerequisite: Prerequisite) -> tuple[bool, bool]:
        service = self.catalog.services.get(prerequisite.service)
        return self.holds_role(principal, prerequisite.any_of, service.level if service else None)

    # ---- roles --------------------------------------------------------------------------------

    def of_roles(self, operation: Operation, roles: Iterable[str], deny_roles: Iterable[str] = ()) -> OperationDecision:
        """Can holding `roles` perform `operation`? Deny statements of `deny_roles` count too."""
        role_keys = list(dict.fromkeys(roles))
        deny_keys = [k for k in dict.fromkeys(deny_roles) if k not in role_keys]
        result = OperationDecision(ALLOWED, operation)
        statements: list[tuple[str, Any]] = []
        for key in role_keys:
            document = self.model.roles[key].policy
            if document is None or not self._takes_effect(key, operation):
                continue
            statements.extend((key, s) for s in document.statements)
            if document.unknown is not None:
                result.reasons.append(f"{self.model.roles[key].label}: {document.unknown.reason}")
        for key in deny_keys:
            document = self.model.roles[key].policy
            if document is not None and self._takes_effect(key, operation):
                statements.extend((key, s) for s in document.statements if s.effect == "Deny")
        owner = {id(s): key for key, s in statements}
        plain = [s for _, s in statements]
        any_unknown = bool(result.reasons)
        for action in operation.actions:
            decision = decide_action(action, plain)
            if decision.state == ALLOWED:
                result.granted_by[action] = owner[id(decision.allow[0])] if decision.allow else ""
                continue
            if decision.state == UNKNOWN:
                any_unknown = True
                result.reasons.append(f"{action}: {decision.reason}")
                continue
            if decision.deny and decision.allow:
                result.denied.extend((owner[id(s)], s) for s in decision.deny)
                continue
            unlisted = self._unlisted_grants(action, role_keys) if not decision.deny else []
            if unlisted:
                any_unknown = True
                result.reasons.append(f"{action}: {', '.join(unlisted)} may grant it (the catalogue lists only "
                                      "the IMS actions of system roles)")
            result.missing.append(action)
            result.denied.extend((owner[id(s)], s) for s in decision.deny)
        if result.missing or result.denied:
            result.state = DENIED
            if result.missing and any_unknown:
                result.state = UNKNOWN  # an unresolved role may hold what is missing
        elif any_unknown:
            result.state = UNKNOWN
        return result

    def _takes_effect(self, role_key: str, operation: Operation) -> bool:
        """A custom role of type AX applies to global services only (IMS104 says so of the role):
        its statements say nothing about a project-level service such as IMS. A type that cannot
        be resolved is taken as written."""
        role = self.model.roles[role_key]
        return not (role.kind == CUSTOM and is_global_role_type(role.role_type) and operation.level == "project")

    def _unlisted_grants(self, action: str, role_keys: list[str]) -> list[str]:
        """The system roles among `role_keys` of the action's service, when that service is not one
        whose actions the catalogue lists for system roles: what they grant there is not known."""
        service = action.split(":", 1)[0].strip().lower()
        if service in ROLE_ACTION_SERVICES:
            return []
        found = []
        for key in role_keys:
            system = self.model.roles[key].system
            if system is not None and service in {name.lower() for name in system.services}:
                found.append(self.model.roles[key].label)
        return found

    def _role_held(self, role_key: str, operation: Operation, assignment: Assignment) -> OperationDecision:
        """The role as its holders have it at this assignment: the Denies of every other role they
        hold at a scope covering it count (Deny wins across roles)."""
        scope = assignment.scope
        limited = self._scope_limit(operation, scope)
        if limited is not None:
            limited.via = assignment
            return limited
        denies = [held.role for principal in assignment.principals
                  for held, _group in self.graph.assignments_of(principal)
                  if held.role != role_key and held.scope is not None and held.scope.covers(scope, operation.level)]
        decision = self.of_roles(operation, [role_key], deny_roles=denies)
        decision.scope, decision.via = scope, assignment
        return decision

    # ---- principals -----------------------------------------------------------------------

    def _holdings(self, principal: str, level: str) -> tuple[list[Assignment], list[Assignment]]:
        """(assignments with a scope, those of them at a scope reaching services of `level`)."""
        holdings = [a for a, _ in self.graph.assignments_of(principal) if a.scope is not None]
        return holdings, [a for a in holdings if a.scope.reaches(level)]

    def _principal_at(self, principal: str, operation: Operation, scope: Scope) -> OperationDecision:
        limited = self._scope_limit(operation, scope)
        if limited is not None:
            return limited
        holdings, project_level = self._holdings(principal, operation.level)
        covering = [a for a in project_level if a.scope.covers(scope, operation.level)]
        decision = self.of_roles(operation, [a.role for a in covering], deny_roles=[a.role for a in covering])
        decision.scope = scope
        return self._with_membership_doubt(principal, operation, decision, holdings)

    def _principal_best(self, principal: str, operation: Operation) -> OperationDecision:
        """At the scope where the principal fares best; else why no scope works."""
        holdings, project_level = self._holdings(principal, operation.level)
        usable = [a for a in project_level if a.scope.kind != ENTERPRISE_PROJECT or operation.enterprise_project]
        not_at_scope = [a for a in project_level if a not in usable
                        and self.of_roles(operation, [a.role]).state == ALLOWED]
        if usable:
            decision = self._best_scope(operation, usable, project_level)
        elif not_at_scope:
            decision = OperationDecision(NOT_AT_SCOPE, operation)
        else:
            decision = self.of_roles(operation, [a.role for a in holdings])
            decision.holds_nothing = not holdings
            if decision.state == ALLOWED:
                decision.state = NO_IMS  # allowed only at scopes that do not reach the operation's service
            elif not decision.missing and decision.state == DENIED and not decision.denied:
                decision.missing = list(operation.actions)
        decision.not_at_scope = not_at_scope if decision.state != ALLOWED else []
        return self._with_membership_doubt(principal, operation, decision, holdings)

    def _best_scope(self, operation: Operation, usable: list[Assignment],
                    project_level: list[Assignment]) -> OperationDecision:
        """At each usable assignment's scope, the Allows and Denies that count are those of the
        assignments whose scope covers it: a Deny held in another project does not stop this one."""
        best: tuple[tuple[int, int], OperationDecision] | None = None
        for target in usable:
            roles = [a.role for a in usable if a.scope.covers(target.scope, operation.level)]
            denies = [a.role for a in project_level if a.scope.covers(target.scope, operation.level)]
            decision = self.of_roles(operation, roles, deny_roles=denies)
            decision.scope, decision.via = target.scope, target
            rank = ((0, 0) if decision.state == ALLOWED else (1, 0) if decision.state == UNKNOWN
                    else (2, 0) if decision.explicitly_denied else (3, len(decision.missing)))
            if best is None or rank < best[0]:
                best = (rank, decision)
        assert best is not None
        return best[1]

    def _with_membership_doubt(self, principal: str, operation: Operation, decision: OperationDecision,
                               holdings: list[Assignment]) -> OperationDecision:
        """A membership that cannot be fully resolved never makes a grant look absent."""
        if decision.state not in (DENIED, NO_IMS) or decision.explicitly_denied:
            return decision
        doubt = self._membership_doubt(principal, operation, holdings)
        if doubt is not None:
            decision.state = UNKNOWN
            decision.reasons.append(doubt)
        return decision

    def _membership_doubt(self, principal: str, operation: Operation, holdings: list[Assignment]) -> str | None:
        possible, unknown_groups = self.graph.possible_assignments_of(principal)
        if unknown_groups is not None:
            return f"it may belong to groups the scanned code cannot tell ({unknown_groups.reason})"
        reaching = [(a, group) for a, group in possible if a.scope is not None and a.scope.reaches(operation.level)
                    and (a.scope.kind != ENTERPRISE_PROJECT or operation.enterprise_project)]
        if not reaching:
            return None
        combined = self.of_roles(operation, [a.role for a in holdings] + [a.role for a, _ in reaching])
        if combined.state == DENIED:
            return None
        groups = ", ".join(dict.fromkeys(group for _, group in reaching))
        return (f"it may be a member of {groups}, whose members are not all known "
                f"({self.model.open_groups[reaching[0][1]].reason}), and what that group holds may grant it")

    # ---- scopes -----------------------------------------------------------------------------

    @staticmethod
    def _scope_limit(operation: Operation, scope: Scope | None) -> OperationDecision | None:
        """The answer a scope gives before any policy is read, if it gives one."""
        if scope is None or not scope.reaches(operation.level):
            return OperationDecision(NO_IMS, operation, scope=scope)
        if scope.kind == ENTERPRISE_PROJECT and not operation.enterprise_project:
            return OperationDecision(NOT_AT_SCOPE, operation, scope=scope)
        return None
