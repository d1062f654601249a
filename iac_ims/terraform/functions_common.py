"""What the built-in functions share: how a family of them registers, how arguments are taken
(a list, a map, a string, a whole number, each with the message Terraform gives), the size
limits of a result, set order, and what a function may ask of the evaluation calling it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iac_ims.terraform.context import MAX_COLLECTION_SIZE, MAX_STRING_SIZE
from iac_ims.terraform.evaluation import FunctionEvaluation
from iac_ims.terraform.semantics import EvalError, to_num, to_str, type_name, value_key
from iac_ims.terraform.values import Unknown

Table = dict[str, tuple[Callable[..., Any], str]]  # name -> (implementation, mode): see functions.py


def registrar(table: Table) -> Callable[..., Callable]:
    """A `register(name, mode="deep")` decorator that adds an implementation to `table`."""

    def register(name: str, mode: str = "deep") -> Callable:
        def deco(f: Callable) -> Callable:
            table[name] = (f, mode)
            return f

        return deco

    return register


def list_arg(v: Any, fname: str, what: str = "argument") -> list:
    if type(v) is list:
        return v
    if v is None:
        raise EvalError(f"{fname}(): {what} must not be null")
    raise EvalError(f"{fname}(): {what} must be a list, not a {type_name(v)}")


def map_arg(v: Any, fname: str, what: str = "argument") -> dict:
    if type(v) is dict:
        return v
    if v is None:
        raise EvalError(f"{fname}(): {what} must not be null")
    raise EvalError(f"{fname}(): {what} must be a map or object, not a {type_name(v)}")


def str_arg(v: Any, fname: str) -> str:
    try:
        return to_str(v)
    except EvalError as e:
        raise EvalError(f"{fname}(): {e}") from None


def int_arg(v: Any, fname: str) -> int:
    n = to_num(v)
    if type(n) is float:
        if not n.is_integer():
            raise EvalError(f"{fname}(): {n} is not a whole number")
        n = int(n)
    return n


def check_size(value: Any, what: str) -> Any:
    if type(value) is str:
        if len(value) > MAX_STRING_SIZE:
            return Unknown(f"{what} result is too large")
    elif len(value) > MAX_COLLECTION_SIZE:
        return Unknown(f"{what} result is too large")
    return value


def set_order(items: list) -> list:
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


def unknown_function(reason: str, dep: str) -> Callable:
    def f(ev: FunctionEvaluation, *args: Any) -> Any:
        return Unknown(reason, (dep,))

    return f
