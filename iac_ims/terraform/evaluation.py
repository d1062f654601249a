"""What the parts of the evaluator ask of an evaluation in progress (`evaluate.Evaluator`).

The node handlers, template rendering and the built-in functions are written against these
protocols, not against the class, so that none of them imports the evaluator: it imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from iac_ims.terraform import ir
from iac_ims.terraform.context import Budget, EvalContext


class FunctionEvaluation(Protocol):
    """What a built-in function may ask: the context (file(), templatefile(), abspath()), the
    value of an argument it evaluates itself (try(), can(): errors to catch), a step of the
    budget, and a template file rendered with only its own variables in scope."""

    ctx: EvalContext

    def eval(self, node: ir.Expr) -> Any: ...

    def eval_guarded(self, node: ir.Expr) -> Any: ...

    def spend(self, n: int = 1) -> None: ...

    def call_templatefile(self, text: str, variables: dict) -> Any: ...


class Evaluation(FunctionEvaluation, Protocol):
    """What the node handlers and template rendering ask as well: the state of the evaluation
    (budget, depth, the names in scope, whether errors are caught) and the references, steps
    and iteration the Evaluator implements."""

    budget: Budget
    depth: int
    scope: dict
    guarded: int

    def eval_soft(self, node: ir.Expr) -> Any: ...

    def resolve_root(self, name: str, steps: tuple) -> tuple[Any, int]: ...

    def step(self, value: Any, step: ir.Step) -> Any: ...

    def iter_items(self, coll: Any, what: str = ...) -> Any: ...

    def bind(self, names: tuple) -> list: ...

    def unbind(self, saved: list) -> None: ...

    def each_bound(self, names: tuple, items: Any) -> Iterator[None]: ...
