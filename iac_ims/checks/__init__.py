"""The rule registry: one entry per rule ID, its metadata and the function that yields its findings.

A built-in rule is one entry in `rules/rules.yaml` (ID, default severity, title, rationale, fix,
family) and one function in this package, registered with `@rule("IMS123")`, which yields the
findings of that rule and no other (`ctx.finding` refuses an ID that is not registered). Rules
that share a computation (the decisions behind IMS300, IMS301 and IMS305) share it through
`ctx.memo`, so a rule that is not selected does not run.

A plugin is a package with an entry point in the group `iac_ims.checks` naming a `Rule` (or a
list of them) that brings its own metadata: `Rule(meta=RuleMeta(...), check=function)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from iac_ims.catalog import RuleMeta

if TYPE_CHECKING:
    from iac_ims.catalog import Catalog
    from iac_ims.checks.context import CheckContext
    from iac_ims.findings import Finding

Check = Callable[["CheckContext"], Iterable["Finding"]]
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
ENTRY_POINT_GROUP = "iac_ims.checks"


class RuleError(Exception):
    """A rule without metadata, a duplicate ID, or a plugin that is not a rule: a bug to fix."""


class UnknownRuleError(ValueError):
    """A rule ID given in options or configuration that no rule has (a usage error)."""


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    check: Check
    reads_diagnostics: bool = False  # reads ctx.diagnostics: runs after the syntax checks complete

    @property
    def id(self) -> str:
        return self.meta.id


@dataclass(frozen=True)
class _Registration:
    check: Check
    reads_diagnostics: bool


_BUILTIN: dict[str, _Registration] = {}


def rule(rule_id: str, *, reads_diagnostics: bool = False) -> Callable[[Check], Check]:
    """Register the function that yields the findings of one built-in rule."""

    def decorator(function: Check) -> Check:
        if rule_id in _BUILTIN:
            raise RuleError(f"rule {rule_id} is registered twice")
        _BUILTIN[rule_id] = _Registration(function, reads_diagnostics)
        return function

    return decorator


def outcomes_rule(rule_id: str, *sources: Callable[["CheckContext"], Iterable["Finding"]]) -> Check:
    """Register a built-in rule whose findings are those of `rule_id` among what shared
    computations (`ctx.memo`) yield: several rules read one computation, each its own findings."""

    def check(ctx: CheckContext) -> Iterable[Finding]:
        for source in sources:
            yield from (f for f in source(ctx) if f.rule_id == rule_id)

    check.__name__ = f"outcomes_{rule_id}"
    return rule(rule_id)(check)


def builtin_rule_ids() -> list[str]:
    _load_builtins()
    return sorted(_BUILTIN)


def registry(catalog: Catalog) -> dict[str, Rule]:
    """Every rule by ID: the built-ins with their metadata from the catalogue, then the plugins'.
    Raises RuleError for a built-in without metadata or a malformed plugin."""
    _load_builtins()
    rules: dict[str, Rule] = {}
    for rule_id in sorted(_BUILTIN):
        meta = catalog.rule(rule_id)
        if meta is None:
            raise RuleError(f"rule {rule_id} has a check but no metadata in the rules catalogue")
        registration = _BUILTIN[rule_id]
        rules[rule_id] = Rule(meta, registration.check, registration.reads_diagnostics)
    for plugin_rule in _plugin_rules():
        if plugin_rule.id in rules:
            raise RuleError(f"plugin rule {plugin_rule.id} has the ID of a rule iac-ims already has")
        rules[plugin_rule.id] = plugin_rule
    return rules


def selected(rules: dict[str, Rule], only: Iterable[str], skip: Iterable[str],
             severities: Iterable[str] = ()) -> list[Rule]:
    """The rules to run, in running order (those that read no diagnostics first). An ID no rule
    has, in any of the three, is a usage error naming the closest ones: a typo in CI must not
    turn the scanner off."""
    only_ids = {r.strip().upper() for r in only}
    skip_ids = {r.strip().upper() for r in skip}
    for given in sorted(only_ids | skip_ids | {s.strip().upper() for s in severities}):
        if given not in rules:
            from iac_ims.directives import closest_rule_ids

            near = closest_rule_ids(given, rules)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise UnknownRuleError(f"no rule {given}{hint} (see `iac-ims rules`)")
    chosen = [r for rid, r in rules.items() if (not only_ids or rid in only_ids) and rid not in skip_ids]
    return sorted(chosen, key=lambda r: (r.reads_diagnostics, r.id))


def _load_builtins() -> None:
    from iac_ims.checks import deployer, intent, policy, reading, scope  # noqa: F401  (they register their rules)


def _plugin_rules() -> list[Rule]:
    from importlib.metadata import entry_points

    found: list[Rule] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        loaded: Any = entry.load()
        items = [loaded] if isinstance(loaded, Rule) else list(loaded) if isinstance(loaded, (list, tuple)) else None
        if not items or not all(isinstance(item, Rule) for item in items):
            raise RuleError(f"plugin entry point {entry.name!r} ({entry.value}) must name an iac_ims.checks.Rule "
                            "or a list of them, each with its metadata")
        for item in items:
            if not RULE_ID.match(item.id):
                raise RuleError(f"plugin rule ID {item.id!r} is not of the form ABC123")
            if item.meta.severity not in ("error", "warning", "info"):
                raise RuleError(f"plugin rule {item.id} has severity {item.meta.severity!r}")
        found.extend(items)
    return found
