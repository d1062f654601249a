"""`iac-ims explain PATH ADDRESS`: for one role or principal, every IMS operation at each scope
it is assigned at: allowed / denied / unknown / not at this scope, and the graph path why."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from iac_ims.graph import ALLOWED
from iac_ims.iam.model import ENTERPRISE_PROJECT

NOT_AT_SCOPE = "not_at_this_scope"
NO_IMS = "no_ims_at_this_scope"


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
    model, graph, catalog = analysis.model, analysis.graph, analysis.catalog
    keys = matching_keys(model, address)
    if len(keys) != 1:
        return None
    address = keys[0]
    if address in model.roles:
        holdings = [(a, a.role) for a in graph.assignments_of_role(address)]
        kind = "role"
        subject_roles = [address]
    elif address in model.principals:
        holdings = [(a, a.role) for a, _ in graph.assignments_of(address)]
        kind = model.principals[address].kind
        subject_roles = []
    else:
        return None
    rows: list[Row] = []
    operations = [op for op in catalog.operations.values() if op.actions]
    if not holdings and subject_roles:
        for op in operations:
            decision = graph.decide_operation(op, subject_roles)
            rows.append(Row(op.id, "(not assigned)", "-", decision.state, _why(decision), [address, op.id]))
    for assignment, role_key in holdings:
        scope = assignment.scope
        scope_name = scope.describe() if scope else "(no scope)"
        for op in operations:
            path = [*assignment.principals, assignment.key, role_key, *op.actions, op.id]
            if scope is None or not scope.reaches_project_services:
                rows.append(Row(op.id, scope_name, assignment.key, NO_IMS,
                                "IMS is project-level: this scope does not reach it", path))
                continue
            # Deny wins across every role the holders have at a scope that covers this one
            deny_roles = [held.role for principal in assignment.principals
                          for held, _ in graph.assignments_of(principal)
                          if held.scope is not None and held.scope.covers(scope)]
            decision = graph.decide_operation(op, [role_key], deny_roles=deny_roles)
            if decision.state == ALLOWED and scope.kind == ENTERPRISE_PROJECT and not op.enterprise_project:
                rows.append(Row(op.id, scope_name, assignment.key, NOT_AT_SCOPE,
                                "the table says this API cannot be granted through an enterprise project", path))
                continue
            rows.append(Row(op.id, scope_name, assignment.key, decision.state, _why(decision), path))
    return Explanation(address, kind, rows)


def _why(decision: Any) -> str:
    if decision.state == ALLOWED:
        return "allowed by " + ", ".join(sorted(set(decision.granted_by.values())))
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
