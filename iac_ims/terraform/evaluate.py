"""A safe evaluator (no eval/exec) of the Terraform expression language.

It walks the project's expression representation (`ir.py`) and produces plain Python values,
or `Unknown`/`Reference`/`PartialJson` for what cannot be known before `terraform apply`.
Everything outside the expression comes from an `EvalContext`.

The `Evaluator` holds an evaluation's state (budget, depth, names in scope) and does what
every kind of expression shares: references, traversal steps, iteration.  How each kind of
expression evaluates is in expressions.py (for expressions: for_expressions.py), template
rendering in render.py, the built-in functions in functions.py, and what values do in
semantics.py.

Errors Terraform would report raise `EvalError` internally (so `try()`/`can()` can catch
them); `evaluate` itself never raises: it returns `Unknown("error: ...")`.  Resource bounds
(depth, steps) raise `LimitExceeded`, which `try()`/`can()` do not catch.
"""

from __future__ import annotations

from dataclasses import replace
from collections.abc import Iterator
from typing import Any

from iac_ims.terraform import ir
from iac_ims.terraform.context import MAX_COLLECTION_SIZE, MAX_EVAL_DEPTH, MISSING, Budget, EvalContext
from iac_ims.terraform.expressions import HANDLERS
from iac_ims.terraform.render import render
from iac_ims.terraform.semantics import (
    PLAIN_TYPES,
    CertainError,
    EvalError,
    LimitExceeded,
    as_collection,
    attr_key,
    index_number,
    map_key,
    plain_unknown,
    type_name,
)
from iac_ims.terraform.template import TemplateSyntaxError, compile_template
from iac_ims.terraform.values import Invalid, PartialList, Reference, Unknown, instance_suffix, partial_list

__all__ = ["Evaluator", "evaluate", "evaluate_template", "MAX_TEMPLATEFILE_DEPTH"]

MAX_TEMPLATEFILE_DEPTH = 8

_NOTSET = object()


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

    def run(self, expr: Any) -> Any:
        """Evaluate `expr`, never raising."""
        try:
            return self.eval(expr)
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
            handler = HANDLERS.get(type(node))
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
        if type(value) not in PLAIN_TYPES:
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
            if type(value) not in PLAIN_TYPES and getattr(value, "traverse_index", None) is not None:
                # "some element" of a context collection (e.g. a resource with count/for_each):
                # keep the handle, so that `r[each.key].id` still names resource r
                return value
            return plain_unknown(key)
        t = type(value)
        if t is list:
            i = index_number(key)
            if i < 0 or i >= len(value):
                raise CertainError(f"index {i} out of range for a list of {len(value)} elements")
            return value[i]
        if t is dict:
            k = map_key(key)
            try:
                return value[k]
            except KeyError:
                raise CertainError(f'the map has no element with key "{k}"') from None
        if isinstance(value, Unknown):
            if isinstance(value, Reference):
                if value.attribute:
                    return replace(value, attribute=value.attribute + (attr_key(key),))
                if value.instance_keys_known:
                    return replace(value, address=value.address + instance_suffix(key))
                return value
            return plain_unknown(value)
        if value is None:
            raise EvalError("cannot index a null value")
        if t not in PLAIN_TYPES:
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
            sp = getattr(value, "splat", None) if t not in PLAIN_TYPES else None
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
        if t not in PLAIN_TYPES:
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

    def each_bound(self, names: tuple, items: Any) -> Iterator[None]:
        """Bind `names` (key name or None, value name) to each (key, value) of `items` in turn,
        a step each, yielding while they are bound; the scope is as it was afterwards."""
        kname, vname = names
        scope = self.scope
        saved = self.bind(names)
        try:
            for k, v in items:
                self.spend()
                if kname is not None:
                    scope[kname] = k
                scope[vname] = v
                yield
        finally:
            self.unbind(saved)

    # -- templates ------------------------------------------------------------------

    def call_templatefile(self, text: str, variables: dict) -> Any:
        """Render a template file's text with only `variables` in scope (templatefile)."""
        if self.tf_depth >= MAX_TEMPLATEFILE_DEPTH:
            return Unknown("templatefile() calls nested too deeply", ("templatefile()",))
        try:
            compiled = compile_template(text)
        except TemplateSyntaxError as e:
            raise EvalError(f"template syntax error: {e}") from None
        saved = (self.scope, self.vars_only)
        self.scope = dict(variables)
        self.vars_only = True
        self.tf_depth += 1
        try:
            return render(self, compiled)
        finally:
            self.scope, self.vars_only = saved
            self.tf_depth -= 1


# ---------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------


def evaluate(expr: Any, ctx: EvalContext, budget: Budget | None = None) -> Any:
    """Evaluate an expression (`ir.Expr`).

    Never raises: errors become `Unknown("error: ...")`, exhausted bounds an `Unknown` too.
    """
    return Evaluator(ctx, budget).run(expr)


def evaluate_template(
    text: str, ctx: EvalContext, budget: Budget | None = None, *, variables: dict | None = None
) -> Any:
    """Render a template.

    With `variables` (as `templatefile` does) bare identifiers resolve only in that map and
    `var.x` & co. are errors.  Returns the rendered string, the unconverted value of a template
    that is exactly one `${...}`, or an `Unknown` (on unknown inputs and on any error).
    """
    if variables is not None and type(variables) is not dict:
        if isinstance(variables, Unknown):
            return plain_unknown(variables)
        return Unknown("error: template variables must be an object")
    ev = Evaluator(ctx, budget, scope=dict(variables) if variables is not None else None,
                   vars_only=variables is not None)
    if not isinstance(text, str):
        return Unknown("error: template text must be a string")
    try:
        compiled = compile_template(text)
    except TemplateSyntaxError as e:
        return Unknown(f"error: template syntax error: {e}")
    try:
        return render(ev, compiled)
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
