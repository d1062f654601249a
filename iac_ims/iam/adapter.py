"""Terraform resource instances -> the IAM model (roles, principals, assignments, scopes).

Nothing here decides whether anything is allowed; it only says who holds which role where,
and what it could not resolve (IMS901), with the reason and what it depends on.
"""

from __future__ import annotations

from typing import Any, Iterable

from iac_ims.catalog import Catalog
from iac_ims.directives import intents_in
from iac_ims.iam import resources as rt
from iac_ims.iam.model import (ALL_PROJECTS, CUSTOM, DOMAIN, ENTERPRISE_PROJECT, PROJECT, SYSTEM, UNRESOLVED,
                               Assignment, IamModel, Principal, Role, RoleMention, Scope)
from iac_ims.iam.policy import parse_policy
from iac_ims.terraform.loader import ResourceInstance
from iac_ims.terraform.values import Diagnostic, Reference, Unknown

MAX_ROLE_NAMES = 1000  # per agency list: bounds hostile input


def _base_address(address: str) -> str:
    """`a.b["k"]` -> `a.b` (the resource without its instance key)."""
    return address[: address.index("[")] if address.endswith("]") and "[" in address else address


def _describe_unknown(value: Unknown) -> str:
    deps = ", ".join(value.depends_on)
    return f"{value.reason}" + (f" (depends on {deps})" if deps and deps not in value.reason else "")


def system_role_policy(role: Any) -> dict:
    """A system role's documented grants as a policy document."""
    statements = []
    if role.allow:
        statements.append({"Effect": "Allow", "Action": list(role.allow)})
    if role.deny:
        statements.append({"Effect": "Deny", "Action": list(role.deny)})
    return {"Version": "1.0", "Statement": statements}


class ModelBuilder:
    def __init__(self, instances: Iterable[ResourceInstance], catalog: Catalog):
        self.catalog = catalog
        self.model = IamModel()
        self.by_kind: dict[str, list[ResourceInstance]] = {}
        self.by_address: dict[str, list[ResourceInstance]] = {}
        for instance in instances:
            kind = rt.kind_of(instance.mode, instance.type)
            if kind is None:
                continue
            self.by_kind.setdefault(kind, []).append(instance)
            self.by_address.setdefault(instance.address, []).append(instance)
            base = _base_address(instance.address)
            if base != instance.address:
                self.by_address.setdefault(base, []).append(instance)
        self.custom_by_name: dict[str, str] = {}
        self._data_roles: dict[str, tuple[str | None, Unknown | None]] = {}

    # ---- diagnostics
    def unresolved(self, instance: ResourceInstance, what: str, value: Unknown, line: int | None = None) -> None:
        self.model.diagnostics.append(Diagnostic(
            "IMS901", f"{what} cannot be resolved statically: {_describe_unknown(value)}",
            file=instance.file, line=line or instance.line, end_line=instance.end_line, address=instance.address,
            details={"depends_on": list(value.depends_on)}))

    # ---- build
    def build(self) -> IamModel:
        for instance in self.by_kind.get(rt.ROLE, []):
            self._custom_role(instance)
        for kind in (rt.GROUP, rt.USER, rt.AGENCY):
            for instance in self.by_kind.get(kind, []):
                self._principal(instance, kind)
        for instance in self.by_kind.get(rt.SYSTEM_ROLE_DATA, []) + self.by_kind.get(rt.CUSTOM_ROLE_DATA, []):
            self._data_role(instance)
        for instance in self.by_kind.get(rt.MEMBERSHIP, []):
            self._membership(instance)
        for instance in self.by_kind.get(rt.GROUP_ASSIGNMENT, []):
            self._group_assignment(instance)
        for instance in self.by_kind.get(rt.USER_ASSIGNMENT, []):
            self._user_assignment(instance)
        for instance in self.by_kind.get(rt.AGENCY, []):
            self._agency_roles(instance)
        return self.model

    def _custom_role(self, instance: ResourceInstance) -> None:
        self._count_unknown(instance)
        name = instance.attr("name")
        if "policy" in instance.block.attributes:
            policy_value = instance.attr("policy")
        else:
            policy_value = Unknown("the role has no `policy` argument (an older provider schema?)", ())
        document = parse_policy(policy_value, custom=True, source=instance.address)
        if document.unknown is not None:
            self.unresolved(instance, "the policy", document.unknown, instance.attr_line("policy"))
        for statement in document.statements:
            for json_path, unknown in statement.unknown_actions:
                self.unresolved(instance, f"the policy's {json_path}", unknown, instance.attr_line("policy"))
        role = Role(instance.address, CUSTOM, instance.address, address=instance.address, display_name=name,
                    role_type=instance.attr("type"), policy=document, instance=instance,
                    intents=intents_in(instance.directives))
        self.model.roles[role.key] = role
        if isinstance(name, str):
            self.custom_by_name.setdefault(name, role.key)

    def _principal(self, instance: ResourceInstance, kind: str) -> None:
        self.model.principals[instance.address] = Principal(
            instance.address, kind, instance, instance.attr("name"), intents_in(instance.directives))

    def _count_unknown(self, instance: ResourceInstance) -> None:
        if instance.count_unknown is not None:
            what = "count" if instance.has("count") else "for_each"
            self.unresolved(instance, f"the {what} of {instance.address}", instance.count_unknown,
                            instance.attr_line(what))

    # ---- roles by name and by reference
    def system_role(self, name: str) -> str | None:
        role = self.catalog.system_role(name)
        if role is None:
            return None
        key = f"system:{role.display_name}"
        if key not in self.model.roles:
            policy = parse_policy(system_role_policy(role) if role.actions_known else Unknown(
                f"what {role.display_name} grants is not in the catalogue"), custom=False, source=role.display_name)
            self.model.roles[key] = Role(key, SYSTEM, role.display_name, display_name=role.display_name,
                                         policy=policy, system=role)
        return key

    def unknown_system_role(self, name: str) -> str:
        """A system role the catalogue does not list: it exists for IAM, its grants are unknown."""
        key = f"system:{name}"
        if key not in self.model.roles:
            policy = parse_policy(Unknown(f"what {name!r} grants is not in the catalogue"), custom=False, source=name)
            self.model.roles[key] = Role(key, SYSTEM, name, display_name=name, policy=policy)
        return key

    def role_by_name(self, name: str) -> str | None:
        """Custom roles of the scanned code first (by display name), then system roles."""
        return self.custom_by_name.get(name) or self.system_role(name)

    def unresolved_role(self, where: str, reason: Unknown) -> str:
        key = f"unresolved:{where}"
        self.model.roles[key] = Role(key, UNRESOLVED, f"unresolved role ({where})",
                                     policy=parse_policy(reason, custom=False), unresolved=reason)
        return key

    def _data_role(self, instance: ResourceInstance) -> None:
        """A role data source resolves by its literal display_name or name."""
        self._count_unknown(instance)
        custom = rt.kind_of(instance.mode, instance.type) == rt.CUSTOM_ROLE_DATA
        for argument in ("display_name", "name"):
            if not instance.has(argument):
                continue
            value = instance.attr(argument)
            if isinstance(value, str):
                key = self.custom_by_name.get(value) if custom else self.role_by_name(value)
                self.model.mentions.append(RoleMention(value, instance, instance.attr_line(argument), argument,
                                                       key is not None))
                if key is None and not custom:
                    # A literal name identifies a system role even when the catalogue does not know
                    # it: resolved (IMS204 questions the name), what it grants unknown.
                    key = self.unknown_system_role(value)
                self._data_roles[instance.address] = (key, None if key else Unknown(
                    f"custom role {value!r} is not a role of the scanned code", (instance.address,)))
                return
            if isinstance(value, Unknown):
                self._data_roles[instance.address] = (None, value)
                return
        reason = Unknown("the data source names its role by ID (role_id/id), which is known only to the cloud",
                         (instance.address,))
        self._data_roles[instance.address] = (None, reason)

    def resolve_role(self, value: Any, where: str) -> tuple[str, Unknown | None]:
        """The role key a role_id value points at; an unresolved role (with its reason) otherwise."""
        if isinstance(value, Reference):
            for instance in self.by_address.get(value.address, []) or self.by_address.get(
                    _base_address(value.address), []):
                kind = rt.kind_of(instance.mode, instance.type)
                if kind == rt.ROLE:
                    return instance.address, None
                if kind in (rt.SYSTEM_ROLE_DATA, rt.CUSTOM_ROLE_DATA):
                    key, reason = self._data_roles.get(instance.address, (None, None))
                    if key:
                        return key, None
                    reason = reason or Unknown(f"{instance.address} cannot be resolved", (instance.address,))
                    return self.unresolved_role(where, reason), reason
        if isinstance(value, Unknown):
            return self.unresolved_role(where, value), value
        if isinstance(value, str):
            key = self.role_by_name(value)
            if key:
                return key, None
            reason = Unknown(f"role_id {value!r} is a literal ID; which role it is cannot be known statically",
                             (f"role_id={value}",))
            return self.unresolved_role(where, reason), reason
        reason = Unknown(f"role_id is {value!r}, not a role reference")
        return self.unresolved_role(where, reason), reason

    def resolve_principals(self, value: Any, kinds: tuple[str, ...]) -> tuple[list[str], Unknown | None]:
        values = value if isinstance(value, list) else [value]
        keys: list[str] = []
        unknown: Unknown | None = None
        for item in values[:MAX_ROLE_NAMES]:
            if isinstance(item, Reference):
                matches = self.by_address.get(item.address) or self.by_address.get(_base_address(item.address), [])
                found = [i.address for i in matches if rt.kind_of(i.mode, i.type) in kinds]
                if found:
                    keys.extend(k for k in found if k not in keys)
                    continue
            if isinstance(item, Unknown):
                unknown = unknown or item
            elif item is not None:
                unknown = unknown or Unknown(f"{item!r} is a literal ID of a principal outside the scanned code")
        return keys, unknown

    # ---- memberships and assignments
    def _membership(self, instance: ResourceInstance) -> None:
        groups, _ = self.resolve_principals(instance.attr("group"), (rt.GROUP,))
        users, _ = self.resolve_principals(instance.attr("users"), (rt.USER,))
        for group in groups:
            for user in users:
                self.model.memberships.append((group, user, instance))

    def _group_assignment(self, instance: ResourceInstance) -> None:
        self._add_assignment(instance, "group_id", rt.GROUP, *self._assignment_scope(instance))

    def _user_assignment(self, instance: ResourceInstance) -> None:
        value = instance.attr("enterprise_project_id") if instance.has("enterprise_project_id") else None
        scope = Scope(ENTERPRISE_PROJECT, value, "enterprise_project_id") if value is not None else None
        problem = None if scope else "sets no enterprise_project_id (a user assignment is enterprise-project only)"
        self._add_assignment(instance, "user_id", rt.USER, scope, problem)

    def _add_assignment(self, instance: ResourceInstance, principal_argument: str, principal_kind: str,
                        scope: Scope | None, problem: str | None) -> None:
        """A role assignment resource: who (by `principal_argument`), which role, where."""
        self._count_unknown(instance)
        principals, principal_unknown = self.resolve_principals(instance.attr(principal_argument), (principal_kind,))
        role, role_unknown = self.resolve_role(instance.attr("role_id"), instance.address)
        if role_unknown is not None:
            self.unresolved(instance, "role_id", role_unknown, instance.attr_line("role_id"))
        self.model.assignments.append(Assignment(
            instance.address, instance, principals, role, scope, instance.line, instance.end_line, "assignment",
            principal_unknown, problem))

    def _assignment_scope(self, instance: ResourceInstance) -> tuple[Scope | None, str | None]:
        """Exactly one of domain_id / project_id / enterprise_project_id.  An argument whose value
        is unknown counts as set when it is the only candidate (its kind is still known); where an
        unknown value could be null beside others, which one applies cannot be told (IMS901)."""
        present = [a for a in rt.SCOPE_ARGUMENTS if instance.has(a)]
        known = [a for a in present if not isinstance(instance.attr(a), Unknown) and instance.attr(a) is not None]
        unknown = [a for a in present if isinstance(instance.attr(a), Unknown)]
        if len(known) > 1:
            return None, "sets more than one of " + ", ".join(known)
        if unknown and (known or len(unknown) > 1):
            self.unresolved(instance, "the scope (" + " or ".join([*known, *unknown]) + ")",
                            Unknown.combine([instance.attr(a) for a in unknown]))
            return None, None
        chosen = known or unknown
        if not chosen:
            return None, "sets none of " + ", ".join(rt.SCOPE_ARGUMENTS)
        argument = chosen[0]
        value = instance.attr(argument)
        kind = {"domain_id": DOMAIN, "project_id": PROJECT, "enterprise_project_id": ENTERPRISE_PROJECT}[argument]
        if argument == "project_id" and value == rt.ALL_PROJECTS_ID:
            kind = ALL_PROJECTS
        return Scope(kind, value, argument), None

    def _agency_roles(self, instance: ResourceInstance) -> None:
        self._count_unknown(instance)
        lists: list[tuple[str, Any, Scope, int]] = []
        for attribute, kind in ((rt.AGENCY_DOMAIN_ROLES, DOMAIN), (rt.AGENCY_ALL_RESOURCES_ROLES, ALL_PROJECTS)):
            if instance.has(attribute):
                lists.append((attribute, instance.attr(attribute), Scope(kind, None, attribute),
                              instance.attr_line(attribute)))
        for block_type, kind, value_name in ((rt.AGENCY_PROJECT_BLOCK, PROJECT, "project"),
                                             (rt.AGENCY_EP_BLOCK, ENTERPRISE_PROJECT, "enterprise_project")):
            for nested in instance.nested(block_type):
                lists.append((block_type, nested.attr("roles"), Scope(kind, nested.attr(value_name), block_type),
                              nested.attr_line("roles")))
        for index, (origin, names, scope, line) in enumerate(lists):
            self._agency_list(instance, origin, index, names, scope, line)

    def _agency_list(self, instance: ResourceInstance, origin: str, index: int, names: Any, scope: Scope,
                     line: int) -> None:
        where = f"{instance.address}/{origin}[{index}]"
        items = names if isinstance(names, list) else [] if names is None else [names]
        for position, name in enumerate(items[:MAX_ROLE_NAMES]):
            if name is None:
                continue
            key = f"{where}#{position}"
            unknown = None
            if isinstance(name, str):
                role = self.role_by_name(name)
                self.model.mentions.append(RoleMention(name, instance, line, origin, role is not None))
                if role is None:
                    unknown = Unknown(f"role {name!r} is neither a role of the scanned code nor a known system role",
                                      (where,))
                    role = self.unresolved_role(key, unknown)
            else:
                # a custom role named through its reference (`huaweicloud_identity_role.x.name`)
                role, unknown = self.resolve_role(name, key)
                if unknown is not None:
                    self.unresolved(instance, f"a role name in {origin}", unknown, line)
            self.model.assignments.append(Assignment(
                key, instance, [instance.address], role, scope, line, line, "agency"))


def build_model(instances: Iterable[ResourceInstance], catalog: Catalog) -> IamModel:
    return ModelBuilder(instances, catalog).build()
