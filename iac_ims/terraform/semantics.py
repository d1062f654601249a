"""What Terraform's values do, apart from any expression: the errors of an evaluation, type
names, numbers and their text, the conversions between types, equality, unknown values and what
they hold, context objects that stand for collections, map keys and indexes, string escapes.

The evaluator (evaluate.py and the node handlers), template rendering and the built-in functions
all build on this module; it knows nothing of expressions.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

from iac_ims.terraform.values import Reference, Unknown


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


_NUM_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


# ---------------------------------------------------------------------------------------
# values
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
    if t in PLAIN_TYPES or isinstance(v, Unknown):
        return False
    return getattr(v, "traverse_attr", None) is not None


PLAIN_TYPES = frozenset((type(None), bool, int, float, str, list, dict))


# ---------------------------------------------------------------------------------------
# context objects that are collections (a resource or module with count / for_each)
# ---------------------------------------------------------------------------------------


def _context_collection(value: Any) -> Any:
    """What a context object that stands for a collection gives as one; None for anything else."""
    if type(value) in PLAIN_TYPES or isinstance(value, Unknown):
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


def index_number(key: Any) -> int:
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


def map_key(key: Any) -> str:
    t = type(key)
    if t is str:
        return key
    if t is bool or t is int or t is float:
        return to_str(key)
    if key is None:
        raise EvalError("a null value cannot be used as a map key")
    raise EvalError(f"a string is required as a map key, not a {type_name(key)}")


def attr_key(key: Any) -> str:
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


def template_value_str(v: Any) -> str:
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
# operators
# ---------------------------------------------------------------------------------------


def number_op(op: str, left: Any, right: Any) -> Any:
    """The value of `left op right` for an arithmetic or comparison operator."""
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
