"""For expressions: `[for k, v in c : value if cond]` and `{for ... : key => value...}`, over
known collections, over partly known lists (what is known is mapped, the unknown rest stays
unknown) and over collections whose keys are unknown (the body is evaluated once, for an
element standing for all of them)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from iac_ims.terraform import ir
from iac_ims.terraform.evaluation import Evaluation
from iac_ims.terraform.semantics import (
    EvalError,
    SomeOf,
    as_collection,
    bool_or_unknown,
    map_key,
    some_of,
    unknowns_in,
)
from iac_ims.terraform.values import PartialList, Reference, Unknown, partial_list


def _for_iterations(ev: Evaluation, names: tuple, items: Any, cond: Any, unknowns: list) -> Any:
    """Bind the for-expression's names to each item whose condition holds, then yield.
    An unknown collection or condition is added to `unknowns` instead."""
    if isinstance(items, Unknown):
        unknowns.append(items)
        return
    for _ in ev.each_bound(names, items):
        if cond is not None:
            c = bool_or_unknown(ev.eval(cond))
            if isinstance(c, Unknown):
                unknowns.append(c)
                continue
            if not c:
                continue
        yield


def _soft_bool(ev: Evaluation, cond: ir.Expr) -> Any:
    """A condition that may never be evaluated by Terraform: its errors become Unknown."""
    try:
        return bool_or_unknown(ev.eval_guarded(cond))
    except EvalError as e:
        return Unknown(f"error: {e}")


def _soft_body(ev: Evaluation, names: tuple, key: Any, element: Any, cond: Any, value_t: ir.Expr) -> tuple[Any, Any]:
    """The body of a for-expression for one element that Terraform would not evaluate at plan
    time (an element of a partly known or unknown collection), errors as Unknown: (`_SKIPPED`,
    None) when the condition is certainly false, else (the condition, the body's value)."""
    kname, vname = names
    saved = ev.bind(names)
    try:
        if kname is not None:
            ev.scope[kname] = key
        ev.scope[vname] = element
        c = True if cond is None else _soft_bool(ev, cond)
        if c is False:
            return _SKIPPED, None
        return c, ev.eval_soft(value_t)
    finally:
        ev.unbind(saved)


_SKIPPED = object()


def _for_some(ev: Evaluation, some: SomeOf, names: tuple, cond: Any, value_t: ir.Expr, empty: Any = _SKIPPED) -> Any:
    """A for-expression over a collection whose keys are unknown: the body is evaluated once for
    an element standing for all of them.  A result naming the collection's elements stays a
    Reference (with `instance_keys_known=False`), as a splat over it would; `empty` when the
    condition is false for every element."""
    key = Unknown(f"the keys of {some.names} are not known", (some.names,))
    condition, value = _soft_body(ev, names, key, some.element, cond, value_t)
    if condition is _SKIPPED:
        return empty
    if value is some.element:
        return some.unknown
    if some.named_by(value):
        deps = Unknown.combine([value, some.unknown]).depends_on
        return replace(value, address=some.names, instance_keys_known=False, depends_on=deps)
    return Unknown.combine([some.unknown, *unknowns_in(condition), *unknowns_in(value)], reason=some.unknown.reason)


def _for_partial(ev: Evaluation, partial: PartialList, names: tuple, cond: Any, value_t: ir.Expr) -> Any:
    """`[for ...]` over a partly known list: the known elements are mapped (those the condition
    certainly keeps stay certain members), the unknown rest stays unknown, still naming the
    resource it comes from where it does."""
    position = Unknown("the position of an element in a partly known list is not known", partial.depends_on)
    known: list = []
    parts: list = []
    for element in partial.known:
        ev.spend()
        condition, value = _soft_body(ev, names, position, element, cond, value_t)
        if condition is True:
            known.append(value)
        elif condition is not _SKIPPED:  # the condition may drop it
            parts.append(value if isinstance(value, Reference) else Unknown.combine([condition, *unknowns_in(value)]))
    for part in partial.unknown_parts:
        ev.spend()
        some = some_of(part)
        value = _for_some(ev, some, names, cond, value_t) if some is not None else part
        if value is not _SKIPPED:
            parts.append(value)
    return partial_list(known, parts)


def _for_start(ev: Evaluation, node: ir.ForExpr) -> tuple[tuple, Any, SomeOf | None]:
    """The names a for-expression binds, its collection, and that collection as a collection of
    unknown keys whose elements can still be named (or None)."""
    value = ev.eval(node.collection)
    coll = as_collection(value)  # once: a resource's instances are listed here, not again per use
    return (node.key_var, node.value_var), coll, some_of(value) if isinstance(coll, Reference) else None


def evaluate_for(ev: Evaluation, node: ir.ForExpr) -> Any:
    return _for_tuple(ev, node) if node.key is None else _for_object(ev, node)


def _for_tuple(ev: Evaluation, node: ir.ForExpr) -> Any:
    value_t, cond = node.value, node.condition
    names, coll, some = _for_start(ev, node)
    if some is not None:
        return _for_some(ev, some, names, cond, value_t, empty=[])
    if isinstance(coll, PartialList):
        return _for_partial(ev, coll, names, cond, value_t)
    unknowns: list = []
    out = [ev.eval(value_t) for _ in _for_iterations(ev, names, ev.iter_items(coll), cond, unknowns)]
    return Unknown.combine(unknowns) if unknowns else out


def _for_object(ev: Evaluation, node: ir.ForExpr) -> Any:
    key_t, value_t, cond = node.key, node.value, node.condition
    names, coll, some = _for_start(ev, node)
    if some is not None:
        return _for_some(ev, some, names, cond, value_t, empty={})
    grouping = node.grouping
    result: dict = {}
    unknowns: list = []
    for _ in _for_iterations(ev, names, ev.iter_items(coll), cond, unknowns):
        key = ev.eval(key_t)
        if isinstance(key, Unknown):
            unknowns.append(key)
            continue
        key = map_key(key)
        val = ev.eval(value_t)
        if grouping:
            result.setdefault(key, []).append(val)
        elif key in result:
            raise EvalError(f'duplicate object key "{key}" in for expression (use ... to group)')
        else:
            result[key] = val
    return Unknown.combine(unknowns) if unknowns else result
