"""Shapes of expressions the loader recognises without evaluating them: an attribute that is exactly
`var.NAME`, a `dynamic` block's `iterator` name."""

from __future__ import annotations

from typing import Any


def json_interpolation(value: Any) -> Any:
    """The expression of a JSON string that is one interpolation and nothing else."""
    from iac_ims.terraform.template import TemplateSyntaxError, compile_template

    if not isinstance(value, str):
        return None
    try:
        compiled = compile_template(value)
    except TemplateSyntaxError:
        return None
    return compiled.nodes[0][1] if compiled.passthrough else None


def variable_name(node: Any) -> str | None:
    from lark import Tree

    node = _unwrapped(node)
    if not isinstance(node, Tree) or node.data != "get_attr_expr_term":
        return None
    parts = [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
    if len(parts) != 2 or parts[1].data != "get_attr":
        return None
    root = _unwrapped(parts[0])
    if not (isinstance(root, Tree) and root.data == "identifier" and str(root.children[0]) == "var"):
        return None
    names = [c for c in parts[1].children if isinstance(c, Tree) and c.data == "identifier"]
    return str(names[0].children[0]) if len(names) == 1 else None


def _unwrapped(node: Any) -> Any:
    """Through parentheses, and through a quoted string that is one interpolation."""
    from lark import Tree

    for _ in range(64):  # bounded: a hostile file may nest parentheses deeply
        if not isinstance(node, Tree):
            return node
        trees = [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        if node.data == "expr_term" and len(trees) == 1:
            node = trees[0]
        elif node.data == "string" and len(trees) == 1 and _is_interpolation(trees[0]):
            node = [c for c in trees[0].children[0].children if isinstance(c, Tree)][0]
        else:
            return node
    return None


def _is_interpolation(part: Any) -> bool:
    from lark import Tree

    inner = part.children[0] if part.children else None
    return (part.data == "string_part" and isinstance(inner, Tree) and inner.data == "interpolation"
            and any(isinstance(c, Tree) for c in inner.children))


def traversal_name(expr: Any) -> str | None:
    """`iterator = role` names an identifier, not a value."""
    from lark import Token, Tree

    node = expr
    while isinstance(node, Tree) and len(node.children) == 1:
        node = node.children[0]
    if isinstance(node, Token):
        return str(node)
    if isinstance(node, Tree) and node.data == "identifier":
        return str(node.children[0])
    return None
