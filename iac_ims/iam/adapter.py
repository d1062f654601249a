"""Terraform resource instances -> the IAM model (roles, principals, assignments, scopes).

Nothing here decides whether anything is allowed; it only says who holds which role where,
and what it could not resolve (IMS901), with the reason and what it depends on.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from iac_ims.catalog import DISPLAY_NAME, INTERNAL_NAME, UNSTABLE_NAME, Catalog
from iac_ims.directives import intents_in, marks_deployer
from iac_ims.iam import resources as rt
from iac_ims.iam.dependencies import apply_dependencies
from iac_ims.iam.model import (ALL_PROJECTS, CUSTOM, DOMAIN, ENTERPRISE_PROJECT, NAMED_CUSTOM, NAMED_FORMER,
                               NAMED_SYSTEM, NAMED_UNKNOWN, NAMED_UNSTABLE, PROJECT, SYSTEM, UNRESOLVED, Assignment,
                               IamModel, Principal, Role, RoleMention, Scope)
from iac_ims.iam.policy_parse import parse_policy
from iac_ims.iam.unresolved import UnresolvedLog
from iac_ims.terraform.inputs import direct_variable
from iac_ims.terraform.instances import ResourceInstance
from iac_ims.terraform.values import PartialList, Reference, Unknown

MAX_ROLE_NAMES = 1000  # per agency list: bounds hostile input
_ROOT_VARIABLE = re.compile(r"var\.([A-Za-z_][A-Za-z0-9_-]*)")


def _base_address(address: str) -> str:
    """`a.b["k"]` -> `a.b` (the resource without its instance key)."""
    return address[: address.index("[")] if address.endswith("]") and "[" in address else address


def system_role_policy(role: Any) -> dict:
    """A system role's documented grants as a policy document."""
    statements = []
    if role.allow:
        statements.append({"Effect": "Allow", "Action": list(role.allow)})
    if role.deny:
        statements.append({"Effect": "Deny", "Action": list(role.deny)})
    return {"Version": "1.0", "Statement": statements}


def _owner(instance: ResourceInstance) -> Any:
    """The module instance a resource instance belongs to (None outside the loader)."""
    return getattr(getattr(instance, "ctx", None), "owner", None)


def _root(instance: ResourceInstance) -> Any:
    """The root module directory an instance was loaded under."""
    owner = _owner(instance)
    return owner.root_dir if owner is not None else None


def unset_module_inputs(instance: ResourceInstance, value: Unknown) -> dict[str, Any] | None:
    """When `value` depends only on inputs of a module scanned on its own (a root nothing sets
    them in): {variable name: its block}; else None."""
    owner = _owner(instance)
    if owner is None or not owner.is_root or not value.depends_on:
        return None
    found: dict[str, Any] = {}
    for dependency in value.depends_on:
        match = _ROOT_VARIABLE.fullmatch(dependency)
        if match is None:
            return None
        name = match.group(1)
        block = owner.unset_variable(name) or owner.nullable_unset_variable(name)
        if block is None:
            return None
        found[name] = block
    return found


def _nullable_unset_input(instance: ResourceInstance, attribute: str) -> str | None:
    """The variable an attribute is exactly, when that variable defaults to null and nothing sets it."""
    owner = _owner(instance)
    name = direct_variable(instance, attribute)
    if owner is None or name is None or owner.nullable_unset_variable(name) is None:
        return None
    return name


class ModelBuilder:
    def __init__(self, instances: Iterable[ResourceInstance], catalog: Catalog,
                 role_ids: dict[str, str] | None = None):
        self.catalog = catalog
        self.role_ids = dict(role_ids or {})
        self.model = IamModel()
        self.log = UnresolvedLog(unset_module_inputs)
        self.by_kind: dict[str, list[ResourceInstance]] = {}
        # (root module, address): a scan of several root modules may meet the same address in
        # each, and a reference names an instance of its own root module
        self.by_address: dict[tuple[Any, str], list[ResourceInstance]] = {}
        roots_of: dict[str, set[Any]] = {}
        for instance in instances:
            kind = rt.kind_of(instance.mode, instance.type)
            if kind is None:
                continue
            root = _root(instance)
            self.by_kind.setdefault(kind, []).append(instance)
            self.by_address.setdefault((root, instance.address), []).append(instance)
            base = _base_address(instance.address)
            if base != instance.address:
                self.by_address.setdefault((root, base), []).append(instance)
            roots_of.setdefault(instance.address, set()).add(root)
        self._shared_addresses = {address for address, roots in roots_of.items() if len(roots) > 1}
        # (root module or None for any, display name) -> custom role key
        self.custom_by_name: dict[tuple[Any, str], str] = {}
        # data source address -> (the role it names, or None; why not, when that is new to report)
        self._data_roles: dict[str, tuple[str | None, Unknown | None]] = {}

    def key(self, instance: ResourceInstance) -> str:
        """The model's name of an instance: its address, and its root module's directory when
        another root module of the scan has the same address."""
        if instance.address not in self._shared_addresses:
            return instance.address
        owner = _owner(instance)
        return f"{instance.address} ({owner.loader.rel(owner.root_dir) if owner else '?'})"

    def lookup(self, root: Any, address: str) -> list[ResourceInstance]:
        """The instances an address names in a root module (all of them for a resource without
        an instance key)."""
        return self.by_address.get((root, address)) or self.by_address.get((root, _base_address(address)), [])

    # ---- diagnostics
    def unresolved(self, instance: ResourceInstance, what: str, value: Unknown, line: int | None = None) -> None:
        self.log.add(instance, what, value, line)

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
        apply_dependencies(self.model, self.catalog)
        self.model.diagnostics.extend(self.log.diagnostics())
        return self.model

    def _custom_role(self, instance: ResourceInstance) -> None:
        self._count_unknown(instance)
        name = instance.attr("name")
        key = self.key(instance)
        document = parse_policy(self._policy_value(instance), custom=True, source=key)
        if document.unknown is not None:
            self.unresolved(instance, "the policy", document.unknown, instance.attr_line("policy"))
        for statement in document.statements:
            for json_path, unknown in statement.unknown_actions:
                self.unresolved(instance, f"the policy's {json_path}", unknown, instance.attr_line("policy"))
        role = Role(key, CUSTOM, key, address=instance.address, display_name=name,
                    role_type=instance.attr("type"), policy=document, instance=instance,
                    intents=intents_in(instance.directives))
        self.model.roles[role.key] = role
        if isinstance(name, str):
            self.custom_by_name.setdefault((_root(instance), name), role.key)
            self.custom_by_name.setdefault((None, name), role.key)

    @staticmethod
    def _policy_value(instance: ResourceInstance) -> Any:
        """The `policy` argument, or the statements of `policy { effect, action }` blocks (the
        older FlexibleEngine schema)."""
        if instance.has("policy"):
            return instance.attr("policy")
        blocks = instance.nested("policy")
        if blocks:
            return {"Version": "1.1", "Statement": [{"Effect": b.attr("effect"), "Action": b.attr("action")}
                                                    for b in blocks[:MAX_ROLE_NAMES]]}
        return Unknown("the role has no `policy` argument (an older provider schema?)", ())

    def _principal(self, instance: ResourceInstance, kind: str) -> None:
        key = self.key(instance)
        self.model.principals[key] = Principal(key, kind, instance, instance.attr("name"), intents_in(instance.directives),
                                               marks_deployer(instance.directives))

    def _count_unknown(self, instance: ResourceInstance) -> None:
        if instance.count_unknown is not None:
            what = "count" if instance.has("count") else "for_each"
            self.unresolved(instance, f"the {what} of {_base_address(instance.address)}", instance.count_unknown,
                            instance.attr_line(what))

    # ---- roles by name and by reference
    def _system_role_key(self, role: Any) -> str:
        key = f"system:{role.display_name}"
        if key not in self.model.roles:
            policy = parse_policy(system_role_policy(role) if role.actions_known else Unknown(
                f"what {role.display_name} grants in IMS is unconfirmed"), custom=False, source=role.display_name)
            self.model.roles[key] = Role(key, SYSTEM, role.display_name, display_name=role.display_name,
                                         policy=policy, system=role)
        return key

    def system_role(self, name: str) -> str | None:
        """The key of the system role with this display or stable internal name."""
        found = self.catalog.role_name(name)
        if found is None or found[0] not in (DISPLAY_NAME, INTERNAL_NAME):
            return None
        return self._system_role_key(found[1])

    def unknown_system_role(self, name: str, why: str) -> str:
        """A system role whose grants cannot be known (a name the catalogue cannot place)."""
        key = f"system:{name}"
        if key not in self.model.roles:
            policy = parse_policy(Unknown(why), custom=False, source=name)
            self.model.roles[key] = Role(key, SYSTEM, name, display_name=name, policy=policy)
        return key

    def name_role(self, name: str, root: Any = None, *, custom_only: bool = False) -> tuple[str | None, str, str | None]:
        """(role key or None, how the name is known (NAMED_*), current name of a renamed role).
        Custom roles of the scanned code first (by display name, those of the same root module
        before others), then system roles."""
        custom = self.custom_by_name.get((root, name)) or self.custom_by_name.get((None, name))
        if custom is not None:
            return custom, NAMED_CUSTOM, None
        found = None if custom_only else self.catalog.role_name(name)
        if found is None:
            return None, NAMED_UNKNOWN, None
        how, role = found
        if how in (DISPLAY_NAME, INTERNAL_NAME):
            return self._system_role_key(role), NAMED_SYSTEM, None
        if how == UNSTABLE_NAME:
            return self.unknown_system_role(name, f"{name!r} is an internal name of the system_all_N kind, which "
                                            "differs between clouds: which role it is cannot be told"), \
                NAMED_UNSTABLE, None
        return self.unknown_system_role(name, f"{name!r} is a former name of {role.display_name}; whether IAM "
                                        "still finds a role by it is unconfirmed"), NAMED_FORMER, role.display_name

    def unresolved_role(self, where: str, reason: Unknown) -> str:
        key = f"unresolved:{where}"
        if key not in self.model.roles:
            self.model.roles[key] = Role(key, UNRESOLVED, f"unresolved role ({where})",
                                         policy=parse_policy(reason, custom=False), unresolved=reason)
        return key

    def _mention(self, text: str, instance: ResourceInstance, line: int, where: str, status: str,
                 current: str | None = None, custom_only: bool = False) -> None:
        self.model.mentions.append(RoleMention(text, instance, line, where, status, current, custom_only))

    def _data_role(self, instance: ResourceInstance) -> None:
        """A role data source resolves by its literal display_name or name."""
        self._count_unknown(instance)
        custom_only = rt.kind_of(instance.mode, instance.type) == rt.CUSTOM_ROLE_DATA
        for argument in ("display_name", "name"):
            if not instance.has(argument):
                continue
            value = instance.attr(argument)
            line = instance.attr_line(argument)
            if isinstance(value, str) and value.strip():
                key, status, current = self.name_role(value, _root(instance), custom_only=custom_only)
                self._mention(value, instance, line, argument, status, current, custom_only)
                if key is None and custom_only:
                    # a custom role of another workspace: said once, here, not at every assignment
                    reason = Unknown(f"custom role {value!r} is not defined in the scanned code (another "
                                     "workspace?): what it grants is known only to the cloud", (instance.address,))
                    self.unresolved(instance, "the custom role", reason, line)
                    key = self.unresolved_role(self.key(instance), reason)
                elif key is None:
                    # A literal name identifies a system role even when the catalogue does not know
                    # it: resolved (IMS204 questions the name), what it grants unknown.
                    key = self.unknown_system_role(value, f"what {value!r} grants is not in the catalogue")
                self._data_roles[self.key(instance)] = (key, None)
                return
            if isinstance(value, str):
                reason = Unknown(f"its {argument} is an empty string (an unset default?)", (instance.address,))
                self.unresolved(instance, "the role", reason, line)
                self._data_roles[self.key(instance)] = (self.unresolved_role(self.key(instance), reason), None)
                return
            if isinstance(value, Unknown):
                self.unresolved(instance, f"the role's {argument}", value, line)
                self._data_roles[self.key(instance)] = (self.unresolved_role(self.key(instance), value), None)
                return
        reason = Unknown("the data source names its role by ID (role_id/id), which is known only to the cloud",
                         (instance.address,))
        self.unresolved(instance, "the role", reason)
        self._data_roles[self.key(instance)] = (self.unresolved_role(self.key(instance), reason), None)

    def resolve_role(self, value: Any, instance: ResourceInstance, where: str, line: int) -> str:
        """The role key a role_id value points at; an unresolved role otherwise (reported once,
        where its cause is)."""
        if isinstance(value, Reference):
            for target in self.lookup(_root(instance), value.address):
                kind = rt.kind_of(target.mode, target.type)
                if kind == rt.ROLE:
                    return self.key(target)
                if kind in (rt.SYSTEM_ROLE_DATA, rt.CUSTOM_ROLE_DATA):
                    key, reason = self._data_roles.get(self.key(target), (None, None))
                    if key:
                        return key
                    reason = reason or Unknown(f"{target.address} cannot be resolved", (target.address,))
                    self.unresolved(instance, "role_id", reason, line)
                    return self.unresolved_role(where, reason)
        if isinstance(value, Unknown):
            self.unresolved(instance, "role_id", value, line)
            return self.unresolved_role(where, value)
        if isinstance(value, str):
            key, _status, _current = self.name_role(value, _root(instance))
            if key:
                return key
            if value in self.role_ids:
                return self.system_role(self.role_ids[value]) or self.unknown_system_role(
                    self.role_ids[value], f"what {self.role_ids[value]!r} grants is not in the catalogue")
            self.log.add_literal_role_id(instance, "role_id", value, line)
            return self.unresolved_role(where, Unknown(f"role_id {value!r} is a literal ID", (f"role_id={value}",)))
        reason = Unknown(f"role_id is {value!r}, not a role reference")
        self.unresolved(instance, "role_id", reason, line)
        return self.unresolved_role(where, reason)

    def resolve_principals(self, value: Any, kinds: tuple[str, ...], root: Any) -> tuple[list[str], Unknown | None,
                                                                                          bool]:
        """(principals of the scanned code the value names, why it may name more, whether it names
        principals outside the scanned code by literal ID). `root`: the referring block's root module."""
        if isinstance(value, PartialList):
            keys, unknown, outside = self.resolve_principals(list(value.known), kinds, root)
            return keys, value, outside
        values = value if isinstance(value, list) else [value]
        keys: list[str] = []
        unknown: Unknown | None = None
        outside = False
        for item in values[:MAX_ROLE_NAMES]:
            if isinstance(item, Reference):
                found = [self.key(i) for i in self.lookup(root, item.address) if rt.kind_of(i.mode, i.type) in kinds]
                if found:
                    keys.extend(k for k in found if k not in keys)
                    continue
            if isinstance(item, Unknown):
                unknown = unknown or item
            elif isinstance(item, str):
                outside = True
        return keys, unknown, outside

    # ---- memberships and assignments
    def _membership(self, instance: ResourceInstance) -> None:
        """Who is in which group. What cannot be resolved never removes a member: a group whose
        users are not all known is open (anyone may be in it), and users of a group that cannot be
        told may hold roles nobody can see."""
        self._count_unknown(instance)
        root = _root(instance)
        groups, group_unknown, outside_group = self.resolve_principals(instance.attr("group"), (rt.GROUP,), root)
        users, user_unknown, _outside = self.resolve_principals(instance.attr("users"), (rt.USER,), root)
        for group in groups:
            for user in users:
                self.model.memberships.append((group, user, instance))
        if user_unknown is not None:
            self.unresolved(instance, "the members (users)", user_unknown, instance.attr_line("users"))
            for group in groups:
                self.model.open_groups.setdefault(group, user_unknown)
        if group_unknown is not None or (outside_group and not groups):
            reason = group_unknown or Unknown("the group is outside the scanned code (a literal ID)")
            if group_unknown is not None:
                self.unresolved(instance, "the group", group_unknown, instance.attr_line("group"))
            for user in users:
                self.model.open_users.setdefault(user, reason)

    def _group_assignment(self, instance: ResourceInstance) -> None:
        self._add_assignment(instance, "group_id", rt.GROUP, *self._assignment_scope(instance))

    def _user_assignment(self, instance: ResourceInstance) -> None:
        value = instance.attr("enterprise_project_id") if instance.has("enterprise_project_id") else None
        scope = Scope(ENTERPRISE_PROJECT, value, "enterprise_project_id") if value is not None else None
        problem = None if scope else "sets no enterprise_project_id (a user assignment is enterprise-project only)"
        if scope is None and instance.has("enterprise_project_id"):
            name = _nullable_unset_input(instance, "enterprise_project_id")
            if name is not None:
                self.unresolved(instance, "the scope", Unknown(
                    f"enterprise_project_id is var.{name}, which defaults to null and nothing sets",
                    (f"var.{name}",)), instance.attr_line("enterprise_project_id"))
                problem = None
        self._add_assignment(instance, "user_id", rt.USER, scope, problem)

    def _add_assignment(self, instance: ResourceInstance, principal_argument: str, principal_kind: str,
                        scope: Scope | None, problem: str | None) -> None:
        """A role assignment resource: who (by `principal_argument`), which role, where."""
        self._count_unknown(instance)
        principals, principal_unknown, _outside = self.resolve_principals(
            instance.attr(principal_argument), (principal_kind,), _root(instance))
        if principal_unknown is not None:
            self.unresolved(instance, principal_argument, principal_unknown, instance.attr_line(principal_argument))
        key = self.key(instance)
        role = self.resolve_role(instance.attr("role_id"), instance, key, instance.attr_line("role_id"))
        self.model.assignments.append(Assignment(
            key, instance, principals, role, scope, instance.line, instance.end_line, "assignment",
            principal_unknown, problem))

    def _assignment_scope(self, instance: ResourceInstance) -> tuple[Scope | None, str | None]:
        """Exactly one of domain_id / project_id / enterprise_project_id.  An argument whose value
        is unknown counts as set when it is the only candidate (its kind is still known); where an
        unknown value could be null beside others, which one applies cannot be told (IMS901), and
        so for arguments that are inputs defaulting to null that nothing sets."""
        present = [a for a in rt.SCOPE_ARGUMENTS if instance.has(a)]
        known = [a for a in present if not isinstance(instance.attr(a), Unknown) and instance.attr(a) is not None]
        unknown = [a for a in present if isinstance(instance.attr(a), Unknown)]
        unset = {a: name for a in present if instance.attr(a) is None
                 and (name := _nullable_unset_input(instance, a)) is not None}
        if len(known) > 1:
            return None, "sets more than one of " + ", ".join(known)
        if unknown and (known or len(unknown) > 1):
            self.unresolved(instance, "the scope (" + " or ".join([*known, *unknown]) + ")",
                            Unknown.combine([instance.attr(a) for a in unknown]))
            return None, None
        chosen = known or unknown
        if not chosen and unset:
            names = ", ".join(unset)
            self.unresolved(instance, "the scope", Unknown(
                f"{names} {'are inputs' if len(unset) > 1 else 'is an input'} that default{'' if len(unset) > 1 else 's'} "
                "to null and nothing in the scanned code sets", tuple(f"var.{n}" for n in unset.values())),
                instance.attr_line(next(iter(unset))))
            return None, None
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
        where = f"{self.key(instance)}/{origin}[{index}]"
        if isinstance(names, PartialList):
            items = [*names.known, Unknown(names.reason, names.depends_on)]
        else:
            items = names if isinstance(names, list) else [] if names is None else [names]
        for position, name in enumerate(items[:MAX_ROLE_NAMES]):
            if name is None or (isinstance(name, str) and not name.strip()):
                continue
            key = f"{where}#{position}"
            if isinstance(name, str):
                role, status, current = self.name_role(name, _root(instance))
                self._mention(name, instance, line, origin, status, current)
                if role is None:
                    role = self.unresolved_role(key, Unknown(
                        f"role {name!r} is neither a role of the scanned code nor a known system role", (where,)))
            else:
                # a custom role named through its reference (`huaweicloud_identity_role.x.name`)
                role = self.resolve_role(name, instance, key, line)
            self.model.assignments.append(Assignment(
                key, instance, [self.key(instance)], role, scope, line, line, "agency"))


def build_model(instances: Iterable[ResourceInstance], catalog: Catalog,
                role_ids: dict[str, str] | None = None) -> IamModel:
    return ModelBuilder(instances, catalog, role_ids).build()
