"""What an expression can see while it is evaluated: the interface between the evaluator and
the module loader.  The evaluator knows only this protocol; the loader implements it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# Limits that keep a hostile file from hanging or exhausting the scan.
MAX_EVAL_DEPTH = 120
MAX_EVAL_STEPS = 200_000
MAX_COLLECTION_SIZE = 100_000
MAX_STRING_SIZE = 8 * 1024 * 1024


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # "not in a count/for_each": each.* / count.index are then an error -> Unknown


@dataclass
class Budget:
    """Evaluation steps left for one top-level evaluation (shared by nested calls)."""

    steps: int = MAX_EVAL_STEPS


class EvalContext(Protocol):
    """Everything outside an expression that the expression may refer to.

    Each lookup returns a value (plain Python, `Unknown`, `Reference` or a `Traversable`).
    Implementations never raise for a missing name; they return an `Unknown` saying why.
    """

    # count / for_each of the block being evaluated (MISSING outside one)
    each_key: Any
    each_value: Any
    count_index: Any
    # `path.module`, `path.root`, `path.cwd` as Terraform would render them (relative, posix)
    path_module: str
    path_root: str
    path_cwd: str

    def variable(self, name: str) -> Any: ...

    def local(self, name: str) -> Any: ...

    def module(self, name: str) -> Any:
        """`module.<name>`: an object of outputs (or a Traversable / Unknown)."""

    def resource(self, type_: str, name: str) -> Any:
        """`<type>.<name>` of a managed resource: object/Traversable/Reference."""

    def data(self, type_: str, name: str) -> Any:
        """`data.<type>.<name>`."""

    def read_file(self, path: str) -> Any:
        """Contents of a file for `file()`/`templatefile()`: str, or Unknown when it is outside
        the scanned tree, missing or too large (the context records the IMS902 itself)."""

    # Optional (the loader's context has them, see certainty.py):
    #   note_uncertain()  the value being computed could differ in a real run (workspace, path.cwd)
    #   reject(invalid)   a lookup answered "not declared" (an `Invalid`): report it where the
    #                     expression is; the evaluation goes on with an unknown in its place.
    # A lookup returns an unreported `Invalid` only for a name certainly not declared.


@dataclass
class SimpleContext:
    """A self-contained EvalContext for tests and for evaluating standalone templates."""

    variables: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    modules: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    each_key: Any = MISSING
    each_value: Any = MISSING
    count_index: Any = MISSING
    path_module: str = "."
    path_root: str = "."
    path_cwd: str = "."

    def _get(self, table: dict[str, Any], key: str, what: str) -> Any:
        from iac_ims.terraform.values import Unknown

        if key in table:
            return table[key]
        return Unknown(f"{what} is not declared", (what,))

    def variable(self, name: str) -> Any:
        return self._get(self.variables, name, f"var.{name}")

    def local(self, name: str) -> Any:
        return self._get(self.locals, name, f"local.{name}")

    def module(self, name: str) -> Any:
        return self._get(self.modules, name, f"module.{name}")

    def resource(self, type_: str, name: str) -> Any:
        from iac_ims.terraform.values import Reference

        key = f"{type_}.{name}"
        if key in self.resources:
            return self.resources[key]
        return Reference(f"{key} is known only after apply", (key,), address=key)

    def data(self, type_: str, name: str) -> Any:
        from iac_ims.terraform.values import Reference

        key = f"data.{type_}.{name}"
        if key in self.resources:
            return self.resources[key]
        return Reference(f"{key} is read at plan time", (key,), address=key)

    def read_file(self, path: str) -> Any:
        from iac_ims.terraform.values import Unknown

        if path in self.files:
            return self.files[path]
        return Unknown(f"file {path!r} not found", (f"file({path})",))
