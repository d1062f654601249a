"""Terraform built-in functions for the static evaluator.

`FUNCTIONS` maps a function name to `(implementation, mode)`; the implementations are in
functions_collections, functions_numbers, functions_strings, functions_encoding and
functions_files, try() and can() here.  Every implementation is called as
`impl(evaluation, *args)`, the evaluation being what `evaluation.FunctionEvaluation` says.  The mode says how unknown arguments are handled before
the implementation runs:

    "deep"     any Unknown anywhere inside any argument -> the result is Unknown (default)
    "shallow"  only a wholly unknown argument -> Unknown; the implementation copes with
               unknown elements (concat, merge, length, lookup, ...)
    "raw"      the implementation sees every argument as is (coalesce, jsonencode, ...)
    "partial"  like "raw", for the functions that keep what is known of a partly known list
               (`PartialList`) or of a resource whose instances are unknown (concat, toset ...)
    "lazy"     the implementation receives the argument expressions and evaluates them itself
               (try, can)

In the first two modes an argument that is a context `Traversable` (an object whose
attributes are computed on demand) also makes the result Unknown, unless it stands for a
collection (a resource with count/for_each): every function sees that as the list or map of
its instances (`as_collection`).
"""

from __future__ import annotations

from decimal import InvalidOperation
from typing import Any

from iac_ims.terraform import (
    functions_collections,
    functions_encoding,
    functions_files,
    functions_numbers,
    functions_strings,
)
from iac_ims.terraform.evaluation import FunctionEvaluation
from iac_ims.terraform.functions_common import Table, registrar
from iac_ims.terraform.semantics import EvalError, as_collection, has_unknown, is_traversable, type_name, unknowns_in
from iac_ims.terraform.values import Unknown

__all__ = ["FUNCTIONS", "call"]

_LANGUAGE: Table = {}  # try() and can(), which the language needs for its errors
register = registrar(_LANGUAGE)


def call(ev: FunctionEvaluation, name: str, arg_exprs: tuple, expand: bool) -> Any:
    """Call function `name` with its (unevaluated) argument expressions."""
    entry = FUNCTIONS.get(name)
    if entry is None:
        return Unknown(f"function {name} is not supported", (f"{name}()",))
    impl, mode = entry
    if mode == "lazy":
        if expand:
            raise EvalError(f"{name}() does not accept an expanded (...) argument")
        return impl(ev, arg_exprs)
    args = [as_collection(ev.eval(t)) for t in arg_exprs]
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


@register("try", "lazy")
def _try(ev: FunctionEvaluation, exprs: tuple) -> Any:
    if not exprs:
        raise EvalError("try() needs at least one argument")
    last = ""
    for t in exprs:
        try:
            return ev.eval_guarded(t)
        except EvalError as e:
            last = str(e)
    raise EvalError(f"no expression given to try() succeeded: {last}")


@register("can", "lazy")
def _can(ev: FunctionEvaluation, exprs: tuple) -> Any:
    if len(exprs) != 1:
        raise EvalError("can() takes exactly one argument")
    try:
        v = ev.eval_guarded(exprs[0])
    except EvalError:
        return False
    if has_unknown(v):
        return Unknown.combine(unknowns_in(v))
    return True


FUNCTIONS: Table = {
    **functions_collections.FUNCTIONS,
    **functions_numbers.FUNCTIONS,
    **functions_strings.FUNCTIONS,
    **functions_encoding.FUNCTIONS,
    **functions_files.FUNCTIONS,
    **_LANGUAGE,
}
