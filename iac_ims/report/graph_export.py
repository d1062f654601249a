"""`iac-ims graph --format dot|mermaid|graphml|json [--focus ADDRESS]`.

The picture says only what matters: principals, their memberships and assignments, the roles
those assign, and, of everything a role grants, the operations that matter (someone is meant to
perform them, or a finding names them) with the actions they need; the rest of a role's fan-out
(a system role such as Tenant Administrator grants all of IMS) is one "+ N more operations" node.
Whether a principal or a role can perform an operation that matters is a decision edge, asked of
decisions.py and drawn in the style of its state (dot and Mermaid; graphml and JSON carry it as
the `state` attribute).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from iac_ims.decisions import NO_IMS, NOT_AT_SCOPE, Decisions
from iac_ims.findings import printable
from iac_ims.iam.policy_decide import ALLOWED, DENIED, UNKNOWN, decide as decide_action
from iac_ims.iam.resources import PRINCIPAL_KINDS

STATES = (ALLOWED, DENIED, UNKNOWN, NOT_AT_SCOPE, NO_IMS)
STATE_NAMES = {ALLOWED: "allowed", DENIED: "denied", UNKNOWN: "unknown", NOT_AT_SCOPE: "not at this scope",
               NO_IMS: "no IMS at this scope"}
# dot: (colour, style); Mermaid's linkStyle uses the same colours and dashes
STATE_STYLES = {ALLOWED: ("#2e7d32", "solid"), DENIED: ("#c62828", "solid"), UNKNOWN: ("#757575", "dashed"),
                NOT_AT_SCOPE: ("#ef6c00", "dotted"), NO_IMS: ("#6a1b9a", "dashed")}
MERMAID_DASHES = {"solid": "", "dashed": ",stroke-dasharray:6 4", "dotted": ",stroke-dasharray:2 3"}
MORE_LISTED = 3  # a role's remaining operations are named when there are at most this many


class FocusError(ValueError):
    """--focus names no role or principal, or one that several root modules have."""


@dataclass
class Matters:
    """The operations that matter to each role and principal: declared intents and operations a
    finding about it names, with the rule IDs of those findings per (subject, operation)."""

    of: dict[str, list[str]] = field(default_factory=dict)  # subject key -> operation IDs
    rules: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (subject, operation) -> rule IDs
    titles: dict[str, str] = field(default_factory=dict)  # rule ID -> its title

    def add(self, subject: str, operation: str, rule_id: str | None = None) -> None:
        ops = self.of.setdefault(subject, [])
        if operation not in ops:
            ops.append(operation)
        if rule_id is not None:
            ids = self.rules.setdefault((subject, operation), [])
            if rule_id not in ids:
                ids.append(rule_id)


def what_matters(iam_graph: Any, findings: Iterable[Any] = (), config_intents: dict[str, list[str]] | None = None
                 ) -> Matters:
    """Declared intents (comments and the config's, resolved as the checks resolve them) and the
    operations unsuppressed findings name, each under the role or principal the finding is about
    (the first graph node of its evidence, else its resource)."""
    from iac_ims.checks.context import CheckContext

    model, catalog = iam_graph.model, iam_graph.catalog
    ctx = CheckContext(model, iam_graph, catalog, config_intents=dict(config_intents or {}))
    matters = Matters()
    for role in model.roles.values():
        for _item, operation in ctx.resolve_intents(ctx.role_intents(role))[0]:
            matters.add(role.key, operation.id)
    for principal in model.principals.values():
        items = ctx.declared_intents(principal.instance.address, principal.intents)
        for _item, operation in ctx.resolve_intents(items)[0]:
            matters.add(principal.key, operation.id)
    subjects = {*model.roles, *model.principals}
    by_address: dict[str, list[str]] = {}
    for key in subjects:
        by_address.setdefault(key.split(" (", 1)[0], []).append(key)
    for finding in findings:
        if finding.suppressed:
            continue
        named = list(dict.fromkeys(e for e in [finding.operation, *finding.evidence] if e in catalog.operations))
        if not named:
            continue
        subject = next((e for e in finding.evidence if e in subjects), None)
        if subject is None and len(by_address.get(finding.resource or "", [])) == 1:
            subject = by_address[finding.resource][0]
        if subject is None:
            continue
        matters.titles[finding.rule_id] = finding.title
        for operation in named:
            matters.add(subject, operation, finding.rule_id)
    return matters


def focus_key(model: Any, address: str, where: str) -> str:
    """The role or principal `--focus ADDRESS` names (as explain finds it), else FocusError."""
    from iac_ims.explain import matching_keys

    keys = matching_keys(model, address)
    if len(keys) > 1:
        raise FocusError(f"--focus {address!r} is in several root modules: {'; '.join(keys)}; give one of them "
                         "as written here, or graph one directory at a time")
    if not keys:
        raise FocusError(f"--focus: no role or principal at address {address!r} in {where}")
    return keys[0]


def build_picture(iam_graph: Any, matters: Matters, focus: str | None = None) -> Any:
    """The networkx MultiDiGraph drawn (string attributes only, for graphml). Where the picture
    spans several root modules, each has its own operation, action and system-role nodes
    (`list_images (envs/prod)`, attribute `root`), so that unrelated configurations do not meet."""
    import networkx as nx

    model, catalog = iam_graph.model, iam_graph.catalog
    decisions = Decisions(iam_graph)
    full = iam_graph.export()

    # who and what is in the picture; whose decisions are drawn
    if focus is None:
        principals = list(model.principals)
        assignments = list(model.assignments)
        assigned = {a.role for a in assignments}
        # a system role nobody is assigned says nothing about the configuration
        roles = [key for key, role in model.roles.items() if role.instance is not None or key in assigned]
        deciding = principals
    elif focus in model.principals:
        principals = [focus, *iam_graph.groups_of(focus)]
        assignments = list({a.key: a for a, _ in iam_graph.assignments_of(focus)}.values())
        roles = list(dict.fromkeys(a.role for a in assignments))
        deciding = [focus]
    else:
        assignments = list(iam_graph.assignments_of_role(focus))
        principals = list(dict.fromkeys(p for a in assignments for p in a.principals if p in model.principals))
        roles = [focus]
        deciding = principals

    held = {p: list(dict.fromkeys(a.role for a, _ in iam_graph.assignments_of(p))) for p in deciding}
    holders_of_role: dict[str, list[str]] = {}
    for principal, keys in held.items():
        for key in keys:
            holders_of_role.setdefault(key, []).append(principal)
    assigning: dict[str, list[Any]] = {}
    for assignment in assignments:
        assigning.setdefault(assignment.role, []).append(assignment)

    checked = {p: _union(matters.of.get(p, []), *(matters.of.get(r, []) for r in held[p])) for p in deciding}
    if focus in model.principals:  # a user focused on: what its groups are for, too (their edges are not drawn)
        checked[focus] = _union(checked[focus], *(matters.of.get(group, []) for group in iam_graph.groups_of(focus)))

    # root modules: a principal's, an assignment's, a custom role's own; a system role's those of
    # the assignments that assign it
    root_of = {key: _root_label(model.principals[key].instance) for key in principals}
    root_of.update({a.key: _root_label(a.instance) for a in assignments})
    placed: list[tuple[str, str | None]] = []  # (role, root module)
    for key in roles:
        role = model.roles[key]
        if role.instance is not None:
            placed.append((key, _root_label(role.instance)))
        else:
            where = list(dict.fromkeys(root_of[a.key] for a in assigning.get(key, []))) or [None]
            placed.extend((key, root) for root in where)
    roots = {r for r in [*root_of.values(), *(root for _, root in placed)] if r is not None}
    several = len(roots) > 1

    def at(key: str, root: str | None) -> str:
        """The picture's node for an operation, action or role without a block of its own."""
        return f"{key} ({root})" if several and root is not None else key

    def role_node(key: str, root: str | None) -> str:
        return key if model.roles[key].instance is not None else at(key, root)

    g = nx.MultiDiGraph()

    def node(key: str, root: str | None = None, **attrs: Any) -> None:
        if key not in g:
            attrs["root"] = root if several else None
            if several and root is not None and "label" in attrs:  # its box names the root module
                attrs["label"] = attrs["label"].replace(f" ({root})", "")
            g.add_node(key, **{k: str(v) for k, v in attrs.items() if v is not None})

    def is_focus(key: str) -> str | None:
        return str(key == focus).lower() if focus else None

    for key in principals:
        node(key, root_of[key], kind=model.principals[key].kind, label=_name(key), focus=is_focus(key))
    for key, root in placed:
        role = model.roles[key]
        node(role_node(key, root), root, kind="role", role_kind=role.kind, label=_role_label(role),
             focus=is_focus(key), address=key)
    for assignment in assignments:
        root = root_of[assignment.key]
        scope = assignment.scope.describe() if assignment.scope else "no usable scope"
        node(assignment.key, root, kind="assignment", scope=assignment.scope.kind if assignment.scope else None,
             label=f"{_name(assignment.key)}\nat {_short_scope(scope)}")
        for principal in assignment.principals:
            if principal in g:
                g.add_edge(principal, assignment.key, kind="holds")
        g.add_edge(assignment.key, role_node(assignment.role, root), kind="assigns")
    for group, user, _instance in model.memberships:
        if user in g and group in g:
            g.add_edge(user, group, kind="member_of")

    def operation_node(op_id: str, root: str | None) -> str:
        target = at(op_id, root)
        if target not in g:
            operation = catalog.operations[op_id]
            node(target, root, kind="operation", label=op_id, operation=op_id,
                 api=f"{operation.method} {operation.path}".strip())
            for action in operation.actions:
                node(at(action, root), root, kind="action", label=action, action=action)
                g.add_edge(at(action, root), target, kind="required_by")
        return target

    def decision_edge(subject: str, source: str, op_id: str, root: str | None) -> None:
        decision = decisions.decide(subject, catalog.operations[op_id])
        rules = matters.rules.get((subject, op_id), [])
        g.add_edge(source, operation_node(op_id, root), kind="decision", state=decision.state,
                   why=_why(decision), label=_decision_label(decision, rules, matters.titles), rules=" ".join(rules))

    # what each role keeps of its fan-out: what matters to it and to those who hold it where it
    # reaches IMS (held only at global-service scope, what it grants is nobody's path)
    holders_of: dict[tuple[str, str | None], list[str]] = {}
    kept: dict[tuple[str, str | None], list[str]] = {}
    reaching: dict[tuple[str, str | None], bool] = {}
    for key, root in placed:
        holders = [p for p in holders_of_role.get(key, []) if not several or root_of[p] == root]
        here = [a for a in assigning.get(key, []) if not several or root_of[a.key] == root]
        reaches = not here or any(a.scope is not None and a.scope.reaches_project_services for a in here)
        holders_of[(key, root)], reaching[(key, root)] = holders, reaches
        kept[(key, root)] = _union(matters.of.get(key, []), *(checked[p] for p in holders if reaches))
    if focus is not None and focus in model.roles:  # its holders: only what matters to this role
        for principal in deciding:
            mine = {op for (key, root), ops in kept.items() if root == root_of[principal] or not several
                    for op in ops}
            checked[principal] = [op for op in checked[principal] if op in mine]

    for key, root in placed:
        holders = holders_of[(key, root)]
        needed = {a for op in kept[(key, root)] for a in catalog.operations[op].actions}
        source = role_node(key, root)
        for op in kept[(key, root)]:
            operation_node(op, root)
        hidden_denies = 0
        for _u, action, data in full.out_edges(key, data=True):
            if data.get("kind") != "grant":
                continue
            if action in needed:
                # whether the role's own policy settles it (iam.policy_decide's answer for one action)
                certain = decide_action(action, model.roles[key].policy.statements).state != UNKNOWN
                g.add_edge(source, at(action, root), **data, certain=str(certain),
                           label=_grant_label(data.get("effect", ""), certain))
            elif data.get("effect") == "deny":
                hidden_denies += 1
        rest = [op.id for op in decisions.operations_of_role(key) if op.id not in kept[(key, root)]]
        if rest or hidden_denies:
            more = f"{source} +more"
            node(more, root, kind="more", label=_more_label(rest, hidden_denies, reaching[(key, root)]),
                 count=len(rest), operations=" ".join(rest), denied_actions=hidden_denies)
            g.add_edge(source, more, kind="collapsed")
        for op in matters.of.get(key, []):
            # as written; where a holder's decision is drawn, only when the role alone fails or
            # a finding is about the role
            if not holders or matters.rules.get((key, op)) or not any(op in checked[p] for p in holders) \
                    or decisions.decide(key, catalog.operations[op]).state != ALLOWED:
                decision_edge(key, source, op, root)
    for principal in deciding:
        for op in checked[principal]:
            decision_edge(principal, principal, op, root_of[principal])
    return g


def _root_label(instance: Any) -> str | None:
    """The root module an instance was loaded under, as the reports name directories."""
    owner = getattr(getattr(instance, "ctx", None), "owner", None)
    if owner is None:
        return None
    return owner.loader.rel(owner.root_dir)


def _union(*lists: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))


def _why(decision: Any) -> str:
    from iac_ims.explain import why

    return why(decision)


def _decision_label(decision: Any, rules: list[str], titles: dict[str, str]) -> str:
    """The state and the shortest reason that says which (who denies, which actions are missing),
    and the findings about it; where the state is allowed, what those findings are."""
    text = STATE_NAMES.get(decision.state, decision.state)
    if decision.state == DENIED:
        if decision.explicitly_denied:
            text += " by " + ", ".join(dict.fromkeys(_name(key) for key, _ in decision.denied))
        elif decision.missing:
            text += ": no " + ", ".join(decision.missing)
    elif decision.state == UNKNOWN and decision.missing:
        text += ": " + ", ".join(decision.missing) + "?"
    if rules and decision.state == ALLOWED:
        text += ", but\n" + "\n".join(f"{r} {_lower_first(titles.get(r, ''))}".rstrip() for r in rules)
    elif rules:
        text += " (" + ", ".join(rules) + ")"
    return text


def _grant_label(effect: str, certain: bool) -> str:
    return effect if certain else f"may {effect}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _more_label(rest: list[str], hidden_denies: int, reaches: bool = True) -> str:
    parts = []
    if rest:
        noun = "operation" if len(rest) == 1 else "operations"
        named = ":\n" + "\n".join(rest) if len(rest) <= MORE_LISTED else ""
        if reaches:
            parts.append(f"+ {len(rest)} more {noun}{named}")
        else:
            parts.append(f"grants {len(rest)} {noun}{named},\nnone at the scope it is assigned at")
    if hidden_denies:
        parts.append(f"+ {hidden_denies} more action{'s' if hidden_denies != 1 else ''} denied")
    return "\n".join(parts)


_TYPE = re.compile(r"(?:^|\.)huaweicloud_[a-z_]+\.")


def _name(key: str) -> str:
    """A resource address without its resource type (`module.x.` and a root's `(dir)` kept)."""
    address, _, root = key.partition(" (")
    match = list(_TYPE.finditer(address))
    if match:
        last = match[-1]
        prefix = address[:last.start()]
        address = (prefix + "." if prefix else "") + address[last.end():]
    return address + (f" ({root}" if root else "")


def _role_label(role: Any) -> str:
    if role.kind == "system":
        return f"{role.label}\nsystem role"
    if role.kind == "custom":
        return f"{_name(role.key)}\ncustom role"
    return f"{role.label}\nrole not resolved"


def _short_scope(scope: str) -> str:
    """Long IDs shortened: `project 0a1b2c3d…`."""
    return re.sub(r"([0-9a-fA-F-]{8})[0-9a-fA-F-]{8,}", r"\1…", scope)


# ---- formats ------------------------------------------------------------------------------

def export_graph(iam_graph: Any, format_: str, matters: Matters | None = None, focus: str | None = None) -> str:
    g = build_picture(iam_graph, matters or Matters(), focus)
    if format_ == "json":
        import networkx as nx

        return json.dumps(nx.node_link_data(g, edges="links"), indent=2, sort_keys=True) + "\n"
    if format_ == "graphml":
        import networkx as nx

        return "\n".join(nx.generate_graphml(g)) + "\n"
    if format_ == "mermaid":
        return _mermaid(g)
    return _dot(g)


def _edges(g: Any) -> list[tuple[str, str, dict[str, str]]]:
    order = {"member_of": 0, "holds": 1, "assigns": 2, "grant": 3, "required_by": 4, "collapsed": 5, "decision": 6}
    return sorted(g.edges(data=True), key=lambda e: (order.get(e[2].get("kind", ""), 9), e[0], e[1],
                                                     e[2].get("effect", ""), e[2].get("state", "")))


_DOT_NODES = {
    "group": 'shape=box, style="rounded,filled", fillcolor="#e3f2fd"',
    "user": 'shape=box, style="rounded,filled", fillcolor="#e3f2fd"',
    "agency": 'shape=box, style="rounded,filled,dashed", fillcolor="#e3f2fd"',
    "assignment": 'shape=ellipse, style=filled, fillcolor="#fffde7", fontsize=10',
    "role": 'shape=hexagon, style=filled, fillcolor="#f3e5f5"',
    "action": 'shape=box, style="filled", fillcolor="#fafafa", color="#bdbdbd", fontsize=10',
    "operation": 'shape=note, style=filled, fillcolor="#e8f5e9"',
    "more": 'shape=plaintext, fontcolor="#616161", fontsize=10',
}
_DOT_EDGES = {
    "member_of": 'color="#90a4ae", label="member of", fontsize=9',
    "holds": 'color="#90a4ae"',
    "assigns": 'color="#90a4ae"',
    "required_by": 'color="#bdbdbd", arrowhead=none',
    "collapsed": 'color="#bdbdbd", style=dashed, arrowhead=none',
}


def _dot_text(text: str) -> str:
    """Text for a quoted dot string: line breaks as dot's, other control characters escaped."""
    return "\\n".join(printable(line).replace("\\", "\\\\").replace('"', '\\"') for line in text.split("\n"))


def _by_root(g: Any) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """The nodes by root module ("": the picture has one, or the node belongs to none), sorted."""
    by_root: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for key, data in sorted(g.nodes(data=True)):
        by_root.setdefault(data.get("root", ""), []).append((key, data))
    return dict(sorted(by_root.items()))


def _dot(g: Any) -> str:
    lines = ["digraph iam {", "  rankdir=LR;", '  fontname="Helvetica";', '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']
    by_root = _by_root(g)
    for index, root in enumerate(by_root):
        indent = "  "
        if root:  # one box per root module, named by its directory
            lines.append(f'  subgraph cluster_root{index} {{')
            lines.append(f'    label="{_dot_text(root)}"; labeljust=l; fontsize=12; color="#9e9e9e"; style=rounded;')
            indent = "    "
        for key, data in by_root[root]:
            lines.append(f'{indent}"{_dot_text(key)}" [label="{_dot_text(data.get("label", key))}", {_dot_node(data)}];')
        for kinds in (("action", "more"), ("operation",)):  # actions in one column, operations in the next
            same = [key for key, data in by_root[root] if data.get("kind") in kinds]
            if same:
                lines.append(f'{indent}{{rank=same; {"; ".join(chr(34) + _dot_text(k) + chr(34) for k in same)};}}')
        if root:
            lines.append("  }")
    for u, v, data in _edges(g):
        kind = data.get("kind", "")
        if kind == "decision":
            colour, style = STATE_STYLES.get(data.get("state", ""), ("black", "solid"))
            attrs = (f'color="{colour}", fontcolor="{colour}", style={style}, penwidth=2.5, '
                     f'label="{_dot_text(data.get("label", ""))}", tooltip="{_dot_text(data.get("why", ""))}"')
        elif kind == "grant":
            deny = data.get("effect") == "deny"
            colour = STATE_STYLES[DENIED if deny else ALLOWED][0]
            dashed = ", style=dashed" if data.get("certain") == "False" else ""
            attrs = f'color="{colour}", fontcolor="{colour}", label="{_dot_text(data.get("label", ""))}"' + \
                    (", arrowhead=tee" if deny else "") + dashed
        else:
            attrs = _DOT_EDGES.get(kind, "")
        lines.append(f'  "{_dot_text(u)}" -> "{_dot_text(v)}" [{attrs}];')
    lines.extend(_dot_legend())
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(data: dict[str, str]) -> str:
    style = _DOT_NODES.get(data.get("kind", ""), "shape=plaintext")
    if data.get("kind") == "role" and data.get("role_kind") == "system":
        style = style.replace("#f3e5f5", "#e0e0e0")
    if data.get("focus") == "true":
        style += ", penwidth=3"
    return style


_LEGEND_LINES = {"solid": "━━━━━━", "dashed": "╸ ╸ ╸ ╸", "dotted": "┅┅┅┅┅┅"}
_GRANT_ROWS = [("role allows the action", STATE_STYLES[ALLOWED][0], "──────▶"),
               ("role denies the action", STATE_STYLES[DENIED][0], "──────┤"),
               ("may allow / may deny (unresolved)", "#616161", "─ ─ ─ ▶")]


def _dot_legend() -> list[str]:
    """A table beside the picture (a node, so it does not take part in the ranks)."""
    rows = [(STATE_NAMES[state], colour, _LEGEND_LINES[style] + "▶")
            for state in STATES for colour, style in [STATE_STYLES[state]]]
    rows += _GRANT_ROWS
    cells = "".join(f'<tr><td align="left"><font color="{colour}">{line}</font></td>'
                    f'<td align="left"><font color="{colour}">{name}</font></td></tr>' for name, colour, line in rows)
    return [f'  legend [shape=plaintext, fontsize=9, label=<<table border="1" color="#bdbdbd" cellborder="0" '
            f'cellspacing="0" cellpadding="2"><tr><td colspan="2"><b>decisions</b></td></tr>{cells}</table>>];']


def mermaid_id(node: str, ids: dict[str, str]) -> str:
    if node not in ids:
        ids[node] = f"n{len(ids)}"
    return ids[node]


_MERMAID_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "|": "#124;", "#": "#35;", "&": "#amp;"}


def _mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label: its own quotes, pipes and markup as entity codes."""
    return "<br/>".join("".join(_MERMAID_ENTITIES.get(c, c) for c in printable(line)) for line in text.split("\n"))


_MERMAID_SHAPES = {"group": ('(["', '"])'), "user": ('(["', '"])'), "agency": ('(["', '"])'),
                   "assignment": ('("', '")'), "role": ('{{"', '"}}'), "action": ('["', '"]'),
                   "operation": ('[/"', '"/]'), "more": ('["', '"]')}
_MERMAID_CLASSES = {
    "principal": "fill:#e3f2fd,stroke:#1565c0", "assignment": "fill:#fffde7,stroke:#9e9d24",
    "role": "fill:#f3e5f5,stroke:#6a1b9a", "system": "fill:#e0e0e0,stroke:#424242",
    "action": "fill:#fafafa,stroke:#bdbdbd", "operation": "fill:#e8f5e9,stroke:#2e7d32",
    "more": "fill:#ffffff,stroke:#ffffff,color:#616161", "focus": "stroke-width:4px",
    "legend": "fill:#ffffff,stroke:#bdbdbd,text-align:left",
}


def _mermaid_class(data: dict[str, str]) -> str:
    kind = data.get("kind", "")
    if kind in PRINCIPAL_KINDS:
        return "principal"
    if kind == "role" and data.get("role_kind") == "system":
        return "system"
    return kind if kind in _MERMAID_CLASSES else "action"


def _mermaid(g: Any) -> str:
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for name, style in _MERMAID_CLASSES.items():
        lines.append(f"  classDef {name} {style}")
    by_root = _by_root(g)
    for index, root in enumerate(by_root):
        indent = "  "
        if root:  # one box per root module, named by its directory
            lines.append(f'  subgraph root{index}["{_mermaid_text(root)}"]')
            lines.append("    direction LR")
            indent = "    "
        for key, data in by_root[root]:
            ident = mermaid_id(key, ids)
            opening, closing = _MERMAID_SHAPES.get(data.get("kind", ""), ('["', '"]'))
            lines.append(f"{indent}%% {ident}: {printable(key)}")
            lines.append(f"{indent}{ident}{opening}{_mermaid_text(data.get('label', key))}{closing}"
                         f":::{_mermaid_class(data)}")
            if data.get("focus") == "true":
                lines.append(f"{indent}class {ident} focus")
        if root:
            lines.append("  end")
    link_styles: list[str] = []
    for index, (u, v, data) in enumerate(_edges(g)):
        kind = data.get("kind", "")
        label = "member of" if kind == "member_of" else data.get("label", "")
        arrow = "-.->" if kind in ("required_by", "collapsed") else "-->"
        text = f'|"{_mermaid_text(label)}"|' if label else ""
        lines.append(f"  {mermaid_id(u, ids)} {arrow}{text} {mermaid_id(v, ids)}")
        if kind == "decision":
            colour, dash = STATE_STYLES.get(data.get("state", ""), ("#000000", "solid"))
            link_styles.append(f"  linkStyle {index} stroke:{colour},stroke-width:3px{MERMAID_DASHES[dash]}")
        elif kind == "grant":
            colour = STATE_STYLES[DENIED if data.get("effect") == "deny" else ALLOWED][0]
            dash = MERMAID_DASHES["dashed" if data.get("certain") == "False" else "solid"]
            link_styles.append(f"  linkStyle {index} stroke:{colour}{dash}")
        else:
            link_styles.append(f"  linkStyle {index} stroke:#9e9e9e")
    lines.extend(link_styles)
    # beside the last column where that does not join a root module's box (its direction is
    # lost when a link leaves it)
    last = [ids[key] for key, data in sorted(g.nodes(data=True))
            if data.get("kind") in ("operation", "more") and not data.get("root")]
    lines.extend(_mermaid_legend(last[0] if last else None))
    return "\n".join(lines) + "\n"


def _mermaid_legend(beside: str | None) -> list[str]:
    """One node listing the edge styles in their colours (a subgraph of sample edges took more
    room than the picture and crossed its edges)."""
    rows = [(STATE_NAMES[state], colour, _LEGEND_LINES[style] + "▶")
            for state in STATES for colour, style in [STATE_STYLES[state]]]
    rows += _GRANT_ROWS
    text = "<b>decisions</b><br/>" + "<br/>".join(
        f"<span style='color:{colour}'>{(line + ' ' + name).replace(' ', '&nbsp;')}</span>" for name, colour, line in rows)
    lines = [f'  legend["{text}"]:::legend']
    if beside is not None:  # an invisible link puts it in a column of its own, right of everything
        lines.append(f"  {beside} ~~~ legend")
    return lines
