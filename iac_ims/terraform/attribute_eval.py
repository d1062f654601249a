"""Evaluating an expression where it is written, whichever syntax it was written in: native HCL or
Terraform's JSON syntax.  `eval_attribute` also reports what Terraform certainly rejects (IMS903) and
says whether a real run could see another value (certainty.py); `NO_CONTEXT` is the context of the
values that may refer to nothing (a module call's `source`, a variable's default, tfvars)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from iac_ims.terraform.context import MISSING, Budget
from iac_ims.terraform.parse import Attribute, JsonExpr
from iac_ims.terraform.values import Invalid, Unknown


def eval_expr(expr: Any, ctx: Any) -> Any:
    """Evaluate an expression, whichever syntax it was written in.  What Terraform would certainly
    reject comes back as the plain Unknown it is: only `eval_attribute` knows where to report it."""
    return _settle_invalid(_eval_raw(expr, ctx), isinstance(expr, JsonExpr), _unreported)


def eval_attribute(attribute: Attribute, ctx: Any, file: str | None, address: str | None) -> tuple[Any, bool]:
    """The value of an attribute evaluated where it is written, and whether a real run could see
    another value (certainty.py).  What Terraform certainly rejects is reported there (IMS903): a
    reference to something undeclared (the value goes on with an unknown in its place), and an
    index or key a known collection lacks when nothing it depends on is uncertain (the value is
    then an `Invalid` marked reported, so that its readers do not report it again)."""
    owner = getattr(ctx, "owner", None)
    if owner is None:
        return eval_expr(attribute.expr, ctx), False
    loader = owner.loader
    value, frame = loader.certainty.measure(lambda: _eval_raw(attribute.expr, ctx), ctx.uncertain)
    for invalid in frame.rejected:
        loader.report_invalid(invalid, attribute, file, address, owner.source.directory)

    def settle(invalid: Invalid) -> Unknown:
        if frame.uncertain and not invalid.static:
            return _unreported(invalid)
        loader.report_invalid(invalid, attribute, file, address, owner.source.directory)
        return replace(invalid, reported=True)

    return _settle_invalid(value, isinstance(attribute.expr, JsonExpr), settle), frame.uncertain


def note_certainty(ctx: Any, uncertain: bool) -> None:
    """A value computed earlier is read again: the reader inherits its uncertainty."""
    owner = getattr(ctx, "owner", None)
    if owner is not None:
        owner.loader.certainty.note(uncertain)


def _eval_raw(expr: Any, ctx: Any) -> Any:
    if isinstance(expr, JsonExpr):
        return _eval_json_value(expr.value, ctx, 0)
    from iac_ims.terraform.evaluate import evaluate

    return evaluate(expr, ctx, Budget())


def _unreported(invalid: Invalid) -> Unknown:
    return Unknown(invalid.reason, invalid.depends_on)


def _settle_invalid(value: Any, nested: bool, settle: Callable[[Invalid], Unknown], depth: int = 0) -> Any:
    """`value` with each Invalid not yet reported replaced by `settle(it)`.  An HCL expression
    stops at its first error, so only the whole value can be one; in JSON syntax each string
    is evaluated on its own (`nested`)."""
    if isinstance(value, Invalid) and not value.reported:
        return settle(value)
    if not nested or depth > 100:
        return value
    if isinstance(value, list):
        return [_settle_invalid(v, True, settle, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _settle_invalid(v, True, settle, depth + 1) for k, v in value.items()}
    return value


def _eval_json_value(value: Any, ctx: Any, depth: int) -> Any:
    if depth > 100:
        return Unknown("JSON value nested too deeply")
    if isinstance(value, str):
        if "${" in value or "%{" in value:
            from iac_ims.terraform.evaluate import evaluate_template

            return evaluate_template(value, ctx, Budget())
        return value
    if isinstance(value, list):
        return [_eval_json_value(v, ctx, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _eval_json_value(v, ctx, depth + 1) for k, v in value.items()}
    return value


class _NoContext:
    """Context for values that may refer to nothing (module `source`, tfvars)."""

    each_key = each_value = count_index = MISSING
    path_module = path_root = path_cwd = "."

    def _nothing(self, what: str) -> Unknown:
        return Unknown(f"{what} cannot be referred to here", (what,))

    def variable(self, name: str) -> Any:
        return self._nothing(f"var.{name}")

    def local(self, name: str) -> Any:
        return self._nothing(f"local.{name}")

    def module(self, name: str) -> Any:
        return self._nothing(f"module.{name}")

    def resource(self, type_: str, name: str) -> Any:
        return self._nothing(f"{type_}.{name}")

    def data(self, type_: str, name: str) -> Any:
        return self._nothing(f"data.{type_}.{name}")

    def read_file(self, path: str) -> Any:
        return self._nothing(f"file({path})")


NO_CONTEXT = _NoContext()
