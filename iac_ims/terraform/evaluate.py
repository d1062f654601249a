"""A safe evaluator (no eval/exec) of the Terraform expression language.

It walks the project's expression representation (`ir.py`) and produces plain Python values, or `Unknown`/`Reference`/`PartialJson` for what cannot be known
before `terraform apply`.  Everything outside the expression comes from an `EvalContext`.

Errors Terraform would report raise `EvalError` internally (so `try()`/`can()` can catch
them); `evaluate` itself never raises: it returns `Unknown("error: ...")`.  Resource bounds
(depth, steps) raise `LimitExceeded`, which `try()`/`can()` do not catch.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from iac_ims.terraform import ir
from iac_ims.terraform import template as _template
from iac_ims.terraform.context import (
    MAX_COLLECTION_SIZE,
    MAX_EVAL_DEPTH,
    MAX_STRING_SIZE,
    MISSING,
    Budget,
    EvalContext,
)
from iac_ims.terraform.values import Invalid, PartialList, PartialString, Reference, Unknown, instance_suffix, partial_list

__all__ = [
    "EvalError",
    "CertainError",
    "LimitExceeded",
    "SomeOf",
    "as_collection",
    "some_of",
    "Evaluator",
    "evaluate",
    "evaluate_compiled_template",
    "MAX_TEMPLATEFILE_DEPTH",
]

MAX_TEMPLATEFILE_DEPTH = 8


class EvalError(Exception):
    """An error Terraform would raise while evaluating (caught by `try()` / `can()`)."""


class CertainError(EvalError):
    """An error Terraform certainly raises here (IMS903): a name not declared (`static`), or an
    index a fully known collection lacks.  `try()`/`can()` catch it like any EvalError; uncaught,
    `Evaluator.run` turns it into an `Invalid` for the loader to report where it is."""

    def __init__(self, message: str, static: bool = False):
        super().__init__(message)
        self.static = static


class LimitExceeded(Exception):
    """An analysis bound was hit (depth, steps): the whole evaluation becomes Unknown."""


_NOTSET = object()
_NUM_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


# ---------------------------------------------------------------------------------------
# value helpers (shared with functions.py)
# ---------------------------------------------------------------------------------------


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    t = type(v)
    if t is bool:
        return "bool"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    if t is list:
        return "list"
    if t is dict:
        return "object"
    if isinstance(v, Unknown):
        return "unknown value"
    return "object"


def norm_num(x: Any) -> Any:
    """int when integral; non-finite numbers are an error."""
    if type(x) is float:
        if x != x or x == math.inf or x == -math.inf:
            raise EvalError("arithmetic result is not a finite number")
        if x.is_integer():
            return int(x)
    return x


def num_str(x: Any) -> str:
    """A number as Terraform renders it in a string ("1", "1.5", "0.0000001")."""
    if type(x) is float:
        x = norm_num(x)
    if type(x) is int:
        try:
            return str(x)
        except ValueError:
            raise EvalError("number too large to convert to a string") from None
    r = repr(x)
    if "e" in r or "E" in r:
        r = format(Decimal(r), "f")
    return r


def parse_number(s: str) -> Any:
    s2 = s
    if not _NUM_RE.fullmatch(s2):
        raise EvalError(f"cannot convert {s[:40]!r} to a number")
    if "." in s2 or "e" in s2 or "E" in s2:
        try:
            return norm_num(float(s2))
        except OverflowError:
            raise EvalError("number out of range") from None
    return int(s2)


def to_num(v: Any) -> Any:
    t = type(v)
    if t is int or t is float:
        return v
    if t is str:
        return parse_number(v)
    if v is None:
        raise EvalError("a null value cannot be used as a number")
    raise EvalError(f"a number is required, not a {type_name(v)}")


def to_str(v: Any) -> str:
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int or t is float:
        return num_str(v)
    if v is None:
        raise EvalError("a null value cannot be used as a string")
    raise EvalError(f"a string is required, not a {type_name(v)}")


def to_bool(v: Any) -> bool:
    if v is True or v is False:
        return v
    if type(v) is str:
        if v == "true":
            return True
        if v == "false":
            return False
    if v is None:
        raise EvalError("a null value cannot be used as a bool")
    raise EvalError(f"a bool is required, not a {type_name(v)}")


def bool_or_unknown(v: Any) -> Any:
    if isinstance(v, Unknown):
        return plain_unknown(v)
    return to_bool(v)


def plain_unknown(u: Unknown) -> Unknown:
    """`u` without Reference/PartialJson specifics (for results derived from it)."""
    if type(u) is Unknown:
        return u
    return Unknown(u.reason, u.depends_on)


def unknowns_in(value: Any, limit: int = 1_000_000) -> list[Unknown]:
    """Every Unknown inside `value` (iterative, no recursion limit)."""
    if isinstance(value, Unknown):
        return [value]
    t = type(value)
    if t is not list and t is not dict:
        return []
    found: list[Unknown] = []
    stack = [value]
    seen = 0
    while stack:
        v = stack.pop()
        seen += 1
        if seen > limit:
            found.append(Unknown("value too large to inspect"))
            break
        it = v.values() if type(v) is dict else v
        for x in it:
            if isinstance(x, Unknown):
                found.append(x)
            else:
                tx = type(x)
                if tx is list or tx is dict:
                    stack.append(x)
    return found


def has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    t = type(value)
    if t is not list and t is not dict:
        return False
    stack = [value]
    while stack:
        v = stack.pop()
        it = v.values() if type(v) is dict else v
        for x in it:
            if isinstance(x, Unknown):
                return True
            tx = type(x)
            if tx is list or tx is dict:
                stack.append(x)
    return False


def is_traversable(v: Any) -> bool:
    t = type(v)
    if t in _PLAIN_TYPES or isinstance(v, Unknown):
        return False
    return getattr(v, "traverse_attr", None) is not None


_PLAIN_TYPES = frozenset((type(None), bool, int, float, str, list, dict))


# ---------------------------------------------------------------------------------------
# context objects that are collections (a resource or module with count / for_each)
# ---------------------------------------------------------------------------------------


def _context_collection(value: Any) -> Any:
    """What a context object that stands for a collection gives as one; None for anything else."""
    if type(value) in _PLAIN_TYPES or isinstance(value, Unknown):
        return None
    collection = getattr(value, "collection", None)
    return collection() if collection is not None else None


def as_collection(value: Any) -> Any:
    """A context object standing for a collection, as Terraform sees it: the list (count) or map
    (for_each) of its element handles, or, when its keys are unknown, a `Reference` naming it
    with `instance_keys_known=False`.  Any other value is returned as it is."""
    result = _context_collection(value)
    return value if result is None else result


class SomeOf:
    """A collection whose keys are unknown, seen through one element that stands for any of them:
    `element` (an instance handle giving what every instance has in common, or a Reference),
    `unknown` (why the keys are unknown; a Reference naming the collection) and `names`, the
    address every element's references start with."""

    __slots__ = ("element", "unknown", "names")

    def __init__(self, element: Any, unknown: Unknown, names: str):
        self.element = element
        self.unknown = unknown
        self.names = names

    def named_by(self, value: Any) -> bool:
        """Whether `value` is a Reference into this collection's elements."""
        return isinstance(value, Reference) and (
            value.address == self.names or value.address.startswith(self.names + "["))


def some_of(value: Any) -> SomeOf | None:
    """`value` as a collection of unknown keys whose elements can still be named (a resource
    whose count/for_each is unknown, or a Reference to its instances); None otherwise."""
    if isinstance(value, Reference):
        if value.instance_keys_known:
            return None
        return SomeOf(value, value, value.address)
    result = _context_collection(value)
    if not isinstance(result, Reference):
        return None
    some = getattr(value, "some_instance", None)
    return SomeOf(some() if some is not None else result, result, result.address)


def equal(a: Any, b: Any) -> Any:
    """Terraform `==`: True/False, or Unknown when unknown parts could decide it."""
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return Unknown.combine([a, b])
    if a is None or b is None:
        return a is b
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta is str or tb is str:
        return ta is tb and a == b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    if ta is list and tb is list:
        if len(a) != len(b):
            return False
        unknowns = []
        for x, y in zip(a, b):
            r = equal(x, y)
            if r is False:
                return False
            if r is not True:
                unknowns.append(r)
        return Unknown.combine(unknowns) if unknowns else True
    if ta is dict and tb is dict:
        if a.keys() != b.keys():
            return False
        unknowns = []
        for k, x in a.items():
            r = equal(x, b[k])
            if r is False:
                return False
            if r is not True:
                unknowns.append(r)
        return Unknown.combine(unknowns) if unknowns else True
    if is_traversable(a) or is_traversable(b):
        if a is b:
            return True
        return Unknown("comparison of objects whose attributes are not all known")
    return False


def value_key(v: Any) -> Any:
    """A hashable key with Terraform equality (1 == 1.0, true != 1)."""
    t = type(v)
    if v is None:
        return ("z",)
    if t is bool:
        return ("b", v)
    if t is int or t is float:
        return ("n", v)
    if t is str:
        return ("s", v)
    if t is list:
        return ("l", tuple(value_key(x) for x in v))
    if t is dict:
        return ("m", tuple(sorted((k, value_key(x)) for k, x in v.items())))
    return ("o", id(v))


def _index_number(key: Any) -> int:
    t = type(key)
    if t is int:
        return key
    if t is float:
        if key.is_integer():
            return int(key)
        raise EvalError(f"index {key} is not a whole number")
    if t is str:
        n = parse_number(key)
        if type(n) is int:
            return n
        raise EvalError(f"index {key!r} is not a whole number")
    if key is None:
        raise EvalError("a null value cannot be used as an index")
    raise EvalError(f"a number is required as a list index, not a {type_name(key)}")


def _map_key(key: Any) -> str:
    t = type(key)
    if t is str:
        return key
    if t is bool or t is int or t is float:
        return to_str(key)
    if key is None:
        raise EvalError("a null value cannot be used as a map key")
    raise EvalError(f"a string is required as a map key, not a {type_name(key)}")


def _attr_key(key: Any) -> str:
    t = type(key)
    if t is str:
        return key
    try:
        return to_str(key)
    except EvalError:
        return repr(key)


# ---------------------------------------------------------------------------------------
# string literals
# ---------------------------------------------------------------------------------------

_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@lru_cache(maxsize=65536)
def unescape(s: str) -> str:
    """Backslash escapes of a quoted HCL string."""
    if "\\" not in s:
        return s
    out = []
    i = 0
    n = len(s)
    while i < n:
        j = s.find("\\", i)
        if j < 0:
            out.append(s[i:])
            break
        out.append(s[i:j])
        if j + 1 >= n:
            out.append("\\")
            break
        c = s[j + 1]
        simple = _SIMPLE_ESCAPES.get(c)
        if simple is not None:
            out.append(simple)
            i = j + 2
        elif c == "u" or c == "U":
            width = 4 if c == "u" else 8
            digits = s[j + 2 : j + 2 + width]
            try:
                if len(digits) != width:
                    raise ValueError
                cp = int(digits, 16)
                out.append(chr(cp))
            except (ValueError, OverflowError):
                raise EvalError(f"invalid escape sequence \\{c}{digits}") from None
            i = j + 2 + width
        else:
            raise EvalError(f"invalid escape sequence \\{c}")
    return "".join(out)


def _template_value_str(v: Any) -> str:
    """`to_str`, with the messages Terraform gives for a template interpolation."""
    if type(v) is str:
        return v
    if v is None:
        raise EvalError("the value of a template interpolation is null")
    try:
        return to_str(v)
    except EvalError:
        raise EvalError(f"cannot include a {type_name(v)} value in a string template") from None


# ---------------------------------------------------------------------------------------
# the evaluator
# ---------------------------------------------------------------------------------------


class Evaluator:
    """One evaluation: context, shared budget, current depth and local scope."""

    __slots__ = ("ctx", "budget", "depth", "scope", "vars_only", "tf_depth", "guarded")

    def __init__(
        self,
        ctx: EvalContext,
        budget: Budget | None = None,
        *,
        scope: dict | None = None,
        vars_only: bool = False,
    ) -> None:
        self.ctx = ctx
        self.budget = budget if budget is not None else Budget()
        self.depth = 0
        self.scope: dict = scope if scope is not None else {}
        self.vars_only = vars_only
        self.tf_depth = 0
        self.guarded = 0  # inside try()/can() or an evaluation that may not happen: errors are caught

    # -- entry points ---------------------------------------------------------------

    def run(self, tree: Any) -> Any:
        """Evaluate `tree`, never raising."""
        try:
            return self.eval(tree)
        except CertainError as e:
            return Invalid(f"error: {e}", static=e.static)
        except EvalError as e:
            return Unknown(f"error: {e}")
        except LimitExceeded as e:
            return Unknown(str(e))
        except RecursionError:
            return Unknown("expression nested too deeply")
        except Exception as e:  # noqa: BLE001 - a scan must survive a bug or a context error
            return Unknown(f"internal error while evaluating: {type(e).__name__}: {e}")

    def spend(self, n: int = 1) -> None:
        b = self.budget
        b.steps -= n
        if b.steps < 0:
            raise LimitExceeded("evaluation step budget exhausted")

    def eval(self, node: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_EVAL_DEPTH:
                raise LimitExceeded("expression nested too deeply")
            b = self.budget
            b.steps -= 1
            if b.steps < 0:
                raise LimitExceeded("evaluation step budget exhausted")
            # parentheses cost no depth: `((((1))))` is as deep as `1`
            while type(node) is ir.Parens:
                node = node.inner
            handler = _HANDLERS.get(type(node))
            if handler is None:
                raise EvalError(f"unsupported expression ({type(node).__name__})")
            return handler(self, node)
        finally:
            self.depth -= 1

    def eval_soft(self, node: Any) -> Any:
        """Evaluate, turning an EvalError into an Unknown (for untaken-but-possible branches)."""
        try:
            return self.eval_guarded(node)
        except EvalError as e:
            return Unknown(f"error: {e}")

    def eval_guarded(self, node: Any) -> Any:
        """Evaluate where the caller catches errors (try/can, a branch that may not be taken):
        a reference to something undeclared is then an error to catch, not one to report."""
        self.guarded += 1
        try:
            return self.eval(node)
        finally:
            self.guarded -= 1

    # -- references -----------------------------------------------------------------

    def resolve_root(self, name: str, steps: tuple) -> tuple[Any, int]:
        """The value of a root name plus how many traversal steps it consumed."""
        scope = self.scope
        if name in scope:
            return scope[name], 0
        if self.vars_only:
            raise EvalError(f'vars map does not contain key "{name}"')
        value, consumed = self._resolve_context(name, steps)
        if type(value) is Invalid and not value.reported:  # the context's "not declared"
            reject = getattr(self.ctx, "reject", None)
            if self.guarded or reject is None:
                raise CertainError(value.reason, static=value.static)
            reject(value)  # reported where the expression is; the rest of the value is still read
            return replace(value, reported=True), consumed
        return value, consumed

    def note_uncertain(self) -> None:
        """Tell the context that this value could be different in a real run (see loader)."""
        note = getattr(self.ctx, "note_uncertain", None)
        if note is not None:
            note()

    def _resolve_context(self, name: str, steps: tuple) -> tuple[Any, int]:
        ctx = self.ctx
        if name == "var":
            return ctx.variable(self._attr_step(steps, 0, name)), 1
        if name == "local":
            return ctx.local(self._attr_step(steps, 0, name)), 1
        if name == "module":
            return ctx.module(self._attr_step(steps, 0, name)), 1
        if name == "data":
            t = self._attr_step(steps, 0, name)
            n = self._attr_step(steps, 1, f"data.{t}")
            return ctx.data(t, n), 2
        if name == "each":
            attr = self._attr_step(steps, 0, name)
            if attr == "key":
                v = ctx.each_key
            elif attr == "value":
                v = ctx.each_value
            else:
                raise EvalError(f'"each" has no attribute "{attr}"')
            if v is MISSING:
                v = Unknown(
                    f"each.{attr} is used outside a resource or module with for_each", (f"each.{attr}",)
                )
            return v, 1
        if name == "count":
            attr = self._attr_step(steps, 0, name)
            if attr != "index":
                raise EvalError(f'"count" has no attribute "{attr}"')
            v = ctx.count_index
            if v is MISSING:
                v = Unknown("count.index is used outside a resource or module with count", ("count.index",))
            return v, 1
        if name == "path":
            attr = self._attr_step(steps, 0, name)
            if attr == "module":
                return ctx.path_module, 1
            if attr == "root":
                return ctx.path_root, 1
            if attr == "cwd":
                self.note_uncertain()  # Terraform renders it as an absolute path of the machine
                return ctx.path_cwd, 1
            raise EvalError(f'"path" has no attribute "{attr}"')
        if name == "terraform":
            attr = self._attr_step(steps, 0, name)
            if attr == "workspace":
                self.note_uncertain()  # another workspace may be selected
                return "default", 1
            return Unknown(f"terraform.{attr} is not known statically", (f"terraform.{attr}",)), 1
        if name == "self":
            v = getattr(ctx, "self_value", MISSING)
            if v is MISSING:
                v = Unknown("self is only available in provisioner and connection blocks", ("self",))
            return v, 0
        if not steps or type(steps[0]) is not ir.GetAttr:
            raise EvalError(f'invalid reference "{name}": a resource type must be followed by a name')
        return ctx.resource(name, steps[0].name), 1

    @staticmethod
    def _attr_step(steps: tuple, i: int, what: str) -> str:
        if i < len(steps) and type(steps[i]) is ir.GetAttr:
            return steps[i].name
        raise EvalError(f'invalid reference: "{what}" must be followed by an attribute name')

    def step(self, value: Any, step: ir.Step) -> Any:
        kind = type(step)
        if kind is ir.GetAttr:
            return self.get_attr(value, step.name)
        if kind is ir.Index:
            return self.index(value, self.eval(step.key))
        if kind is ir.LegacyIndex:
            return self.index(value, step.index)
        if kind is ir.Splat:
            return self.splat(value, step)
        raise EvalError(f"unsupported traversal ({kind.__name__})")

    def get_attr(self, value: Any, name: str) -> Any:
        if type(value) is dict:
            try:
                return value[name]
            except KeyError:
                raise EvalError(f'object has no attribute "{name}"') from None
        if isinstance(value, Unknown):
            if isinstance(value, Reference):
                return replace(value, attribute=value.attribute + (name,))
            return plain_unknown(value)
        if value is None:
            raise EvalError(f'attempt to get attribute "{name}" from a null value')
        if type(value) not in _PLAIN_TYPES:
            fn = getattr(value, "traverse_attr", None)
            if fn is not None:
                return fn(name)
        raise EvalError(f'cannot get attribute "{name}" of a {type_name(value)} value')

    def index(self, value: Any, key: Any) -> Any:
        if isinstance(key, Unknown):
            if isinstance(value, Reference):
                deps = Unknown.combine([value, key]).depends_on
                if not value.attribute:
                    return replace(value, instance_keys_known=False, depends_on=deps)
                return replace(value, depends_on=deps)
            if isinstance(value, Unknown):
                return Unknown.combine([value, key])
            if value is None:
                raise EvalError("cannot index a null value")
            if type(value) not in _PLAIN_TYPES and getattr(value, "traverse_index", None) is not None:
                # "some element" of a context collection (e.g. a resource with count/for_each):
                # keep the handle, so that `r[each.key].id` still names resource r
                return value
            return plain_unknown(key)
        t = type(value)
        if t is list:
            i = _index_number(key)
            if i < 0 or i >= len(value):
                raise CertainError(f"index {i} out of range for a list of {len(value)} elements")
            return value[i]
        if t is dict:
            k = _map_key(key)
            try:
                return value[k]
            except KeyError:
                raise CertainError(f'the map has no element with key "{k}"') from None
        if isinstance(value, Unknown):
            if isinstance(value, Reference):
                if value.attribute:
                    return replace(value, attribute=value.attribute + (_attr_key(key),))
                if value.instance_keys_known:
                    return replace(value, address=value.address + instance_suffix(key))
                return value
            return plain_unknown(value)
        if value is None:
            raise EvalError("cannot index a null value")
        if t not in _PLAIN_TYPES:
            fn = getattr(value, "traverse_index", None)
            if fn is not None:
                return fn(key)
        raise EvalError(f"a {type_name(value)} value cannot be indexed")

    def splat(self, value: Any, step: ir.Splat) -> Any:
        inner = step.steps
        if not step.full:  # Terraform's legacy `.*` applies only the attribute names after it
            k = 0
            while k < len(inner) and type(inner[k]) is ir.GetAttr:
                k += 1
            per, after = inner[:k], inner[k:]
        else:
            per, after = inner, ()
        result = self._splat_value(value, per)
        for s in after:
            result = self.step(result, s)
        return result

    def _splat_value(self, value: Any, per: tuple) -> Any:
        if isinstance(value, PartialList):
            return self._splat_partial(value, per)
        if isinstance(value, Unknown):
            if isinstance(value, Reference):
                v: Any = replace(value, instance_keys_known=False)
                for s in per:
                    v = self.step(v, s)
                return v
            return plain_unknown(value)
        if value is None:
            return []
        t = type(value)
        if t is list:
            items = value
        else:
            sp = getattr(value, "splat", None) if t not in _PLAIN_TYPES else None
            if sp is not None:
                items = sp()
                if type(items) is not list:
                    if isinstance(items, Unknown):
                        return self._splat_value(items, per)
                    items = [items]
            else:
                items = [value]
        if len(items) > MAX_COLLECTION_SIZE:
            return Unknown(f"splat over {len(items)} elements is too large")
        if not per:
            return list(items)
        out = []
        for e in items:
            self.spend()
            v = e
            for s in per:
                v = self.step(v, s)
            out.append(v)
        return out

    def _splat_partial(self, value: PartialList, per: tuple) -> Any:
        """A splat over a partly known list: each known element's attribute is certainly there
        (an error in one is Terraform's to report once the list is known)."""
        known = []
        for element in value.known:
            self.spend()
            try:
                for s in per:
                    element = self.step(element, s)
            except EvalError as e:
                element = Unknown(f"error: {e}")
            known.append(element)
        parts = [self._splat_value(p, per) if isinstance(p, Reference) else p for p in value.unknown_parts]
        return partial_list(known, parts)

    # -- iteration ------------------------------------------------------------------

    def iter_items(self, coll: Any, what: str = "for expression") -> Any:
        """(key, value) pairs of a collection, or an Unknown."""
        coll = as_collection(coll)
        if isinstance(coll, Unknown):
            return plain_unknown(coll)
        t = type(coll)
        if t is list:
            if len(coll) > MAX_COLLECTION_SIZE:
                return Unknown(f"{what} over {len(coll)} elements is too large")
            return enumerate(coll)
        if t is dict:
            if len(coll) > MAX_COLLECTION_SIZE:
                return Unknown(f"{what} over {len(coll)} elements is too large")
            return [(k, coll[k]) for k in sorted(coll)]
        if coll is None:
            raise EvalError(f"a null value cannot be used as the collection in a {what}")
        if t not in _PLAIN_TYPES:
            return Unknown(f"the collection of a {what} is not fully known")
        raise EvalError(f"a {type_name(coll)} value cannot be used as the collection in a {what}")

    def bind(self, names: tuple) -> list:
        scope = self.scope
        return [(n, scope.get(n, _NOTSET)) for n in names if n is not None]

    def unbind(self, saved: list) -> None:
        scope = self.scope
        for n, old in saved:
            if old is _NOTSET:
                scope.pop(n, None)
            else:
                scope[n] = old

    # -- templates ------------------------------------------------------------------

    def render(self, compiled: _template.Compiled) -> Any:
        if compiled.passthrough:
            return self.eval(compiled.nodes[0][1])
        out: list[str] = []
        unknowns: list[Unknown] = []
        size = [0]
        try:
            self._render(compiled.nodes, out, unknowns, size)
        except _TooLarge:
            return Unknown("rendered string is too large")
        if unknowns:
            combined = Unknown.combine(unknowns)
            if all(isinstance(part, (str, Unknown)) for part in out) and any(isinstance(p, Unknown) for p in out):
                return PartialString(combined.reason, combined.depends_on, parts=tuple(out))
            return combined
        return "".join(out)

    def _render(self, nodes: tuple, out: list, unknowns: list, size: list) -> None:
        self.depth += 1
        try:
            if self.depth > MAX_EVAL_DEPTH:
                raise LimitExceeded("template nested too deeply")
            for n in nodes:
                if type(n) is str:
                    out.append(n)
                    size[0] += len(n)
                elif n[0] == "$":
                    v = self.eval(n[1])
                    if isinstance(v, Unknown):
                        unknowns.append(v)
                        out.append(v)  # a placeholder: the rest of the text is still known
                    else:
                        s = _template_value_str(v)
                        out.append(s)
                        size[0] += len(s)
                elif n[0] == "if":
                    c = bool_or_unknown(self.eval(n[1]))
                    if isinstance(c, Unknown):
                        unknowns.append(c)
                        out.append(None)  # which text follows is unknown
                        # both branches are possible: collect what they depend on too
                        self.guarded += 1
                        try:
                            for branch in (n[2], n[3]):
                                try:
                                    self._render(branch, [], unknowns, [0])
                                except (EvalError, _TooLarge):
                                    pass
                        finally:
                            self.guarded -= 1
                    else:
                        self._render(n[2] if c else n[3], out, unknowns, size)
                else:  # for
                    _, kname, vname, coll_tree, body = n
                    items = self.iter_items(self.eval(coll_tree), "template for directive")
                    if isinstance(items, Unknown):
                        unknowns.append(items)
                        out.append(None)  # how much text follows is unknown
                        continue
                    saved = self.bind((kname, vname))
                    scope = self.scope
                    try:
                        for k, v in items:
                            self.spend()
                            if kname is not None:
                                scope[kname] = k
                            scope[vname] = v
                            self._render(body, out, unknowns, size)
                            if size[0] > MAX_STRING_SIZE:
                                raise _TooLarge()
                    finally:
                        self.unbind(saved)
                if size[0] > MAX_STRING_SIZE:
                    raise _TooLarge()
        finally:
            self.depth -= 1

    def call_templatefile(self, text: str, variables: dict) -> Any:
        """Render a template file's text with only `variables` in scope (templatefile)."""
        if self.tf_depth >= MAX_TEMPLATEFILE_DEPTH:
            return Unknown("templatefile() calls nested too deeply", ("templatefile()",))
        try:
            compiled = _template.compile_template(text)
        except _template.TemplateSyntaxError as e:
            raise EvalError(f"template syntax error: {e}") from None
        saved = (self.scope, self.vars_only)
        self.scope = dict(variables)
        self.vars_only = True
        self.tf_depth += 1
        try:
            return self.render(compiled)
        finally:
            self.scope, self.vars_only = saved
            self.tf_depth -= 1


class _TooLarge(Exception):
    pass


# ---------------------------------------------------------------------------------------
# node handlers
# ---------------------------------------------------------------------------------------


def _h_number(ev: Evaluator, node: ir.Number) -> Any:
    text = node.text
    if "." in text or "e" in text or "E" in text:
        try:
            return norm_num(float(text))
        except OverflowError:
            raise EvalError("number literal out of range") from None
    return int(text)


def _h_literal(ev: Evaluator, node: ir.Literal) -> Any:
    return node.value


def _h_variable(ev: Evaluator, node: ir.Variable) -> Any:
    value, consumed = ev.resolve_root(node.name, ())
    return value


def _h_traversal(ev: Evaluator, node: ir.Traversal) -> Any:
    steps = node.steps
    source = node.source
    if type(source) is ir.Variable:
        value, i = ev.resolve_root(source.name, steps)
    else:
        value = ev.eval(source)
        i = 0
    if i:
        steps = steps[i:]
    for s in steps:
        ev.spend()
        value = ev.step(value, s)
    return value


def _h_conditional(ev: Evaluator, node: ir.Conditional) -> Any:
    cond_t, a_t, b_t = node.condition, node.true_value, node.false_value
    c = ev.eval(cond_t)
    if isinstance(c, Unknown):
        a = ev.eval_soft(a_t)
        b = ev.eval_soft(b_t)
        if not has_unknown(a) and not has_unknown(b) and equal(a, b) is True:
            return a
        return Unknown.combine([c, *unknowns_in(a), *unknowns_in(b)], reason=c.reason)
    if c is None:
        raise EvalError("the condition value is null")
    if to_bool(c):
        return ev.eval(a_t)
    return ev.eval(b_t)


def _h_binary_op(ev: Evaluator, node: ir.BinaryOp) -> Any:
    # a left-nested chain (`a + b + c`, any precedence) is walked in a loop, not recursively:
    # a long chain of operators costs one level of depth
    chain = []
    n: Any = node
    while type(n) is ir.BinaryOp:
        chain.append(n)
        n = n.left
    value = ev.eval(n)
    for op_node in reversed(chain):
        ev.spend()
        value = _binop(ev, op_node.op, value, op_node.right)
    return value


def _binop(ev: Evaluator, op: str, left: Any, rhs: ir.Expr) -> Any:
    if op == "&&" or op == "||":
        decide = op == "||"  # the value that decides the result on its own
        lb = bool_or_unknown(left)
        if lb is decide:
            return decide
        rb = bool_or_unknown(ev.eval(rhs))
        if rb is decide:
            return decide
        if lb is (not decide) and rb is (not decide):
            return not decide
        return Unknown.combine([lb, rb])
    right = ev.eval(rhs)
    if op == "==":
        return equal(left, right)
    if op == "!=":
        r = equal(left, right)
        return r if isinstance(r, Unknown) else not r
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        for v in (left, right):
            if not isinstance(v, Unknown):
                to_num(v)  # type errors still surface
        return Unknown.combine([left, right])
    a = to_num(left)
    b = to_num(right)
    try:
        if (type(a) is float or type(b) is float) and op in _DECIMAL_OPS:
            return _decimal_arith(op, a, b)
        if op == "+":
            return norm_num(a + b)
        if op == "-":
            return norm_num(a - b)
        if op == "*":
            return norm_num(a * b)
        if op == "/":
            if b == 0:
                raise EvalError("division by zero")
            if type(a) is int and type(b) is int and a % b == 0:
                return a // b
            return norm_num(a / b)
        if op == "%":
            if b == 0:
                raise EvalError("modulo by zero")
            if type(a) is int and type(b) is int:
                r = abs(a) % abs(b)
                return -r if a < 0 else r
            return norm_num(math.fmod(a, b))
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
    except OverflowError:
        raise EvalError("arithmetic overflow") from None
    raise EvalError(f"unsupported operator {op!r}")


_DECIMAL_OPS = frozenset("+-*/")


def _decimal_arith(op: str, a: Any, b: Any) -> Any:
    """Float arithmetic in decimal, as Terraform's arbitrary-precision numbers give 0.1+0.2=0.3."""
    try:
        da = Decimal(repr(a)) if type(a) is float else Decimal(a)
        db = Decimal(repr(b)) if type(b) is float else Decimal(b)
        if op == "+":
            r = da + db
        elif op == "-":
            r = da - db
        elif op == "*":
            r = da * db
        else:
            if db == 0:
                raise EvalError("division by zero")
            r = da / db
        return norm_num(float(r))
    except (ArithmeticError, ValueError):
        raise EvalError("arithmetic overflow") from None


def _h_unary(ev: Evaluator, node: ir.UnaryOp) -> Any:
    op = node.op
    v = ev.eval(node.operand)
    if op == "!":
        b = bool_or_unknown(v)
        return b if isinstance(b, Unknown) else not b
    if isinstance(v, Unknown):
        return plain_unknown(v)
    return norm_num(-to_num(v))


def _h_tuple(ev: Evaluator, node: ir.Tuple) -> Any:
    return [ev.eval(c) for c in node.items]


def _object_key(ev: Evaluator, key: ir.Expr) -> Any:
    if type(key) is ir.Variable:  # a bare name is the key itself; `(name)` is evaluated
        return key.name
    k = ev.eval(key)
    if isinstance(k, Unknown):
        return plain_unknown(k)
    return _map_key(k)


def _h_object(ev: Evaluator, node: ir.Object) -> Any:
    result: dict = {}
    unknown_keys = []
    for item in node.items:
        k = _object_key(ev, item.key)
        v = ev.eval(item.value)
        if isinstance(k, Unknown):
            unknown_keys.append(k)
            unknown_keys.extend(unknowns_in(v))
            continue
        result[k] = v
    if unknown_keys:
        return Unknown.combine(unknown_keys, reason=unknown_keys[0].reason)
    return result


def _h_function_call(ev: Evaluator, node: ir.FunctionCall) -> Any:
    name = node.name
    if "::" in name:  # a provider-defined function
        return Unknown(f"function {name} is not supported", (f"{name}()",))
    return _functions.call(ev, name, node.args, node.expand_final)


def _for_iterations(ev: Evaluator, names: tuple, items: Any, cond: Any, unknowns: list) -> Any:
    """Bind the for-expression's names to each item whose condition holds, then yield.
    An unknown collection or condition is added to `unknowns` instead."""
    if isinstance(items, Unknown):
        unknowns.append(items)
        return
    kname, vname = names
    scope = ev.scope
    saved = ev.bind(names)
    try:
        for k, v in items:
            ev.spend()
            if kname is not None:
                scope[kname] = k
            scope[vname] = v
            if cond is not None:
                c = bool_or_unknown(ev.eval(cond))
                if isinstance(c, Unknown):
                    unknowns.append(c)
                    continue
                if not c:
                    continue
            yield
    finally:
        ev.unbind(saved)


def _soft_bool(ev: Evaluator, cond: ir.Expr) -> Any:
    """A condition that may never be evaluated by Terraform: its errors become Unknown."""
    try:
        return bool_or_unknown(ev.eval_guarded(cond))
    except EvalError as e:
        return Unknown(f"error: {e}")


def _soft_body(ev: Evaluator, names: tuple, key: Any, element: Any, cond: Any, value_t: ir.Expr) -> tuple[Any, Any]:
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


def _for_some(ev: Evaluator, some: SomeOf, names: tuple, cond: Any, value_t: ir.Expr, empty: Any = _SKIPPED) -> Any:
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


def _for_partial(ev: Evaluator, partial: PartialList, names: tuple, cond: Any, value_t: ir.Expr) -> Any:
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


def _for_start(ev: Evaluator, node: ir.ForExpr) -> tuple[tuple, Any, SomeOf | None]:
    """The names a for-expression binds, its collection, and that collection as a collection of
    unknown keys whose elements can still be named (or None)."""
    value = ev.eval(node.collection)
    coll = as_collection(value)  # once: a resource's instances are listed here, not again per use
    return (node.key_var, node.value_var), coll, some_of(value) if isinstance(coll, Reference) else None


def _h_for(ev: Evaluator, node: ir.ForExpr) -> Any:
    return _for_tuple(ev, node) if node.key is None else _for_object(ev, node)


def _for_tuple(ev: Evaluator, node: ir.ForExpr) -> Any:
    value_t, cond = node.value, node.condition
    names, coll, some = _for_start(ev, node)
    if some is not None:
        return _for_some(ev, some, names, cond, value_t, empty=[])
    if isinstance(coll, PartialList):
        return _for_partial(ev, coll, names, cond, value_t)
    unknowns: list = []
    out = [ev.eval(value_t) for _ in _for_iterations(ev, names, ev.iter_items(coll), cond, unknowns)]
    return Unknown.combine(unknowns) if unknowns else out


def _for_object(ev: Evaluator, node: ir.ForExpr) -> Any:
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
        key = _map_key(key)
        val = ev.eval(value_t)
        if grouping:
            result.setdefault(key, []).append(val)
        elif key in result:
            raise EvalError(f'duplicate object key "{key}" in for expression (use ... to group)')
        else:
            result[key] = val
    return Unknown.combine(unknowns) if unknowns else result


_DIRECTIVE_TOKENS = {"else": "ELSE", "endif": "ENDIF", "endfor": "ENDFOR"}


def _quoted_flat(node: ir.Quoted) -> list:
    """The flat template tokens of a quoted string (see template.build).  Each literal piece is
    decoded on its own, then runs of them are melded: a quoted literal run is one token in HCL,
    and strip markers trim the whole run."""
    melded: list = []
    for part in node.parts:
        if type(part) is str:
            text = unescape(part)
            if melded and melded[-1][0] == "L":
                melded[-1] = ("L", melded[-1][1] + text, False, False)
            else:
                melded.append(("L", text, False, False))
        elif type(part) is ir.Interpolation:
            melded.append(("I", part.expr, False, False))
        else:
            melded.append(_directive_token(part))
    return melded


def _directive_token(d: ir.Directive) -> tuple:
    kind = d.kind
    if kind == "if":
        return ("IF", d.expr, d.strip_left, d.strip_right)
    if kind == "for":
        return ("FOR", (d.key_var, d.value_var, d.expr), d.strip_left, d.strip_right)
    if kind in _DIRECTIVE_TOKENS:
        return (_DIRECTIVE_TOKENS[kind], None, d.strip_left, d.strip_right)
    raise EvalError(f"unsupported string part ({kind})")


def _h_quoted(ev: Evaluator, node: ir.Quoted) -> Any:
    parts = node.parts
    if all(type(p) is str for p in parts):
        return "".join([unescape(p) for p in parts])
    try:
        compiled = _template.build(_quoted_flat(node), False)
    except _template.TemplateSyntaxError as e:
        raise EvalError(f"template syntax error: {e}") from None
    return ev.render(compiled)


def _h_heredoc(ev: Evaluator, node: ir.Heredoc) -> Any:
    try:
        compiled = _template.compile_template(node.body, node.strip_indent)
    except _template.TemplateSyntaxError as e:
        raise EvalError(f"heredoc template syntax error: {e}") from None
    return ev.render(compiled)


_HANDLERS = {
    ir.Number: _h_number,
    ir.Literal: _h_literal,
    ir.Variable: _h_variable,
    ir.Traversal: _h_traversal,
    ir.Conditional: _h_conditional,
    ir.BinaryOp: _h_binary_op,
    ir.UnaryOp: _h_unary,
    ir.Tuple: _h_tuple,
    ir.Object: _h_object,
    ir.FunctionCall: _h_function_call,
    ir.ForExpr: _h_for,
    ir.Quoted: _h_quoted,
    ir.Heredoc: _h_heredoc,
}


# ---------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------


def evaluate(tree: Any, ctx: EvalContext, budget: Budget | None = None) -> Any:
    """Evaluate an expression (`ir.Expr`).

    Never raises: errors become `Unknown("error: ...")`, exhausted bounds an `Unknown` too.
    """
    return Evaluator(ctx, budget).run(tree)


def evaluate_compiled_template(
    text: str, ctx: EvalContext, budget: Budget | None = None, *, variables: dict | None = None
) -> Any:
    """Implementation of `template.evaluate_template` (kept here to avoid an import cycle)."""
    if variables is not None and type(variables) is not dict:
        if isinstance(variables, Unknown):
            return plain_unknown(variables)
        return Unknown("error: template variables must be an object")
    ev = Evaluator(ctx, budget, scope=dict(variables) if variables is not None else None,
                   vars_only=variables is not None)
    if not isinstance(text, str):
        return Unknown("error: template text must be a string")
    try:
        compiled = _template.compile_template(text)
    except _template.TemplateSyntaxError as e:
        return Unknown(f"error: template syntax error: {e}")
    try:
        return ev.render(compiled)
    except CertainError as e:
        return Invalid(f"error: {e}", static=e.static)
    except EvalError as e:
        return Unknown(f"error: {e}")
    except LimitExceeded as e:
        return Unknown(str(e))
    except RecursionError:
        return Unknown("template nested too deeply")
    except Exception as e:  # noqa: BLE001
        return Unknown(f"internal error while rendering a template: {type(e).__name__}: {e}")


from iac_ims.terraform import functions as _functions  # noqa: E402  (cycle: functions uses EvalError)
