"""Built-in numeric functions, and alltrue()/anytrue()."""

from __future__ import annotations

import math
from typing import Any

from iac_ims.terraform.evaluation import FunctionEvaluation
from iac_ims.terraform.functions_common import Table, int_arg, list_arg, registrar, str_arg
from iac_ims.terraform.semantics import EvalError, norm_num, to_bool, to_num
from iac_ims.terraform.values import Unknown

FUNCTIONS: Table = {}
register = registrar(FUNCTIONS)


@register("sum")
def _sum(ev: FunctionEvaluation, lst: Any) -> Any:
    items = list_arg(lst, "sum")
    if not items:
        raise EvalError("sum(): cannot sum an empty list")
    total: Any = 0
    for x in items:
        total += to_num(x)
    return norm_num(total)


@register("max")
def _max(ev: FunctionEvaluation, *nums: Any) -> Any:
    if not nums:
        raise EvalError("max() needs at least one argument")
    return max(to_num(n) for n in nums)


@register("min")
def _min(ev: FunctionEvaluation, *nums: Any) -> Any:
    if not nums:
        raise EvalError("min() needs at least one argument")
    return min(to_num(n) for n in nums)


@register("abs")
def _abs(ev: FunctionEvaluation, n: Any) -> Any:
    return abs(to_num(n))


@register("ceil")
def _ceil(ev: FunctionEvaluation, n: Any) -> Any:
    return math.ceil(to_num(n))


@register("floor")
def _floor(ev: FunctionEvaluation, n: Any) -> Any:
    return math.floor(to_num(n))


@register("signum")
def _signum(ev: FunctionEvaluation, n: Any) -> Any:
    x = to_num(n)
    return (x > 0) - (x < 0)


@register("pow")
def _pow(ev: FunctionEvaluation, a: Any, b: Any) -> Any:
    return norm_num(math.pow(float(to_num(a)), float(to_num(b))))


@register("log")
def _log(ev: FunctionEvaluation, a: Any, b: Any) -> Any:
    return norm_num(math.log(float(to_num(a)), float(to_num(b))))


@register("parseint")
def _parseint(ev: FunctionEvaluation, s: Any, base: Any) -> Any:
    b = int_arg(base, "parseint")
    if b < 2 or b > 62:
        raise EvalError("parseint(): base must be between 2 and 62")
    text = str_arg(s, "parseint")
    if len(text) > 1000:
        raise EvalError("parseint(): number too long")
    if b <= 36:
        return int(text, b)
    raise EvalError("parseint(): bases above 36 are not supported")


@register("alltrue", "shallow")
def _alltrue(ev: FunctionEvaluation, lst: Any) -> Any:
    unknowns = []
    for x in list_arg(lst, "alltrue"):
        if isinstance(x, Unknown):
            unknowns.append(x)
        elif not to_bool(x):
            return False
    return Unknown.combine(unknowns) if unknowns else True


@register("anytrue", "shallow")
def _anytrue(ev: FunctionEvaluation, lst: Any) -> Any:
    unknowns = []
    for x in list_arg(lst, "anytrue"):
        if isinstance(x, Unknown):
            unknowns.append(x)
        elif to_bool(x):
            return True
    return Unknown.combine(unknowns) if unknowns else False
