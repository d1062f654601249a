"""`iac-ims explain PATH ADDRESS`: for one role or principal, every IMS operation at each scope
it is assigned at: allowed / denied / unknown / not at this scope, and the graph path why."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from iac_ims.decisions import NO_IMS, NOT_AT_SCOPE, Decisions
from iac_ims.iam.policy import ALLOWED


@dataclass
class Row:
    operation: str
    scope: str
    via: str
    state: str
    why: str
    path: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    address: str
    kind: str
    rows: list[Row]


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
    rows: list[Row] = []
    if subject in model.roles:
        kind = "role"
        assignments = graph.assignments_of_role(subject)
        if not assignments:
            for op in operations:
                decision = decisions.decide(subject, op)
                rows.append(Row(op.id, "(not assigned)", "-", decision.state, _why(decision), [subject, op.id]))
        for assignment in assignments:
            scope_name = assignment.scope.describe() if assignment.scope else "(no scope)"
            for op in operations:
                decision = decisions.decide(subject, op, assignment)
                path = [*assignment.principals, assignment.key, subject, *op.actions, op.id]
                rows.append(Row(op.id, scope_name, assignment.key, decision.state, _why(decision), path))
    else:
        kind = model.principals[subject].kind
        held = [a for a, _ in graph.assignments_of(subject)]
        scopes = list(dict.fromkeys(a.scope for a in held if a.scope is not None))
        for scope in scopes:
            via = ", ".join(a.key for a in held if a.scope == scope)
            for op in operations:
                decision = decisions.decide(subject, op, scope)
                path = [subject, *(a.key for a in held if a.scope == scope), *op.actions, op.id]
                rows.append(Row(op.id, scope.describe(), via, decision.state, _why(decision), path))
    return Explanation(subject, kind, rows)


def _why(decision: Any) -> str:
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


def render_explanation(explanation: Explanation, format_: str) -> str:
    if format_ == "json":
        return json.dumps({"address": explanation.address, "kind": explanation.kind,
                           "operations": [row.__dict__ for row in explanation.rows]}, indent=2) + "\n"
    lines = [f"{explanation.address} ({explanation.kind})"]
    current = None
    for row in explanation.rows:
        header = f"  at {row.scope} via {row.via}"
        if header != current:
            lines.append(header)
            current = header
        lines.append(f"    {row.operation:<40} {row.state:<20} {row.why}")
    if not explanation.rows:
        lines.append("  holds no role in the scanned code")
    return "\n".join(lines) + "\n"
