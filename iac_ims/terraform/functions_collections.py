"""Built-in functions of lists, maps and sets, and the type conversions.  Those that keep what is
known of a partly known list (`PartialList`) or of a resource whose instances are unknown
are registered in the "partial" mode (see functions.py)."""

from __future__ import annotations

import math
from typing import Any

from iac_ims.terraform.context import MAX_COLLECTION_SIZE
from iac_ims.terraform.evaluation import FunctionEvaluation
from iac_ims.terraform.functions_common import Table, int_arg, list_arg, map_arg, registrar, set_order, str_arg
from iac_ims.terraform.semantics import (
    EvalError,
    as_collection,
    equal,
    has_unknown,
    index_number,
    is_traversable,
    norm_num,
    plain_unknown,
    to_bool,
    to_num,
    type_name,
    unknowns_in,
    value_key,
)
from iac_ims.terraform.values import PartialList, Reference, Unknown, partial_list

FUNCTIONS: Table = {}
register = registrar(FUNCTIONS)

TERRAFORM_RANGE_LIMIT = 1024


# ---- partly known lists: what is known of each argument is kept

def _names_instances(v: Any) -> bool:
    """A Reference standing for a resource's instances (or their attributes) whose keys are unknown."""
    return isinstance(v, Reference) and not v.instance_keys_known


def _is_id(v: Any) -> bool:
    """The `id` of one resource instance: a string in every provider's schema, never a list."""
    return isinstance(v, Reference) and v.instance_keys_known and v.attribute == ("id",)


def _list_parts(v: Any, fname: str) -> tuple[list, list]:
    """(the elements certainly in list `v`, the unknown values the rest of it comes from)."""
    if isinstance(v, PartialList):
        return list(v.known), list(v.unknown_parts)
    if isinstance(v, Unknown):
        return [], [v]
    if is_traversable(v):
        return [], [Unknown(f"{fname}() of an object whose attributes are not all known")]
    return list_arg(v, fname), []


def _whole_unknown(v: Any) -> Any:
    """An argument that is wholly unknown, as the result of a function that keeps the elements:
    a Reference to a resource's instances still names them; any other unknown is plain."""
    return v if _names_instances(v) or isinstance(v, PartialList) else plain_unknown(v)


def _list_result(known: list, parts: list, fname: str) -> Any:
    if len(known) > MAX_COLLECTION_SIZE:
        return Unknown(f"{fname}() result is too large")
    if not known and len(parts) == 1:
        return _whole_unknown(parts[0])
    return partial_list(known, parts)


def _set_result(known: list, parts: list, fname: str) -> Any:
    """A set: duplicates of known values are dropped; with unknown elements (which may equal
    others) or unknown parts, what is known is still certainly in it."""
    if len(known) > MAX_COLLECTION_SIZE:
        return Unknown(f"{fname}() result is too large")
    if not known and len(parts) == 1:
        return _whole_unknown(parts[0])
    if not parts and not any(has_unknown(x) for x in known):
        return set_order(known)
    seen: set = set()
    unique = []
    for x in known:
        k = ("u", id(x)) if has_unknown(x) else value_key(x)
        if k not in seen:
            seen.add(k)
            unique.append(x)
    unknown = Unknown.combine([*parts, *(u for x in unique for u in unknowns_in(x))])
    reason = unknown.reason if parts else f"a set with unknown elements (which may be equal): {unknown.reason}"
    return PartialList(reason, unknown.depends_on, known=tuple(unique), unknown_parts=tuple(parts))


def _joined_parts(lists: tuple, fname: str) -> tuple[list, list]:
    """The elements certainly in one of `lists`, and the unknown values the rest comes from."""
    known: list = []
    parts: list = []
    for x in lists:
        k, p = _list_parts(x, fname)
        known.extend(k)
        parts.extend(p)
        if len(known) > MAX_COLLECTION_SIZE:
            break  # the result says it is too large
    return known, parts


@register("concat", "partial")
def _concat(ev: FunctionEvaluation, *lists: Any) -> Any:
    return _list_result(*_joined_parts(lists, "concat"), "concat")


@register("merge", "shallow")
def _merge(ev: FunctionEvaluation, *maps: Any) -> Any:
    out: dict = {}
    for m in maps:
        if m is None:
            continue
        out.update(map_arg(m, "merge"))
    return out


@register("flatten", "partial")
def _flatten(ev: FunctionEvaluation, v: Any) -> Any:
    known, parts = _list_parts(v, "flatten")
    out: list = []
    stack = [iter(known)]
    while stack:
        for x in stack[-1]:
            x = as_collection(x)  # a resource with count inside the list is a list too
            if isinstance(x, PartialList):
                parts.extend(x.unknown_parts)
                stack.append(iter(x.known))
                break
            if isinstance(x, Unknown) and not _is_id(x):
                parts.append(x)  # it may be a list to flatten: not certainly an element
                continue
            if type(x) is list:
                stack.append(iter(x))
                break
            out.append(x)
            if len(out) > MAX_COLLECTION_SIZE:
                return Unknown("flatten() result is too large")
        else:
            stack.pop()
    return _list_result(out, parts, "flatten")


@register("distinct", "partial")
def _distinct(ev: FunctionEvaluation, v: Any) -> Any:
    items, parts = _list_parts(v, "distinct")
    if parts or unknowns_in(items):
        return _set_result(items, parts, "distinct")
    seen = set()
    out = []
    for x in items:
        k = value_key(x)
        if k not in seen:
            seen.add(k)
            out.append(x)
    return out


@register("compact", "partial")
def _compact(ev: FunctionEvaluation, v: Any) -> Any:
    items, parts = _list_parts(v, "compact")
    out = []
    for x in items:
        if isinstance(x, Unknown):
            parts.append(x)  # it may be null or empty, and then dropped
        elif x is not None and x != "":
            out.append(str_arg(x, "compact"))
    return _list_result(out, parts, "compact")


@register("lookup", "shallow")
def _lookup(ev: FunctionEvaluation, m: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise EvalError("lookup() takes two or three arguments")
    mp = map_arg(m, "lookup")
    k = str_arg(key, "lookup")
    if k in mp:
        return mp[k]
    if default:
        return default[0]
    raise EvalError(f'lookup(): the map has no element with key "{k}" and no default was given')


@register("element", "shallow")
def _element(ev: FunctionEvaluation, lst: Any, idx: Any) -> Any:
    items = list_arg(lst, "element")
    i = index_number(idx)
    if not items:
        raise EvalError("element(): cannot use element() on an empty list")
    if i < 0:
        raise EvalError("element(): the index must not be negative")
    return items[i % len(items)]


@register("length", "shallow")
def _length(ev: FunctionEvaluation, v: Any) -> Any:
    t = type(v)
    if t is list or t is dict or t is str:
        return len(v)
    if v is None:
        raise EvalError("length(): argument must not be null")
    raise EvalError(f"length(): a collection or string is required, not a {type_name(v)}")


@register("keys", "shallow")
def _keys(ev: FunctionEvaluation, m: Any) -> Any:
    return sorted(map_arg(m, "keys"))


@register("values", "partial")
def _values(ev: FunctionEvaluation, m: Any) -> Any:
    if isinstance(m, Unknown) or is_traversable(m):
        return _whole_unknown(m) if isinstance(m, Unknown) else Unknown(
            "values() of an object whose attributes are not all known")
    mp = map_arg(m, "values")
    return [mp[k] for k in sorted(mp)]


@register("toset", "partial")
def _toset(ev: FunctionEvaluation, v: Any) -> Any:
    if v is None:
        return None
    return _set_result(*_list_parts(v, "toset"), "toset")


@register("tolist", "partial")
def _tolist(ev: FunctionEvaluation, v: Any) -> Any:
    if v is None:
        return None
    return _list_result(*_list_parts(v, "tolist"), "tolist")


@register("tomap", "shallow")
def _tomap(ev: FunctionEvaluation, v: Any) -> Any:
    if v is None:
        return None
    return dict(map_arg(v, "tomap"))


@register("tostring")
def _tostring(ev: FunctionEvaluation, v: Any) -> Any:
    if v is None:
        return None
    return str_arg(v, "tostring")


@register("tonumber")
def _tonumber(ev: FunctionEvaluation, v: Any) -> Any:
    if v is None:
        return None
    return to_num(v)


@register("tobool")
def _tobool(ev: FunctionEvaluation, v: Any) -> Any:
    if v is None:
        return None
    return to_bool(v)


@register("one", "shallow")
def _one(ev: FunctionEvaluation, v: Any) -> Any:
    if v is None:
        return None
    items = list_arg(v, "one")
    if len(items) == 0:
        return None
    if len(items) == 1:
        return items[0]
    raise EvalError(f"one(): the list must have no more than one element, it has {len(items)}")


@register("range")
def _range(ev: FunctionEvaluation, *args: Any) -> Any:
    nums = [to_num(a) for a in args]
    if len(nums) == 1:
        start, limit, step = 0, nums[0], 1
    elif len(nums) == 2:
        start, limit = nums
        step = 1 if limit >= start else -1
    elif len(nums) == 3:
        start, limit, step = nums
    else:
        raise EvalError("range() takes one to three arguments")
    if step == 0:
        raise EvalError("range(): step must not be zero")
    if step > 0 and limit < start:
        raise EvalError("range(): limit must be greater than start when step is positive")
    if step < 0 and limit > start:
        raise EvalError("range(): limit must be less than start when step is negative")
    count = max(0, math.ceil((limit - start) / step))
    if count > MAX_COLLECTION_SIZE:
        return Unknown(f"range() of {count} elements is too large")
    if count > TERRAFORM_RANGE_LIMIT:
        raise EvalError("range(): more than 1024 values were generated")
    return [norm_num(start + i * step) for i in range(count)]


@register("slice", "shallow")
def _slice(ev: FunctionEvaluation, lst: Any, start: Any, end: Any) -> Any:
    items = list_arg(lst, "slice")
    s = index_number(start)
    e = index_number(end)
    if s < 0 or e > len(items) or s > e:
        raise EvalError(f"slice(): invalid range [{s}:{e}] for a list of {len(items)} elements")
    return items[s:e]


@register("reverse", "shallow")
def _reverse(ev: FunctionEvaluation, lst: Any) -> Any:
    return list(reversed(list_arg(lst, "reverse")))


@register("sort")
def _sort(ev: FunctionEvaluation, lst: Any) -> Any:
    return sorted(str_arg(x, "sort") for x in list_arg(lst, "sort"))


@register("zipmap", "shallow")
def _zipmap(ev: FunctionEvaluation, ks: Any, vs: Any) -> Any:
    keys = list_arg(ks, "zipmap", "keys")
    vals = list_arg(vs, "zipmap", "values")
    uk = [k for k in keys if isinstance(k, Unknown)]
    if uk:
        return Unknown.combine(uk)
    if len(keys) != len(vals):
        raise EvalError("zipmap(): the keys and values lists must have the same length")
    return {str_arg(k, "zipmap"): v for k, v in zip(keys, vals)}


@register("setunion", "partial")
def _setunion(ev: FunctionEvaluation, *sets: Any) -> Any:
    return _set_result(*_joined_parts(sets, "setunion"), "setunion")


@register("setintersection")
def _setintersection(ev: FunctionEvaluation, first: Any, *others: Any) -> Any:
    base = set_order(list_arg(first, "setintersection"))
    for o in others:
        keys = {value_key(x) for x in set_order(list_arg(o, "setintersection"))}
        base = [x for x in base if value_key(x) in keys]
    return base


@register("setsubtract")
def _setsubtract(ev: FunctionEvaluation, a: Any, b: Any) -> Any:
    remove = {value_key(x) for x in set_order(list_arg(b, "setsubtract"))}
    return [x for x in set_order(list_arg(a, "setsubtract")) if value_key(x) not in remove]


@register("setproduct")
def _setproduct(ev: FunctionEvaluation, *sets: Any) -> Any:
    lists = [list_arg(s, "setproduct") for s in sets]
    total = 1
    for lst in lists:
        total *= len(lst)
        if total > MAX_COLLECTION_SIZE:
            return Unknown("setproduct() result is too large")
    out: list = [[]]
    for lst in lists:
        out = [prev + [x] for prev in out for x in lst]
    return out


@register("chunklist", "shallow")
def _chunklist(ev: FunctionEvaluation, lst: Any, size: Any) -> Any:
    items = list_arg(lst, "chunklist")
    n = int_arg(size, "chunklist")
    if n < 0:
        raise EvalError("chunklist(): the size must not be negative")
    if n == 0:
        return [list(items)]
    return [items[i : i + n] for i in range(0, len(items), n)]


@register("contains", "partial")
def _contains(ev: FunctionEvaluation, lst: Any, value: Any) -> Any:
    items, parts = _list_parts(lst, "contains")
    if has_unknown(value):
        return Unknown.combine(unknowns_in(value))
    if is_traversable(value):
        return Unknown("contains() of an object whose attributes are not all known")
    unknowns = list(parts)  # the unknown rest may hold it
    for x in items:
        r = equal(x, value)
        if r is True:
            return True
        if r is not False:
            unknowns.append(r)
    if unknowns:
        return Unknown.combine(unknowns)
    return False


@register("index", "shallow")
def _index(ev: FunctionEvaluation, lst: Any, value: Any) -> Any:
    items = list_arg(lst, "index")
    if has_unknown(value):
        return Unknown.combine(unknowns_in(value))
    for i, x in enumerate(items):
        r = equal(x, value)
        if r is True:
            return i
        if r is not False:
            return r
    raise EvalError("index(): the value is not in the list")


@register("coalesce", "raw")
def _coalesce(ev: FunctionEvaluation, *args: Any) -> Any:
    if not args:
        raise EvalError("coalesce() needs at least one argument")
    for a in args:
        if isinstance(a, Unknown):
            return plain_unknown(a)
        if a is None or a == "":
            continue
        return a
    raise EvalError("coalesce(): no non-null, non-empty-string arguments")


@register("coalescelist", "raw")
def _coalescelist(ev: FunctionEvaluation, *args: Any) -> Any:
    if not args:
        raise EvalError("coalescelist() needs at least one argument")
    for a in args:
        if isinstance(a, Unknown):
            return plain_unknown(a)
        if a is None:
            continue
        if list_arg(a, "coalescelist"):
            return a
    return []
