"""The IAM graph: principal -> assignment (scope) -> role -> action -> operation.

Who holds what where (holdings, memberships, the assignments of a role), and the same as a
networkx MultiDiGraph for pictures and tooling. Whether a holding lets anyone perform an
operation is decided in one place only: decisions.py.
"""

from __future__ import annotations

from typing import Any

from iac_ims.catalog import Catalog
from iac_ims.iam.model import Assignment, IamModel, Role
from iac_ims.iam.policy_decide import decide
from iac_ims.terraform.values import Unknown


class IamGraph:
    """Holdings from the IAM model; `networkx_graph()` is the same graph as a networkx
    MultiDiGraph (built on demand: networkx is not needed to answer)."""

    def __init__(self, model: IamModel, catalog: Catalog):
        self.model = model
        self.catalog = catalog
        self._groups_of: dict[str, list[str]] = {}
        for group, user, _instance in model.memberships:
            self._groups_of.setdefault(user, []).append(group)
        self._direct_assignments: dict[str, list[Assignment]] = {}
        self._role_assignments: dict[str, list[Assignment]] = {}
        # in address order, never file order: which assignment a finding names must not
        # depend on how files are named or listed
        for assignment in sorted(model.assignments, key=lambda a: a.key):
            for principal in assignment.principals:
                self._direct_assignments.setdefault(principal, []).append(assignment)
            self._role_assignments.setdefault(assignment.role, []).append(assignment)
        for groups in self._groups_of.values():
            groups.sort()

    # ---- the networkx form
    def networkx_graph(self) -> Any:
        import networkx as nx

        g = nx.MultiDiGraph()
        for principal in self.model.principals.values():
            g.add_node(principal.key, kind=principal.kind)
        for role in self.model.roles.values():
            g.add_node(role.key, kind="role", role_kind=role.kind)
        for group, user, _instance in self.model.memberships:
            g.add_edge(user, group, kind="member_of")
        for assignment in self.model.assignments:
            g.add_node(assignment.key, kind="assignment",
                       scope=assignment.scope.kind if assignment.scope else None)
            for principal in assignment.principals:
                g.add_edge(principal, assignment.key, kind="holds")
            g.add_edge(assignment.key, assignment.role, kind="assigns")
        for operation in self.catalog.operations.values():
            g.add_node(operation.id, kind="operation")
            for action in operation.actions:
                g.add_node(action, kind="action")
                g.add_edge(action, operation.id, kind="required_by")
        for role in self.model.roles.values():
            self._add_grants(g, role)
        return g

    def _add_grants(self, g: Any, role: Role) -> None:
        document = role.policy
        if document is None:
            return
        for action in self.catalog.actions:
            decision = decide(action, document.statements)
            if decision.allow or decision.deny:
                effect = "deny" if decision.deny else "allow"
                conditional = any(s.has_condition for s in (decision.deny or decision.allow))
                g.add_edge(role.key, action, kind="grant", effect=effect, conditional=conditional)

    # ---- holdings
    def groups_of(self, principal: str) -> list[str]:
        return self._groups_of.get(principal, [])

    def assignments_of(self, principal: str) -> list[tuple[Assignment, str | None]]:
        """(assignment, group it comes through or None) for a principal, directly or via groups."""
        result = [(a, None) for a in self._direct(principal)]
        for group in self.groups_of(principal):
            result.extend((a, group) for a in self._direct(group))
        return result

    def _direct(self, principal: str) -> list[Assignment]:
        return self._direct_assignments.get(principal, [])

    def possible_assignments_of(self, principal: str) -> tuple[list[tuple[Assignment, str]], Unknown | None]:
        """What a principal may hold beyond `assignments_of`, because a membership could not be
        fully resolved: ((assignment, group) of each group whose members are not all known, which
        it may be in), and why it may be in groups nobody can tell (or None)."""
        if principal not in self.model.principals or self.model.principals[principal].kind != "user":
            return [], None
        certain = set(self.groups_of(principal))
        possible = [(a, group) for group in sorted(self.model.open_groups) if group not in certain
                    for a in self._direct(group)]
        return possible, self.model.open_users.get(principal)

    def assignments_of_role(self, role_key: str) -> list[Assignment]:
        return self._role_assignments.get(role_key, [])

    def role(self, key: str) -> Role:
        return self.model.roles[key]

    def export(self) -> Any:
        """The networkx graph with only string attributes, for the graph command's formats."""
        import networkx as nx

        source = self.networkx_graph()
        out = nx.MultiDiGraph()
        for node, data in source.nodes(data=True):
            out.add_node(node, **{k: str(v) for k, v in data.items() if v is not None})
        for u, v, data in source.edges(data=True):
            out.add_edge(u, v, **{k: str(v2) for k, v2 in data.items() if v2 is not None})
        return out
