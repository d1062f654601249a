"""`iac-ims explain PATH ADDRESS`: for one role or principal, every IMS operation at each scope
it is assigned at, grouped by what decisions.py decides there (allowed / denied / not at this
scope / unknown) with the reason each group shares, and the graph path why (JSON: one row per
operation)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from iac_ims.decisions import NO_IMS, NOT_AT_SCOPE, Decisions
from iac_ims.iam.policy_decide import ALLOWED, DENIED, UNKNOWN

# The order groups are shown in, and what a group of each state is called.
STATE_ORDER = (ALLOWED, DENIED, NOT_AT_SCOPE, UNKNOWN, NO_IMS)
STATE_NAMES = {ALLOWED: "allowed", DENIED: "denied", NOT_AT_SCOPE: "not at this scope", UNKNOWN: "unknown",
               NO_IMS: "no IMS at this scope"}


@dataclass
class Row:
    operation: str
    scope: str
    via: str
    state: str
    why: str
    path: list[str] = field(default_factory=list)
    shared: str = ""  # the reason in words operations decided alike share (the group's), "" = why

    def to_json(self) -> dict[str, Any]:
        return {"operation": self.operation, "scope": self.scope, "via": self.via, "state": self.state,
                "why": self.why, "path": self.path}


@dataclass
class Section:
    """The operations at one scope (or, for a role nobody holds, as written)."""

    scope: str
    via: str
    rows: list[Row]
    allows_nothing: bool = False  # every operation denied, none of the actions it needs allowed


@dataclass
class Group:
    """Operations of one section with the same decision and the same reason."""

    scope: str
    via: str
    state: str
    why: str
    operations: list[str]


@dataclass
class Explanation:
    address: str
    kind: str
    sections: list[Section]

    @property
    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]


def matching_keys(model: Any, address: str) -> list[str]:
    """The model's roles and principals an address names: itself, or, where several root modules
    of the scan have that address, each of theirs (`address (envs/prod)`)."""
    if address in model.roles or address in model.principals:
        return [address]
    return sorted(key for key in [*model.roles, *model.principals] if key.startswith(f"{address} ("))


def explain_address(analysis: Any, address: str) -> Explanation | None:
    """Every IMS operation for one role or principal, as the checks decide it (decisions.py)."""
    model, graph, catalog = analysis.model, analysis.graph, analysis.catalog
    keys = matching_keys(model, address)
    if len(keys) != 1:
        return None
    subject = keys[0]
    decisions = Decisions(graph)
    operations = [op for op in catalog.operations.values() if op.actions]
    sections: list[Section] = []
    if subject in model.roles:
        kind = "role"
        assignments = graph.assignments_of_role(subject)
        if not assignments:
            section = Section("(not assigned)", "-", [])
            for op in operations:
                decision = decisions.decide(subject, op)
                _add(section, op, decision, [subject, op.id])
            sections.append(section)
        for assignment in assignments:
            scope_name = assignment.scope.describe() if assignment.scope else "(no scope)"
            section = Section(scope_name, assignment.key, [])
            for op in operations:
                decision = decisions.decide(subject, op, assignment)
                _add(section, op, decision, [*assignment.principals, assignment.key, subject, *op.actions, op.id])
            sections.append(section)
    else:
        kind = model.principals[subject].kind
        held = [a for a, _ in graph.assignments_of(subject)]
        scopes = list(dict.fromkeys(a.scope for a in held if a.scope is not None))
        for scope in scopes:
            via = ", ".join(a.key for a in held if a.scope == scope)
            section = Section(scope.describe(), via, [])
            for op in operations:
                decision = decisions.decide(subject, op, scope)
                _add(section, op, decision, [subject, *(a.key for a in held if a.scope == scope), *op.actions, op.id])
            sections.append(section)
    return Explanation(subject, kind, sections)


def _add(section: Section, operation: Any, decision: Any, path: list[str]) -> None:
    first = not section.rows
    section.rows.append(Row(operation.id, section.scope, section.via, decision.state, why(decision), path,
                            _shared_reason(decision)))
    nothing = decision.state == DENIED and set(decision.missing) == set(operation.actions)
    section.allows_nothing = nothing and (first or section.allows_nothing)


def why(decision: Any) -> str:
    """The reason for a decision, in words operations with the same reason share."""
    if decision.state == ALLOWED:
        return "allowed by " + ", ".join(sorted(set(decision.granted_by.values())))
    if decision.state == NO_IMS:
        return "IMS is project-level: this scope does not reach it"
    if decision.state == NOT_AT_SCOPE:
        return "the table says this API cannot be granted through an enterprise project"
    if decision.explicitly_denied:
        return "denied by " + "; ".join(s.describe() for _, s in decision.denied[:2])
    if decision.missing:
        return "no Allow for " + ", ".join(decision.missing)
    return "; ".join(decision.reasons) or "cannot be resolved statically"


def _shared_reason(decision: Any) -> str:
    """Why, in words that do not name the operation's own actions: an action that cannot be
    resolved makes every operation unknown for the same reason, each about its own actions."""
    if decision.state != UNKNOWN:
        return ""
    causes = []
    for reason in decision.reasons:
        for action in decision.operation.actions:
            if reason.startswith(f"{action}: "):
                reason = reason[len(action) + 2:].replace(f'"{action}"', "what they need")
                break
        causes.append(reason)
    return "; ".join(dict.fromkeys(causes)) or why(decision)


def groups(section: Section) -> list[Group]:
    """The section's operations by state (in STATE_ORDER), then by reason (first seen first)."""
    by_key: dict[tuple[str, str], list[str]] = {}
    for row in section.rows:
        by_key.setdefault((row.state, row.shared or row.why), []).append(row.operation)
    rank = {state: index for index, state in enumerate(STATE_ORDER)}
    ordered = sorted(by_key.items(), key=lambda item: rank.get(item[0][0], len(rank)))  # stable: reasons keep order
    return [Group(section.scope, section.via, state, reason, ops) for (state, reason), ops in ordered]


def reaches_no_ims(section: Section) -> bool:
    return bool(section.rows) and all(row.state == NO_IMS for row in section.rows)


def render_explanation(explanation: Explanation, format_: str) -> str:
    if format_ == "json":
        return json.dumps({"address": explanation.address, "kind": explanation.kind,
                           "operations": [row.to_json() for row in explanation.rows],
                           "groups": [group.__dict__ for section in explanation.sections
                                      for group in groups(section)]}, indent=2) + "\n"
    lines = [f"{explanation.address} ({explanation.kind})"]
    for section in explanation.sections:
        lines.extend(_section_lines(section))
    if not explanation.sections:
        lines.append("  holds no role in the scanned code")
    return "\n".join(lines) + "\n"


def _section_lines(section: Section) -> list[str]:
    where = "not assigned: the role as written" if section.scope == "(not assigned)" \
        else f"at {section.scope} via {section.via}"
    total = len(section.rows)
    if reaches_no_ims(section):
        return [f"  {where}: no IMS operation (IMS is project-level and this scope does not reach it)"]
    if section.allows_nothing:
        return [f"  {where}: allows no IMS action (all {total} operations denied)"]
    lines = [f"  {where}"]
    shown = [group for group in groups(section)]
    width = max(len(f"{STATE_NAMES.get(g.state, g.state)} ({total}/{total})") for g in shown)
    previous = None
    for group in shown:
        count = sum(len(g.operations) for g in shown if g.state == group.state)
        label = f"{STATE_NAMES.get(group.state, group.state)} ({count}/{total})" if group.state != previous else ""
        previous = group.state
        lines.append(f"    {label:<{width}}  {_reason(group)}: {_listed(group.operations, section)}")
    return lines


def _listed(operations: list[str], section: Section) -> str:
    """The operations, or, when they are most of the section's, which ones they are not."""
    total = len(section.rows)
    if len(operations) == total:
        return f"all {total} operations"
    state = next(row.state for row in section.rows if row.operation == operations[0])
    others = [row for row in section.rows if row.operation not in set(operations)]
    if len(operations) > total / 2 and len(others) <= 8 and all(row.state != state for row in others):
        # what they are not is shorter, and those are decided otherwise (on the other lines)
        return f"every operation except {', '.join(row.operation for row in others)}"
    return ", ".join(operations)


def _reason(group: Group) -> str:
    """The shared reason, without repeating the state's name."""
    if group.state == ALLOWED and group.why.startswith("allowed by "):
        return "by " + group.why[len("allowed by "):]
    if group.state == DENIED and group.why.startswith("denied by "):
        return "by " + group.why[len("denied by "):]
    if group.state == NOT_AT_SCOPE:
        return "the table says these APIs cannot be granted through an enterprise project"
    return group.why
