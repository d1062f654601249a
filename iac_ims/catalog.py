"""The IMS knowledge the checks use, loaded from the YAML files in `rules/`.

Data lives in `rules/`; this module only loads, validates and indexes it.
(Loader to be completed: see `load_catalog`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CatalogError(Exception):
    """A catalogue file is malformed: names the file and the key."""

    def __init__(self, file: str, key: str, message: str):
        super().__init__(f"{file}: {key}: {message}")
        self.file = file
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Prerequisite:
    """A permission outside IMS that an operation needs: hold any one of `any_of` (system-role
    display names) at a scope that reaches `service` (whose level says which scopes do)."""

    service: str
    any_of: tuple[str, ...]


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    title: str
    actions: tuple[str, ...]  # all required
    project: bool  # grantable at IAM-project scope
    enterprise_project: bool  # grantable at enterprise-project scope
    deprecated: bool = False
    replacement: str | None = None
    prerequisites: tuple[Prerequisite, ...] = ()
    table: str = "image_management"  # which table of the appendix
    row: int | None = None  # row number in that table
    note: str = ""  # the source's note / variant description


@dataclass(frozen=True)
class Service:
    name: str  # lowercase service prefix, e.g. "ims", "obs"
    level: str  # "global" or "project"


@dataclass(frozen=True)
class SystemRole:
    display_name: str
    name: str | None = None  # internal name, e.g. "te_admin"
    service: str | None = None
    former_names: tuple[str, ...] = ()  # e.g. "CBR Admin" for "CBR FullAccess"
    allow: tuple[str, ...] = ()  # actions (patterns) the role allows, where known
    deny: tuple[str, ...] = ()  # actions (patterns) the role denies
    actions_known: bool = False  # False: what it grants is not documented -> unknown


@dataclass(frozen=True)
class RuleMeta:
    id: str
    severity: str  # error | warning | info
    title: str
    rationale: str
    remediation: str
    family: str = ""  # policy | scope | intent | reading


@dataclass
class Catalog:
    operations: dict[str, Operation] = field(default_factory=dict)
    actions: tuple[str, ...] = ()  # every known IMS action, canonical case
    services: dict[str, Service] = field(default_factory=dict)
    system_roles: tuple[SystemRole, ...] = ()
    rules: dict[str, RuleMeta] = field(default_factory=dict)
    sources: tuple[str, ...] = ()  # files loaded, in order
