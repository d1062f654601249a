"""Reading Terraform as Terraform does: every way real code writes a policy resolves to the same
policy object; what cannot be known is IMS901/IMS902; a broken file is IMS900 and nothing more."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import findings_of, rule_ids, scan_tree, write_tree
from iac_ims.pipeline import ScanOptions, analyse

EXPECTED_POLICY = {
    "Version": "1.1",
    "Statement": [{"Effect": "Allow", "Action": ["ims:images:list", "ims:images:get"]}],
}


def _policy_of(root: Path, address: str = "huaweicloud_identity_role.r", **options):
    analysis = analyse([root], ScanOptions(**options))
    instance = next(i for i in analysis.load.instances if i.address == address)
    value = instance.attr("policy")
    return json.loads(value) if isinstance(value, str) else value


def _statements(document: dict) -> list[tuple[str, list[str]]]:
    return [(s["Effect"], sorted(s["Action"])) for s in document["Statement"]]


POLICY_FORMS = {
    "jsonencode_bare_keys": {"main.tf": '''
        resource "huaweicloud_identity_role" "r" {
          name = "reader"
          type = "XA"
          policy = jsonencode({
            Version = "1.1"
            Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:get"] }]
          })
        }
    '''},
    "jsonencode_quoted_keys_with_colons": {"main.tf": '''
        resource "huaweicloud_identity_role" "r" {
          name = "reader"
          type = "XA"
          policy = jsonencode({
            "Version" : "1.1",
            "Statement" : [
              {
                "Effect" : "Allow",
                "Action" : [
                  "ims:images:list",
                  "ims:images:get",
                ]
              }
            ]
          })
        }
    '''},
    "heredoc": {"main.tf": '''
        resource "huaweicloud_identity_role" "r" {
          name   = "reader"
          type   = "XA"
          policy = <<EOF
        {
          "Version": "1.1",
          "Statement": [{"Effect": "Allow", "Action": ["ims:images:list", "ims:images:get"]}]
        }
        EOF
        }
    '''},
    "file_path_module": {
        "main.tf": '''
            resource "huaweicloud_identity_role" "r" {
              name   = "reader"
              type   = "XA"
              policy = file("${path.module}/policies/p.json")
            }
        ''',
        "policies/p.json": json.dumps(EXPECTED_POLICY),
    },
    "jsonencode_jsondecode_file": {
        "main.tf": '''
            resource "huaweicloud_identity_role" "r" {
              name   = "reader"
              type   = "XA"
              policy = jsonencode(jsondecode(file("${path.module}/p.json")))
            }
        ''',
        "p.json": json.dumps(EXPECTED_POLICY, indent=2),
    },
    "templatefile_with_variables": {
        "main.tf": '''
            resource "huaweicloud_identity_role" "r" {
              name   = "reader"
              type   = "XA"
              policy = templatefile("${path.module}/p.json.tpl", { verb = "list", second = "get" })
            }
        ''',
        "p.json.tpl": '{"Version": "1.1", "Statement": [{"Effect": "Allow", '
                      '"Action": ["ims:images:${verb}", "ims:images:${second}"]}]}',
    },
    "tfvars_heredoc_variable": {
        "main.tf": '''
            variable "role_policy" {
              type = string
            }
            resource "huaweicloud_identity_role" "r" {
              name   = "reader"
              type   = "XA"
              policy = var.role_policy
            }
        ''',
        "terraform.tfvars": '''
            role_policy = <<EOT
            {
              "Version": "1.1",
              "Statement": [{"Effect": "Allow", "Action": ["ims:images:list", "ims:images:get"]}]
            }
            EOT
        ''',
    },
    "locals_concat": {"main.tf": '''
        locals {
          list_actions = ["ims:images:list"]
          read_actions = concat(local.list_actions, ["ims:images:get"])
        }
        resource "huaweicloud_identity_role" "r" {
          name = "reader"
          type = "XA"
          policy = jsonencode({
            Version   = "1.1"
            Statement = [{ Effect = "Allow", Action = local.read_actions }]
          })
        }
    '''},
    "module_input": {
        "main.tf": '''
            module "iam" {
              source  = "./modules/role"
              actions = ["ims:images:list", "ims:images:get"]
            }
        ''',
        "modules/role/main.tf": '''
            variable "actions" {
              type = list(string)
            }
            resource "huaweicloud_identity_role" "r" {
              name   = "reader"
              type   = "XA"
              policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = var.actions }] })
            }
        ''',
    },
}


@pytest.mark.parametrize("form", sorted(POLICY_FORMS))
def test_every_policy_form_resolves_to_the_same_policy(tmp_path: Path, form: str) -> None:
    write_tree(tmp_path, POLICY_FORMS[form])
    address = "module.iam.huaweicloud_identity_role.r" if form == "module_input" else "huaweicloud_identity_role.r"
    assert _statements(_policy_of(tmp_path, address)) == _statements(EXPECTED_POLICY)


def test_for_each_over_a_map_of_action_lists_expands_instances(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": '''
        variable "roles" {
          default = {
            lister = ["ims:images:list"]
            reader = ["ims:images:list", "ims:images:get"]
          }
        }
        resource "huaweicloud_identity_role" "r" {
          for_each = var.roles
          name     = "ims-${each.key}"
          type     = "XA"
          policy = jsonencode({
            Version   = "1.1"
            Statement = [{ Effect = "Allow", Action = each.value }]
          })
        }
    '''})
    reader = _policy_of(tmp_path, 'huaweicloud_identity_role.r["reader"]')
    lister = _policy_of(tmp_path, 'huaweicloud_identity_role.r["lister"]')
    assert _statements(reader) == _statements(EXPECTED_POLICY)
    assert _statements(lister) == [("Allow", ["ims:images:list"])]


def test_count_expands_with_indexed_addresses(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": '''
        resource "huaweicloud_identity_group" "g" {
          count = 2
          name  = "group-${count.index}"
        }
    '''})
    analysis = analyse([tmp_path], ScanOptions())
    names = {i.address: i.attr("name") for i in analysis.load.instances}
    assert names == {"huaweicloud_identity_group.g[0]": "group-0", "huaweicloud_identity_group.g[1]": "group-1"}


def test_var_file_and_var_override_tfvars(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "main.tf": '''
            variable "verb" {}
            resource "huaweicloud_identity_role" "r" {
              name   = "x"
              type   = "XA"
              policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:${var.verb}"] }] })
            }
        ''',
        "terraform.tfvars": 'verb = "delete"\n',
        "extra.tfvars": 'verb = "get"\n',
    })
    assert _policy_of(tmp_path)["Statement"][0]["Action"] == ["ims:images:delete"]
    assert _policy_of(tmp_path, var_files=[str(tmp_path / "extra.tfvars")])["Statement"][0]["Action"] == ["ims:images:get"]
    assert _policy_of(tmp_path, variables={"verb": "list"})["Statement"][0]["Action"] == ["ims:images:list"]


def test_called_local_module_is_not_a_separate_root(tmp_path: Path) -> None:
    write_tree(tmp_path, POLICY_FORMS["module_input"])
    analysis = analyse([tmp_path], ScanOptions())
    addresses = sorted(i.address for i in analysis.load.instances)
    assert addresses == ["module.iam.huaweicloud_identity_role.r"]


# ---- unknowns -------------------------------------------------------------------------------

ROLE_WITH = '''
    resource "huaweicloud_identity_role" "r" {{
      name   = "reader"
      type   = "XA"
      policy = {policy}
    }}
'''


@pytest.mark.parametrize("policy, depends_on", [
    ("var.policy_json", "var.policy_json"),
    ("data.huaweicloud_identity_custom_role.base.policy", "data.huaweicloud_identity_custom_role.base"),
    ("module.policies.reader_json", "module.policies"),
])
def test_unresolvable_policy_is_ims901_naming_its_dependency(tmp_path: Path, policy: str, depends_on: str) -> None:
    files = {"main.tf": ROLE_WITH.format(policy=policy) + '''
        variable "policy_json" {
          type = string
        }
        data "huaweicloud_identity_custom_role" "base" {
          name = "base"
        }
        module "policies" {
          source = "git::https://example.com/policies.git"
        }
    '''}
    report = scan_tree(tmp_path, files)
    # an input nobody sets is named once for its module (resource null), anything else on the role
    unknown = [f for f in findings_of(report, "IMS901") if f.resource == "huaweicloud_identity_role.r"
               or (f.resource is None and depends_on.startswith("var."))]
    assert unknown, rule_ids(report)
    assert depends_on in unknown[0].message
    # an unknown policy is neither a pass nor a failure of any policy rule
    assert not [f for f in report.findings if f.rule_id.startswith("IMS1")]


@pytest.mark.parametrize("count, named", [
    ("length(data.huaweicloud_identity_projects.all.projects)", "count"),
    ("var.n", "var.n"),  # an input nobody sets: named once for the module
])
def test_unknown_count_checks_the_block_once_and_reports_it(tmp_path: Path, count: str, named: str) -> None:
    report = scan_tree(tmp_path, {"main.tf": f'''
        variable "n" {{
          type = number
        }}
        data "huaweicloud_identity_projects" "all" {{}}
        resource "huaweicloud_identity_role" "r" {{
          count  = {count}
          name   = "reader"
          type   = "XA"
          policy = jsonencode({{ Version = "1.1", Statement = [{{ Effect = "Allow", Action = ["ims:image:list"] }}] }})
        }}
    '''})
    assert any(named in f.message and f.resource in ("huaweicloud_identity_role.r", None)
               for f in findings_of(report, "IMS901"))
    assert [f.resource for f in findings_of(report, "IMS101")] == ["huaweicloud_identity_role.r"]


def test_path_root_and_cwd_name_the_root_module_directory(tmp_path: Path) -> None:
    """Terraform runs in the root module's directory: from the root and from a called module,
    `path.root` and `path.cwd` both name it."""
    policy = json.dumps(EXPECTED_POLICY)
    write_tree(tmp_path, {
        "policies/reader.json": policy,
        "modules/iam/policies/reader.json": '{"Version": "1.1", "Statement": []}',
        "main.tf": '''
            resource "huaweicloud_identity_role" "r" {
              name   = "reader"
              type   = "XA"
              policy = file("${path.root}/policies/reader.json")
            }
            module "iam" {
              source = "./modules/iam"
            }
        ''',
        "modules/iam/main.tf": '''
            resource "huaweicloud_identity_role" "r" {
              name   = "reader"
              type   = "XA"
              policy = file("${path.cwd}/policies/reader.json")
            }
            resource "huaweicloud_identity_role" "t" {
              name   = "templated"
              type   = "XA"
              policy = templatefile("${path.root}/policies/reader.json", {})
            }
        ''',
    })
    for address in ("huaweicloud_identity_role.r", "module.iam.huaweicloud_identity_role.r",
                     "module.iam.huaweicloud_identity_role.t"):
        assert _statements(_policy_of(tmp_path, address)) == _statements(EXPECTED_POLICY), address
    assert not findings_of(scan_tree(tmp_path), "IMS902")


@pytest.mark.parametrize("expansion", ["for_each = var.roles", "count = length(var.role_list)"])
def test_empty_default_collection_is_zero_instances(tmp_path: Path, expansion: str) -> None:
    report = scan_tree(tmp_path, {"main.tf": f'''
        variable "roles" {{
          type    = map(list(string))
          default = {{}}
        }}
        variable "role_list" {{
          default = []
        }}
        resource "huaweicloud_identity_role" "r" {{
          {expansion}
          name   = "x"
          type   = "XA"
          policy = jsonencode({{ Version = "1.1", Statement = [{{ Effect = "Allow", Action = each.value }}] }})
        }}
    '''})
    assert not [i for i in report.instances if i.type == "huaweicloud_identity_role"]
    assert not findings_of(report, "IMS901")


def test_file_outside_the_tree_is_ims902_and_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "secret.json"
    outside.write_text('{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["TOPSECRET"]}]}')
    root = tmp_path / "repo"
    report = scan_tree(root, {"main.tf": ROLE_WITH.format(policy='file("../secret.json")')})
    assert [f.rule_id for f in report.findings if f.rule_id == "IMS902"] == ["IMS902"]
    assert "TOPSECRET" not in json.dumps([f.to_json() for f in report.findings])


def test_missing_file_is_ims902(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": ROLE_WITH.format(policy='file("${path.module}/nope.json")')})
    assert [f.line for f in findings_of(report, "IMS902")] == [1]


# ---- broken files ---------------------------------------------------------------------------

def test_broken_file_is_ims900_and_the_rest_is_scanned(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {
        "broken.tf": 'resource "huaweicloud_identity_role" "b" {\n  name = "x"\n  policy = jsonencode({\n',
        "good.tf": ROLE_WITH.format(policy='jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", '
                                           'Action = ["ims:images:lsit"] }] })'),
    })
    broken = findings_of(report, "IMS900")
    assert [(f.file, f.resource) for f in broken] == [("broken.tf", None)]
    assert broken[0].line >= 1
    assert [f.file for f in findings_of(report, "IMS101")] == ["good.tf"]


def test_finding_lines_point_at_the_block(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
        # a comment

        resource "huaweicloud_identity_role" "r" {
          name   = "reader"
          type   = "AX"
          policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
        }
    '''})
    ax = findings_of(report, "IMS104")
    assert [(f.line, f.end_line) for f in ax] == [(3, 7)]


def test_policy_template_with_an_unknown_bucket_is_still_read(tmp_path: Path) -> None:
    """A heredoc / templatefile policy whose only unknowns are names inside strings: the rest of
    the policy is analysed (here: the AX role with IMS actions), the unknown parts stay unknown."""
    report = scan_tree(tmp_path, {"main.tf": '''
        variable "bucket" {
          type = string
        }
        resource "huaweicloud_identity_role" "r" {
          name   = "exporter"
          type   = "AX"
          policy = <<EOT
        {
          "Version": "1.1",
          "Statement": [
            {"Effect": "Allow", "Action": ["ims:images:export", "obs:object:${var.bucket}"]}
          ]
        }
        EOT
        }
    '''})
    assert findings_of(report, "IMS104"), rule_ids(report)
    assert not findings_of(report, "IMS901") or all("bucket" in f.message for f in findings_of(report, "IMS901"))


def test_data_source_with_an_unlisted_literal_name_is_a_resolved_system_role(tmp_path: Path) -> None:
    """INTERFACE: a literal display_name identifies a system role (resolved, not IMS901), even one
    the catalogue does not list; what it grants is unknown, so an intent is IMS305, not IMS300."""
    report = scan_tree(tmp_path, {"main.tf": '''
        data "huaweicloud_identity_role" "smn" {
          display_name = "Acme ImageFactory Operator"
        }
        # iac-ims:intent list_images
        resource "huaweicloud_identity_group" "ops" {
          name = "ops"
        }
        resource "huaweicloud_identity_group_role_assignment" "ops_smn" {
          group_id   = huaweicloud_identity_group.ops.id
          role_id    = data.huaweicloud_identity_role.smn.id
          project_id = "all"
        }
    '''})
    assert not findings_of(report, "IMS901"), [f.message for f in findings_of(report, "IMS901")]
    assert [f.severity for f in findings_of(report, "IMS204")] == ["info"]
    assert [f.resource for f in findings_of(report, "IMS305")] == ["huaweicloud_identity_group.ops"]
    assert not findings_of(report, "IMS300")


def test_terraform_json_syntax_is_read_like_hcl(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "variable": {"verb": {"default": "lsit"}},
        "resource": {"huaweicloud_identity_role": {"reader": {
            "name": "reader", "type": "AX",
            "policy": '${jsonencode({Version = "1.1", Statement = [{Effect = "Allow", '
                      'Action = ["ims:images:${var.verb}"]}]})}'}}},
    }, indent=2))
    report = scan_tree(tmp_path)
    assert {f.rule_id for f in report.findings} == {"IMS101", "IMS104", "IMS203"}
    assert all(f.file == "main.tf.json" and f.resource == "huaweicloud_identity_role.reader"
               for f in report.findings)


def test_the_parse_limit_counts_cpu_time_not_waiting():
    """A busy machine must not turn a sound file into an IMS900: the parse limit counts the
    process's own CPU time, so time spent waiting does not count and a runaway parse still stops."""
    import time

    from iac_ims.terraform import parse

    with parse._time_limit(0.2):
        time.sleep(0.4)  # waiting, as when the cores are taken by others: no CPU time used
    with pytest.raises(parse.ParseTimeout):
        with parse._time_limit(0.2):
            give_up = time.process_time() + 10  # a runaway parse (bounded: the test must not hang)
            while time.process_time() < give_up:
                pass
