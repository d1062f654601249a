"""Override files are merged into the blocks they override, as Terraform does, whichever order
the files are parsed in (some only on demand, some by worker processes): never "declared twice"."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import findings_of, rule_ids, scan_tree, write_tree
from iac_ims.pipeline import ScanOptions, analyse, mentions_iam_resource
from iac_ims.terraform.loader import Loader
from iac_ims.terraform.overrides import is_override_file

ROLE = '''
resource "huaweicloud_identity_role" "exporter" {
  name        = "exporter"
  type        = "AX"
  description = "exports images"
  policy      = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:export"] }] })
}
'''

AGENCY = '''
resource "huaweicloud_identity_agency" "ecs" {
  name                   = "ecs"
  delegated_service_name = "op_svc_ecs"

  project_role {
    project = "eu-west-101"
    roles   = ["IMS Administrator"]
  }

  dynamic "project_role" {
    for_each = toset(["eu-west-0"])
    content {
      project = project_role.key
      roles   = ["IMS Administrator"]
    }
  }

  lifecycle {
    ignore_changes        = [description]
    create_before_destroy = false
  }
}
'''


def instance(root: Path, address: str, **options):
    analysis = analyse([root], ScanOptions(relative_to=root, **options))
    return next(i for i in analysis.load.instances if i.address == address)


@pytest.mark.parametrize("name, expected", [
    ("override.tf", True), ("override.tf.json", True), ("iam_override.tf", True), ("iam_override.tf.json", True),
    ("overrides.tf", False), ("my-override.tf", False), ("override.tfvars", False), ("main.tf", False),
])
def test_which_files_are_override_files(name: str, expected: bool) -> None:
    assert is_override_file(name) is expected


def test_attribute_of_an_override_replaces_the_original(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE, "override.tf": '''
        resource "huaweicloud_identity_role" "exporter" {
          type = "XA"
        }
    '''})
    role = instance(tmp_path, "huaweicloud_identity_role.exporter")
    assert role.attr("type") == "XA" and role.attr("description") == "exports images"
    assert role.attr_file("type") == "override.tf" and role.attr_file("name") == "main.tf"
    report = scan_tree(tmp_path)
    assert "IMS900" not in rule_ids(report)
    assert not findings_of(report, "IMS104")  # the type that applies is XA


def test_later_overrides_take_precedence(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "main.tf": ROLE,
        "a_override.tf": 'resource "huaweicloud_identity_role" "exporter" {\n  type = "XA"\n  name = "first"\n}\n',
        "b_override.tf.json": '{"resource": {"huaweicloud_identity_role": {"exporter": {"name": "second"}}}}',
    })
    role = instance(tmp_path, "huaweicloud_identity_role.exporter")
    assert (role.attr("name"), role.attr("type")) == ("second", "XA")


def test_nested_blocks_of_a_type_in_the_override_replace_all_of_that_type(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": AGENCY, "agency_override.tf": '''
        resource "huaweicloud_identity_agency" "ecs" {
          project_role {
            project = "ap-southeast-1"
            roles   = ["IMS Administrator"]
          }
          lifecycle {
            create_before_destroy = true
          }
        }
    '''})
    agency = instance(tmp_path, "huaweicloud_identity_agency.ecs")
    assert [b.attr("project") for b in agency.nested("project_role")] == ["ap-southeast-1"]  # dynamic ones too
    (lifecycle,) = agency.block.child_blocks("lifecycle")
    assert sorted(lifecycle.attributes) == ["create_before_destroy", "ignore_changes"]  # merged per argument
    assert agency.attr("name") == "ecs"


def test_locals_and_variables_are_overridden_per_name(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "main.tf": ROLE.replace('"exporter"\n  type', 'local.role_name\n  type'),
        "locals.tf": 'locals {\n  role_name = "base"\n  unrelated = "kept"\n}\n',
        "variables.tf": 'variable "env" {\n  default = "dev"\n}\n',
        "override.tf": 'locals {\n  role_name = "overridden-${var.env}"\n}\nvariable "env" {\n  default = "prod"\n}\n',
    })
    role = instance(tmp_path, "huaweicloud_identity_role.exporter")
    assert role.attr("name") == "overridden-prod"
    assert role.module_instance.local("unrelated") == "kept"


@pytest.mark.parametrize("jobs", [1, 2])
def test_merge_does_not_depend_on_which_files_are_parsed_first(tmp_path: Path, jobs: int) -> None:
    """The override names no IAM resource type, the original is in a file read only on demand."""
    write_tree(tmp_path, {
        "a_override.tf": 'variable "role_type" {\n  default = "XA"\n}\n',
        "main.tf": ROLE.replace('"AX"', "var.role_type"),
        "z_variables.tf": 'variable "role_type" {\n  default = "AX"\n}\n',
    })
    loader = Loader(must_parse=mentions_iam_resource, jobs=jobs)
    result = loader.load([tmp_path])
    role = next(i for i in result.instances if i.type == "huaweicloud_identity_role")
    assert role.attr("type") == "XA"
    assert not [d for d in result.diagnostics if d.rule_id == "IMS900"]


def test_override_of_a_module_call(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "main.tf": 'module "iam" {\n  source = "./old"\n}\n',
        "override.tf": 'module "iam" {\n  source = "./new"\n}\n',
        "new/main.tf": ROLE,
    })
    role = instance(tmp_path, "module.iam.huaweicloud_identity_role.exporter")
    assert role.attr("type") == "AX"
    assert not findings_of(scan_tree(tmp_path), "IMS903")  # ./old is not used


def test_two_declarations_in_ordinary_files_stay_an_error(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"a.tf": ROLE, "b.tf": ROLE, "override.tf": 'variable "x" {\n  default = 1\n}\n'})
    duplicates = [f for f in findings_of(report, "IMS900") if "declared twice" in f.message]
    assert [f.file for f in duplicates] == ["b.tf"]


def test_override_of_nothing_is_read_as_a_declaration(tmp_path: Path) -> None:
    write_tree(tmp_path, {"override.tf": ROLE})
    role = instance(tmp_path, "huaweicloud_identity_role.exporter")
    assert role.attr("name") == "exporter"
