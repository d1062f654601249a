"""Fast construction (and pickling) of IR nodes.

A frozen dataclass's __init__ sets each field through object.__setattr__; setting the slots
through their descriptors builds the same node in half the time.  `new[cls]` is such a
constructor for each IR class (fields in order, as `cls(...)` takes them), published here as
`new_<Class>` so that pickle can name it.

Pickling a frozen slotted dataclass by default goes through dataclasses.fields() for every node
on both ends; `reducers()` gives, for a pickler's dispatch table, a reduction to (constructor,
fields) instead, about three times faster to write and twice as fast to read (IR crosses the
process boundary when worker processes parse files for the main one).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from iac_ims.terraform import ir

__all__ = ["new", "reducers"]

NODE_CLASSES = (
    ir.Number, ir.Literal, ir.Variable, ir.Parens, ir.GetAttr, ir.Index, ir.LegacyIndex, ir.Splat, ir.Traversal,
    ir.FunctionCall, ir.Conditional, ir.BinaryOp, ir.UnaryOp, ir.Tuple, ir.ObjectItem, ir.Object, ir.ForExpr,
    ir.Interpolation, ir.Directive, ir.Quoted, ir.Heredoc, ir.AttributeDef, ir.BlockDef, ir.Body,
)


def _generated(name: str, source: str, scope: dict) -> Callable[..., Any]:
    exec(source, scope)
    function = scope[name]
    function.__module__ = __name__
    return function


def _constructor(cls: type) -> Callable[..., Any]:
    names = [f.name for f in dataclasses.fields(cls)]
    scope: dict = {"_new": object.__new__, "_cls": cls}
    scope.update((f"_set_{n}", getattr(cls, n).__set__) for n in names)
    name = f"new_{cls.__name__}"
    source = (f"def {name}({', '.join(names)}):\n    node = _new(_cls)\n"
              + "".join(f"    _set_{n}(node, {n})\n" for n in names) + "    return node\n")
    return _generated(name, source, scope)


def _reducer(cls: type, constructor: Callable[..., Any]) -> Callable[[Any], tuple]:
    names = [f.name for f in dataclasses.fields(cls)]
    name = f"reduce_{cls.__name__}"
    source = f"def {name}(node):\n    return (_make, ({''.join(f'node.{n}, ' for n in names)}))\n"
    return _generated(name, source, {"_make": constructor})


new: dict[type, Callable[..., Any]] = {}
for _cls in NODE_CLASSES:
    new[_cls] = globals()[f"new_{_cls.__name__}"] = _constructor(_cls)


def reducers() -> dict[type, Callable[[Any], tuple]]:
    """{IR class: reduction} for a pickler's dispatch table (e.g. `ForkingPickler.register`)."""
    return {cls: _reducer(cls, new[cls]) for cls in NODE_CLASSES}
