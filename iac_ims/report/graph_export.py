"""`iac-ims graph --format dot|mermaid|graphml|json`."""

from __future__ import annotations

import json
import re
from typing import Any

_SHAPES = {"group": "box", "user": "box", "agency": "box", "assignment": "ellipse", "role": "hexagon",
           "operation": "note"}


def _label(node: str) -> str:
    return node.replace('"', '\\"')


def export_graph(iam_graph: Any, format_: str) -> str:
    g = iam_graph.export()
    # actions and operations no principal or role reaches only clutter a picture
    import networkx as nx

    starts = [n for n, d in g.nodes(data=True) if d.get("kind") in ("group", "user", "agency", "role")]
    reachable = set(starts)
    for start in starts:
        reachable |= nx.descendants(g, start)
    g = g.subgraph(sorted(reachable)).copy()
    if format_ == "json":
        return json.dumps(nx.node_link_data(g, edges="links"), indent=2, sort_keys=True) + "\n"
    if format_ == "graphml":
        return "\n".join(nx.generate_graphml(g)) + "\n"
    if format_ == "mermaid":
        return _mermaid(g)
    return _dot(g)


def _dot(g: Any) -> str:
    lines = ["digraph iam {", "  rankdir=LR;"]
    for node, data in sorted(g.nodes(data=True)):
        shape = _SHAPES.get(data.get("kind", ""), "plaintext")
        lines.append(f'  "{_label(node)}" [shape={shape}];')
    for u, v, data in sorted(g.edges(data=True), key=lambda e: (e[0], e[1], e[2].get("kind", ""))):
        label = data.get("effect") or data.get("kind", "")
        lines.append(f'  "{_label(u)}" -> "{_label(v)}" [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def mermaid_id(node: str, ids: dict[str, str]) -> str:
    if node not in ids:
        ids[node] = f"n{len(ids)}"
    return ids[node]


def _mermaid_text(node: str) -> str:
    return re.sub(r'["\[\]{}<>]', "'", node)


def _mermaid(g: Any) -> str:
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for node in sorted(g.nodes):
        lines.append(f'  {mermaid_id(node, ids)}["{_mermaid_text(node)}"]')
    for u, v, data in sorted(g.edges(data=True), key=lambda e: (e[0], e[1], e[2].get("kind", ""))):
        label = data.get("effect") or data.get("kind", "")
        lines.append(f"  {mermaid_id(u, ids)} -->|{label}| {mermaid_id(v, ids)}")
    return "\n".join(lines) + "\n"
