"""Variable type constraints, as far as they change values: `optional()` object attributes are
added (null or their default) the way Terraform converts a variable's value to its type."""

from __future__ import annotations

from typing import Any, Callable

from lark import Token, Tree

MAX_DEPTH = 32


def _unwrap(node: Any) -> Any:
    while isinstance(node, Tree) and node.data == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    return node


def _call(node: Any) -> tuple[str, list[Any]] | None:
    """`name(args...)` of a type expression, or None for a primitive."""
    node = _unwrap(node)
    if not isinstance(node, Tree) or node.data != "function_call":
        return None
    name = str(node.children[0].children[0])
    args: list[Any] = []
    for child in node.children[1:]:
        if isinstance(child, Tree) and child.data == "arguments":
            args = [c for c in child.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
    return name, args


def _object_spec(node: Any) -> list[tuple[str, Any]]:
    node = _unwrap(node)
    if not isinstance(node, Tree) or node.data != "object":
        return []
    spec = []
    for element in node.children:
        if isinstance(element, Tree) and element.data == "object_elem":
            key_node = _unwrap(element.children[0].children[0])
            if isinstance(key_node, Tree) and key_node.data == "identifier":
                key = str(key_node.children[0])
            elif isinstance(key_node, Tree) and key_node.data == "string":
                key = "".join(str(p.children[0]) for p in key_node.children if isinstance(p, Tree))
            elif isinstance(key_node, Token):
                key = str(key_node)
            else:
                continue
            spec.append((key, element.children[-1]))
    return spec


def conform(value: Any, type_expr: Any, evaluate_default: Callable[[Any], Any], depth: int = 0) -> Any:
    """`value` converted to the variable type `type_expr` (a parse tree) where that adds
    attributes; anything else is returned as it is."""
    if depth > MAX_DEPTH or value is None:
        return value
    call = _call(type_expr)
    if call is None:
        return value
    name, args = call
    if not args:
        return value
    if name in ("list", "set") and isinstance(value, list):
        return [conform(v, args[0], evaluate_default, depth + 1) for v in value]
    if name == "map" and isinstance(value, dict):
        return {k: conform(v, args[0], evaluate_default, depth + 1) for k, v in value.items()}
    if name == "tuple" and isinstance(value, list):
        types = _tuple_types(args[0])
        return [conform(v, types[i], evaluate_default, depth + 1) if i < len(types) else v
                for i, v in enumerate(value)]
    if name == "object" and isinstance(value, dict):
        out = dict(value)
        for key, attribute_type in _object_spec(args[0]):
            optional = _call(attribute_type)
            if optional is not None and optional[0] == "optional" and optional[1]:
                inner = optional[1][0]
                if out.get(key) is None:
                    out[key] = evaluate_default(optional[1][1]) if len(optional[1]) > 1 else None
                    if out[key] is None:
                        continue
                out[key] = conform(out[key], inner, evaluate_default, depth + 1)
            elif key in out:
                out[key] = conform(out[key], attribute_type, evaluate_default, depth + 1)
        return out
    return value


def _tuple_types(node: Any) -> list[Any]:
    node = _unwrap(node)
    if isinstance(node, Tree) and node.data == "tuple":
        return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
    return []
