"""Shapes of expressions the loader recognises without evaluating them: an attribute that is exactly
`var.NAME`, a `dynamic` block's `iterator` name."""

from __future__ import annotations

from typing import Any

from iac_ims.terraform import ir

_MAX_WRAPPERS = 64  # bounded: a hostile file may nest parentheses deeply


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
    """NAME when `node` is `var.NAME` (through parentheses and `"${...}"`)."""
    node = _unwrapped(node)
    if type(node) is not ir.Traversal or len(node.steps) != 1:
        return None
    source, step = node.source, node.steps[0]
    if type(source) is not ir.Variable or source.name != "var" or type(step) is not ir.GetAttr:
        return None
    return step.name if step.name not in _LITERAL_NAMES else None


# `var.true` is the literal `true` after a dot, not a variable's name
_LITERAL_NAMES = frozenset(("true", "false", "null"))


def _unwrapped(node: Any) -> Any:
    """Through parentheses, and through a quoted string that is one interpolation."""
    for _ in range(_MAX_WRAPPERS):
        if type(node) is ir.Parens:
            node = node.inner
        elif type(node) is ir.Quoted and len(node.parts) == 1 and type(node.parts[0]) is ir.Interpolation:
            node = node.parts[0].expr
        else:
            return node
    return None


def traversal_name(expr: Any) -> str | None:
    """`iterator = role` names an identifier, not a value."""
    if type(expr) is ir.Variable:
        return expr.name
    # a literal or number as written is taken as the name too: Terraform rejects both, and
    # they name nothing any expression can refer to
    if type(expr) is ir.Literal:
        return {True: "true", False: "false", None: "null"}[expr.value]
    if type(expr) is ir.Number:
        return expr.text
    return None
