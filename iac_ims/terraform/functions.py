"""Terraform built-in functions for the static evaluator.

`FUNCTIONS` maps a function name to `(implementation, mode)`.  Every implementation is
called as `impl(evaluator, *args)`.  The mode says how unknown arguments are handled before
the implementation runs:

    "deep"     any Unknown anywhere inside any argument -> the result is Unknown (default)
    "shallow"  only a wholly unknown argument -> Unknown; the implementation copes with
               unknown elements (concat, merge, length, lookup, ...)
    "raw"      the implementation sees every argument as is (coalesce, jsonencode, ...)
    "partial"  like "raw", for the functions that keep what is known of a partly known list
               (`PartialList`) or of a resource whose instances are unknown (concat, toset ...)
    "lazy"     the implementation receives the argument *trees* and evaluates them itself
               (try, can)

In the first two modes an argument that is a context `Traversable` (an object whose
attributes are computed on demand) also makes the result Unknown, unless it stands for a
collection (a resource with count/for_each): every function sees that as the list or map of
its instances (`as_collection`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import posixpath
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from iac_ims.terraform.context import MAX_COLLECTION_SIZE, MAX_STRING_SIZE
from iac_ims.terraform.evaluate import (
    EvalError,
    Evaluator,
    _index_number,
    as_collection,
    equal,
    has_unknown,
    is_traversable,
    norm_num,
    num_str,
    plain_unknown,
    to_bool,
    to_num,
    to_str,
    type_name,
    unknowns_in,
    value_key,
)
from iac_ims.terraform.values import (PartialJson, PartialList, PartialString, Reference, Unknown, decode_partial_json,
                                     partial_list)

__all__ = ["FUNCTIONS", "call", "register", "json_encode"]

FUNCTIONS: dict[str, tuple[Callable[..., Any], str]] = {}

MAX_REGEX_PATTERN = 1000
MAX_REGEX_INPUT = 1024 * 1024
MAX_FORMAT_WIDTH = 10_000
TERRAFORM_RANGE_LIMIT = 1024


def register(name: str, mode: str = "deep") -> Callable:
    def deco(f: Callable) -> Callable:
        FUNCTIONS[name] = (f, mode)
        return f

    return deco


def call(ev: Evaluator, name: str, arg_trees: list, expand: bool) -> Any:
    """Call function `name` with the (unevaluated) argument trees."""
    entry = FUNCTIONS.get(name)
    if entry is None:
        return Unknown(f"function {name} is not supported", (f"{name}()",))
    impl, mode = entry
    if mode == "lazy":
        if expand:
            raise EvalError(f"{name}() does not accept an expanded (...) argument")
        return impl(ev, arg_trees)
    args = [as_collection(ev.eval(t)) for t in arg_trees]
    if expand:
        if not args:
            raise EvalError("... expansion needs an argument")
        last = args.pop()
        if isinstance(last, Unknown):
            return Unknown.combine([*args, last], reason=last.reason)
        if type(last) is not list:
            raise EvalError(f"the expanded (...) argument of {name}() must be a list, not a {type_name(last)}")
        args.extend(last)
    if mode != "raw" and mode != "partial":
        if mode == "deep":
            uk = []
            for a in args:
                uk.extend(unknowns_in(a))
        else:
            uk = [a for a in args if isinstance(a, Unknown)]
        if uk:
            return Unknown.combine(uk)
        for a in args:
            if is_traversable(a):
                return Unknown(f"{name}() of an object whose attributes are not all known")
    try:
        return impl(ev, *args)
    except TypeError as e:
        raise EvalError(f"invalid arguments for {name}(): {e}") from None
    except (ValueError, KeyError, IndexError, ZeroDivisionError, OverflowError, UnicodeError,
            InvalidOperation) as e:
        raise EvalError(f"{name}(): {e}") from None


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _list(v: Any, fname: str, what: str = "argument") -> list:
    if type(v) is list:
        return v
    if v is None:
        raise EvalError(f"{fname}(): {what} must not be null")
    raise EvalError(f"{fname}(): {what} must be a list, not a {type_name(v)}")


def _map(v: Any, fname: str, what: str = "argument") -> dict:
    if type(v) is dict:
        return v
    if v is None:
        raise EvalError(f"{fname}(): {what} must not be null")
    raise EvalError(f"{fname}(): {what} must be a map or object, not a {type_name(v)}")


def _str(v: Any, fname: str) -> str:
    try:
        return to_str(v)
    except EvalError as e:
        raise EvalError(f"{fname}(): {e}") from None


def _int(v: Any, fname: str) -> int:
    n = to_num(v)
    if type(n) is float:
        if not n.is_integer():
            raise EvalError(f"{fname}(): {n} is not a whole number")
        n = int(n)
    return n


def _check_size(value: Any, what: str) -> Any:
    if type(value) is str:
        if len(value) > MAX_STRING_SIZE:
            return Unknown(f"{what} result is too large")
    elif len(value) > MAX_COLLECTION_SIZE:
        return Unknown(f"{what} result is too large")
    return value


def _set_order(items: list) -> list:
    """Deduplicate and order like a Terraform set: strings and numbers sorted."""
    seen: dict = {}
    for x in items:
        k = value_key(x)
        if k not in seen:
            seen[k] = x
    vals = list(seen.values())
    if not vals:
        return vals
    types = {type(v) for v in vals}
    if types == {str}:
        return sorted(vals)
    if types <= {int, float}:
        return sorted(vals)
    if types == {bool}:
        return sorted(vals)
    if types <= {str, int, float, bool}:
        strs = {to_str(v): None for v in vals}
        return sorted(strs)
    return vals


def _unknown_fn(reason: str, dep: str) -> Callable:
    def f(ev: Evaluator, *args: Any) -> Any:
        return Unknown(reason, (dep,))

    return f


# ---------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------

_HTML_ESC = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_RE = re.compile("[<>&\u2028\u2029]")


class _NotJson(Exception):
    pass


def _enc(v: Any, out: list) -> None:
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    else:
        t = type(v)
        if t is str:
            out.append(json.dumps(v, ensure_ascii=False))
        elif t is int or t is float:
            out.append(num_str(v))
        elif t is list:
            out.append("[")
            first = True
            for x in v:
                if not first:
                    out.append(",")
                first = False
                _enc(x, out)
            out.append("]")
        elif t is dict:
            out.append("{")
            first = True
            for k in sorted(v):
                if not first:
                    out.append(",")
                first = False
                out.append(json.dumps(k, ensure_ascii=False))
                out.append(":")
                _enc(v[k], out)
            out.append("}")
        else:
            raise _NotJson()


def json_encode(v: Any) -> str:
    """Terraform's jsonencode of a known value (compact, keys sorted, HTML-safe escapes)."""
    out: list[str] = []
    _enc(v, out)
    s = "".join(out)
    if _HTML_RE.search(s):
        s = _HTML_RE.sub(lambda m: _HTML_ESC[m.group()], s)
    return s


@register("jsonencode", "raw")
def _jsonencode(ev: Evaluator, v: Any) -> Any:
    uk = unknowns_in(v)
    if uk:
        c = Unknown.combine(uk)
        return PartialJson(c.reason, c.depends_on, value=v)
    try:
        s = json_encode(v)
    except _NotJson:
        return Unknown("jsonencode() of an object whose attributes are not all known")
    return _check_size(s, "jsonencode()")


def _json_float(s: str) -> Any:
    f = float(s)
    if f != f or f in (math.inf, -math.inf):
        raise ValueError("number out of range")
    return norm_num(f)


def _json_const(s: str) -> Any:
    raise ValueError(f"invalid JSON value {s}")


@register("jsondecode", "raw")
def _jsondecode(ev: Evaluator, s: Any) -> Any:
    if isinstance(s, PartialString):
        s = decode_partial_json(s)
    if isinstance(s, PartialJson):
        return s.value
    if isinstance(s, Unknown):
        return plain_unknown(s)
    if type(s) is not str:
        raise EvalError(f"jsondecode(): a string is required, not a {type_name(s)}")
    try:
        return json.loads(s, parse_float=_json_float, parse_constant=_json_const)
    except RecursionError:
        raise EvalError("jsondecode(): JSON nested too deeply") from None
    except ValueError as e:
        raise EvalError(f"jsondecode(): invalid JSON: {e}") from None


# ---------------------------------------------------------------------------------------
# files and templates
# ---------------------------------------------------------------------------------------


@register("file")
def _file(ev: Evaluator, path: Any) -> Any:
    return ev.ctx.read_file(_str(path, "file"))


@register("filebase64")
def _filebase64(ev: Evaluator, path: Any) -> Any:
    content = ev.ctx.read_file(_str(path, "filebase64"))
    if isinstance(content, Unknown) or type(content) is not str:
        return content
    return base64.b64encode(content.encode("utf-8")).decode("ascii")


@register("templatefile", "shallow")
def _templatefile(ev: Evaluator, path: Any, variables: Any) -> Any:
    p = _str(path, "templatefile")
    if variables is None:
        raise EvalError("templatefile(): vars must not be null")
    if type(variables) is not dict:
        raise EvalError(f"templatefile(): vars must be an object, not a {type_name(variables)}")
    content = ev.ctx.read_file(p)
    if isinstance(content, Unknown):
        return content
    if type(content) is not str:
        return Unknown(f"file {p!r} could not be read", (f"file({p})",))
    return ev.call_templatefile(content, variables)


# ---------------------------------------------------------------------------------------
# try / can
# ---------------------------------------------------------------------------------------


@register("try", "lazy")
def _try(ev: Evaluator, trees: list) -> Any:
    if not trees:
        raise EvalError("try() needs at least one argument")
    last = ""
    for t in trees:
        try:
            return ev.eval_guarded(t)
        except EvalError as e:
            last = str(e)
    raise EvalError(f"no expression given to try() succeeded: {last}")


@register("can", "lazy")
def _can(ev: Evaluator, trees: list) -> Any:
    if len(trees) != 1:
        raise EvalError("can() takes exactly one argument")
    try:
        v = ev.eval_guarded(trees[0])
    except EvalError:
        return False
    if has_unknown(v):
        return Unknown.combine(unknowns_in(v))
    return True


# ---------------------------------------------------------------------------------------
# collections
# ---------------------------------------------------------------------------------------


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
    return _list(v, fname), []


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
        return _set_order(known)
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
def _concat(ev: Evaluator, *lists: Any) -> Any:
    return _list_result(*_joined_parts(lists, "concat"), "concat")


@register("merge", "shallow")
def _merge(ev: Evaluator, *maps: Any) -> Any:
    out: dict = {}
    for m in maps:
        if m is None:
            continue
        out.update(_map(m, "merge"))
    return out


@register("flatten", "partial")
def _flatten(ev: Evaluator, v: Any) -> Any:
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
def _distinct(ev: Evaluator, v: Any) -> Any:
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
def _compact(ev: Evaluator, v: Any) -> Any:
    items, parts = _list_parts(v, "compact")
    out = []
    for x in items:
        if isinstance(x, Unknown):
            parts.append(x)  # it may be null or empty, and then dropped
        elif x is not None and x != "":
            out.append(_str(x, "compact"))
    return _list_result(out, parts, "compact")


@register("lookup", "shallow")
def _lookup(ev: Evaluator, m: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise EvalError("lookup() takes two or three arguments")
    mp = _map(m, "lookup")
    k = _str(key, "lookup")
    if k in mp:
        return mp[k]
    if default:
        return default[0]
    raise EvalError(f'lookup(): the map has no element with key "{k}" and no default was given')


@register("element", "shallow")
def _element(ev: Evaluator, lst: Any, idx: Any) -> Any:
    items = _list(lst, "element")
    i = _index_number(idx)
    if not items:
        raise EvalError("element(): cannot use element() on an empty list")
    if i < 0:
        raise EvalError("element(): the index must not be negative")
    return items[i % len(items)]


@register("length", "shallow")
def _length(ev: Evaluator, v: Any) -> Any:
    t = type(v)
    if t is list or t is dict or t is str:
        return len(v)
    if v is None:
        raise EvalError("length(): argument must not be null")
    raise EvalError(f"length(): a collection or string is required, not a {type_name(v)}")


@register("keys", "shallow")
def _keys(ev: Evaluator, m: Any) -> Any:
    return sorted(_map(m, "keys"))


@register("values", "partial")
def _values(ev: Evaluator, m: Any) -> Any:
    if isinstance(m, Unknown) or is_traversable(m):
        return _whole_unknown(m) if isinstance(m, Unknown) else Unknown(
            "values() of an object whose attributes are not all known")
    mp = _map(m, "values")
    return [mp[k] for k in sorted(mp)]


@register("toset", "partial")
def _toset(ev: Evaluator, v: Any) -> Any:
    if v is None:
        return None
    return _set_result(*_list_parts(v, "toset"), "toset")


@register("tolist", "partial")
def _tolist(ev: Evaluator, v: Any) -> Any:
    if v is None:
        return None
    return _list_result(*_list_parts(v, "tolist"), "tolist")


@register("tomap", "shallow")
def _tomap(ev: Evaluator, v: Any) -> Any:
    if v is None:
        return None
    return dict(_map(v, "tomap"))


@register("tostring")
def _tostring(ev: Evaluator, v: Any) -> Any:
    if v is None:
        return None
    return _str(v, "tostring")


@register("tonumber")
def _tonumber(ev: Evaluator, v: Any) -> Any:
    if v is None:
        return None
    return to_num(v)


@register("tobool")
def _tobool(ev: Evaluator, v: Any) -> Any:
    if v is None:
        return None
    return to_bool(v)


@register("one", "shallow")
def _one(ev: Evaluator, v: Any) -> Any:
    if v is None:
        return None
    items = _list(v, "one")
    if len(items) == 0:
        return None
    if len(items) == 1:
        return items[0]
    raise EvalError(f"one(): the list must have no more than one element, it has {len(items)}")


@register("range")
def _range(ev: Evaluator, *args: Any) -> Any:
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
def _slice(ev: Evaluator, lst: Any, start: Any, end: Any) -> Any:
    items = _list(lst, "slice")
    s = _index_number(start)
    e = _index_number(end)
    if s < 0 or e > len(items) or s > e:
        raise EvalError(f"slice(): invalid range [{s}:{e}] for a list of {len(items)} elements")
    return items[s:e]


@register("reverse", "shallow")
def _reverse(ev: Evaluator, lst: Any) -> Any:
    return list(reversed(_list(lst, "reverse")))


@register("sort")
def _sort(ev: Evaluator, lst: Any) -> Any:
    return sorted(_str(x, "sort") for x in _list(lst, "sort"))


@register("zipmap", "shallow")
def _zipmap(ev: Evaluator, ks: Any, vs: Any) -> Any:
    keys = _list(ks, "zipmap", "keys")
    vals = _list(vs, "zipmap", "values")
    uk = [k for k in keys if isinstance(k, Unknown)]
    if uk:
        return Unknown.combine(uk)
    if len(keys) != len(vals):
        raise EvalError("zipmap(): the keys and values lists must have the same length")
    return {_str(k, "zipmap"): v for k, v in zip(keys, vals)}


@register("setunion", "partial")
def _setunion(ev: Evaluator, *sets: Any) -> Any:
    return _set_result(*_joined_parts(sets, "setunion"), "setunion")


@register("setintersection")
def _setintersection(ev: Evaluator, first: Any, *others: Any) -> Any:
    base = _set_order(_list(first, "setintersection"))
    for o in others:
        keys = {value_key(x) for x in _set_order(_list(o, "setintersection"))}
        base = [x for x in base if value_key(x) in keys]
    return base


@register("setsubtract")
def _setsubtract(ev: Evaluator, a: Any, b: Any) -> Any:
    remove = {value_key(x) for x in _set_order(_list(b, "setsubtract"))}
    return [x for x in _set_order(_list(a, "setsubtract")) if value_key(x) not in remove]


@register("setproduct")
def _setproduct(ev: Evaluator, *sets: Any) -> Any:
    lists = [_list(s, "setproduct") for s in sets]
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
def _chunklist(ev: Evaluator, lst: Any, size: Any) -> Any:
    items = _list(lst, "chunklist")
    n = _int(size, "chunklist")
    if n < 0:
        raise EvalError("chunklist(): the size must not be negative")
    if n == 0:
        return [list(items)]
    return [items[i : i + n] for i in range(0, len(items), n)]


@register("contains", "partial")
def _contains(ev: Evaluator, lst: Any, value: Any) -> Any:
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
def _index(ev: Evaluator, lst: Any, value: Any) -> Any:
    items = _list(lst, "index")
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
def _coalesce(ev: Evaluator, *args: Any) -> Any:
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
def _coalescelist(ev: Evaluator, *args: Any) -> Any:
    if not args:
        raise EvalError("coalescelist() needs at least one argument")
    for a in args:
        if isinstance(a, Unknown):
            return plain_unknown(a)
        if a is None:
            continue
        if _list(a, "coalescelist"):
            return a
    return []


@register("sum")
def _sum(ev: Evaluator, lst: Any) -> Any:
    items = _list(lst, "sum")
    if not items:
        raise EvalError("sum(): cannot sum an empty list")
    total: Any = 0
    for x in items:
        total += to_num(x)
    return norm_num(total)


@register("max")
def _max(ev: Evaluator, *nums: Any) -> Any:
    if not nums:
        raise EvalError("max() needs at least one argument")
    return max(to_num(n) for n in nums)


@register("min")
def _min(ev: Evaluator, *nums: Any) -> Any:
    if not nums:
        raise EvalError("min() needs at least one argument")
    return min(to_num(n) for n in nums)


@register("abs")
def _abs(ev: Evaluator, n: Any) -> Any:
    return abs(to_num(n))


@register("ceil")
def _ceil(ev: Evaluator, n: Any) -> Any:
    return math.ceil(to_num(n))


@register("floor")
def _floor(ev: Evaluator, n: Any) -> Any:
    return math.floor(to_num(n))


@register("signum")
def _signum(ev: Evaluator, n: Any) -> Any:
    x = to_num(n)
    return (x > 0) - (x < 0)


@register("pow")
def _pow(ev: Evaluator, a: Any, b: Any) -> Any:
    return norm_num(math.pow(float(to_num(a)), float(to_num(b))))


@register("log")
def _log(ev: Evaluator, a: Any, b: Any) -> Any:
    return norm_num(math.log(float(to_num(a)), float(to_num(b))))


@register("parseint")
def _parseint(ev: Evaluator, s: Any, base: Any) -> Any:
    b = _int(base, "parseint")
    if b < 2 or b > 62:
        raise EvalError("parseint(): base must be between 2 and 62")
    text = _str(s, "parseint")
    if len(text) > 1000:
        raise EvalError("parseint(): number too long")
    if b <= 36:
        return int(text, b)
    raise EvalError("parseint(): bases above 36 are not supported")


@register("alltrue", "shallow")
def _alltrue(ev: Evaluator, lst: Any) -> Any:
    unknowns = []
    for x in _list(lst, "alltrue"):
        if isinstance(x, Unknown):
            unknowns.append(x)
        elif not to_bool(x):
            return False
    return Unknown.combine(unknowns) if unknowns else True


@register("anytrue", "shallow")
def _anytrue(ev: Evaluator, lst: Any) -> Any:
    unknowns = []
    for x in _list(lst, "anytrue"):
        if isinstance(x, Unknown):
            unknowns.append(x)
        elif to_bool(x):
            return True
    return Unknown.combine(unknowns) if unknowns else False


# ---------------------------------------------------------------------------------------
# strings
# ---------------------------------------------------------------------------------------


def _fmt_one(verb: str, flags: str, width: int | None, prec: int | None, arg: Any) -> str:
    if verb == "v":
        if "#" in flags or type(arg) in (list, dict):
            try:
                s = json_encode(arg)
            except _NotJson:
                raise EvalError("format(): cannot format an object whose attributes are not known")
        elif arg is None:
            s = "null"
        else:
            s = to_str(arg)
    elif verb == "s":
        if arg is None:
            raise EvalError("format(): a null value cannot be formatted with %s")
        s = to_str(arg)
        if prec is not None:
            s = s[:prec]
    elif verb == "q":
        s = json.dumps(to_str(arg), ensure_ascii=False)
    elif verb == "t":
        s = "true" if to_bool(arg) else "false"
    elif verb in "dbox":
        n = to_num(arg)
        if type(n) is float:
            if not n.is_integer():
                raise EvalError(f"format(): %{verb} requires a whole number, got {num_str(n)}")
            n = int(n)
        spec = {"d": "d", "b": "b", "o": "o", "x": "x"}[verb]
        s = format(abs(n), spec)
        if n < 0:
            s = "-" + s
        elif "+" in flags:
            s = "+" + s
        elif " " in flags:
            s = " " + s
    elif verb == "X":
        n = _int(arg, "format")
        s = format(n, "X")
    elif verb in "feEgG":
        n = to_num(arg)
        p = 6 if prec is None else prec
        if verb in "gG" and prec is None:
            s = num_str(n) if verb == "g" else num_str(n).upper()
        else:
            s = format(Decimal(num_str(n)), f".{p}{verb}")
        if "+" in flags and not s.startswith("-"):
            s = "+" + s
    else:
        raise EvalError(f"format(): unsupported verb %{verb}")
    if width is not None and len(s) < width:
        pad = width - len(s)
        if "-" in flags:
            s = s + " " * pad
        elif "0" in flags and verb in "dboxXfeEgG":
            sign = s[0] if s[:1] in ("-", "+", " ") else ""
            s = sign + "0" * pad + s[len(sign):]
        else:
            s = " " * pad + s
    return s


def _format(fmt: str, args: tuple) -> str:
    out: list[str] = []
    n = len(fmt)
    i = 0
    argi = 0
    used = 0
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        if i >= n:
            raise EvalError("format(): unterminated format verb at end of string")
        if fmt[i] == "%":
            out.append("%")
            i += 1
            continue
        flags = ""
        while i < n and fmt[i] in "-+# 0":
            flags += fmt[i]
            i += 1
        if i < n and fmt[i] == "[":
            k = fmt.find("]", i)
            if k < 0:
                raise EvalError("format(): unterminated argument index")
            try:
                argi = int(fmt[i + 1 : k]) - 1
            except ValueError:
                raise EvalError("format(): invalid argument index") from None
            i = k + 1
        width = None
        s = i
        while i < n and fmt[i].isdigit():
            i += 1
        if i > s:
            width = int(fmt[s:i])
        prec = None
        if i < n and fmt[i] == ".":
            i += 1
            s = i
            while i < n and fmt[i].isdigit():
                i += 1
            prec = int(fmt[s:i]) if i > s else 0
        if (width or 0) > MAX_FORMAT_WIDTH or (prec or 0) > MAX_FORMAT_WIDTH:
            raise EvalError("format(): width or precision too large")
        if i >= n:
            raise EvalError("format(): unterminated format verb")
        verb = fmt[i]
        i += 1
        if argi < 0 or argi >= len(args):
            raise EvalError(f"format(): not enough arguments for %{verb}")
        out.append(_fmt_one(verb, flags, width, prec, args[argi]))
        argi += 1
        used = max(used, argi)
    if used < len(args):
        raise EvalError("format(): too many arguments; no verbs left to consume them")
    return "".join(out)


@register("format")
def _format_fn(ev: Evaluator, fmt: Any, *args: Any) -> Any:
    return _check_size(_format(_str(fmt, "format"), args), "format()")


@register("formatlist")
def _formatlist(ev: Evaluator, fmt: Any, *args: Any) -> Any:
    f = _str(fmt, "formatlist")
    n = -1
    for a in args:
        if type(a) is list:
            if n >= 0 and len(a) != n:
                raise EvalError("formatlist(): all list arguments must have the same length")
            n = len(a)
    if n < 0:
        return [_format(f, args)]
    if n > MAX_COLLECTION_SIZE:
        return Unknown("formatlist() result is too large")
    out = []
    for i in range(n):
        ev.spend()
        out.append(_format(f, tuple(a[i] if type(a) is list else a for a in args)))
    return out


@register("join")
def _join(ev: Evaluator, sep: Any, *lists: Any) -> Any:
    if not lists:
        raise EvalError("join() needs at least one list")
    parts = []
    for lst in lists:
        for x in _list(lst, "join"):
            if x is None:
                raise EvalError("join(): an element of the list is null")
            parts.append(_str(x, "join"))
    return _check_size(_str(sep, "join").join(parts), "join()")


@register("split")
def _split(ev: Evaluator, sep: Any, s: Any) -> Any:
    sp = _str(sep, "split")
    text = _str(s, "split")
    if sp == "":
        return list(text)
    return _check_size(text.split(sp), "split()")


def _go_repl_template(repl: str) -> list:
    """Go regexp replacement syntax ($1, ${1}, ${name}, $name, $$) as literal/group pieces."""
    pieces: list = []
    i = 0
    n = len(repl)
    buf = []
    while i < n:
        c = repl[i]
        if c != "$":
            buf.append(c)
            i += 1
            continue
        if i + 1 < n and repl[i + 1] == "$":
            buf.append("$")
            i += 2
            continue
        if i + 1 < n and repl[i + 1] == "{":
            k = repl.find("}", i + 2)
            if k < 0:
                buf.append(c)
                i += 1
                continue
            name = repl[i + 2 : k]
            i = k + 1
        else:
            k = i + 1
            while k < n and (repl[k].isalnum() or repl[k] == "_"):
                k += 1
            name = repl[i + 1 : k]
            if not name:
                buf.append(c)
                i += 1
                continue
            i = k
        if buf:
            pieces.append("".join(buf))
            buf = []
        pieces.append((int(name) if name.isdigit() else name,))
    if buf:
        pieces.append("".join(buf))
    return pieces


REGEX_TIMEOUT_S = 0.5  # Terraform's RE2 is linear; a backtracking engine needs a time limit


def _compile_regex(pattern: str, fname: str) -> Any:
    import regex

    if len(pattern) > MAX_REGEX_PATTERN:
        return Unknown(f"{fname}(): regular expression longer than {MAX_REGEX_PATTERN} characters is not evaluated")
    try:
        return regex.compile(pattern.replace("\\z", "\\Z"), flags=regex.V0)
    except (regex.error, RecursionError, OverflowError) as e:
        raise EvalError(f"{fname}(): invalid regular expression: {e}") from None


def _regex_too_slow(fname: str) -> Unknown:
    return Unknown(f"{fname}(): the regular expression took longer than {REGEX_TIMEOUT_S} s (backtracking?)")


@register("replace")
def _replace(ev: Evaluator, s: Any, sub: Any, repl: Any) -> Any:
    text = _str(s, "replace")
    old = _str(sub, "replace")
    new = _str(repl, "replace")
    if len(old) >= 2 and old[0] == "/" and old[-1] == "/":
        if len(text) > MAX_REGEX_INPUT:
            return Unknown("replace(): input too large for a regular expression")
        rx = _compile_regex(old[1:-1], "replace")
        if isinstance(rx, Unknown):
            return rx
        pieces = _go_repl_template(new)

        def expand(m: Any) -> str:
            out = []
            for p in pieces:
                if type(p) is str:
                    out.append(p)
                else:
                    try:
                        out.append(m.group(p[0]) or "")
                    except IndexError:
                        pass
            return "".join(out)

        try:
            result = rx.sub(expand, text, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            return _regex_too_slow("replace")
    else:
        if old == "":
            if len(text) * (len(new) + 1) > MAX_STRING_SIZE:
                return Unknown("replace() result is too large")
            result = text.replace(old, new)
        else:
            if new and len(text) // len(old) * len(new) > MAX_STRING_SIZE:
                return Unknown("replace() result is too large")
            result = text.replace(old, new)
    return _check_size(result, "replace()")


def _match_value(m: Any) -> Any:
    rx = m.re
    if rx.groups == 0:
        return m.group(0)
    if rx.groupindex:
        return {name: m.group(name) for name in rx.groupindex}
    return list(m.groups())


@register("regex")
def _regex(ev: Evaluator, pattern: Any, s: Any) -> Any:
    text = _str(s, "regex")
    if len(text) > MAX_REGEX_INPUT:
        return Unknown("regex(): input too large for a regular expression")
    rx = _compile_regex(_str(pattern, "regex"), "regex")
    if isinstance(rx, Unknown):
        return rx
    try:
        m = rx.search(text, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        return _regex_too_slow("regex")
    if m is None:
        raise EvalError("regex(): pattern did not match any part of the given string")
    return _match_value(m)


@register("regexall")
def _regexall(ev: Evaluator, pattern: Any, s: Any) -> Any:
    text = _str(s, "regexall")
    if len(text) > MAX_REGEX_INPUT:
        return Unknown("regexall(): input too large for a regular expression")
    rx = _compile_regex(_str(pattern, "regexall"), "regexall")
    if isinstance(rx, Unknown):
        return rx
    out = []
    try:
        for m in rx.finditer(text, timeout=REGEX_TIMEOUT_S):
            out.append(_match_value(m))
            if len(out) > MAX_COLLECTION_SIZE:
                return Unknown("regexall() result is too large")
    except TimeoutError:
        return _regex_too_slow("regexall")
    return out


@register("lower")
def _lower(ev: Evaluator, s: Any) -> Any:
    return _str(s, "lower").lower()


@register("upper")
def _upper(ev: Evaluator, s: Any) -> Any:
    return _str(s, "upper").upper()


@register("title")
def _title(ev: Evaluator, s: Any) -> Any:
    out = []
    prev_sep = True
    for c in _str(s, "title"):
        out.append(c.upper() if prev_sep else c)
        if c.isascii():
            prev_sep = not (c.isalnum() or c == "_")
        else:
            prev_sep = c.isspace()
    return "".join(out)


@register("strrev")
def _strrev(ev: Evaluator, s: Any) -> Any:
    return _str(s, "strrev")[::-1]


@register("trimspace")
def _trimspace(ev: Evaluator, s: Any) -> Any:
    return _str(s, "trimspace").strip()


@register("trim")
def _trim(ev: Evaluator, s: Any, cutset: Any) -> Any:
    return _str(s, "trim").strip(_str(cutset, "trim"))


@register("trimprefix")
def _trimprefix(ev: Evaluator, s: Any, prefix: Any) -> Any:
    return _str(s, "trimprefix").removeprefix(_str(prefix, "trimprefix"))


@register("trimsuffix")
def _trimsuffix(ev: Evaluator, s: Any, suffix: Any) -> Any:
    return _str(s, "trimsuffix").removesuffix(_str(suffix, "trimsuffix"))


@register("chomp")
def _chomp(ev: Evaluator, s: Any) -> Any:
    return _str(s, "chomp").rstrip("\r\n")


@register("indent")
def _indent(ev: Evaluator, n: Any, s: Any) -> Any:
    count = _int(n, "indent")
    if count < 0 or count > MAX_FORMAT_WIDTH:
        raise EvalError("indent(): invalid number of spaces")
    text = _str(s, "indent")
    return _check_size(text.replace("\n", "\n" + " " * count), "indent()")


@register("substr")
def _substr(ev: Evaluator, s: Any, offset: Any, length: Any) -> Any:
    text = _str(s, "substr")
    off = _int(offset, "substr")
    ln = _int(length, "substr")
    n = len(text)
    if off < 0:
        off += n
        if off < 0:
            raise EvalError("substr(): offset out of range")
    if off > n:
        raise EvalError("substr(): offset out of range")
    if ln < 0:
        if ln != -1:
            raise EvalError("substr(): length must be -1 or non-negative")
        return text[off:]
    return text[off : off + ln]


@register("startswith")
def _startswith(ev: Evaluator, s: Any, prefix: Any) -> Any:
    return _str(s, "startswith").startswith(_str(prefix, "startswith"))


@register("endswith")
def _endswith(ev: Evaluator, s: Any, suffix: Any) -> Any:
    return _str(s, "endswith").endswith(_str(suffix, "endswith"))


@register("strcontains")
def _strcontains(ev: Evaluator, s: Any, sub: Any) -> Any:
    return _str(sub, "strcontains") in _str(s, "strcontains")


# ---------------------------------------------------------------------------------------
# paths, encodings, hashes
# ---------------------------------------------------------------------------------------


def _go_clean(p: str) -> str:
    if p == "":
        return "."
    c = posixpath.normpath(p)
    if c.startswith("//"):
        c = "/" + c.lstrip("/")
    return c


@register("abspath")
def _abspath(ev: Evaluator, p: Any) -> Any:
    path = _str(p, "abspath")
    if not path.startswith("/"):
        path = posixpath.join(getattr(ev.ctx, "path_cwd", ".") or ".", path)
    return _go_clean(path)


@register("basename")
def _basename(ev: Evaluator, p: Any) -> Any:
    path = _str(p, "basename")
    if path == "":
        return "."
    path = path.rstrip("/")
    if path == "":
        return "/"
    return path[path.rfind("/") + 1 :]


@register("dirname")
def _dirname(ev: Evaluator, p: Any) -> Any:
    path = _str(p, "dirname")
    i = path.rfind("/")
    return _go_clean(path[: i + 1])


@register("pathexpand")
def _pathexpand(ev: Evaluator, p: Any) -> Any:
    path = _str(p, "pathexpand")
    if path.startswith("~"):
        return Unknown("pathexpand() depends on the home directory", ("pathexpand()",))
    return path


@register("base64encode")
def _base64encode(ev: Evaluator, s: Any) -> Any:
    return base64.b64encode(_str(s, "base64encode").encode("utf-8")).decode("ascii")


@register("base64decode")
def _base64decode(ev: Evaluator, s: Any) -> Any:
    try:
        raw = base64.b64decode(_str(s, "base64decode"), validate=True)
    except ValueError:
        raise EvalError("base64decode(): invalid base64 data") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EvalError("base64decode(): the decoded data is not valid UTF-8") from None


def _hash(algo: str, fname: str, b64: bool = False) -> Callable:
    def f(ev: Evaluator, s: Any) -> Any:
        h = hashlib.new(algo, _str(s, fname).encode("utf-8"))
        if b64:
            return base64.b64encode(h.digest()).decode("ascii")
        return h.hexdigest()

    return f


for _name, _algo, _b64 in (
    ("md5", "md5", False),
    ("sha1", "sha1", False),
    ("sha256", "sha256", False),
    ("sha512", "sha512", False),
    ("base64sha256", "sha256", True),
    ("base64sha512", "sha512", True),
):
    register(_name)(_hash(_algo, _name, _b64))


@register("sensitive", "raw")
def _sensitive(ev: Evaluator, v: Any) -> Any:
    return v


@register("nonsensitive", "raw")
def _nonsensitive(ev: Evaluator, v: Any) -> Any:
    return v


for _name, _reason in (
    ("uuid", "uuid() returns a new random value on every run"),
    ("uuidv5", "uuidv5() is not evaluated"),
    ("timestamp", "timestamp() is only known at apply time"),
    ("plantimestamp", "plantimestamp() is only known at plan time"),
    ("bcrypt", "bcrypt() output is random"),
    ("fileexists", "fileexists() is not evaluated statically"),
    ("fileset", "fileset() is not evaluated statically"),
):
    register(_name, "raw")(_unknown_fn(_reason, f"{_name}()"))
