"""The shipped system-role catalogue against its sources: the public list of system roles and
policies (row by row; a copy in `tests/fixtures/`, its sources named there), and the documented
IMS grants and dependencies."""

from __future__ import annotations

import csv
import re

import pytest
from conftest import FIXTURES

from iac_ims.catalog import (
    DISPLAY_NAME,
    FORMER_NAME,
    INTERNAL_NAME,
    UNSTABLE_NAME,
    Catalog,
    load_catalog,
)

ROLES_TSV = FIXTURES / "system-roles.tsv"

SIX_IMAGE_ACTIONS = ("ims:images:create", "ims:images:delete", "ims:images:get", "ims:images:list",
                     "ims:images:update", "ims:images:upload")


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


def _rows() -> list[dict[str, str]]:
    with ROLES_TSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _former_of(row: dict[str, str]) -> str | None:
    """The current name a row's note says it was renamed to, if any."""
    match = re.match(r"former name of ([^;(]+?)(?: \(|;|$)", row["notes"])
    if match:
        return match.group(1).strip()
    match = re.search(r"same internal name \S+ as ([^:]+): a rename", row["notes"])
    if match and "only in the 2021 provider doc" in row["notes"]:
        return match.group(1).strip()
    return None


def test_every_listed_name_is_known(cat):
    rows = _rows()
    assert len(rows) == 356
    for row in rows:
        found = cat.role_name(row["display_name"])
        assert found is not None, row["display_name"]
        how, role = found
        assert how in (DISPLAY_NAME, FORMER_NAME), row["display_name"]


def test_each_row_matches_its_entry(cat):
    """Display name, internal name, services, kind and scope level, row by row."""
    for row in _rows():
        how, role = cat.role_name(row["display_name"])
        internal = row["internal_name"].strip()
        if internal:
            assert internal == role.name or internal in role.unstable_names, row["display_name"]
            if re.fullmatch(r"system_all_\d+", internal):
                assert cat.role_name(internal)[0] == UNSTABLE_NAME  # never a stable key
            else:
                assert cat.role_name(internal)[0] in (INTERNAL_NAME, DISPLAY_NAME, FORMER_NAME)
        if how == FORMER_NAME:
            continue  # the row of an earlier name: its entry is the current role's
        assert role.services == tuple(s.strip() for s in row["service"].split(",") if s.strip())
        kind = row["kind"].split(" (")[0] or None
        assert role.kind == kind, row["display_name"]
        assert role.level == (row["scope"] if row["scope"] in ("global", "project", "all_projects") else None)


def test_renames_follow_the_notes(cat):
    for row in _rows():
        current = _former_of(row)
        if current is None:
            continue
        how, role = cat.role_name(row["display_name"])
        assert how == FORMER_NAME and role.display_name == current, row["display_name"]


def test_no_entry_invents_a_role(cat):
    listed = {row["display_name"] for row in _rows()}
    for role in cat.system_roles:
        assert role.display_name in listed
        assert all(name in listed for name in role.former_names)


def test_documented_ims_grants(cat):
    """The IMS part of each role whose grants are documented (or inferred from a documented
    description), as the facts give them."""
    assert cat.system_role("Server Administrator").allow == SIX_IMAGE_ACTIONS
    for name in ("ECS FullAccess", "ECS CommonOperations"):
        role = cat.system_role(name)
        assert role.allow == SIX_IMAGE_ACTIONS and role.grants == "documented"
        assert "Open Telekom Cloud" in role.note
    assert cat.system_role("ECS ReadOnlyAccess").allow == ("ims:*:get*", "ims:*:list*")
    assert cat.system_role("IMS Administrator").allow == ("ims:*:*",)
    assert cat.system_role("IMS Administrator").grants == "documented"
    assert cat.system_role("IMS ReadOnlyAccess").allow == ("ims:*:list", "ims:*:get")
    assert cat.system_role("Tenant Guest").allow == ("*:*:list*", "*:*:get*")
    for name in ("IMS FullAccess", "Tenant Administrator", "FullAccess"):
        assert cat.system_role(name).actions_known and cat.system_role(name).grants == "inferred"


def test_unconfirmed_grants_stay_unknown(cat):
    for name in ("BMS FullAccess", "BMS CommonOperations", "BMS ReadOnlyAccess", "EVS FullAccess",
                 "CCE Administrator", "AutoScaling Administrator", "Agent Operator"):
        role = cat.system_role(name)
        assert role.actions_known is False and role.grants == "unconfirmed" and role.allow == (), name


def test_other_services_grant_no_ims_action(cat):
    for name in ("OBS Administrator", "VPC Administrator", "DNS Administrator", "KMS Administrator",
                 "LTS FullAccess", "CTS Administrator", "IAM ReadOnlyAccess"):
        role = cat.system_role(name)
        assert role.actions_known and role.allow == (), name


def test_dependencies(cat):
    ims_admin = cat.system_role("IMS Administrator")
    assert [(d.role, d.scope) for d in ims_admin.depends] == [("Tenant Administrator", "global")]
    server = cat.system_role("Server Administrator")
    assert {d.role for d in server.depends} == {"Tenant Guest", "BSS Administrator", "VPC Administrator",
                                                "IMS Administrator"}
    assert all(d.scope == "same_project" for d in server.depends)
    assert [d.role for d in cat.system_role("CSBS Administrator").depends] == ["Server Administrator"]
    for role in cat.system_roles:
        for dependency in role.depends:
            assert cat.system_role(dependency.role) is not None


def test_names_are_case_sensitive_and_unstable_names_say_no_more(cat):
    assert cat.role_name("Tenant Administrator")[0] == DISPLAY_NAME
    assert cat.role_name("te_admin")[0] == INTERNAL_NAME
    assert cat.role_name("tenant administrator") is None
    assert cat.role_name("CBR Admin")[0] == FORMER_NAME
    assert cat.role_name("system_all_0")[0] == UNSTABLE_NAME
    assert cat.role_name("system_all_99999") is None


def test_every_role_names_its_sources(cat):
    import yaml

    from iac_ims.catalog import shipped_rules_dir

    data = yaml.safe_load((shipped_rules_dir() / "system_roles.yaml").read_text(encoding="utf-8"))
    references = data["references"]
    for role in cat.system_roles:
        assert role.sources, role.display_name
        assert all(key in references for key in role.sources), role.display_name
