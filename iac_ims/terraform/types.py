"""Variable type constraints, as far as they change values: `optional()` object attributes are
added (null or their default) the way Terraform converts a variable's value to its type."""

from __future__ import annotations

from typing import Any, Callable

from iac_ims.terraform import ir

MAX_DEPTH = 32


def _call(node: Any) -> tuple[str, tuple] | None:
    """`name(args...)` of a type expression, or None for a primitive."""
    if type(node) is not ir.FunctionCall:
        return None
    return node.name, node.args


def _object_spec(node: Any) -> list[tuple[str, Any]]:
    if type(node) is not ir.Object:
        return []
    spec = []
    for item in node.items:
        key = _attribute_name(item.key)
        if key is not None:
            spec.append((key, item.value))
    return spec


def _attribute_name(key: Any) -> str | None:
    """The attribute an `object({...})` key names: a bare name, or a string as written."""
    if type(key) is ir.Variable:
        return key.name
    if type(key) is ir.Quoted and all(type(p) is str for p in key.parts):
        return "".join(key.parts)
    return None


def conform(value: Any, type_expr: Any, evaluate_default: Callable[[Any], Any], depth: int = 0) -> Any:
    """`value` converted to the variable type `type_expr` (an `ir.Expr`) where that adds
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


def _tuple_types(node: Any) -> tuple:
    return node.items if type(node) is ir.Tuple else ()
