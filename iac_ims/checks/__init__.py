"""The check registry.  A check is a function `(CheckContext) -> Iterable[Finding]`; built-in
families register themselves here, third-party ones through the `iac_ims.checks` entry-point
group (each entry point names such a function)."""

from __future__ import annotations

from typing import Callable, Iterable

from iac_ims.checks.context import CheckContext
from iac_ims.findings import Finding

Check = Callable[[CheckContext], Iterable[Finding]]

_BUILTIN: dict[str, Check] = {}
_WITHOUT_DIAGNOSTICS: set[str] = set()


def register(name: str, *, reads_diagnostics: bool = True) -> Callable[[Check], Check]:
    """`reads_diagnostics=False`: the check never reads `ctx.diagnostics`, so it may run while
    the syntax checks of files nothing depends on are still going on in other processes."""

    def decorator(function: Check) -> Check:
        _BUILTIN[name] = function
        if not reads_diagnostics:
            _WITHOUT_DIAGNOSTICS.add(name)
        return function

    return decorator


def reads_diagnostics(name: str) -> bool:
    """Whether a check (by its name in `all_checks`) may read `ctx.diagnostics` (plugins may)."""
    return name not in _WITHOUT_DIAGNOSTICS


def all_checks() -> dict[str, Check]:
    """Built-in checks, then plugins, by name (a plugin cannot replace a built-in)."""
    from iac_ims.checks import intent, policy, reading, scope  # noqa: F401  (registers them)

    checks = dict(_BUILTIN)
    for name, function in _plugin_checks():
        checks.setdefault(name, function)
    return checks


def _plugin_checks() -> list[tuple[str, Check]]:
    from importlib.metadata import entry_points

    found: list[tuple[str, Check]] = []
    for entry in sorted(entry_points(group="iac_ims.checks"), key=lambda e: e.name):
        found.append((f"plugin:{entry.name}", _lazy(entry)))
    return found


def _lazy(entry: object) -> Check:
    def run(ctx: CheckContext) -> Iterable[Finding]:
        return entry.load()(ctx)  # type: ignore[attr-defined]

    return run
