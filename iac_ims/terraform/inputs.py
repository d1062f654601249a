"""Where the value of a module input comes from: an attribute that is exactly `var.NAME`, and the
module call arguments that set it, up through the callers."""

from __future__ import annotations

from dataclasses import dataclass

from iac_ims.terraform.expr_shapes import json_interpolation, variable_name
from iac_ims.terraform.instances import EvaluatedBlock
from iac_ims.terraform.parse import Block, JsonExpr


def direct_variable(instance_or_block: "EvaluatedBlock | Block", attribute_name: str) -> str | None:
    """NAME when the attribute's expression is exactly `var.NAME` (also `(var.NAME)` and
    `"${var.NAME}"`, which Terraform reads as the same value), else None (no such attribute,
    or any other expression: `var.a.b`, `try(var.a, x)`, `coalesce(var.a)` ...).  Works on
    python-hcl2's Lark trees, the lean trees of fastparse and Terraform's JSON syntax alike."""
    block = instance_or_block if isinstance(instance_or_block, Block) else instance_or_block.block
    attribute = block.attributes.get(attribute_name)
    if attribute is None:
        return None
    expr = attribute.expr
    if isinstance(expr, JsonExpr):
        expr = json_interpolation(expr.value)
    return variable_name(expr) if expr is not None else None


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    end_line: int


def input_origin(block: Block, attribute_name: str, calls: tuple[Block, ...]) -> list[Location]:
    """Where the value of an attribute that is exactly a module input (`var.X`) is written: the
    caller's argument, and on up while that argument is itself an input of its module; outermost
    first, the attribute itself last. Empty when the attribute is not such an input (or the block
    is in a root module). `calls`: the module blocks from the root down to the block's module."""
    attribute = block.attributes.get(attribute_name)
    name = direct_variable(block, attribute_name)
    if attribute is None or name is None or not calls:
        return []
    chain = [Location(attribute.file or block.file, attribute.line, attribute.end_line)]
    for call in reversed(calls):  # at most MAX_MODULE_DEPTH: deeper calls are not followed
        argument = call.attributes.get(name)
        if argument is None:
            return []  # the input takes its default: decided in the module itself
        chain.append(Location(argument.file or call.file, argument.line, argument.end_line))
        name = direct_variable(call, name)
        if name is None:
            break
    return list(reversed(chain))
