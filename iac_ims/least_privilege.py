"""The custom roles a deployer needs, written from what the scanned configuration calls.

One role per service level (IAM applies a custom policy's project-level actions only where it is
assigned in a project, its global-service actions only at global scope, so a role mixing them
loses half wherever it is assigned: type XA for project-level services such as IMS, AX for global
ones such as EPS and OBS), each split into several when its policy would pass the 6,144
characters IAM accepts. What cannot be written as an action is returned beside the roles: the
system roles a call needs (OBS Tenant Administrator, CBR FullAccess) and what no permission table
confirms. Nothing is dropped, nothing invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from iac_ims.catalog import Catalog
from iac_ims.directives import split_method_path
from iac_ims.iam.actions import is_wildcard
from iac_ims.iam.model import ROLE_TYPE_OF_LEVEL
from iac_ims.iam.policy_size import MAX_POLICY_CHARACTERS, sent_length
from iac_ims.requirements import ResourceNeeds, service_level

POLICY_VERSION = "1.1"
WRITTEN_BASES = ("documented", "inferred")  # requirements whose actions are written into the policy


@dataclass
class GeneratedRole:
    name: str  # the role's name in IAM
    type: str  # XA | AX
    level: str  # project | global
    actions: list[str]
    intents: list[str] = field(default_factory=list)  # catalogue operations its calls are

    @property
    def policy(self) -> dict[str, Any]:
        return policy_document(self.actions)


@dataclass
class RoleNeed:
    """A system role (any one of `roles`) the configuration needs, and who needs it."""

    service: str
    roles: tuple[str, ...]
    why: str
    needed_by: list[str]


@dataclass
class UncheckedNeed:
    """What no permission table confirms: a call's action, or a requirement's exact permission."""

    what: str
    why: str
    needed_by: list[str]


@dataclass
class DeployerPolicy:
    roles: list[GeneratedRole]
    system_roles: list[RoleNeed]
    unconfirmed: list[UncheckedNeed]


def policy_document(actions: Iterable[str]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": [{"Effect": "Allow", "Action": list(actions)}]}


def deployer_policy(groups: list[ResourceNeeds], catalog: Catalog, name: str = "iac-ims-deployer") -> DeployerPolicy:
    """The least-privilege roles for every need of `groups`, certain or possible (a deployer that
    lacks what a fallback or an unresolved argument may call fails then)."""
    by_level: dict[str, list[str]] = {}
    system_roles: dict[tuple[str, tuple[str, ...]], RoleNeed] = {}
    unconfirmed: dict[str, UncheckedNeed] = {}
    apis: list[str] = []
    extra: dict[str, set[str]] = {}  # call -> the actions written for it beside its own (its requirements')
    for group in groups:
        for need in group.actions:
            _add(by_level.setdefault(need.level, []), need.action)
            apis.extend(need.calls)
        for prerequisite in group.prerequisites:
            requirement = prerequisite.requirement
            if requirement.basis in WRITTEN_BASES and requirement.actions and not requirement.roles:
                for action in requirement.actions:
                    _add(by_level.setdefault(service_level(action, catalog), []), action)
                for api in prerequisite.calls:
                    extra.setdefault(api, set()).update(a.lower() for a in requirement.actions)
            elif requirement.basis in WRITTEN_BASES and requirement.roles:
                key = (requirement.service, requirement.roles)
                entry = system_roles.setdefault(key, RoleNeed(requirement.service, requirement.roles,
                                                              requirement.why, []))
                _add(entry.needed_by, group.address)
            elif requirement.basis == "unconfirmed":
                what = ", ".join(requirement.actions) or f"{requirement.service.upper()} permissions"
                entry_u = unconfirmed.setdefault(f"{what}: {requirement.why}",
                                                 UncheckedNeed(what, requirement.why, []))
                _add(entry_u.needed_by, group.address)
        for call in group.unconfirmed:
            entry_u = unconfirmed.setdefault(call.call, UncheckedNeed(call.call, "no permission table lists its "
                                                                      "action", []))
            _add(entry_u.needed_by, group.address)
    roles: list[GeneratedRole] = []
    for level in ("project", "global"):
        actions = sorted(by_level.get(level, []), key=lambda a: (not catalog.is_ims_action(a), a.lower()))
        for index, chunk in enumerate(_within_limit(actions)):
            suffix = f"-{index + 1}" if index else ""
            role_type = ROLE_TYPE_OF_LEVEL[level]
            roles.append(GeneratedRole(f"{name}-{role_type.lower()}{suffix}", role_type, level, chunk))
    for role in roles:
        role.intents = _intents(role.actions, apis, catalog, extra)
    return DeployerPolicy(roles, list(system_roles.values()), list(unconfirmed.values()))


def _within_limit(actions: list[str]) -> list[list[str]]:
    """The actions in as few policies as fit IAM's limit, in order."""
    chunks: list[list[str]] = []
    current: list[str] = []
    for action in actions:
        candidate = current + [action]
        length, _exact = sent_length(POLICY_VERSION, policy_document(candidate)["Statement"])
        if current and length > MAX_POLICY_CHARACTERS:
            chunks.append(current)
            current = [action]
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def _intents(actions: list[str], apis: list[str], catalog: Catalog,
             extra: dict[str, set[str]] | None = None) -> list[str]:
    """The catalogue operations the calls are, that this role grants in full: what it is for. A
    variant of an operation (the same API with a situational extra action, such as a copy in an
    account with enterprise projects) is one of them when a requirement of the call asks for that
    extra action: the role grants it for that."""
    granted = {a.lower() for a in actions if not is_wildcard(a)}
    found: list[str] = []
    for api in dict.fromkeys(apis):
        parsed = split_method_path(api)
        if parsed is None:
            continue
        matches = [op for op in catalog.operations_for_api(*parsed) if not op.deprecated
                   and op.actions and {a.lower() for a in op.actions} <= granted]
        plain = [op for op in matches if op.variant_of is None]
        if plain:
            # one API, several table rows (from an ECS, from a file): the one asking least beside
            # its actions; what the call needs beside them is the deployer check's (IMS310)
            _add(found, min(plain, key=lambda op: len(op.prerequisites)).id)
        asked = (extra or {}).get(api, set())
        for op in matches:
            base = catalog.operation(op.variant_of) if op.variant_of is not None else None
            if base is None or base.id not in found:
                continue
            situational = {a.lower() for a in op.actions} - {a.lower() for a in base.actions}
            if situational <= asked:
                _add(found, op.id)
    return found


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
