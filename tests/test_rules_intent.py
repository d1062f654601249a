"""IMS300-IMS307: can each role and principal perform the image operations it is meant to?

Intents are declared in `#`, `//` and `/* */` comments inside or directly above a block, and
through the config-file form (`ScanOptions(intents={address: [...]})`); an item is an operation
ID or a `METHOD PATH`, and one comment may name several operations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import findings_of, rule_ids, scan_tree

PROJECT_ID = "0b4c7a1e5c0f4c6e9a3f2d1e8b7c6a5d"
DOMAIN_ID = "d6f2a9e4c3b14e5f8a7d6c5b4a3f2e1d"
EP_ID = "0aa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f"

SCOPES = {
    "project": f'project_id = "{PROJECT_ID}"',
    "all_projects": 'project_id = "all"',
    "enterprise_project": f'enterprise_project_id = "{EP_ID}"',
    "domain": f'domain_id = "{DOMAIN_ID}"',
}


def role(name: str, *actions: str, intents: str | None = None, comment: str = "#", deny: tuple[str, ...] = (),
         resource: str = "huaweicloud_identity_role") -> str:
    """A custom XA role (jsonencode, bare keys); `intents` in a comment of style `comment` above it."""
    quoted = ", ".join(f'"{a}"' for a in actions)
    statements = f'{{ Effect = "Allow", Action = [{quoted}] }}'
    if deny:
        statements += ', { Effect = "Deny", Action = [' + ", ".join(f'"{a}"' for a in deny) + "] }"
    above = ""
    if intents:
        above = f"/* iac-ims:intent {intents} */\n" if comment == "/*" else f"{comment} iac-ims:intent {intents}\n"
    return (
        f'{above}resource "{resource}" "{name}" {{\n'
        f'  name        = "ims-{name.replace("_", "-")}"\n'
        f'  description = "{name} role"\n'
        '  type        = "XA"\n'
        "  policy = jsonencode({\n"
        '    Version   = "1.1"\n'
        f"    Statement = [{statements}]\n"
        "  })\n"
        "}\n"
    )


def group(name: str, intents: str | None = None) -> str:
    inside = f"  # iac-ims:intent {intents}\n" if intents else ""
    return f'resource "huaweicloud_identity_group" "{name}" {{\n{inside}  name = "{name.replace("_", "-")}"\n}}\n'


def system_role(name: str, display_name: str) -> str:
    return f'data "huaweicloud_identity_role" "{name}" {{\n  display_name = "{display_name}"\n}}\n'


def assign(name: str, group_name: str, role_ref: str, scope: str = "project",
           resource: str = "huaweicloud_identity_group_role_assignment") -> str:
    return (
        f'resource "{resource}" "{name}" {{\n'
        f"  group_id = huaweicloud_identity_group.{group_name}.id\n"
        f"  role_id  = {role_ref}\n"
        f"  {SCOPES[scope]}\n"
        "}\n"
    )


def on(report, rule_id: str, resource: str):
    return [f for f in findings_of(report, rule_id) if f.resource == resource]


def scan(tmp_path: Path, text: str, **options):
    return scan_tree(tmp_path, {"main.tf": text}, **options)


# ---- IMS300: an intended operation is not granted --------------------------------------------

def test_ims300_role_missing_one_of_several_required_actions(tmp_path: Path) -> None:
    report = scan(tmp_path, role("uploader", "ims:images:upload", "ims:images:get", intents="native_upload_image")
                  + group("image_team") + assign("upload", "image_team", "huaweicloud_identity_role.uploader.id"))
    found = findings_of(report, "IMS300")
    assert [(f.resource, f.operation, f.severity) for f in found] == [
        ("huaweicloud_identity_role.uploader", "native_upload_image", "error")]
    assert '"ims:images:update"' in found[0].message
    assert '"ims:images:get"' not in found[0].message.split("(table row")[0]  # only the missing one
    assert '"ims:images:update"' in (found[0].fix or "")


@pytest.mark.parametrize("intent, granted, missing", [
    # enterprise-project migration: PATCH also needs ims:serverImages:create
    ("migrate_image_enterprise_project", ("ims:images:update",), "ims:serverImages:create"),
    # quick import of a data disk needs ims:dataImages:create, not the system-disk action
    ("quick_import_data_image", ("ims:serverImages:create",), "ims:dataImages:create"),
    ("quick_import_system_image", ("ims:dataImages:create",), "ims:serverImages:create"),
])
def test_ims300_variants_name_the_variant_action(tmp_path: Path, intent: str, granted, missing: str) -> None:
    report = scan(tmp_path, role("image_ops", *granted, intents=intent) + group("image_team")
                  + assign("ops", "image_team", "huaweicloud_identity_role.image_ops.id"))
    found = [f for f in on(report, "IMS300", "huaweicloud_identity_role.image_ops") if f.operation == intent]
    assert len(found) == 1, rule_ids(report)
    assert f'"{missing}"' in found[0].message


def test_ims300_double_slash_comment(tmp_path: Path) -> None:
    report = scan(tmp_path, role("exporter", "ims:images:list", intents="export_image", comment="//")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.exporter.id"))
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS300")] == [
        ("huaweicloud_identity_role.exporter", "export_image")]


def test_ims300_block_comment(tmp_path: Path) -> None:
    report = scan(tmp_path, role("exporter", "ims:images:list", intents="export_image", comment="/*")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.exporter.id"))
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS300")] == [
        ("huaweicloud_identity_role.exporter", "export_image")]


PUBLISHER = '''
resource "huaweicloud_identity_role" "publisher" {
  %s
  name = "ims-publisher"
  type = "XA"
  policy = jsonencode({
    "Version" : "1.1",
    "Statement" : [
      { "Effect" : "Allow", "Action" : ["ims:images:create"] }
    ]
  })
}
''' + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.publisher.id")


@pytest.mark.parametrize("comment", [
    "/* iac-ims:intent native_create_image, native_upload_image */",
    "// iac-ims:intent native_create_image, native_upload_image",
    "# iac-ims:intent native_create_image, native_upload_image",
])
def test_ims300_comment_inside_the_block(tmp_path: Path, comment: str) -> None:
    report = scan(tmp_path, PUBLISHER % comment)
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS300")] == [
        ("huaweicloud_identity_role.publisher", "native_upload_image")]


def test_ims300_intent_on_a_continuation_line_of_a_multi_line_block_comment(tmp_path: Path) -> None:
    report = scan(tmp_path, PUBLISHER % "/*\n   * iac-ims:intent native_create_image, native_upload_image\n   */")
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS300")] == [
        ("huaweicloud_identity_role.publisher", "native_upload_image")]


def test_ims300_intent_naming_several_operations_reports_each_missing_one(tmp_path: Path) -> None:
    report = scan(tmp_path, role("image_ops", "ims:images:list", intents="list_images, export_image, register_image")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.image_ops.id"))
    found = findings_of(report, "IMS300")
    assert sorted(f.operation for f in found) == ["export_image", "register_image"]
    assert all(f.resource == "huaweicloud_identity_role.image_ops" for f in found)
    by_op = {f.operation: f.message for f in found}
    assert '"ims:images:export"' in by_op["export_image"] and '"ims:images:upload"' in by_op["register_image"]


def test_ims300_intent_as_method_and_path(tmp_path: Path) -> None:
    report = scan(tmp_path, role("uploader", "ims:images:get", intents='"PUT /v2/images/{image_id}/file"')
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.uploader.id"))
    found = findings_of(report, "IMS300")
    assert [(f.resource, f.operation) for f in found] == [("huaweicloud_identity_role.uploader", "native_upload_image")]
    assert '"ims:images:update"' in found[0].message and '"ims:images:upload"' in found[0].message
    assert not findings_of(report, "IMS306")


def test_ims300_intent_from_config_keyed_by_address(tmp_path: Path) -> None:
    text = (role("exporter", "ims:images:list") + group("image_team")
            + assign("ops", "image_team", "huaweicloud_identity_role.exporter.id"))
    report = scan(tmp_path, text, intents={"huaweicloud_identity_role.exporter": ["export_image", "GET /v2/images"]})
    found = findings_of(report, "IMS300")
    assert [(f.resource, f.operation) for f in found] == [("huaweicloud_identity_role.exporter", "export_image")]
    assert '"ims:images:export"' in found[0].message


def test_ims300_config_intent_on_the_base_address_covers_every_instance(tmp_path: Path) -> None:
    report = scan(tmp_path, '''
locals {
  image_roles = {
    reader   = ["ims:images:list", "ims:images:get"]
    exporter = ["ims:images:list"]
  }
}
resource "huaweicloud_identity_role" "image" {
  for_each = local.image_roles
  name     = "ims-${each.key}"
  type     = "XA"
  policy   = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = each.value }] })
}
''', intents={"huaweicloud_identity_role.image": ["native_show_image"]}, skip_rules=["IMS203"])
    assert [f.resource for f in findings_of(report, "IMS300")] == ['huaweicloud_identity_role.image["exporter"]']


def test_ims300_principal_intent_with_no_role_holding_it(tmp_path: Path) -> None:
    report = scan(tmp_path, role("lister", "ims:images:list") + group("image_team", intents="native_delete_image")
                  + assign("ops", "image_team", "huaweicloud_identity_role.lister.id"))
    found = findings_of(report, "IMS300")
    assert [(f.resource, f.operation) for f in found] == [("huaweicloud_identity_group.image_team",
                                                           "native_delete_image")]
    assert '"ims:images:delete"' in found[0].message


def test_ims300_principal_intent_config_form(tmp_path: Path) -> None:
    report = scan(tmp_path, role("lister", "ims:images:list") + group("image_team")
                  + assign("ops", "image_team", "huaweicloud_identity_role.lister.id"),
                  intents={"huaweicloud_identity_group.image_team": ["export_image"]})
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS300")] == [
        ("huaweicloud_identity_group.image_team", "export_image")]


def test_ims300_principal_whose_role_is_held_only_at_domain_scope(tmp_path: Path) -> None:
    report = scan(tmp_path, role("lister", "ims:images:list") + group("image_team", intents="list_images")
                  + assign("global", "image_team", "huaweicloud_identity_role.lister.id", "domain"))
    found = on(report, "IMS300", "huaweicloud_identity_group.image_team")
    assert [f.operation for f in found] == ["list_images"]
    assert "global-service" in found[0].message


def test_ims300_agency_intent(tmp_path: Path) -> None:
    report = scan(tmp_path, role("lister", "ims:images:list") + '''
# iac-ims:intent list_images, native_delete_image
resource "huaweicloud_identity_agency" "cleanup" {
  name                   = "image-cleanup"
  delegated_service_name = "op_svc_ecs"
  project_role {
    project = "cn-north-4"
    roles   = [huaweicloud_identity_role.lister.name]
  }
}
''')
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS300")] == [
        ("huaweicloud_identity_agency.cleanup", "native_delete_image")]


def test_intent_comment_separated_by_a_blank_line_is_not_attached(tmp_path: Path) -> None:
    text = (role("exporter", "ims:images:list", intents="export_image").replace(
                "export_image\n", "export_image\n\n", 1)
            + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.exporter.id"))
    assert "export_image\n\nresource" in text
    assert not findings_of(scan(tmp_path, text), "IMS300")


@pytest.mark.parametrize("actions", [
    ("ims:images:get", "ims:images:update", "ims:images:upload"),
    ("ims:images:*",),
    ("ims:*:*",),
])
def test_ims300_not_when_every_action_is_allowed(tmp_path: Path, actions) -> None:
    report = scan(tmp_path, role("uploader", *actions, intents="native_upload_image")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.uploader.id"))
    assert not findings_of(report, "IMS300")
    assert not findings_of(report, "IMS301")


def test_ims300_not_for_a_principal_granted_through_a_system_role(tmp_path: Path) -> None:
    report = scan(tmp_path, system_role("ims_full", "IMS FullAccess")
                  + group("image_team", intents="native_upload_image, export_image, create_whole_image")
                  + assign("ims", "image_team", "data.huaweicloud_identity_role.ims_full.id"))
    assert not findings_of(report, "IMS300")


def test_ims300_not_for_a_principal_combining_two_roles(tmp_path: Path) -> None:
    report = scan(tmp_path, role("reader", "ims:images:get") + role("writer", "ims:images:update", "ims:images:upload")
                  + group("image_team", intents="native_upload_image")
                  + assign("r", "image_team", "huaweicloud_identity_role.reader.id")
                  + assign("w", "image_team", "huaweicloud_identity_role.writer.id", "all_projects"))
    assert not findings_of(report, "IMS300")


# ---- IMS301: allowed, but denied by an explicit Deny ----------------------------------------

def test_ims301_deny_in_the_same_role_names_the_statement(tmp_path: Path) -> None:
    report = scan(tmp_path, '''
/* iac-ims:intent list_images */
resource "huaweicloud_identity_role" "guarded" {
  name = "ims-guarded"
  type = "XA"
  policy = <<EOF
{
  "Version": "1.1",
  "Statement": [
    {"Effect": "Allow", "Action": ["ims:images:*"]},
    {"Effect": "Deny", "Action": ["ims:images:list", "ims:images:delete"]}
  ]
}
EOF
}
''' + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.guarded.id"))
    found = findings_of(report, "IMS301")
    assert [(f.resource, f.operation, f.severity) for f in found] == [
        ("huaweicloud_identity_role.guarded", "list_images", "error")]
    assert "Statement[1]" in found[0].message and "huaweicloud_identity_role.guarded" in found[0].message
    assert '"ims:images:list"' in found[0].message
    assert not findings_of(report, "IMS300")  # IMS301 only


def test_ims301_deny_in_another_role_of_the_same_group(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list", "ims:images:get",
                                 intents="list_images, native_show_image")
                  + role("no_listing", "ims:images:delete", deny=("ims:images:list",))
                  + group("image_team")
                  + assign("view", "image_team", "huaweicloud_identity_role.viewer.id")
                  + assign("guard", "image_team", "huaweicloud_identity_role.no_listing.id"))
    found = findings_of(report, "IMS301")
    assert [(f.resource, f.operation, f.scope) for f in found] == [
        ("huaweicloud_identity_role.viewer", "list_images", "project")]
    assert "huaweicloud_identity_role.no_listing" in found[0].message and "Statement[1]" in found[0].message
    assert not findings_of(report, "IMS300")


def test_ims301_principal_intent_with_deny_in_another_role(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list") + role("no_listing", "ims:images:delete",
                                                                     deny=("ims:images:list",))
                  + group("image_team", intents="list_images")
                  + assign("view", "image_team", "huaweicloud_identity_role.viewer.id")
                  + assign("guard", "image_team", "huaweicloud_identity_role.no_listing.id", "all_projects"))
    found = on(report, "IMS301", "huaweicloud_identity_group.image_team")
    assert [f.operation for f in found] == ["list_images"]
    assert "huaweicloud_identity_role.no_listing" in found[0].message
    assert not on(report, "IMS300", "huaweicloud_identity_group.image_team")


def test_ims301_not_for_a_deny_of_an_unrelated_action(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list", "ims:images:get", intents="list_images")
                  + role("no_delete", "ims:images:get", deny=("ims:images:delete",))
                  + group("image_team", intents="list_images")
                  + assign("view", "image_team", "huaweicloud_identity_role.viewer.id")
                  + assign("guard", "image_team", "huaweicloud_identity_role.no_delete.id"))
    assert not findings_of(report, "IMS301")
    assert not findings_of(report, "IMS300")


def test_ims301_not_for_a_deny_held_by_another_group(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list", intents="list_images")
                  + role("no_listing", "ims:images:delete", deny=("ims:images:list",))
                  + group("image_team") + group("auditors")
                  + assign("view", "image_team", "huaweicloud_identity_role.viewer.id")
                  + assign("guard", "auditors", "huaweicloud_identity_role.no_listing.id"))
    assert not findings_of(report, "IMS301")


def test_ims301_not_for_a_deny_in_another_project(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list", intents="list_images")
                  + role("no_listing", "ims:images:delete", deny=("ims:images:list",))
                  + group("image_team")
                  + assign("view", "image_team", "huaweicloud_identity_role.viewer.id")
                  + assign("guard", "image_team", "huaweicloud_identity_role.no_listing.id").replace(
                      PROJECT_ID, "9f8e7d6c5b4a39281706f5e4d3c2b1a0"))
    assert not findings_of(report, "IMS301")


# ---- IMS302: not supported at the scope where the role is assigned ---------------------------

def test_ims302_role_intent_at_enterprise_project_scope(tmp_path: Path) -> None:
    report = scan(tmp_path, role("native_lister", "ims:images:list", intents="GET /v2/images")
                  + group("image_team")
                  + assign("ep", "image_team", "huaweicloud_identity_role.native_lister.id", "enterprise_project"))
    found = findings_of(report, "IMS302")
    assert [(f.resource, f.operation, f.scope, f.severity) for f in found] == [
        ("huaweicloud_identity_group_role_assignment.ep", "native_list_images", "enterprise_project", "error")]
    assert "GET /v2/images" in found[0].message


def test_ims302_principal_intent_names_the_assignment(tmp_path: Path) -> None:
    report = scan(tmp_path, role("uploader", "ims:images:get", "ims:images:update", "ims:images:upload")
                  + group("image_team", intents="native_upload_image")
                  + assign("ep", "image_team", "huaweicloud_identity_role.uploader.id", "enterprise_project"))
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS302")] == [
        ("huaweicloud_identity_group_role_assignment.ep", "native_upload_image")]
    assert not findings_of(report, "IMS300")


def test_ims302_agency_enterprise_project_roles_names_the_agency(tmp_path: Path) -> None:
    report = scan(tmp_path, role("creator", "ims:images:create", intents="native_create_image") + f'''
resource "huaweicloud_identity_agency" "factory" {{
  name                  = "image-factory"
  delegated_domain_name = "ci-tenant"
  enterprise_project_roles {{
    enterprise_project = "{EP_ID}"
    roles              = [huaweicloud_identity_role.creator.name]
  }}
}}
''')
    assert [(f.resource, f.operation, f.scope) for f in findings_of(report, "IMS302")] == [
        ("huaweicloud_identity_agency.factory", "native_create_image", "enterprise_project")]


def test_ims302_user_role_assignment(tmp_path: Path) -> None:
    report = scan(tmp_path, role("creator", "ims:images:create", intents="native_create_image") + f'''
resource "huaweicloud_identity_user" "alice" {{
  name = "alice"
}}
resource "huaweicloud_identity_user_role_assignment" "alice_ep" {{
  user_id               = huaweicloud_identity_user.alice.id
  role_id               = huaweicloud_identity_role.creator.id
  enterprise_project_id = "{EP_ID}"
}}
''')
    assert [f.resource for f in findings_of(report, "IMS302")] == ["huaweicloud_identity_user_role_assignment.alice_ep"]


@pytest.mark.parametrize("scope", ["project", "all_projects"])
def test_ims302_not_for_the_same_role_at_project_scope(tmp_path: Path, scope: str) -> None:
    report = scan(tmp_path, role("native_lister", "ims:images:list", intents="GET /v2/images")
                  + group("image_team")
                  + assign("p", "image_team", "huaweicloud_identity_role.native_lister.id", scope))
    assert not findings_of(report, "IMS302")
    assert not findings_of(report, "IMS300")


def test_ims302_not_for_the_cloudimages_list_at_enterprise_project_scope(tmp_path: Path) -> None:
    # the same action, through GET /v2/cloudimages, works at EP scope
    report = scan(tmp_path, role("lister", "ims:images:list", intents="GET /v2/cloudimages")
                  + group("image_team")
                  + assign("ep", "image_team", "huaweicloud_identity_role.lister.id", "enterprise_project"))
    assert not findings_of(report, "IMS302")


# ---- IMS303: a prerequisite outside IMS ------------------------------------------------------

EXPORTER = role("exporter", "ims:images:export", intents="export_image")


def test_ims303_group_without_obs_tenant_administrator(tmp_path: Path) -> None:
    report = scan(tmp_path, EXPORTER + group("image_team")
                  + assign("export", "image_team", "huaweicloud_identity_role.exporter.id"))
    found = findings_of(report, "IMS303")
    assert [(f.resource, f.operation, f.severity) for f in found] == [
        ("huaweicloud_identity_group.image_team", "export_image", "warning")]
    assert "Tenant Administrator" in found[0].message and "OBS" in found[0].message


def test_ims303_not_with_tenant_administrator_at_domain_scope(tmp_path: Path) -> None:
    report = scan(tmp_path, EXPORTER + system_role("tenant_admin", "Tenant Administrator") + group("image_team")
                  + assign("export", "image_team", "huaweicloud_identity_role.exporter.id")
                  + assign("obs", "image_team", "data.huaweicloud_identity_role.tenant_admin.id", "domain"))
    assert not findings_of(report, "IMS303")


def test_ims303_not_with_tenant_administrator_for_all_projects(tmp_path: Path) -> None:
    report = scan(tmp_path, EXPORTER + system_role("tenant_admin", "Tenant Administrator") + group("image_team")
                  + assign("export", "image_team", "huaweicloud_identity_role.exporter.id")
                  + assign("obs", "image_team", "data.huaweicloud_identity_role.tenant_admin.id", "all_projects"))
    assert not findings_of(report, "IMS303")


def test_ims303_still_when_tenant_administrator_is_held_only_at_project_scope(tmp_path: Path) -> None:
    report = scan(tmp_path, EXPORTER + system_role("tenant_admin", "Tenant Administrator") + group("image_team")
                  + assign("export", "image_team", "huaweicloud_identity_role.exporter.id")
                  + assign("obs", "image_team", "data.huaweicloud_identity_role.tenant_admin.id", "project"))
    assert [f.resource for f in findings_of(report, "IMS303")] == ["huaweicloud_identity_group.image_team"]


def test_ims303_user_intent_satisfied_through_group_membership(tmp_path: Path) -> None:
    users = '''
resource "huaweicloud_identity_user" "alice" {
  # iac-ims:intent export_image
  name = "alice"
}
resource "huaweicloud_identity_group_membership" "image_team" {
  group = huaweicloud_identity_group.image_team.id
  users = [huaweicloud_identity_user.alice.id]
}
'''
    base = (role("exporter", "ims:images:export") + system_role("tenant_admin", "Tenant Administrator")
            + group("image_team") + users
            + assign("export", "image_team", "huaweicloud_identity_role.exporter.id"))
    with_obs = scan(tmp_path / "with", base + assign("obs", "image_team",
                                                     "data.huaweicloud_identity_role.tenant_admin.id", "domain"))
    assert not findings_of(with_obs, "IMS303"), [f.message for f in findings_of(with_obs, "IMS303")]
    assert not findings_of(with_obs, "IMS300")  # granted through the group too
    without = scan(tmp_path / "without", base)
    assert ("huaweicloud_identity_user.alice", "export_image") in [
        (f.resource, f.operation) for f in findings_of(without, "IMS303")]


def test_ims303_inferred_from_a_role_without_intents(tmp_path: Path) -> None:
    # no intents: the role is meant to do what it names explicitly (register_image)
    report = scan(tmp_path, role("registrar", "ims:images:upload") + group("image_team")
                  + assign("reg", "image_team", "huaweicloud_identity_role.registrar.id"))
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS303")] == [
        ("huaweicloud_identity_group.image_team", "register_image")]


def test_ims303_not_inferred_from_a_wildcard(tmp_path: Path) -> None:
    report = scan(tmp_path, role("all_images", "ims:images:*") + group("image_team")
                  + assign("all", "image_team", "huaweicloud_identity_role.all_images.id"))
    assert not findings_of(report, "IMS303")


def test_ims303_role_intent_reported_on_each_holder_lacking_it(tmp_path: Path) -> None:
    report = scan(tmp_path, EXPORTER + system_role("tenant_admin", "Tenant Administrator")
                  + group("exporters") + group("obs_admins")
                  + assign("e1", "exporters", "huaweicloud_identity_role.exporter.id")
                  + assign("e2", "obs_admins", "huaweicloud_identity_role.exporter.id")
                  + assign("obs", "obs_admins", "data.huaweicloud_identity_role.tenant_admin.id", "domain"))
    assert [f.resource for f in findings_of(report, "IMS303")] == ["huaweicloud_identity_group.exporters"]


def test_ims303_agency_with_system_roles_by_display_name(tmp_path: Path) -> None:
    agency = '''
resource "huaweicloud_identity_agency" "image_export" {
  name                  = "image-export"
  delegated_domain_name = "backup-tenant"
  project_role {
    project = "cn-north-4"
    roles   = [huaweicloud_identity_role.exporter.name]
  }
  %s
}
'''
    report = scan(tmp_path / "no_obs", EXPORTER + agency % "")
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS303")] == [
        ("huaweicloud_identity_agency.image_export", "export_image")]
    report = scan(tmp_path / "all_resources", EXPORTER + agency % 'all_resources_roles = ["Tenant Administrator"]')
    assert not findings_of(report, "IMS303")
    report = scan(tmp_path / "domain", EXPORTER + agency % 'domain_roles = ["Tenant Administrator"]')
    assert not findings_of(report, "IMS303")


def test_ims303_whole_image_needs_cbr_at_a_project_level_scope(tmp_path: Path) -> None:
    base = (role("whole", "ims:wholeImages:create", intents="create_whole_image")
            + system_role("cbr", "CBR FullAccess") + group("image_team")
            + assign("whole", "image_team", "huaweicloud_identity_role.whole.id"))
    report = scan(tmp_path / "project", base + assign("cbr", "image_team", "data.huaweicloud_identity_role.cbr.id"))
    assert not findings_of(report, "IMS303")
    report = scan(tmp_path / "domain", base + assign("cbr", "image_team", "data.huaweicloud_identity_role.cbr.id",
                                                     "domain"))
    found = findings_of(report, "IMS303")
    assert [(f.resource, f.operation) for f in found] == [("huaweicloud_identity_group.image_team",
                                                           "create_whole_image")]
    assert "CBR" in found[0].message and "CSBS Administrator" in found[0].message


def test_ims303_not_for_operations_without_prerequisites(tmp_path: Path) -> None:
    report = scan(tmp_path, role("image_ops", "ims:images:list", "ims:images:get", "ims:images:delete",
                                 "ims:serverImages:create", intents="list_images, native_delete_image, create_image")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.image_ops.id"))
    assert not findings_of(report, "IMS303")


def test_ims303_user_holding_the_role_directly_with_obs_through_a_group(tmp_path: Path) -> None:
    report = scan(tmp_path, EXPORTER + system_role("tenant_admin", "Tenant Administrator") + group("obs_admins")
                  + assign("obs", "obs_admins", "data.huaweicloud_identity_role.tenant_admin.id", "domain") + f'''
resource "huaweicloud_identity_user" "alice" {{
  name = "alice"
}}
resource "huaweicloud_identity_user" "bob" {{
  name = "bob"
}}
resource "huaweicloud_identity_group_membership" "obs_admins" {{
  group = huaweicloud_identity_group.obs_admins.id
  users = [huaweicloud_identity_user.alice.id]
}}
resource "huaweicloud_identity_user_role_assignment" "alice" {{
  user_id               = huaweicloud_identity_user.alice.id
  role_id               = huaweicloud_identity_role.exporter.id
  enterprise_project_id = "{EP_ID}"
}}
resource "huaweicloud_identity_user_role_assignment" "bob" {{
  user_id               = huaweicloud_identity_user.bob.id
  role_id               = huaweicloud_identity_role.exporter.id
  enterprise_project_id = "{EP_ID}"
}}
''')
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS303")] == [
        ("huaweicloud_identity_user.bob", "export_image")]


def test_ims303_becomes_ims305_when_a_role_of_the_principal_cannot_be_resolved(tmp_path: Path) -> None:
    report = scan(tmp_path, 'variable "obs_role_id" {\n  type = string\n}\n' + EXPORTER + group("image_team")
                  + assign("export", "image_team", "huaweicloud_identity_role.exporter.id", "all_projects")
                  + assign("obs", "image_team", "var.obs_role_id", "domain"))
    assert not findings_of(report, "IMS303")
    found = on(report, "IMS305", "huaweicloud_identity_group.image_team")
    assert [f.operation for f in found] == ["export_image"] and "Tenant Administrator" in found[0].message


# ---- IMS304: deprecated operation ------------------------------------------------------------

@pytest.mark.parametrize("intent, operation, replacement, api", [
    ("native_v1_list_images_detail", "native_v1_list_images_detail", "native_list_images", "GET /v2/images"),
    ("HEAD /v1/images/{image_id}", "native_v1_head_image", "native_show_image", "GET /v2/images/{image_id}"),
    ("native_v1_delete_image", "native_v1_delete_image", "native_delete_image", "DELETE /v2/images/{image_id}"),
])
def test_ims304_deprecated_intent_names_the_replacement(tmp_path: Path, intent, operation, replacement, api) -> None:
    report = scan(tmp_path, role("legacy", "ims:images:list", "ims:images:get", "ims:images:delete", intents=intent)
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.legacy.id"))
    found = findings_of(report, "IMS304")
    assert [(f.resource, f.operation, f.severity) for f in found] == [
        ("huaweicloud_identity_role.legacy", operation, "warning")]
    assert replacement in found[0].message and api in found[0].message


def test_ims304_on_a_group_intent(tmp_path: Path) -> None:
    report = scan(tmp_path, system_role("ims_ro", "IMS ReadOnlyAccess")
                  + group("viewers", intents="native_v1_list_images_detail")
                  + assign("ro", "viewers", "data.huaweicloud_identity_role.ims_ro.id"))
    assert [f.resource for f in findings_of(report, "IMS304")] == ["huaweicloud_identity_group.viewers"]


def test_ims304_not_for_the_replacement(tmp_path: Path) -> None:
    report = scan(tmp_path, role("lister", "ims:images:list", intents="native_list_images")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.lister.id"))
    assert not findings_of(report, "IMS304")


# ---- IMS305: cannot be confirmed statically -------------------------------------------------

def test_ims305_allow_only_under_a_condition(tmp_path: Path) -> None:
    report = scan(tmp_path, '''
# iac-ims:intent list_images
resource "huaweicloud_identity_role" "conditional" {
  name = "ims-conditional"
  type = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect    = "Allow"
      Action    = ["ims:images:list"]
      Condition = { StringEquals = { "g:DomainName" = ["image-factory"] } }
    }]
  })
}
''' + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.conditional.id"))
    found = findings_of(report, "IMS305")
    assert [(f.resource, f.operation, f.severity) for f in found] == [
        ("huaweicloud_identity_role.conditional", "list_images", "info")]
    assert "Condition" in found[0].message
    assert not findings_of(report, "IMS300")


def test_ims305_role_id_from_a_variable_with_no_value(tmp_path: Path) -> None:
    report = scan(tmp_path, 'variable "image_role_id" {\n  type = string\n}\n'
                  + group("image_team", intents="native_delete_image")
                  + assign("ops", "image_team", "var.image_role_id"))
    found = findings_of(report, "IMS305")
    assert [(f.resource, f.operation) for f in found] == [("huaweicloud_identity_group.image_team",
                                                           "native_delete_image")]
    assert "image_role_id" in found[0].message
    assert not findings_of(report, "IMS300")


def test_ims305_policy_from_a_variable_with_no_value(tmp_path: Path) -> None:
    report = scan(tmp_path, '''
variable "image_policy" {
  type = string
}
# iac-ims:intent native_show_image
resource "huaweicloud_identity_role" "from_var" {
  name   = "ims-from-var"
  type   = "XA"
  policy = var.image_policy
}
''' + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.from_var.id"))
    found = findings_of(report, "IMS305")
    assert [(f.resource, f.operation) for f in found] == [("huaweicloud_identity_role.from_var", "native_show_image")]
    assert "image_policy" in found[0].message
    assert not findings_of(report, "IMS300")


def test_ims305_not_for_an_unconditional_allow(tmp_path: Path) -> None:
    report = scan(tmp_path, role("lister", "ims:images:list", intents="list_images")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.lister.id"))
    assert not findings_of(report, "IMS305")


def test_ims305_not_for_an_unknown_scope_id(tmp_path: Path) -> None:
    report = scan(tmp_path, 'variable "project_id" {\n  type = string\n}\n'
                  + role("lister", "ims:images:list") + group("image_team", intents="list_images")
                  + assign("ops", "image_team", "huaweicloud_identity_role.lister.id").replace(
                      f'project_id = "{PROJECT_ID}"', "project_id = var.project_id"))
    assert not findings_of(report, "IMS305")
    assert not findings_of(report, "IMS300")


# ---- IMS306: an intent names no known operation ---------------------------------------------

def test_ims306_misspelt_operation_names_the_closest_ids(tmp_path: Path) -> None:
    report = scan(tmp_path, role("exporter", "ims:images:export", intents="export_imgae")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.exporter.id"))
    found = findings_of(report, "IMS306")
    assert [(f.resource, f.severity) for f in found] == [("huaweicloud_identity_role.exporter", "error")]
    assert "export_imgae" in found[0].message and "export_image" in found[0].message


def test_ims306_method_path_naming_several_operations_lists_the_ids(tmp_path: Path) -> None:
    report = scan(tmp_path, role("updater", "ims:images:update")
                  + group("image_team", intents="PATCH /v2/cloudimages/{image_id}")
                  + assign("ops", "image_team", "huaweicloud_identity_role.updater.id"))
    found = findings_of(report, "IMS306")
    assert [f.resource for f in found] == ["huaweicloud_identity_group.image_team"]
    assert "update_image" in found[0].message and "migrate_image_enterprise_project" in found[0].message


def test_ims306_unknown_method_path_and_config_form(tmp_path: Path) -> None:
    report = scan(tmp_path, role("lister", "ims:images:list") + group("image_team")
                  + assign("ops", "image_team", "huaweicloud_identity_role.lister.id"),
                  intents={"huaweicloud_identity_role.lister": ["GET /v3/images", "list_images"]})
    found = findings_of(report, "IMS306")
    assert [f.resource for f in found] == ["huaweicloud_identity_role.lister"]
    assert "GET /v3/images" in found[0].message
    assert not findings_of(report, "IMS300")  # the known item still counts


def test_ims306_only_the_bad_item_of_a_list(tmp_path: Path) -> None:
    report = scan(tmp_path, role("image_ops", "ims:images:list", "ims:images:export",
                                 intents="list_images, exprot_image, 'GET /v2/cloudimages'")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.image_ops.id"))
    found = findings_of(report, "IMS306")
    assert len(found) == 1 and "exprot_image" in found[0].message and "export_image" in found[0].message


@pytest.mark.parametrize("intents", [
    "list_images",
    '"list_images"',
    "GET /v2/cloudimages",
    "'GET /v2/cloudimages'",
    "list_images,native_show_image",
])
def test_ims306_not_for_known_ids_and_apis(tmp_path: Path, intents: str) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list", "ims:images:get", intents=intents)
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.viewer.id"))
    assert not findings_of(report, "IMS306")
    assert not findings_of(report, "IMS300")


# ---- IMS307: IMS actions none of the intents needs ------------------------------------------

def test_ims307_extra_actions_are_named(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list", "ims:images:get", "ims:images:delete",
                                 intents="list_images, native_show_image")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.viewer.id"))
    found = findings_of(report, "IMS307")
    assert [(f.resource, f.severity) for f in found] == [("huaweicloud_identity_role.viewer", "info")]
    assert '"ims:images:delete"' in found[0].message
    assert '"ims:images:list"' not in found[0].message and '"ims:images:get"' not in found[0].message


def test_ims307_wildcard_broader_than_the_intents(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:*", intents="list_images")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.viewer.id"))
    found = findings_of(report, "IMS307")
    assert found and '"ims:images:*"' in found[0].message


def test_ims307_not_when_every_action_is_needed(tmp_path: Path) -> None:
    report = scan(tmp_path, role("uploader", "ims:images:get", "ims:images:update", "ims:images:upload",
                                 intents="native_upload_image")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.uploader.id"))
    assert not findings_of(report, "IMS307")


def test_ims307_not_for_a_role_without_declared_intents(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list", "ims:images:get", "ims:images:delete")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.viewer.id"))
    assert not findings_of(report, "IMS307")


def test_ims307_not_for_non_ims_actions(tmp_path: Path) -> None:
    report = scan(tmp_path, role("builder", "ims:serverImages:create", "ecs:cloudServers:list", "evs:volumes:list",
                                 intents="create_image")
                  + group("image_team") + assign("ops", "image_team", "huaweicloud_identity_role.builder.id"))
    assert not findings_of(report, "IMS307")


# ---- legacy / FlexibleEngine shapes carry intents the same way --------------------------------

def test_intents_through_the_legacy_assignment_and_a_flexibleengine_role(tmp_path: Path) -> None:
    report = scan(tmp_path, '''
# iac-ims:intent native_create_image, native_show_image
resource "flexibleengine_identity_role_v3" "publisher" {
  name        = "ims-publisher"
  description = "publish image metadata"
  type        = "XA"
  policy = jsonencode({
    "Version" : "1.1",
    "Statement" : [{ "Effect" : "Allow", "Action" : ["ims:images:create"] }]
  })
}
resource "flexibleengine_identity_group_v3" "publishers" {
  name = "publishers"
}
resource "flexibleengine_identity_role_assignment_v3" "publishers" {
  group_id              = flexibleengine_identity_group_v3.publishers.id
  role_id               = flexibleengine_identity_role_v3.publisher.id
  enterprise_project_id = "''' + EP_ID + '''"
}
''')
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS300")] == [
        ("flexibleengine_identity_role_v3.publisher", "native_show_image")]
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS302")] == [
        ("flexibleengine_identity_role_assignment_v3.publishers", "native_create_image")]


def test_intents_through_the_legacy_huaweicloud_role_assignment(tmp_path: Path) -> None:
    report = scan(tmp_path, role("native_lister", "ims:images:list", intents="native_list_images")
                  + group("image_team")
                  + assign("legacy", "image_team", "huaweicloud_identity_role.native_lister.id", "enterprise_project",
                           resource="huaweicloud_identity_role_assignment"))
    assert [f.resource for f in findings_of(report, "IMS302")] == ["huaweicloud_identity_role_assignment.legacy"]


# ---- a principal's roles and Denies count where their scopes meet ------------------------------

OTHER_PROJECT_ID = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def test_ims301_not_for_a_principal_whose_deny_is_held_in_another_project(tmp_path: Path) -> None:
    # listing works in PROJECT_ID; the Deny applies only in OTHER_PROJECT_ID
    report = scan(tmp_path, role("viewer", "ims:images:list")
                  + role("no_listing", "ims:images:delete", deny=("ims:images:list",))
                  + group("image_team", intents="list_images")
                  + assign("view", "image_team", "huaweicloud_identity_role.viewer.id")
                  + assign("guard", "image_team", "huaweicloud_identity_role.no_listing.id").replace(
                      PROJECT_ID, OTHER_PROJECT_ID))
    assert not findings_of(report, "IMS301"), [f.message for f in findings_of(report, "IMS301")]
    assert not findings_of(report, "IMS300")


def test_ims301_for_a_principal_whose_deny_is_held_for_all_projects(tmp_path: Path) -> None:
    report = scan(tmp_path, role("viewer", "ims:images:list")
                  + role("no_listing", "ims:images:delete", deny=("ims:images:list",))
                  + group("image_team", intents="list_images")
                  + assign("view", "image_team", "huaweicloud_identity_role.viewer.id")
                  + assign("guard", "image_team", "huaweicloud_identity_role.no_listing.id", "all_projects"))
    assert [(f.resource, f.operation) for f in findings_of(report, "IMS301")] == [
        ("huaweicloud_identity_group.image_team", "list_images")]


def test_ims300_for_a_principal_whose_actions_are_split_across_projects(tmp_path: Path) -> None:
    # one call runs in one project: get in one project and update+upload in another do not add up
    report = scan(tmp_path, role("reader", "ims:images:get") + role("writer", "ims:images:update", "ims:images:upload")
                  + group("image_team", intents="native_upload_image")
                  + assign("r", "image_team", "huaweicloud_identity_role.reader.id")
                  + assign("w", "image_team", "huaweicloud_identity_role.writer.id").replace(
                      PROJECT_ID, OTHER_PROJECT_ID))
    found = on(report, "IMS300", "huaweicloud_identity_group.image_team")
    assert [f.operation for f in found] == ["native_upload_image"]


# ---- group memberships that cannot be fully resolved never hide a grant ----------------------

def user(name: str, intents: str | None = None) -> str:
    above = f"# iac-ims:intent {intents}\n" if intents else ""
    return f'{above}resource "huaweicloud_identity_user" "{name}" {{\n  name = "{name}"\n}}\n'


EXPORTERS = (role("exporter", "ims:images:export") + group("exporters")
             + assign("exporters", "exporters", "huaweicloud_identity_role.exporter.id"))


def test_a_member_of_a_group_with_unresolved_members_is_not_denied(tmp_path: Path) -> None:
    text = EXPORTERS + user("alice", intents="export_image") + '''
variable "exporter_ids" {
  type = list(string)
}
resource "huaweicloud_identity_group_membership" "exporters" {
  group = huaweicloud_identity_group.exporters.id
  users = var.exporter_ids
}
'''
    report = scan(tmp_path, text)
    assert not findings_of(report, "IMS300"), [f.message for f in findings_of(report, "IMS300")]
    doubt = on(report, "IMS305", "huaweicloud_identity_user.alice")
    assert doubt and "huaweicloud_identity_group.exporters" in doubt[0].message
    assert any("var.exporter_ids" in f.message for f in findings_of(report, "IMS901"))


def test_an_open_group_that_cannot_grant_it_changes_nothing(tmp_path: Path) -> None:
    text = (role("reader", "ims:images:list") + group("readers")
            + assign("readers", "readers", "huaweicloud_identity_role.reader.id")
            + user("alice", intents="export_image") + '''
variable "reader_ids" {
  type = list(string)
}
resource "huaweicloud_identity_group_membership" "readers" {
  group = huaweicloud_identity_group.readers.id
  users = var.reader_ids
}
''')
    report = scan(tmp_path, text)
    assert [f.resource for f in findings_of(report, "IMS300")] == ["huaweicloud_identity_user.alice"]


def test_a_user_added_to_a_group_that_cannot_be_told_is_unknown(tmp_path: Path) -> None:
    text = user("alice", intents="export_image") + '''
variable "team_group_id" {
  type = string
}
resource "huaweicloud_identity_group_membership" "team" {
  group = var.team_group_id
  users = [huaweicloud_identity_user.alice.id]
}
'''
    report = scan(tmp_path, text)
    assert not findings_of(report, "IMS300")
    assert on(report, "IMS305", "huaweicloud_identity_user.alice")


def test_known_members_still_count(tmp_path: Path) -> None:
    text = EXPORTERS + user("alice", intents="export_image") + user("bob", intents="export_image") + '''
resource "huaweicloud_identity_group_membership" "exporters" {
  group = huaweicloud_identity_group.exporters.id
  users = [huaweicloud_identity_user.alice.id]
}
'''
    report = scan(tmp_path, text)
    assert [f.resource for f in findings_of(report, "IMS300")] == ["huaweicloud_identity_user.bob"]
    assert not findings_of(report, "IMS305")


DEVS = '''
resource "huaweicloud_identity_user" "devs" {
  # iac-ims:intent export_image
  for_each = toset(["ana", "bo"])
  name     = each.key
}
'''


@pytest.mark.parametrize("membership", [
    'group = huaweicloud_identity_group.exporters.id\n  users = [for u in huaweicloud_identity_user.devs : u.id]',
    'group = huaweicloud_identity_group.exporters.id\n  users = values(huaweicloud_identity_user.devs)[*].id',
    'for_each = huaweicloud_identity_user.devs\n  group = huaweicloud_identity_group.exporters.id\n  users = [each.value.id]',
], ids=["for_expression", "values_splat", "for_each_over_the_users"])
def test_members_named_through_the_user_resource_hold_the_group_roles(tmp_path: Path, membership: str) -> None:
    text = EXPORTERS + DEVS + f'resource "huaweicloud_identity_group_membership" "exporters" {{\n  {membership}\n}}\n'
    report = scan(tmp_path, text)
    assert not findings_of(report, "IMS300") and not findings_of(report, "IMS305")
    assert not findings_of(report, "IMS901")


def test_known_elements_of_a_partly_known_member_list_count(tmp_path: Path) -> None:
    text = EXPORTERS + user("alice", intents="export_image") + user("bob", intents="export_image") + '''
variable "extra_exporters" {
  type = list(string)
}
resource "huaweicloud_identity_group_membership" "exporters" {
  group = huaweicloud_identity_group.exporters.id
  users = concat([huaweicloud_identity_user.alice.id], var.extra_exporters)
}
'''
    report = scan(tmp_path, text)
    assert not findings_of(report, "IMS300")
    assert not on(report, "IMS305", "huaweicloud_identity_user.alice")  # certainly a member
    assert on(report, "IMS305", "huaweicloud_identity_user.bob")  # may be one of the extra ones


def test_members_of_a_user_resource_with_unknown_keys(tmp_path: Path) -> None:
    text = EXPORTERS + '''
variable "developer_names" {
  type = set(string)
}
resource "huaweicloud_identity_user" "devs" {
  # iac-ims:intent export_image
  for_each = var.developer_names
  name     = each.key
}
resource "huaweicloud_identity_group_membership" "exporters" {
  group = huaweicloud_identity_group.exporters.id
  users = [for u in huaweicloud_identity_user.devs : u.id]
}
'''
    report = scan(tmp_path, text)
    assert not findings_of(report, "IMS300") and not findings_of(report, "IMS305")
