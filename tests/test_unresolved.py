"""IMS901, fewer and truer: what cannot be resolved is said once per block and cause, where it can
be fixed, and what Terraform itself can evaluate is not reported at all."""

from __future__ import annotations

from pathlib import Path

from conftest import findings_of, scan_tree

ASSIGN_MODULE = '''
variable "group_id" {
  type = string
}
variable "role_id" {
  type = string
}
resource "huaweicloud_identity_group_role_assignment" "this" {
  group_id   = var.group_id
  role_id    = var.role_id
  project_id = "all"
}
'''

LIVE = '''
# iac-ims:intent list_images
resource "huaweicloud_identity_group" "ops" {
  name = "ops"
}
module "readonly" {
  source   = "../modules/assign"
  group_id = huaweicloud_identity_group.ops.id
  role_id  = "8a1b2c3d4e5f40718293a4b5c6d7e8f9"
}
module "viewer" {
  source   = "../modules/assign"
  group_id = huaweicloud_identity_group.ops.id
  role_id  = "0f9e8d7c6b5a49382716a5b4c3d2e1f0"
}
module "readonly_again" {
  source   = "../modules/assign"
  group_id = huaweicloud_identity_group.ops.id
  role_id  = "8a1b2c3d4e5f40718293a4b5c6d7e8f9"
}
'''


def test_literal_role_ids_are_listed_together_once_per_block(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"modules/assign/main.tf": ASSIGN_MODULE, "live/main.tf": LIVE})
    found = findings_of(report, "IMS901")
    assert len(found) == 1, [f.message for f in found]
    message = found[0].message
    assert found[0].file.endswith("modules/assign/main.tf") and found[0].line == 9
    assert "'8a1b2c3d4e5f40718293a4b5c6d7e8f9', '0f9e8d7c6b5a49382716a5b4c3d2e1f0'" in message
    assert "role_ids" in message and "(in 3 instances of this block)" in message
    # what the roles grant is unknown: the group's intent cannot be confirmed, not failed
    assert not findings_of(report, "IMS300") and findings_of(report, "IMS305")


def test_config_role_ids_resolve_literal_ids(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"modules/assign/main.tf": ASSIGN_MODULE, "live/main.tf": LIVE},
                       role_ids={"8a1b2c3d4e5f40718293a4b5c6d7e8f9": "IMS ReadOnlyAccess",
                                 "0f9e8d7c6b5a49382716a5b4c3d2e1f0": "OBS ReadOnlyAccess"})
    assert not findings_of(report, "IMS901")
    assert not findings_of(report, "IMS305") and not findings_of(report, "IMS300")


def test_inputs_of_a_module_nobody_calls_are_named_once(tmp_path: Path) -> None:
    """A wrapper module scanned on its own: one IMS901 naming its unset inputs, at the first of
    them; no IMS202 for nullable scope inputs, no IMS901 per attribute."""
    report = scan_tree(tmp_path, {"main.tf": '''
resource "flexibleengine_identity_role_assignment_v3" "this" {
  domain_id  = var.domain_id
  group_id   = var.group_id
  project_id = var.project_id
  role_id    = var.role_id
}
''', "variables.tf": '''
variable "domain_id" {
  type    = string
  default = null
}
variable "group_id" {
  type    = string
  default = null
}
variable "project_id" {
  type    = string
  default = null
}
variable "role_id" {
  type = string
}
'''})
    assert not findings_of(report, "IMS202")
    found = findings_of(report, "IMS901")
    assert len(found) == 1, [f.message for f in found]
    assert found[0].file == "variables.tf" and found[0].resource is None
    for name in ("var.role_id", "var.domain_id", "var.project_id"):
        assert name in found[0].message


def test_a_scope_argument_set_to_null_on_purpose_is_still_ims202(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
resource "huaweicloud_identity_group" "ops" {
  name = "ops"
}
data "huaweicloud_identity_role" "reader" {
  display_name = "IMS ReadOnlyAccess"
}
resource "huaweicloud_identity_group_role_assignment" "ops" {
  group_id   = huaweicloud_identity_group.ops.id
  role_id    = data.huaweicloud_identity_role.reader.id
  project_id = null
}
'''})
    assert [f.resource for f in findings_of(report, "IMS202")] == ["huaweicloud_identity_group_role_assignment.ops"]


def test_the_role_v3_data_source_alias_names_a_system_role(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
# iac-ims:intent list_images
resource "huaweicloud_identity_group" "ops" {
  name = "ops"
}
data "huaweicloud_identity_role_v3" "reader" {
  name = "system_all_22"
}
data "huaweicloud_identity_role_v3" "images" {
  display_name = "IMS ReadOnlyAccess"
}
resource "huaweicloud_identity_group_role_assignment" "ops" {
  group_id   = huaweicloud_identity_group.ops.id
  role_id    = data.huaweicloud_identity_role_v3.images.id
  project_id = "all"
}
'''})
    assert not findings_of(report, "IMS901") and not findings_of(report, "IMS204")
    assert not findings_of(report, "IMS300") and not findings_of(report, "IMS305")
