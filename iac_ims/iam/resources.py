"""Which Terraform resource types mean a role, an assignment or a principal (with the provider's
aliases and the FlexibleEngine shapes), and the argument names each uses."""

from __future__ import annotations

import functools
import re

ROLE = "role"
GROUP_ASSIGNMENT = "group_assignment"
USER_ASSIGNMENT = "user_assignment"
GROUP = "group"
USER = "user"
MEMBERSHIP = "membership"
AGENCY = "agency"
SYSTEM_ROLE_DATA = "system_role_data"
PRINCIPAL_KINDS = (GROUP, USER, AGENCY)
CUSTOM_ROLE_DATA = "custom_role_data"

_MANAGED: dict[str, str] = {
    "huaweicloud_identity_role": ROLE,
    "flexibleengine_identity_role_v3": ROLE,
    "huaweicloud_identity_group_role_assignment": GROUP_ASSIGNMENT,
    "huaweicloud_identity_role_assignment": GROUP_ASSIGNMENT,
    "huaweicloud_identity_role_assignment_v3": GROUP_ASSIGNMENT,
    "flexibleengine_identity_group_role_assignment": GROUP_ASSIGNMENT,
    "flexibleengine_identity_role_assignment_v3": GROUP_ASSIGNMENT,
    "huaweicloud_identity_user_role_assignment": USER_ASSIGNMENT,
    "huaweicloud_identity_group": GROUP,
    "flexibleengine_identity_group_v3": GROUP,
    "huaweicloud_identity_user": USER,
    "flexibleengine_identity_user_v3": USER,
    "huaweicloud_identity_group_membership": MEMBERSHIP,
    "flexibleengine_identity_group_membership_v3": MEMBERSHIP,
    "huaweicloud_identity_agency": AGENCY,
    "huaweicloud_iam_agency": AGENCY,
    "huaweicloud_iam_agency_v3": AGENCY,
    "flexibleengine_identity_agency_v3": AGENCY,
}

_DATA: dict[str, str] = {
    "huaweicloud_identity_role": SYSTEM_ROLE_DATA,
    "huaweicloud_identity_role_v3": SYSTEM_ROLE_DATA,  # the provider's older name of the same data source
    "flexibleengine_identity_role_v3": SYSTEM_ROLE_DATA,
    "huaweicloud_identity_custom_role": CUSTOM_ROLE_DATA,
}

# Scope arguments of a group role assignment: exactly one must be set.
SCOPE_ARGUMENTS = ("domain_id", "project_id", "enterprise_project_id")
# The literal project_id that means every project, existing and future.
ALL_PROJECTS_ID = "all"

# Agency role lists: (attribute or nested block, scope kind)
AGENCY_DOMAIN_ROLES = "domain_roles"
AGENCY_ALL_RESOURCES_ROLES = "all_resources_roles"
AGENCY_PROJECT_BLOCK = "project_role"
AGENCY_EP_BLOCK = "enterprise_project_roles"


def kind_of(mode: str, type_: str) -> str | None:
    """What an instance of this type means to the IAM layer, or None when it is not IAM."""
    return (_DATA if mode == "data" else _MANAGED).get(type_)


def relevant_types() -> frozenset[str]:
    """Every resource type the IAM layer reads (for a cheap pre-filter of files)."""
    return frozenset(_MANAGED) | frozenset(_DATA)


@functools.lru_cache(maxsize=1)
def relevant_types_pattern() -> re.Pattern[str]:
    return re.compile("|".join(sorted(map(re.escape, relevant_types()), key=len, reverse=True)))


@functools.lru_cache(maxsize=1)
def relevant_type_fragments() -> tuple[str, ...]:
    """Substrings one of which every relevant type contains (its service segment, `_identity_`)."""
    return tuple(sorted({"_" + t.split("_")[1] + "_" for t in relevant_types()}))

