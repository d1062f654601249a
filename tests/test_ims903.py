"""IMS903: what Terraform certainly rejects, reported where it is; nothing that may deploy.

A false IMS903 is an error on code that deploys, so every case here that could depend on
something the scan cannot see (a root-module variable, a workspace, a file, a block that may not
exist, a branch that may not be taken, a file that did not parse) is a negative case."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import findings_of, rule_ids, scan_tree, write_tree
from iac_ims.pipeline import ScanOptions, scan

ROLE = '''
resource "huaweicloud_identity_role" "reader" {
  name   = "reader"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
}
'''


def assignment(project_id: str, name: str = "a") -> str:
    """An assignment of the role whose `project_id` is the expression given."""
    return f'''
resource "huaweicloud_identity_group_role_assignment" "{name}" {{
  group_id   = "g-1"
  role_id    = huaweicloud_identity_role.reader.id
  project_id = {project_id}
}}
'''


def ims903(report) -> list[tuple[str, int, str | None]]:
    return sorted((f.file, f.line, f.resource) for f in findings_of(report, "IMS903"))


def messages(report) -> list[str]:
    return [f.message for f in findings_of(report, "IMS903")]


# ---- local module sources -----------------------------------------------------------------------

@pytest.mark.parametrize("source, files, problem", [
    ("../modules/iam", {}, "local module '../modules/iam' does not exist"),
    ("./modules/iam", {"modules/iam/README.md": "moved to ./v2\n"}, "holds no Terraform file"),
    ("./modules/iam.tf", {"modules/iam.tf": "# a file, not a directory\n"}, "is not a directory"),
])
def test_local_module_that_is_not_there(tmp_path: Path, source: str, files: dict, problem: str) -> None:
    write_tree(tmp_path, files)
    report = scan_tree(tmp_path, {"main.tf": ROLE + f'''
        module "iam" {{
          source = "{source}"
          group  = "ops"
        }}
    '''})
    assert ims903(report) == [("main.tf", 8, "module.iam")]
    assert problem in messages(report)[0]
    assert findings_of(report, "IMS903")[0].severity == "error"
    assert findings_of(report, "IMS203")  # the rest is still scanned


def test_empty_module_called_without_arguments_is_not_rejected(tmp_path: Path) -> None:
    """Terraform reads an empty directory as an empty module: nothing rejects a call without arguments."""
    (tmp_path / "modules" / "placeholder").mkdir(parents=True)
    report = scan_tree(tmp_path, {"main.tf": ROLE + 'module "p" {\n  source = "./modules/placeholder"\n}\n'})
    assert not ims903(report)
    assert any("holds no Terraform file" in f.message for f in findings_of(report, "IMS901"))


def test_module_holding_only_opentofu_files_is_not_rejected(tmp_path: Path) -> None:
    write_tree(tmp_path, {"modules/iam/main.tofu": 'variable "group" {}\n'})
    report = scan_tree(tmp_path, {"main.tf": ROLE + 'module "iam" {\n  source = "./modules/iam"\n  group = "x"\n}\n'})
    assert not ims903(report)


def test_module_argument_the_module_does_not_declare(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {
        "main.tf": ROLE + '''
            module "iam" {
              source  = "./modules/iam"
              group   = "ops"
              grup_id = "typo"
            }
        ''',
        "modules/iam/variables.tf": 'variable "group" {}\n',
    })
    assert ims903(report) == [("main.tf", 10, "module.iam")]
    assert 'declares no variable "grup_id"' in messages(report)[0]


# ---- references to what is not declared ----------------------------------------------------------

@pytest.mark.parametrize("expression, what", [
    ("var.project", 'undeclared input variable "project"'),
    ("local.project", 'undeclared local value "project"'),
    ("huaweicloud_identity_group.ops.id", 'undeclared resource "huaweicloud_identity_group.ops"'),
    ("data.huaweicloud_identity_role.admin.id", 'undeclared data source "data.huaweicloud_identity_role.admin"'),
    ("module.groups.ops_id", 'undeclared module "groups"'),
])
def test_reference_to_something_undeclared(tmp_path: Path, expression: str, what: str) -> None:
    report = scan_tree(tmp_path, {"main.tf": ROLE + assignment(expression)})
    assert ims903(report) == [("main.tf", 10, "huaweicloud_identity_group_role_assignment.a")]
    assert what in messages(report)[0] and "project_id" in messages(report)[0]


def test_the_rest_of_a_value_with_an_undeclared_reference_is_still_read(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": '''
        resource "huaweicloud_identity_role" "reader" {
          name   = "reader"
          type   = "XA"
          policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:lsit", var.extra] }] })
        }
    '''})
    assert ims903(report) == [("main.tf", 4, "huaweicloud_identity_role.reader")]
    assert findings_of(report, "IMS101")  # the misspelt action is still found


def test_values_already_reported_are_marked(tmp_path: Path) -> None:
    from iac_ims.terraform.loader import Loader
    from iac_ims.terraform.values import Invalid

    write_tree(tmp_path, {"main.tf": '''
        locals {
          projects = { dev = "p-dev" }
        }
        resource "huaweicloud_identity_group" "g" {
          name        = var.group_name
          description = local.projects["prod"]
        }
    '''})
    (group,) = Loader().load([tmp_path]).instances
    for name in ("name", "description"):
        value = group.attr(name)
        assert isinstance(value, Invalid) and value.reported, name


def test_undeclared_reference_is_reported_once_where_it_is(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {
        "main.tf": ROLE + '''
            module "team" {
              count  = 3
              source = "./team"
            }
        ''',
        "team/main.tf": '''
            locals {
              name = "team-${var.team_name}"
            }
            resource "huaweicloud_identity_group" "g" {
              name        = local.name
              description = local.name
            }
        ''',
    })
    assert ims903(report) == [("team/main.tf", 2, None)]


@pytest.mark.parametrize("expression", [
    'try(var.project, "all")',
    'can(var.project) ? var.project : "all"',
    'try(local.settings["project"], "all")',
    'lookup(local.settings, "project", "all")',
])
def test_try_can_and_lookup_with_default_are_not_rejected(tmp_path: Path, expression: str) -> None:
    report = scan_tree(tmp_path, {"main.tf": ROLE + 'locals {\n  settings = { region = "eu" }\n}\n'
                                  + assignment(expression)})
    assert not ims903(report), messages(report)


def test_declarations_the_scan_might_not_see_are_never_undeclared(tmp_path: Path) -> None:
    """A file that did not parse, a .tf.json file, a file parsed only on demand, a .tofu file."""
    cases = {
        "broken": {"variables.tf": 'variable "project" {\n  default = "p"\n', "main.tf": "{use}"},
        "json": {"variables.tf.json": '{"variable": {"project": {"default": "p"}}}', "main.tf": "{use}"},
        "lazy": {"variables.tf": 'variable "project" {\n  default = "p"\n}\n', "main.tf": "{use}"},
        "tofu": {"variables.tofu": 'variable "project" {\n  default = "p"\n}\n', "main.tf": "{use}"},
    }
    use = ROLE + assignment("var.project")
    for name, files in cases.items():
        report = scan_tree(tmp_path / name, {k: v.replace("{use}", use) for k, v in files.items()})
        assert not ims903(report), (name, messages(report))
    assert "IMS900" in rule_ids(scan_tree(tmp_path / "broken"))


@pytest.mark.parametrize("jobs", [1, 2])
def test_undeclared_in_a_directory_with_a_syntax_error_is_withdrawn(tmp_path: Path, jobs: int) -> None:
    """Files nothing depends on are syntax-checked last, often in other processes: a syntax error
    found there still makes an undeclared name uncertain (the IMS900 is what Terraform says)."""
    files = {"main.tf": ROLE + assignment("var.project"),
             "network.tf": 'resource "huaweicloud_vpc" "main" {\n  name = "vpc"\n  cidr = \n}\n'}
    files.update({f"extra_{i}.tf": f'resource "huaweicloud_vpc" "v{i}" {{\n  name = "v{i}"\n}}\n' for i in range(6)})
    report = scan_tree(tmp_path, files, jobs=jobs)
    assert "IMS900" in rule_ids(report)
    assert not ims903(report), messages(report)
    clean = scan_tree(tmp_path / "clean", {k: v for k, v in files.items() if k != "network.tf"}, jobs=jobs)
    assert [line for _, line, _ in ims903(clean)] == [10]  # the project_id line


def test_single_file_scan_never_claims_a_sibling_is_missing(tmp_path: Path) -> None:
    write_tree(tmp_path, {"variables.tf": 'variable "project" {}\n', "main.tf": ROLE + assignment("var.project")})
    report = scan([tmp_path / "main.tf"], ScanOptions())
    assert not ims903(report)


# ---- indexes a known collection lacks ------------------------------------------------------------

def test_index_a_literal_map_or_list_lacks(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": ROLE + '''
        locals {
          projects = { dev = "p-dev", prod = "p-prod" }
          ids      = ["p-1", "p-2"]
          staging  = local.projects["staging"]
          third    = local.ids[2]
        }
    ''' + assignment("local.staging") + assignment("local.third", "b")})
    assert ims903(report) == [("main.tf", 10, None), ("main.tf", 11, None)]
    assert any('no element with key "staging"' in m for m in messages(report))
    assert any("index 2 out of range" in m for m in messages(report))


def test_index_into_a_module_input_bound_to_a_literal(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {
        "main.tf": ROLE + '''
            module "grants" {
              source   = "./grants"
              projects = { dev = "p-dev" }
            }
        ''',
        "grants/main.tf": '''
            variable "projects" {}
            resource "huaweicloud_identity_group" "g" {
              name = var.projects["prod"]
            }
        ''',
    })
    assert ims903(report) == [("grants/main.tf", 3, "module.grants.huaweicloud_identity_group.g")]


@pytest.mark.parametrize("setup, expression", [
    ('variable "projects" {\n  default = { dev = "p" }\n}\n', 'var.projects["prod"]'),
    ('variable "env" {\n  default = "prod"\n}\n', 'local.projects[var.env]'),
    ('variable "on" {\n  default = false\n}\n', 'var.on ? local.projects["prod"] : "p"'),
    ('variable "on" {\n  type = bool\n}\n', 'var.on ? local.projects["prod"] : "p"'),
    ("", "local.projects[terraform.workspace]"),
    ("", 'jsondecode(file("${path.module}/projects.json"))["prod"]'),
])
def test_index_that_may_exist_in_a_real_run_is_not_rejected(tmp_path: Path, setup: str, expression: str) -> None:
    report = scan_tree(tmp_path, {
        "projects.json": '{"dev": "p"}',
        "main.tf": ROLE + setup + 'locals {\n  projects = { dev = "p-dev" }\n}\n' + assignment(expression),
    })
    assert not ims903(report), messages(report)


@pytest.mark.parametrize("count", ["var.enabled ? 1 : 0", "length(var.teams)", "var.n"])
def test_index_in_a_block_that_may_not_exist_is_not_rejected(tmp_path: Path, count: str) -> None:
    report = scan_tree(tmp_path, {"main.tf": ROLE + f'''
        variable "enabled" {{
          default = false
        }}
        variable "teams" {{
          default = []
        }}
        variable "n" {{}}
        locals {{
          projects = {{ dev = "p-dev" }}
        }}
        resource "huaweicloud_identity_group" "g" {{
          count = {count}
          name  = local.projects["prod"]
        }}
    '''})
    assert not ims903(report), messages(report)


def test_index_from_a_module_input_set_by_a_root_variable_is_not_rejected(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {
        "main.tf": ROLE + '''
            variable "projects" {
              default = { dev = "p-dev" }
            }
            module "grants" {
              source   = "./grants"
              projects = var.projects
            }
        ''',
        "grants/main.tf": '''
            variable "projects" {}
            resource "huaweicloud_identity_group" "g" {
              name = var.projects["prod"]
            }
        ''',
    })
    assert not ims903(report), messages(report)


def test_ims903_fails_the_run(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": ROLE + 'locals {\n  x = [1][3]\n}\n'
                                  'resource "huaweicloud_identity_group" "g" {\n  name = local.x\n}\n'})
    assert [f.rule_id for f in report.failing("error")] == ["IMS903"]
