"""Root-module inputs without a value (ModuleInstance.is_root / unset_variable /
nullable_unset_variable) and `direct_variable`, the API the IAM layer uses to name them."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import attr_expr, write_tree
from iac_ims.terraform.inputs import direct_variable
from iac_ims.terraform.loader import Loader
from iac_ims.terraform.modules import ModuleInstance
from iac_ims.terraform.parse import Attribute, Block, parse_source

VARIABLES = '''
variable "project_id" {}

variable "domain_id" {
  default = null
}

variable "region" {
  default = "eu-west-101"
}

variable "from_tfvars" {}

variable "from_cli" {}

variable "from_var_file" {
  default = null
}
'''

CALL = '''
module "child" {
  source     = "./child"
  project_id = "p-1"
}
'''


def roots(tmp_path: Path, files: dict[str, str], **options) -> dict[str, ModuleInstance]:
    write_tree(tmp_path, files)
    result = Loader(**options).load([tmp_path])
    return {m.source.directory.name: m for m in result.root_modules}


def test_unset_and_nullable_root_variables(tmp_path: Path) -> None:
    write_tree(tmp_path, {"extra.tfvars": 'from_var_file = "f"\n'})
    (root,) = roots(tmp_path / "root", {"main.tf": VARIABLES, "terraform.tfvars": 'from_tfvars = "t"\n'},
                    variables={"from_cli": "c"}, var_files=[tmp_path / "extra.tfvars"]).values()
    assert root.is_root
    assert root.unset_variable("project_id").labels == ("project_id",)
    assert root.unset_variable("domain_id") is None  # it has a default (null)
    assert root.nullable_unset_variable("domain_id").labels == ("domain_id",)
    for name in ("region", "from_tfvars", "from_cli", "from_var_file", "undeclared"):
        assert root.unset_variable(name) is None and root.nullable_unset_variable(name) is None, name
    assert root.nullable_unset_variable("project_id") is None


def test_a_called_module_is_not_a_root(tmp_path: Path) -> None:
    modules = roots(tmp_path, {"main.tf": CALL, "child/main.tf": VARIABLES})
    assert list(modules) == [tmp_path.name]
    child = modules[tmp_path.name].children["child"][None]
    assert not child.is_root
    assert child.unset_variable("from_tfvars") is None and child.nullable_unset_variable("domain_id") is None


def test_a_module_nobody_calls_is_a_root(tmp_path: Path) -> None:
    modules = roots(tmp_path, {"main.tf": 'resource "huaweicloud_identity_group" "g" {\n  name = "g"\n}\n',
                               "modules/iam/variables.tf": VARIABLES})
    assert modules["iam"].is_root and modules["iam"].unset_variable("project_id") is not None


def test_resource_instances_name_their_module_instance(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": VARIABLES + '''
        resource "huaweicloud_identity_group_role_assignment" "a" {
          group_id   = "g"
          role_id    = "r"
          project_id = var.project_id
        }
    '''})
    (assignment,) = Loader().load([tmp_path]).instances
    module = assignment.module_instance
    assert module.is_root and module.unset_variable(direct_variable(assignment, "project_id")) is not None


SOURCE = '''
resource "huaweicloud_identity_agency" "a" {
  plain       = var.domain_id
  wrapped     = (var.domain_id)
  template    = "${var.domain_id}"
  commented   = var.domain_id # the domain
  multiline = (
    var.domain_id
  )
  attribute   = var.domain_id.id
  indexed     = var.domain_id[0]
  with_text   = "d-${var.domain_id}"
  tried       = try(var.domain_id, null)
  coalesced   = coalesce(var.domain_id, "x")
  conditional = var.on ? var.domain_id : null
  local_value = local.domain_id
  literal     = "var.domain_id"
}
'''
DIRECT = {"plain", "wrapped", "template", "commented", "multiline"}


def test_direct_variable_on_lean_trees() -> None:
    (block,) = parse_source(Path("main.tf"), "main.tf", SOURCE).blocks
    assert {name: direct_variable(block, name) for name in block.attributes} == {
        name: "domain_id" if name in DIRECT else None for name in block.attributes}
    assert direct_variable(block, "absent") is None


def test_direct_variable_on_python_hcl2_trees() -> None:
    names = [line.split("=")[0].strip() for line in SOURCE.splitlines() if " = " in line]
    attributes = {n: Attribute(n, attr_expr(SOURCE, n), 1, 1) for n in names}
    block = Block("resource", ("huaweicloud_identity_agency", "a"), attributes, [], "main.tf", 1, 1)
    assert {n: direct_variable(block, n) for n in names} == {n: "domain_id" if n in DIRECT else None for n in names}


@pytest.mark.parametrize("value, expected", [
    ("${var.domain_id}", "domain_id"), ("${ var.domain_id }", "domain_id"), ("d-${var.domain_id}", None),
    ("var.domain_id", None), (["${var.domain_id}"], None), (None, None),
])
def test_direct_variable_in_json_syntax(value, expected) -> None:
    import json

    text = json.dumps({"resource": {"huaweicloud_identity_agency": {"a": {"domain_id": value}}}})
    (block,) = parse_source(Path("main.tf.json"), "main.tf.json", text).blocks
    assert direct_variable(block, "domain_id") == expected
