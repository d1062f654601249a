"""Built-in functions that encode and decode: JSON, base64, hashes; those whose value is their
argument (sensitive()); and those not evaluated here, whose value is unknown (uuid(),
timestamp(), fileset() ...)."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import Any

from iac_ims.terraform.evaluation import FunctionEvaluation
from iac_ims.terraform.functions_common import Table, check_size, registrar, str_arg, unknown_function
from iac_ims.terraform.semantics import EvalError, norm_num, num_str, plain_unknown, type_name, unknowns_in
from iac_ims.terraform.values import PartialJson, PartialString, Unknown, decode_partial_json

FUNCTIONS: Table = {}
register = registrar(FUNCTIONS)


_HTML_ESC = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_RE = re.compile("[<>&\u2028\u2029]")


class NotJson(Exception):
    """A value JSON cannot hold (an object whose attributes are not all known)."""


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
            raise NotJson()


def json_encode(v: Any) -> str:
    """Terraform's jsonencode of a known value (compact, keys sorted, HTML-safe escapes)."""
    out: list[str] = []
    _enc(v, out)
    s = "".join(out)
    if _HTML_RE.search(s):
        s = _HTML_RE.sub(lambda m: _HTML_ESC[m.group()], s)
    return s


@register("jsonencode", "raw")
def _jsonencode(ev: FunctionEvaluation, v: Any) -> Any:
    uk = unknowns_in(v)
    if uk:
        c = Unknown.combine(uk)
        return PartialJson(c.reason, c.depends_on, value=v)
    try:
        s = json_encode(v)
    except NotJson:
        return Unknown("jsonencode() of an object whose attributes are not all known")
    return check_size(s, "jsonencode()")


def _json_float(s: str) -> Any:
    f = float(s)
    if f != f or f in (math.inf, -math.inf):
        raise ValueError("number out of range")
    return norm_num(f)


def _json_const(s: str) -> Any:
    raise ValueError(f"invalid JSON value {s}")


@register("jsondecode", "raw")
def _jsondecode(ev: FunctionEvaluation, s: Any) -> Any:
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




@register("base64encode")
def _base64encode(ev: FunctionEvaluation, s: Any) -> Any:
    return base64.b64encode(str_arg(s, "base64encode").encode("utf-8")).decode("ascii")


@register("base64decode")
def _base64decode(ev: FunctionEvaluation, s: Any) -> Any:
    try:
        raw = base64.b64decode(str_arg(s, "base64decode"), validate=True)
    except ValueError:
        raise EvalError("base64decode(): invalid base64 data") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EvalError("base64decode(): the decoded data is not valid UTF-8") from None


def _hash(algo: str, fname: str, b64: bool = False) -> Callable:
    def f(ev: FunctionEvaluation, s: Any) -> Any:
        h = hashlib.new(algo, str_arg(s, fname).encode("utf-8"))
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
def _sensitive(ev: FunctionEvaluation, v: Any) -> Any:
    return v


@register("nonsensitive", "raw")
def _nonsensitive(ev: FunctionEvaluation, v: Any) -> Any:
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
    register(_name, "raw")(unknown_function(_reason, f"{_name}()"))
