"""RBAC system roles and the roles they depend on.

An RBAC system role (IMS Administrator, Server Administrator, ...) does not take effect unless
the roles it depends on are granted with it, each at the scope it needs (Huawei's `Depends`). The
console adds them; Terraform grants exactly the role it names. So where a principal holds such a
role without a dependency, what the role grants can be neither counted nor denied: the assignment
then points at an unresolved stand-in, and the check IMS205 names what is missing.
"""

from __future__ import annotations

from typing import Any

from iac_ims.catalog import Catalog, Dependency
from iac_ims.iam.model import ALL_PROJECTS, DOMAIN, UNRESOLVED, Assignment, IamModel, Role, Scope
from iac_ims.iam.policy_parse import parse_policy
from iac_ims.terraform.values import Unknown

HOLDS, MISSING, UNSURE = "holds", "missing", "unsure"


def _holdings(model: IamModel) -> tuple[dict[str, list[Assignment]], dict[str, list[Assignment]]]:
    """(every assignment a principal holds, directly or through a group it certainly belongs to;
    the assignments of groups whose members are not all known, which a user may be in)."""
    direct: dict[str, list[Assignment]] = {}
    for assignment in model.assignments:
        for principal in assignment.principals:
            direct.setdefault(principal, []).append(assignment)
    held = {principal: list(found) for principal, found in direct.items()}
    member_of: dict[str, set[str]] = {}
    for group, user, _instance in model.memberships:
        held.setdefault(user, []).extend(direct.get(group, []))
        member_of.setdefault(user, set()).add(group)
    possible: dict[str, list[Assignment]] = {}
    for key, principal in model.principals.items():
        if principal.kind == "user":
            possible[key] = [a for group in model.open_groups if group not in member_of.get(key, set())
                             for a in direct.get(group, [])]
    return held, possible


def _reaches(held: Scope, dependency: Dependency, at: Scope) -> bool:
    """Whether a dependency held at `held` serves a role granted at `at`."""
    if dependency.scope == "global" or not at.reaches_project_services:
        return held.kind in (DOMAIN, ALL_PROJECTS)
    return held.covers(at)


def dependency_state(model: IamModel, holdings: list[Assignment], possible: list[Assignment],
                     dependency: Dependency, at: Scope, principal: str) -> str:
    """HOLDS, MISSING, or UNSURE when an unresolved role or an open membership may be it."""
    wanted = f"system:{dependency.role}"

    def fits(held: Assignment) -> bool:
        return held.scope is not None and _reaches(held.scope, dependency, at)

    def may_be_it(held: Assignment) -> bool:
        return model.roles[held.role].kind == UNRESOLVED and held.granted_role is None

    if any(fits(held) and (held.granted_role or held.role) == wanted for held in holdings):
        return HOLDS
    unsure = principal in model.open_users or any(fits(held) and may_be_it(held) for held in holdings) or any(
        fits(held) and ((held.granted_role or held.role) == wanted or may_be_it(held)) for held in possible)
    return UNSURE if unsure else MISSING


def _stand_in(model: IamModel, role: Role) -> str:
    key = f"{role.key}#without-dependencies"
    if key not in model.roles:
        reason = Unknown(f"{role.label} is granted without roles it depends on, so it does not take effect "
                         "until they are granted too", (role.key,))
        model.roles[key] = Role(key, UNRESOLVED, f"{role.label} (without its dependencies)",
                                display_name=role.display_name, policy=parse_policy(reason, custom=False),
                                system=role.system, unresolved=reason)
    return key


def apply_dependencies(model: IamModel, catalog: Catalog) -> None:
    """Mark each assignment of an RBAC system role whose holder lacks a dependency (see above)."""
    holdings, possible = _holdings(model)
    for assignment in model.assignments:
        role = model.roles.get(assignment.role)
        system: Any = role.system if role is not None else None
        if system is None or not system.depends or assignment.scope is None or not assignment.principals:
            continue
        for principal in assignment.principals:
            for dependency in system.depends:
                state = dependency_state(model, holdings.get(principal, []), possible.get(principal, []),
                                         dependency, assignment.scope, principal)
                if state == MISSING and dependency not in assignment.unmet:
                    assignment.unmet.append(dependency)
                elif state == UNSURE and dependency not in assignment.unsure:
                    assignment.unsure.append(dependency)
        if assignment.unmet or assignment.unsure:
            assignment.granted_role = assignment.role
            assignment.role = _stand_in(model, role)
