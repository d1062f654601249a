"""IMS200-IMS204: where roles are assigned, and whether that scope can work for IMS; and the
table test: every catalogue operation at every scope kind, so the checks and the catalogue
cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import findings_of, scan_tree
from iac_ims.catalog import load_catalog

PROJECT_ID = "0b4c7a1e5c0f4c6e9a3f2d1e8b7c6a5d"
DOMAIN_ID = "d6f2a9e4c3b14e5f8a7d6c5b4a3f2e1d"
EP_ID = "0aa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f"

SCOPES = {
    "project": f'project_id = "{PROJECT_ID}"',
    "all_projects": 'project_id = "all"',
    "enterprise_project": f'enterprise_project_id = "{EP_ID}"',
    "domain": f'domain_id = "{DOMAIN_ID}"',
}


def role(name: str, *actions: str, intents: str | None = None, role_type: str = "XA") -> str:
    quoted = ", ".join(f'"{a}"' for a in actions)
    comment = f"# iac-ims:intent {intents}\n" if intents else ""
    return (
        f'{comment}resource "huaweicloud_identity_role" "{name}" {{\n'
        f'  name        = "ims-{name.replace("_", "-")}"\n'
        f'  description = "{name} role"\n'
        f'  type        = "{role_type}"\n'
        "  policy = jsonencode({\n"
        '    Version   = "1.1"\n'
        f'    Statement = [{{ Effect = "Allow", Action = [{quoted}] }}]\n'
        "  })\n"
        "}\n"
    )


def group(name: str) -> str:
    return f'resource "huaweicloud_identity_group" "{name}" {{\n  name = "{name.replace("_", "-")}"\n}}\n'


def assign(name: str, group_name: str, role_ref: str, scope: str,
           resource: str = "huaweicloud_identity_group_role_assignment") -> str:
    return (
        f'resource "{resource}" "{name}" {{\n'
        f"  group_id = huaweicloud_identity_group.{group_name}.id\n"
        f"  role_id  = {role_ref}\n"
        f"  {scope}\n"
        "}\n"
    )


def on(report, rule_id: str, resource: str):
    return [f for f in findings_of(report, rule_id) if f.resource == resource]


# ---- IMS200: enterprise-project assignment that gives nothing (or only part) in IMS -----------

def test_ims200_error_when_no_operation_works_through_an_enterprise_project(tmp_path: Path) -> None:
    # ims:images:create is only POST /v2/images (native_create_image): not at EP scope
    report = scan_tree(tmp_path, {"main.tf": role("metadata_writer", "ims:images:create")
                                  + group("image_team")
                                  + assign("ep", "image_team", "huaweicloud_identity_role.metadata_writer.id",
                                           SCOPES["enterprise_project"])})
    found = findings_of(report, "IMS200")
    assert [(f.resource, f.severity, f.scope) for f in found] == [
        ("huaweicloud_identity_group_role_assignment.ep", "error", "enterprise_project")]
    assert "native_create_image" in found[0].message


def test_ims200_error_with_intents_too_and_ims302_on_the_same_assignment(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("metadata_writer", "ims:images:create",
                                                  intents="native_create_image")
                                  + group("image_team")
                                  + assign("ep", "image_team", "huaweicloud_identity_role.metadata_writer.id",
                                           SCOPES["enterprise_project"])})
    address = "huaweicloud_identity_group_role_assignment.ep"
    assert [f.severity for f in on(report, "IMS200", address)] == ["error"]
    assert [(f.operation, f.scope) for f in on(report, "IMS302", address)] == [
        ("native_create_image", "enterprise_project")]


def test_ims200_not_for_a_role_with_intents_when_some_operations_still_work(tmp_path: Path) -> None:
    # some IMS operations of the role work at EP scope, and the role declares intents: the
    # info-level IMS200 stays quiet; IMS302 names the one declared intent that is lost
    report = scan_tree(tmp_path, {"main.tf": role("uploader", "ims:images:get", "ims:images:update",
                                                  "ims:images:upload", "ims:images:create",
                                                  intents="native_upload_image, native_show_image")
                                  + group("image_team")
                                  + assign("ep", "image_team", "huaweicloud_identity_role.uploader.id",
                                           SCOPES["enterprise_project"])})
    assert not findings_of(report, "IMS200"), [f.message for f in findings_of(report, "IMS200")]
    assert [f.operation for f in on(report, "IMS302", "huaweicloud_identity_group_role_assignment.ep")] == [
        "native_upload_image"]


def test_ims200_info_names_what_is_lost_for_a_role_without_intents(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("lister", "ims:images:list")
                                  + group("image_team")
                                  + assign("ep", "image_team", "huaweicloud_identity_role.lister.id",
                                           SCOPES["enterprise_project"])})
    found = findings_of(report, "IMS200")
    assert [(f.resource, f.severity) for f in found] == [("huaweicloud_identity_group_role_assignment.ep", "info")]
    assert "native_list_images" in found[0].message  # lost
    assert "list_images" in found[0].message.split("only")[-1]  # kept


def test_ims200_user_role_assignment(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("metadata_writer", "ims:images:create") + '''
resource "huaweicloud_identity_user" "alice" {
  name = "alice"
}
resource "huaweicloud_identity_user_role_assignment" "alice_ep" {
  user_id               = huaweicloud_identity_user.alice.id
  role_id               = huaweicloud_identity_role.metadata_writer.id
  enterprise_project_id = "''' + EP_ID + '''"
}
'''})
    assert [(f.resource, f.severity) for f in findings_of(report, "IMS200")] == [
        ("huaweicloud_identity_user_role_assignment.alice_ep", "error")]


def test_ims200_agency_enterprise_project_roles_names_the_agency(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("metadata_writer", "ims:images:create") + '''
resource "huaweicloud_identity_agency" "image_factory" {
  name                  = "image-factory"
  delegated_domain_name = "ci-tenant"
  enterprise_project_roles {
    enterprise_project = "''' + EP_ID + '''"
    roles              = [huaweicloud_identity_role.metadata_writer.name]
  }
}
'''})
    assert [(f.resource, f.severity, f.scope) for f in findings_of(report, "IMS200")] == [
        ("huaweicloud_identity_agency.image_factory", "error", "enterprise_project")]


@pytest.mark.parametrize("actions", [
    ("ims:images:export",),
    ("ims:serverImages:create", "ims:wholeImages:create", "ims:dataImages:create"),
])
def test_ims200_not_when_every_operation_works_through_an_enterprise_project(tmp_path: Path, actions) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("builder", *actions) + group("image_team")
                                  + assign("ep", "image_team", "huaweicloud_identity_role.builder.id",
                                           SCOPES["enterprise_project"])})
    assert not findings_of(report, "IMS200")


def test_ims200_not_for_the_same_role_at_project_scope(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("metadata_writer", "ims:images:create") + group("image_team")
                                  + assign("p", "image_team", "huaweicloud_identity_role.metadata_writer.id",
                                           SCOPES["project"])})
    assert not findings_of(report, "IMS200")


def test_ims200_info_not_for_a_role_with_intents_that_work_there(tmp_path: Path) -> None:
    # partly lost, but the role declares what it is for and that works at EP scope: IMS302 is
    # the precise rule, and it has nothing to say either
    report = scan_tree(tmp_path, {"main.tf": role("lister", "ims:images:list", intents="list_images")
                                  + group("image_team")
                                  + assign("ep", "image_team", "huaweicloud_identity_role.lister.id",
                                           SCOPES["enterprise_project"])})
    assert not findings_of(report, "IMS200") and not findings_of(report, "IMS302")


def test_ims200_not_for_a_system_role_at_enterprise_project_scope(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
data "huaweicloud_identity_role" "ims_admin" {
  display_name = "IMS FullAccess"
}
''' + group("image_team") + assign("ep", "image_team", "data.huaweicloud_identity_role.ims_admin.id",
                                   SCOPES["enterprise_project"])})
    assert not findings_of(report, "IMS200")


# ---- IMS201: custom role with IMS actions assigned only at global-service scope ---------------

def test_ims201_custom_role_assigned_only_at_domain_scope(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export", "ims:images:list")
                                  + group("image_team")
                                  + assign("global", "image_team", "huaweicloud_identity_role.exporter.id",
                                           SCOPES["domain"])})
    found = findings_of(report, "IMS201")
    assert [(f.resource, f.severity, f.scope) for f in found] == [
        ("huaweicloud_identity_group_role_assignment.global", "error", "domain")]
    assert "huaweicloud_identity_role.exporter" in found[0].message and "domain_id" in found[0].message


def test_ims201_agency_domain_roles_names_the_agency(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export") + '''
resource "huaweicloud_identity_agency" "backup" {
  name                  = "image-backup"
  delegated_domain_name = "ops-tenant"
  domain_roles          = [huaweicloud_identity_role.exporter.name, "OBS OperateAccess"]
}
'''})
    assert [(f.resource, f.scope) for f in findings_of(report, "IMS201")] == [
        ("huaweicloud_identity_agency.backup", "domain")]


def test_ims201_legacy_role_assignment_resource(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export") + group("image_team")
                                  + assign("legacy", "image_team", "huaweicloud_identity_role.exporter.id",
                                           SCOPES["domain"], resource="huaweicloud_identity_role_assignment")})
    assert [f.resource for f in findings_of(report, "IMS201")] == ["huaweicloud_identity_role_assignment.legacy"]


def test_ims201_not_when_the_role_is_also_assigned_to_all_projects(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export") + group("image_team")
                                  + assign("global", "image_team", "huaweicloud_identity_role.exporter.id",
                                           SCOPES["domain"])
                                  + assign("everywhere", "image_team", "huaweicloud_identity_role.exporter.id",
                                           SCOPES["all_projects"])})
    assert not findings_of(report, "IMS201")


def test_ims201_not_when_the_agency_also_lists_it_in_project_role(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export") + '''
resource "huaweicloud_identity_agency" "backup" {
  name                  = "image-backup"
  delegated_domain_name = "ops-tenant"
  domain_roles          = [huaweicloud_identity_role.exporter.name]
  project_role {
    project = "cn-north-4"
    roles   = [huaweicloud_identity_role.exporter.name]
  }
}
'''})
    assert not findings_of(report, "IMS201")


def test_ims201_not_for_tenant_administrator_at_domain_scope(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
data "huaweicloud_identity_role" "tenant_admin" {
  display_name = "Tenant Administrator"
}
''' + group("obs_admins") + assign("obs", "obs_admins", "data.huaweicloud_identity_role.tenant_admin.id",
                                   SCOPES["domain"])})
    assert not findings_of(report, "IMS201")


def test_ims201_not_for_a_global_only_custom_role(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("bucket_reader", "obs:bucket:ListAllMyBuckets", role_type="AX")
                                  + group("image_team")
                                  + assign("global", "image_team", "huaweicloud_identity_role.bucket_reader.id",
                                           SCOPES["domain"])})
    assert not findings_of(report, "IMS201")


# ---- IMS202: no scope, or more than one ------------------------------------------------------

def test_ims202_domain_id_and_project_id_both_set(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("lister", "ims:images:list") + group("image_team")
                                  + assign("both", "image_team", "huaweicloud_identity_role.lister.id",
                                           f'domain_id  = "{DOMAIN_ID}"\n  project_id = "{PROJECT_ID}"')})
    found = findings_of(report, "IMS202")
    assert [(f.resource, f.severity) for f in found] == [("huaweicloud_identity_group_role_assignment.both", "error")]
    assert "domain_id" in found[0].message and "project_id" in found[0].message


def test_ims202_no_scope_at_all_legacy_resource(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("lister", "ims:images:list") + group("image_team") + '''
resource "huaweicloud_identity_role_assignment" "none" {
  group_id = huaweicloud_identity_group.image_team.id
  role_id  = huaweicloud_identity_role.lister.id
}
'''})
    assert [f.resource for f in findings_of(report, "IMS202")] == ["huaweicloud_identity_role_assignment.none"]


def test_ims202_flexibleengine_project_and_enterprise_project(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": f'''
resource "flexibleengine_identity_role_v3" "lister" {{
  name        = "ims-lister"
  description = "list images"
  type        = "XA"
  policy = jsonencode({{
    "Version" : "1.1",
    "Statement" : [{{ "Effect" : "Allow", "Action" : ["ims:images:list"] }}]
  }})
}}
resource "flexibleengine_identity_group_v3" "image_team" {{
  name = "image-team"
}}
resource "flexibleengine_identity_role_assignment_v3" "two" {{
  group_id              = flexibleengine_identity_group_v3.image_team.id
  role_id               = flexibleengine_identity_role_v3.lister.id
  project_id            = "{PROJECT_ID}"
  enterprise_project_id = "{EP_ID}"
}}
'''})
    assert [f.resource for f in findings_of(report, "IMS202")] == ["flexibleengine_identity_role_assignment_v3.two"]


def test_ims202_user_role_assignment_without_enterprise_project(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("lister", "ims:images:list") + '''
resource "huaweicloud_identity_user" "alice" {
  name = "alice"
}
resource "huaweicloud_identity_user_role_assignment" "alice" {
  user_id = huaweicloud_identity_user.alice.id
  role_id = huaweicloud_identity_role.lister.id
}
'''})
    assert [f.resource for f in findings_of(report, "IMS202")] == ["huaweicloud_identity_user_role_assignment.alice"]


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_ims202_not_for_exactly_one_scope(tmp_path: Path, scope: str) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("lister", "ims:images:list") + group("image_team")
                                  + assign("one", "image_team", "huaweicloud_identity_role.lister.id", SCOPES[scope])})
    assert not findings_of(report, "IMS202")


def test_ims202_not_for_a_scope_from_a_variable_with_no_value(tmp_path: Path) -> None:
    # the kind is known (project), only the ID is not
    report = scan_tree(tmp_path, {"main.tf": 'variable "project_id" {\n  type = string\n}\n'
                                  + role("lister", "ims:images:list") + group("image_team")
                                  + assign("one", "image_team", "huaweicloud_identity_role.lister.id",
                                           "project_id = var.project_id")})
    assert not findings_of(report, "IMS202")
    assert not findings_of(report, "IMS203")


# ---- IMS203: custom role with IMS actions that nothing assigns --------------------------------

def test_ims203_unassigned_role(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export") + group("image_team")})
    found = findings_of(report, "IMS203")
    assert [(f.resource, f.severity) for f in found] == [("huaweicloud_identity_role.exporter", "info")]


def test_ims203_flexibleengine_role(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
resource "flexibleengine_identity_role_v3" "exporter" {
  name        = "ims-exporter"
  description = "export images"
  type        = "XA"
  policy      = <<EOF
{
  "Version": "1.1",
  "Statement": [{"Effect": "Allow", "Action": ["ims:images:export"]}]
}
EOF
}
'''})
    assert [f.resource for f in findings_of(report, "IMS203")] == ["flexibleengine_identity_role_v3.exporter"]


def test_ims203_not_for_an_assigned_role(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export") + group("image_team")
                                  + assign("p", "image_team", "huaweicloud_identity_role.exporter.id",
                                           SCOPES["project"])})
    assert not findings_of(report, "IMS203")


def test_ims203_not_for_a_role_an_agency_lists_by_name(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export") + '''
resource "huaweicloud_identity_agency" "ci" {
  name                  = "image-ci"
  delegated_domain_name = "ci-tenant"
  all_resources_roles   = [huaweicloud_identity_role.exporter.name]
}
'''})
    assert not findings_of(report, "IMS203")


def test_ims203_not_for_a_role_without_ims_actions(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("vm_reader", "ecs:cloudServers:list", "evs:volumes:list")})
    assert not findings_of(report, "IMS203")


# ---- IMS204: a role named that is neither custom nor a known system role ----------------------

def test_ims204_typo_in_data_source_display_name_is_a_warning_naming_the_meant_role(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
data "huaweicloud_identity_role" "obs_admin" {
  display_name = "Tenant Adminstrator"
}
'''})
    found = findings_of(report, "IMS204")
    assert [(f.resource, f.severity) for f in found] == [("data.huaweicloud_identity_role.obs_admin", "warning")]
    assert "'Tenant Administrator'" in found[0].message and "Tenant Adminstrator" in found[0].message


def test_ims204_typo_in_agency_role_list(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
resource "huaweicloud_identity_agency" "ecs_images" {
  name                   = "ecs-image-agency"
  delegated_service_name = "op_svc_ecs"
  project_role {
    project = "cn-north-4"
    roles   = ["IMS FulAccess"]
  }
}
'''})
    found = findings_of(report, "IMS204")
    assert [(f.resource, f.severity) for f in found] == [("huaweicloud_identity_agency.ecs_images", "warning")]
    assert "'IMS FullAccess'" in found[0].message


def test_ims204_unknown_name_unlike_any_known_one_is_only_info(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
data "huaweicloud_identity_role" "wizard" {
  display_name = "Image Wizard Access"
}
'''})
    assert [(f.resource, f.severity) for f in findings_of(report, "IMS204")] == [
        ("data.huaweicloud_identity_role.wizard", "info")]


@pytest.mark.parametrize("name_argument, name", [
    ("display_name", "IMS FullAccess"),
    ("display_name", "Tenant Administrator"),
    ("name", "te_admin"),
    ("display_name", "IAM ReadOnlyAccess"),
    ("display_name", "VPC FullAccess"),
    ("display_name", "CTS Administrator"),
    ("name", "system_all_0"),  # an internal name that is not a stable key: a system role, not which
])
def test_ims204_not_for_known_system_roles(tmp_path: Path, name_argument: str, name: str) -> None:
    report = scan_tree(tmp_path, {"main.tf": f'''
data "huaweicloud_identity_role" "known" {{
  {name_argument} = "{name}"
}}
'''})
    assert not findings_of(report, "IMS204")
    assert not findings_of(report, "IMS901")


def test_ims204_not_for_a_custom_role_of_the_scanned_code_named_in_an_agency(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role("exporter", "ims:images:export") + '''
resource "huaweicloud_identity_agency" "ci" {
  name                  = "image-ci"
  delegated_domain_name = "ci-tenant"
  project_role {
    project = "cn-north-4"
    roles   = ["ims-exporter", "IMS FullAccess"]
  }
}
'''})
    assert not findings_of(report, "IMS204")


def test_ims204_former_name_is_info_naming_the_current_one(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
data "huaweicloud_identity_role" "backup" {
  display_name = "CBR Admin"
}
'''})
    found = findings_of(report, "IMS204")
    assert [(f.resource, f.severity) for f in found] == [("data.huaweicloud_identity_role.backup", "info")]
    assert "renamed to 'CBR FullAccess'" in found[0].message and found[0].fix == "use 'CBR FullAccess'"


def test_ims204_never_for_an_empty_name(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
variable "extra_role" {
  type    = string
  default = ""
}
data "huaweicloud_identity_role" "extra" {
  display_name = var.extra_role
}
resource "huaweicloud_identity_agency" "ci" {
  name                  = "image-ci"
  delegated_domain_name = "ci-tenant"
  all_resources_roles   = ["IMS ReadOnlyAccess", var.extra_role]
}
'''})
    assert not findings_of(report, "IMS204")


def test_ims204_never_for_a_custom_role_data_source_which_is_ims901_once(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
data "huaweicloud_identity_custom_role" "state_kms" {
  name = "hfa_terraform_kms"
}
resource "huaweicloud_identity_group" "pipeline" {
  name = "pipeline"
}
resource "huaweicloud_identity_group_role_assignment" "base" {
  group_id   = huaweicloud_identity_group.pipeline.id
  role_id    = data.huaweicloud_identity_custom_role.state_kms.id
  project_id = "all"
}
resource "huaweicloud_identity_group_role_assignment" "app" {
  group_id   = huaweicloud_identity_group.pipeline.id
  role_id    = data.huaweicloud_identity_custom_role.state_kms.id
  project_id = "all"
}
'''})
    assert not findings_of(report, "IMS204")
    unresolved = findings_of(report, "IMS901")
    assert [f.resource for f in unresolved] == ["data.huaweicloud_identity_custom_role.state_kms"]
    assert "hfa_terraform_kms" in unresolved[0].message


def test_ims204_once_per_block_and_name_across_module_instances(tmp_path: Path) -> None:
    agency_module = '''
variable "roles" {
  type = list(string)
}
resource "huaweicloud_identity_agency" "agency" {
  name                  = "audit"
  delegated_domain_name = "audit-tenant"
  domain_roles          = var.roles
}
'''
    report = scan_tree(tmp_path, {
        "modules/agency/main.tf": agency_module,
        "live/main.tf": '''
module "security" {
  source = "../modules/agency"
  roles  = ["Acme Auditor", "CTS Administrator"]
}
module "network" {
  source = "../modules/agency"
  roles  = ["Acme Auditor"]
}
'''})
    found = findings_of(report, "IMS204")
    assert [(f.resource, f.severity, f.line) for f in found] == [
        ("module.network.huaweicloud_identity_agency.agency", "info", 7)]


# ---- IMS205: an RBAC system role without the roles it depends on ------------------------------

def system_grants(*grants: tuple[str, str], intents: str | None = None) -> str:
    """A group holding system roles by data source: (display name, scope argument line)."""
    comment = f"# iac-ims:intent {intents}\n" if intents else ""
    text = comment + '''resource "huaweicloud_identity_group" "image_admins" {
  name = "image-admins"
}
'''
    for index, (name, scope) in enumerate(grants):
        text += f'''
data "huaweicloud_identity_role" "r{index}" {{
  display_name = "{name}"
}}
resource "huaweicloud_identity_group_role_assignment" "a{index}" {{
  group_id = huaweicloud_identity_group.image_admins.id
  role_id  = data.huaweicloud_identity_role.r{index}.id
  {scope}
}}
'''
    return text


PROJECT_SCOPE = f'project_id = "{PROJECT_ID}"'
DOMAIN_SCOPE = f'domain_id = "{DOMAIN_ID}"'


def test_ims205_ims_administrator_without_tenant_administrator(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": system_grants(("IMS Administrator", PROJECT_SCOPE),
                                                            intents="export_image")})
    found = findings_of(report, "IMS205")
    assert [(f.resource, f.severity) for f in found] == [
        ("huaweicloud_identity_group_role_assignment.a0", "warning")]
    assert "Tenant Administrator at global-service scope" in found[0].message
    # what it would grant is neither granted nor failed
    assert not findings_of(report, "IMS300")
    assert [f.operation for f in findings_of(report, "IMS305")] == ["export_image"]


def test_ims205_not_when_the_dependency_is_held_where_it_is_needed(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": system_grants(("IMS Administrator", PROJECT_SCOPE),
                                                            ("Tenant Administrator", DOMAIN_SCOPE),
                                                            intents="list_images")})
    assert not findings_of(report, "IMS205")
    assert not findings_of(report, "IMS305") and not findings_of(report, "IMS300")


def test_ims205_dependency_at_the_wrong_scope_does_not_count(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": system_grants(("IMS Administrator", PROJECT_SCOPE),
                                                            ("Tenant Administrator", PROJECT_SCOPE))})
    assert [f.resource for f in findings_of(report, "IMS205")] == ["huaweicloud_identity_group_role_assignment.a0"]


def test_ims205_server_administrator_names_every_missing_dependency(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": system_grants(("Server Administrator", PROJECT_SCOPE),
                                                            ("Tenant Guest", 'project_id = "all"'))})
    found = findings_of(report, "IMS205")
    assert len(found) == 1
    for name in ("BSS Administrator", "VPC Administrator", "IMS Administrator"):
        assert name in found[0].message
    assert "Tenant Guest" not in found[0].message  # held at all projects, which covers the project


def test_ims205_agency_with_its_dependencies(tmp_path: Path) -> None:
    agency = '''resource "huaweicloud_identity_agency" "image_ops" {
  name                  = "image-ops"
  delegated_domain_name = "ops-tenant"
  domain_roles          = [%s]
  project_role {
    project = "cn-north-4"
    roles   = ["IMS Administrator"]
  }
}
'''
    report = scan_tree(tmp_path / "with", {"main.tf": agency % '"Tenant Administrator"'})
    assert not findings_of(report, "IMS205")
    report = scan_tree(tmp_path / "without", {"main.tf": agency % '"OBS ReadOnlyAccess"'})
    assert [f.resource for f in findings_of(report, "IMS205")] == ["huaweicloud_identity_agency.image_ops"]


def test_ims205_not_when_an_unresolved_role_may_be_the_dependency(tmp_path: Path) -> None:
    text = system_grants(("IMS Administrator", PROJECT_SCOPE)) + f'''
variable "obs_role_id" {{
  type = string
}}
resource "huaweicloud_identity_group_role_assignment" "obs" {{
  group_id  = huaweicloud_identity_group.image_admins.id
  role_id   = var.obs_role_id
  {DOMAIN_SCOPE}
}}
'''
    report = scan_tree(tmp_path, {"main.tf": text})
    assert not findings_of(report, "IMS205")


# ---- THE TABLE TEST --------------------------------------------------------------------------

CATALOG = load_catalog()
OPERATIONS = sorted(op.id for op in CATALOG.operations.values() if op.actions)


def _table_case(operation_id: str, scope: str) -> str:
    operation = CATALOG.operations[operation_id]
    return (role("under_test", *operation.actions, intents=operation_id) + group("image_team")
            + assign("under_test", "image_team", "huaweicloud_identity_role.under_test.id", SCOPES[scope]))


def test_table_covers_the_whole_catalogue() -> None:
    assert len(OPERATIONS) >= 20
    assert {"export_image", "native_upload_image", "native_list_images", "list_images"} <= set(OPERATIONS)
    assert "native_list_versions" not in OPERATIONS  # needs no action


@pytest.mark.parametrize("scope", ["project", "all_projects", "enterprise_project", "domain"])
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_table_every_operation_at_every_scope_kind(tmp_path: Path, operation_id: str, scope: str) -> None:
    operation = CATALOG.operations[operation_id]
    report = scan_tree(tmp_path, {"main.tf": _table_case(operation_id, scope)})
    assert not report.internal_errors
    for_it = [f for f in report.findings if f.operation == operation_id and not f.suppressed]
    ims300 = [f for f in for_it if f.rule_id == "IMS300"]
    ims302 = [f for f in for_it if f.rule_id == "IMS302"]
    assert not ims300, [f.message for f in ims300]  # the role grants exactly what it needs
    if scope in ("project", "all_projects"):
        assert not ims302
        assert not findings_of(report, "IMS201")
    elif scope == "enterprise_project":
        if operation.enterprise_project:
            assert not ims302, [f.message for f in ims302]
        else:
            assert [(f.resource, f.scope) for f in ims302] == [
                ("huaweicloud_identity_group_role_assignment.under_test", "enterprise_project")]
    else:
        assert [(f.resource, f.scope) for f in findings_of(report, "IMS201")] == [
            ("huaweicloud_identity_group_role_assignment.under_test", "domain")]
        assert not ims302
