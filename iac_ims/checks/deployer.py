"""IMS308-IMS311: can the deployer plan, apply and destroy the scanned configuration?

The deployer is the user, group or agency that runs terraform: config `deployer`, `--deployer`,
or `iac-ims:deployer` directly above its block. What the configuration needs comes from the
provider-call map (requirements.py); whether the deployer has it, from the decision point every
other intent check asks. A need the scan cannot be sure of (an argument whose value is unknown, a
fallback after an error) is IMS305 when the deployer lacks it, never an error; a call whose action
no permission table confirms is IMS311, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from iac_ims.catalog import CallRequirement, Operation
from iac_ims.checks import outcomes_rule
from iac_ims.checks.context import CheckContext
from iac_ims.decisions import NO_IMS, OperationDecision
from iac_ims.findings import Finding
from iac_ims.iam.model import CUSTOM, ENTERPRISE_PROJECT, Principal
from iac_ims.iam.policy_decide import ALLOWED, UNKNOWN
from iac_ims.requirements import ActionNeed, ResourceNeeds, by_resource, needs, service_level, where

DEPENDENCY = "dependency"  # a console dependency: what the console asks for, not what an API call needs
UNCONFIRMED = "unconfirmed"


def deployers(ctx: CheckContext) -> list[Principal]:
    """The principals named as the deployer (an address with or without its instance key)."""
    wanted = set(ctx.config_deployers)
    found = []
    for principal in ctx.model.principals.values():
        address = principal.instance.address
        base = address.split("[", 1)[0] if address.endswith("]") else address
        if principal.deployer or address in wanted or base in wanted:
            found.append(principal)
    return found


def deployer_outcomes(ctx: CheckContext) -> list[Finding]:
    """What every deployer lacks for every resource block (IMS305, IMS308-IMS311), computed once."""
    def compute() -> list[Finding]:
        chosen = deployers(ctx)
        if not chosen:
            return []
        groups = by_resource(needs(ctx.instances, ctx.catalog), ctx.catalog)
        found: list[Finding] = []
        for deployer in ctx.visit(chosen):
            # what cannot be checked is said once per deployer (the same job-polling call of every
            # image resource is one thing to look up, not one per resource)
            unchecked: dict[str, list[tuple[ResourceNeeds, str]]] = {}
            for group in groups:
                assessment = _Assessment(ctx, deployer, group)
                found.extend(assessment.findings())
                for text in assessment.unchecked:
                    unchecked.setdefault(text, []).append((group, ""))
                for call in group.unconfirmed:
                    unchecked.setdefault(f"{call.call}: no permission table lists its action", []).append(
                        (group, ", ".join(call.provider_phases)))
            if unchecked:
                found.append(_unchecked_finding(ctx, deployer, unchecked))
        return found

    return ctx.memo("deployer outcomes", compute)


for _rule_id in ("IMS308", "IMS309", "IMS310", "IMS311"):
    outcomes_rule(_rule_id, deployer_outcomes)


@dataclass
class _Assessment:
    """What one deployer lacks for one resource block."""

    ctx: CheckContext
    deployer: Principal
    group: ResourceNeeds
    missing: list[tuple[ActionNeed, OperationDecision]] = field(default_factory=list)
    ep_only: list[tuple[ActionNeed, OperationDecision]] = field(default_factory=list)
    unsure: list[str] = field(default_factory=list)  # IMS305 sentences
    unchecked: list[str] = field(default_factory=list)  # IMS311 sentences
    prerequisites: list[str] = field(default_factory=list)  # IMS310 sentences
    outside: list[ActionNeed] = field(default_factory=list)  # other services' actions the calls need

    def findings(self) -> list[Finding]:
        for need in self.group.actions:
            self._assess_action(need)
        for service, needs_of_service in _by_service(self.outside).items():
            phases = list(dict.fromkeys(p for n in needs_of_service for p in n.provider_phases))
            calls = list(dict.fromkeys(c for n in needs_of_service for c in n.calls))
            requirement = CallRequirement(service, actions=tuple(n.action for n in needs_of_service),
                                          basis="documented", why="the provider calls it")
            self._assess_prerequisite(requirement, any(n.certain for n in needs_of_service), where(phases, calls))
        for prerequisite in self.group.prerequisites:
            self._assess_prerequisite(prerequisite.requirement, prerequisite.certain, prerequisite.where())
        return list(self._report())

    # ---- the actions of the calls

    def _assess_action(self, need: ActionNeed) -> None:
        decision = self._decide(need.action, need.level, need.enterprise_project == "yes")
        if decision.state == ALLOWED:
            return
        if not self.ctx.catalog.is_ims_action(need.action):
            # another service's action in an IMS resource's call (EPS to move it, CBR to read
            # its backup): a prerequisite outside IMS, said per service below
            self.outside.append(need)
            return
        if decision.not_at_scope and need.enterprise_project == "unknown":
            wider = self._decide(need.action, need.level, True)
            if wider.state == ALLOWED:
                self.unchecked.append(f"{need.action} ({need.where()}) is held only through "
                                      "an enterprise project, and whether that API can be granted there is "
                                      "unconfirmed")
                return
        if decision.state == UNKNOWN:
            reasons = "; ".join(dict.fromkeys(decision.reasons)) or "a value cannot be resolved statically"
            self.unsure.append(f"{need.action} ({need.where()}): {reasons}")
        elif not need.certain:
            self.unsure.append(f"{need.action} ({need.where()}), which the deployer is not granted, may be needed "
                               f"({'; '.join(need.whys)})")
        elif decision.not_at_scope and need.certain_enterprise_project == "no":
            self.ep_only.append((need, decision))
        elif decision.not_at_scope:
            self.unsure.append(f"{need.action} ({need.where()}) is held only through an enterprise project, which "
                               "does not work for some of these calls; whether they are made cannot be resolved "
                               "statically")
        else:
            self.missing.append((need, decision))

    def _decide(self, action: str, level: str, through_enterprise_project: bool) -> OperationDecision:
        key = ("deployer decision", self.deployer.key, action, through_enterprise_project)
        operation = Operation(action, "", "", action, (action,), level == "project", through_enterprise_project,
                              level=level)
        return self.ctx.memo(repr(key), lambda: self.ctx.decisions.decide(self.deployer.key, operation))

    # ---- permissions outside the calls' actions

    def _assess_prerequisite(self, requirement: CallRequirement, certain: bool, place: str) -> None:
        if requirement.basis == DEPENDENCY:
            return
        wanted = _requirement_text(requirement)
        if requirement.basis == UNCONFIRMED:
            self.unchecked.append(f"{place} also needs {wanted or requirement.service.upper()}: {requirement.why} "
                                  "(unconfirmed: not checked)")
            return
        holds, unsure = self._holds(requirement)
        if holds:
            return
        if unsure or not certain:
            because = "some of its roles cannot be resolved" if unsure else "only in some cases"
            self.unsure.append(f"{place} may need {wanted} ({requirement.why}); {because}, so whether the deployer "
                               "has it cannot be confirmed")
            return
        self.prerequisites.append(f"{wanted} for {requirement.service.upper()} ({place}; {requirement.why})")

    def _holds(self, requirement: CallRequirement) -> tuple[bool, bool]:
        unsure = False
        if requirement.roles:
            service = self.ctx.catalog.services.get(requirement.service.lower())
            holds, unsure = self.ctx.decisions.holds_role(self.deployer.key, requirement.roles,
                                                          service.level if service else None)
            if holds:
                return True, False
        if requirement.actions:
            states = [self._decide(a, service_level(a, self.ctx.catalog), True).state for a in requirement.actions]
            if all(state == ALLOWED for state in states):
                return True, False
            unsure = unsure or UNKNOWN in states
        return False, unsure

    # ---- findings

    def _report(self) -> Iterable[Finding]:
        who, group = self.deployer.key, self.group
        what = _resource_label(group)
        related = [{"file": group.instance.file, "line": group.instance.line, "message": f"{group.address} needs it"}]
        evidence = [who, group.address]
        if self.missing:
            actions = [need.action for need, _ in self.missing]
            details = "; ".join(f"{need.action} ({need.where()}){_why_not(decision)}"
                                for need, decision in self.missing)
            yield self._finding("IMS308", f"{who} runs terraform for {what}, but is not granted {details}",
                                evidence + actions, related, fix=self._extend_fix(actions))
        if self.ep_only:
            actions = [need.action for need, _ in self.ep_only]
            via = ", ".join(dict.fromkeys(a.key for _, d in self.ep_only for a in d.not_at_scope))
            details = "; ".join(f"{need.action} ({need.where()})" for need, _ in self.ep_only)
            yield self._finding("IMS309", f"{who} runs terraform for {what}, and holds {details} only through an "
                                f"enterprise project ({via}), but these APIs cannot be granted through an enterprise "
                                "project: the calls fail with 403", evidence + actions, related,
                                scope=ENTERPRISE_PROJECT,
                                fix="assign the role at project scope (project_id, or project_id = \"all\") as well")
        if self.prerequisites:
            yield self._finding("IMS310", f"{who} runs terraform for {what}, which also needs "
                                + "; ".join(self.prerequisites) + ", and the scanned code does not give it that",
                                evidence, related, fix="give the deployer the permission or role named, at a scope "
                                "that covers its service")
        if self.unsure:
            yield self._finding("IMS305", f"{who} runs terraform for {what}; it cannot be confirmed that it has "
                                "everything needed: " + "; ".join(self.unsure), evidence, related)

    def _finding(self, rule_id: str, message: str, evidence: list[str], related: list[dict[str, Any]],
                 fix: str | None = None, scope: str | None = None) -> Finding:
        return self.ctx.finding(rule_id, self.deployer.instance, message, evidence=evidence, related=related,
                                fix=fix, scope=scope)

    def _extend_fix(self, actions: list[str]) -> str:
        listed = ", ".join(f'"{a}"' for a in dict.fromkeys(actions))
        roles = [a.role for a, _ in self.ctx.graph.assignments_of(self.deployer.key)
                 if a.scope is not None and a.scope.kind != ENTERPRISE_PROJECT and a.scope.reaches("project")
                 and self.ctx.model.roles[a.role].kind == CUSTOM]
        roles = list(dict.fromkeys(roles))
        if roles:
            return f"add {listed} to {' or '.join(roles)}"
        return (f"assign {self.deployer.key} a role allowing {listed} at project scope "
                "(`iac-ims requirements --format terraform` writes one)")


def _by_service(found: list[ActionNeed]) -> dict[str, list[ActionNeed]]:
    services: dict[str, list[ActionNeed]] = {}
    for need in found:
        services.setdefault(need.action.split(":", 1)[0].lower(), []).append(need)
    return services


MAX_RELATED = 10  # related locations listed on one finding


def _unchecked_finding(ctx: CheckContext, deployer: Principal,
                       unchecked: dict[str, list[tuple[ResourceNeeds, str]]]) -> Finding:
    """IMS311: everything a deployer needs that the facts do not confirm, with who needs it (and when)."""
    items = [f"{text} [{', '.join(_resource_label(g) + (f' ({when})' if when else '') for g, when in needers)}]"
             for text, needers in unchecked.items()]
    blocks = list({id(g): g for needers in unchecked.values() for g, _ in needers}.values())
    related = [{"file": g.instance.file, "line": g.instance.line, "message": f"{g.address} needs it"}
               for g in blocks[:MAX_RELATED]]
    return ctx.finding("IMS311", deployer.instance,
                       f"{deployer.key} runs terraform for code whose needs the facts do not confirm, so they are not "
                       "checked: " + "; ".join(items), evidence=[deployer.key, *(g.address for g in blocks)],
                       related=related,
                       fix="check these calls in the provider's documentation (`iac-ims requirements` lists them)")


def _resource_label(group: ResourceNeeds) -> str:
    count = len(group.instances)
    return group.address if count == 1 else f"{group.address} ({count} instances)"


def _why_not(decision: OperationDecision) -> str:
    if decision.state == NO_IMS:
        return ", held only at a scope that does not reach its service"
    if decision.denied:
        return f", denied by {decision.denied[0][1].describe()}"
    return ""


def _requirement_text(requirement: CallRequirement) -> str:
    parts = []
    if requirement.roles:
        parts.append(" or ".join(requirement.roles))
    if requirement.actions:
        parts.append(", ".join(requirement.actions))
    return " or ".join(parts)
