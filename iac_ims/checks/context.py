"""What every check sees: the IAM model, the graph, the catalogue and the declared intents."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator

from iac_ims.catalog import Catalog, Operation, RuleMeta
from iac_ims.directives import IntentItem, split_method_path
from iac_ims.findings import Finding
from iac_ims.decisions import Decisions
from iac_ims.graph import IamGraph
from iac_ims.iam.model import CUSTOM, IamModel, Role
from iac_ims.iam.policy_queries import explicit_actions
from iac_ims.terraform.values import Diagnostic


@dataclass
class IntentProblem:
    item: IntentItem
    message: str
    fix: str | None


@dataclass
class CheckContext:
    model: IamModel
    graph: IamGraph
    catalog: Catalog
    diagnostics: list[Diagnostic] = field(default_factory=list)
    config_intents: dict[str, list[str]] = field(default_factory=dict)
    config_deployers: list[str] = field(default_factory=list)  # addresses (the config's, --deployer)
    instances: list[Any] = field(default_factory=list)  # every resource instance scanned
    current: Any = None  # the resource instance a check is looking at (for internal-error reports)
    rules: dict[str, RuleMeta] | None = None  # the registry's metadata (None: the catalogue's rules)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def decisions(self) -> Decisions:
        """The one decision point (decisions.py): every rule that asks "can X do Y here" asks it."""
        return Decisions(self.graph)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """What several rules compute alike, computed once per scan (by the first that needs it)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def visit(self, items: Iterable[Any]) -> Iterator[Any]:
        """Iterate, remembering which resource each item is (for internal-error reports)."""
        for item in items:
            self.visit_one(item)
            yield item

    def visit_one(self, item: Any) -> None:
        self.current = getattr(item, "instance", None)

    # ---- findings
    def finding(self, rule_id: str, instance: Any, message: str, *, line: int | None = None,
                end_line: int | None = None, operation: str | None = None, scope: str | None = None,
                evidence: list[str] | None = None, fix: str | None = None, severity: str | None = None,
                resource: str | None = None, file: str | None = None,
                value_of: tuple[Any, Iterable[str]] | None = None,
                related: list[dict[str, Any]] | None = None) -> Finding:
        """`value_of`: (a block, the attributes whose value the finding is about, first that
        applies): when that value is a module input, the finding is located at the caller's
        argument (what a pull request changes), and the module's line is a related location.
        `related`: other places that explain it ({"file", "line", "message"}).
        Raises KeyError for a rule ID the registry does not have."""
        known = self.rules if self.rules is not None else self.catalog.rules
        if rule_id not in known:
            raise KeyError(f"no rule {rule_id} in the registry: give it metadata (rules.yaml or the plugin's Rule)")
        meta = known[rule_id]
        related = list(related or [])
        chain = _input_origin(*value_of) if value_of is not None else []
        if chain:
            file, line, end_line = chain[0].file, chain[0].line, chain[0].end_line
            related += [{"file": place.file, "line": place.line,
                        "message": "where the module uses this input" if place is chain[-1]
                        else "where the input is passed on"} for place in chain[1:]]
        return Finding(
            rule_id=rule_id,
            severity=severity or meta.severity,
            title=meta.title,
            message=message,
            resource=resource if resource is not None else (instance.address if instance is not None else None),
            file=file if file is not None else (instance.file if instance is not None else None),
            line=line if line is not None else (instance.line if instance is not None else None),
            end_line=end_line if end_line is not None else (instance.end_line if instance is not None else None),
            operation=operation,
            scope=scope,
            evidence=[e for e in (evidence or []) if e],
            fix=fix,
            related=related,
        )

    # ---- intents
    def declared_intents(self, address: str, comments: list[IntentItem]) -> list[IntentItem]:
        """The intents of a block: its comments', and the config's for its Terraform address."""
        items = list(comments)
        base = address.split("[", 1)[0] if address.endswith("]") else address
        for key in dict.fromkeys((address, base)):
            for text in self.config_intents.get(key, []):
                items.append(IntentItem(str(text), 0))
        return items

    def resolve_intents(self, items: list[IntentItem]) -> tuple[list[tuple[IntentItem, Operation]], list[IntentProblem]]:
        operations: list[tuple[IntentItem, Operation]] = []
        problems: list[IntentProblem] = []
        for item in items:
            operation = self.catalog.operation(item.text)
            if operation is not None:
                operations.append((item, operation))
                continue
            api = split_method_path(item.text)
            if api is not None:
                matches = self.catalog.operations_for_api(*api)
                if len(matches) == 1:
                    operations.append((item, matches[0]))
                    continue
                if matches:
                    ids = ", ".join(op.id for op in matches)
                    problems.append(IntentProblem(item, f"intent {item.text!r} names several operations: {ids}",
                                                  f"name one of the operation IDs instead: {ids}"))
                    continue
            from iac_ims.suggest import closest

            candidates = closest(item.text, self.catalog.operations.keys(), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(candidates)}?" if candidates else ""
            problems.append(IntentProblem(item, f"intent {item.text!r} names no known IMS operation{hint}",
                                          "use an operation ID from `iac-ims catalog`" +
                                          (f", e.g. {candidates[0]}" if candidates else "")))
        return operations, problems

    def role_intents(self, role: Role) -> list[IntentItem]:
        if role.kind != CUSTOM:
            return []
        return self.declared_intents(role.instance.address, role.intents)

    def inferred_operations(self, role: Role) -> list[Operation]:
        """A custom role without declared intents is meant to perform what it names explicitly."""
        if role.kind != CUSTOM or role.policy is None:
            return []
        named = self._explicit(role.key)
        return [op for op in self.catalog.operations.values()
                if op.actions and not op.deprecated and named.issuperset(op.actions)]

    def _explicit(self, role_key: str) -> set[str]:
        return self._explicit_cache.setdefault(
            role_key, explicit_actions(self.model.roles[role_key].policy, self.catalog.actions))

    @cached_property
    def _explicit_cache(self) -> dict[str, set[str]]:
        return {}


def _input_origin(block: Any, attributes: Iterable[str]) -> list[Any]:
    """The caller's argument ... the module's attribute, for the first attribute of `block` whose
    value is exactly a module input (inputs.input_origin); empty when none is."""
    from iac_ims.terraform.inputs import input_origin

    owner = getattr(getattr(block, "ctx", None), "owner", None)
    if owner is None:
        return []
    for name in attributes:
        chain = input_origin(block.block, name, owner.calls)
        if chain:
            return chain
    return []
