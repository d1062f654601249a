"""The IAM model the graph is built from: roles, principals, assignments with their scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iac_ims.directives import IntentItem
from iac_ims.terraform.values import Diagnostic, Unknown

DOMAIN = "domain"
PROJECT = "project"
ALL_PROJECTS = "all_projects"
ENTERPRISE_PROJECT = "enterprise_project"

# A custom role's `type`: AX applies to global services, XA to project-level services.
GLOBAL_ROLE_TYPE = "AX"
PROJECT_ROLE_TYPE = "XA"
ROLE_TYPE_OF_LEVEL = {"global": GLOBAL_ROLE_TYPE, "project": PROJECT_ROLE_TYPE}


def is_global_role_type(value: Any) -> bool:
    """Whether a role's `type` is, as written, AX (any case); False when it cannot be told."""
    return isinstance(value, str) and value.strip().upper() == GLOBAL_ROLE_TYPE


CUSTOM = "custom"
SYSTEM = "system"
UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class Scope:
    kind: str  # domain | project | all_projects | enterprise_project
    value: Any  # the project / enterprise project ID or name, an Unknown, or None
    origin: str  # the argument or agency list that set it ("project_id", "all_resources_roles", ...)

    @property
    def reaches_project_services(self) -> bool:
        return self.kind in (PROJECT, ALL_PROJECTS, ENTERPRISE_PROJECT)

    @property
    def reaches_global_services(self) -> bool:
        return self.kind in (DOMAIN, ALL_PROJECTS)

    def reaches(self, level: str | None) -> bool:
        """Whether a grant at this scope reaches a service of that level ('global'/'project')."""
        if level == "global":
            return self.reaches_global_services
        if level == "project":
            return self.reaches_project_services
        return False

    def covers(self, other: "Scope", level: str = "project") -> bool:
        """A grant or Deny at this scope applies where `other` grants, for services of `level`:
        global services are one account-wide grant, project-level ones are per project."""
        if level == "global":
            return self.reaches_global_services and other.reaches_global_services
        if not (self.reaches_project_services and other.reaches_project_services):
            return False
        if self.kind == ALL_PROJECTS:
            return True
        if self.kind != other.kind:
            return False
        if isinstance(self.value, Unknown) or isinstance(other.value, Unknown):
            return True
        return self.value == other.value

    def describe(self) -> str:
        value = "" if self.value is None or isinstance(self.value, Unknown) else f" {self.value}"
        return {
            DOMAIN: "global services (domain)",
            PROJECT: f"project{value}",
            ALL_PROJECTS: "all projects" if self.origin != "all_resources_roles" else "all resources",
            ENTERPRISE_PROJECT: f"enterprise project{value}",
        }.get(self.kind, self.kind)


@dataclass
class Role:
    key: str  # graph node: the custom role's address, "system:<display name>", "unresolved:<where>"
    kind: str  # custom | system | unresolved
    label: str  # what a person calls it
    address: str | None = None
    display_name: Any = None
    role_type: Any = None
    policy: Any = None  # PolicyDocument
    instance: Any = None  # ResourceInstance of a custom role
    system: Any = None  # catalog.SystemRole
    intents: list[IntentItem] = field(default_factory=list)
    unresolved: Unknown | None = None


@dataclass
class Principal:
    key: str  # address
    kind: str  # group | user | agency
    instance: Any
    name: Any = None
    intents: list[IntentItem] = field(default_factory=list)
    deployer: bool = False  # marked `iac-ims:deployer`: it runs terraform for the scanned code


@dataclass
class Assignment:
    key: str  # graph node: the assignment's address, or agency address + "/list[index]"
    instance: Any  # the ResourceInstance that sets the scope (assignment or agency)
    principals: list[str]
    role: str  # role key
    scope: Scope | None  # None: no usable scope (IMS202)
    line: int
    end_line: int
    via: str  # "assignment" | "agency"
    principal_unknown: Unknown | None = None
    scope_problem: str | None = None
    # an RBAC system role granted without roles it depends on does not take effect: `role` is
    # then an unresolved stand-in, `granted_role` the role named, `unmet` the dependencies missing
    # for certain (IMS205) and `unsure` those that cannot be told
    granted_role: str | None = None
    unmet: list[Any] = field(default_factory=list)
    unsure: list[Any] = field(default_factory=list)

    @property
    def resource(self) -> str:
        return self.instance.address


# How a role named by text relates to the roles iac-ims knows (RoleMention.status).
NAMED_CUSTOM = "custom"  # a custom role of the scanned code
NAMED_SYSTEM = "system"  # a system role by its display name or stable internal name
NAMED_UNSTABLE = "unstable"  # a `system_all_N` internal name: a system role, but not which
NAMED_FORMER = "former"  # an earlier display name of a system role
NAMED_UNKNOWN = "unknown"  # nothing known by this name


@dataclass
class RoleMention:
    """A role named by text (data source or agency list), for the name check (IMS204)."""

    text: str
    instance: Any
    line: int
    where: str  # "display_name", "name", "domain_roles", ...
    status: str  # NAMED_*
    current: str | None = None  # NAMED_FORMER: the display name it was renamed to
    custom_only: bool = False  # named by a custom-role data source: system roles do not count

    @property
    def resolved(self) -> bool:
        return self.status in (NAMED_CUSTOM, NAMED_SYSTEM, NAMED_UNSTABLE)


@dataclass
class IamModel:
    roles: dict[str, Role] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)
    memberships: list[tuple[str, str, Any]] = field(default_factory=list)  # (group, user, instance)
    # groups whose members are not all known (a membership's `users` not fully resolved), and
    # users who may belong to groups that cannot be told (a membership's `group` not resolved):
    # what those memberships would give can be neither granted nor denied for certain
    open_groups: dict[str, Unknown] = field(default_factory=dict)
    open_users: dict[str, Unknown] = field(default_factory=dict)
    mentions: list[RoleMention] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def custom_roles(self) -> list[Role]:
        return [r for r in self.roles.values() if r.kind == CUSTOM]
