"""In a pipeline: every path a report names opens the file from where the tool ran, each
`--output` goes with its `--format`, and the scan says when it was given nothing to scan."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import REPO, write_tree

MODULE = '''
variable "policy_document" {
  type = string
}
resource "huaweicloud_identity_role" "exporter" {
  name        = "image-exporter"
  description = "exports images"
  type        = "AX"
  policy      = var.policy_document
}
'''

PROD = '''
module "iam" {
  source          = "../../modules/iam"
  policy_document = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:export"] }] })
}
resource "huaweicloud_identity_group" "exporters" {
  name = "exporters"
}
'''


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "iac_ims", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", {"infra/modules/iam/main.tf": MODULE, "infra/envs/prod/main.tf": PROD})


def _paths_in_every_format(cwd: Path, scanned: str, out: Path) -> dict[str, list[str]]:
    """The file paths each format names, scanning `scanned` from `cwd`."""
    result = run("scan", scanned, "--no-cache", "--no-color",
                 "--format", "json", "--output", str(out / "r.json"),
                 "--format", "sarif", "--output", str(out / "r.sarif"),
                 "--format", "github", "--output", str(out / "r.github"),
                 "--format", "junit", "--output", str(out / "r.xml"),
                 "--format", "markdown", "--output", str(out / "r.md"),
                 "--format", "text", cwd=cwd)
    assert result.returncode == 1, result.stderr
    sarif = json.loads((out / "r.sarif").read_text())["runs"][0]
    base = sarif["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert Path(unquote(urlparse(base).path)) == cwd.resolve()
    sarif_paths = []
    for result_ in sarif["results"]:
        location = result_["locations"][0]["physicalLocation"]["artifactLocation"]
        if "uriBaseId" in location:
            assert location["uriBaseId"] == "%SRCROOT%"
            sarif_paths.append(unquote(location["uri"]))
        else:
            assert location["uri"].startswith("file:///")
            sarif_paths.append(unquote(urlparse(location["uri"]).path))
    junit = ET.fromstring((out / "r.xml").read_text())
    return {
        "json": [f["file"] for f in json.loads((out / "r.json").read_text())["findings"]],
        "sarif": sarif_paths,
        "github": re.findall(r"file=([^,]+),", (out / "r.github").read_text()),
        "junit": [case.get("file") for case in junit.iter("testcase") if case.get("file")],
        "markdown": re.findall(r"\| ([^ |]+\.tf):\d+ \|", (out / "r.md").read_text()),
        "text": [line for line in result.stdout.splitlines() if line.endswith(".tf")],
    }


@pytest.mark.parametrize("cwd, scanned", [(".", "infra/envs/prod"), ("infra", "envs/prod"),
                                          ("infra/envs/prod", ".")])
def test_paths_resolve_from_the_working_directory_in_every_format(repository: Path, tmp_path: Path, cwd: str,
                                                                   scanned: str) -> None:
    where = repository / cwd
    by_format = _paths_in_every_format(where, scanned, tmp_path)
    module_file = repository / "infra/modules/iam/main.tf"
    inside = not os.path.relpath(module_file, where).startswith("..")
    for name, paths in by_format.items():
        assert paths, name
        for path in paths:
            assert "\\" not in path and ".." not in path.split("/"), (name, path)
            assert (where / path).is_file(), (name, path)  # an absolute path joins to itself
            assert path.startswith("/") == (not inside and path.endswith("modules/iam/main.tf")), (name, path)
    shown = os.path.relpath(module_file, where) if inside else str(module_file.resolve())
    assert shown in by_format["json"]


def test_a_file_outside_the_working_directory_is_named_absolutely(repository: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_format = _paths_in_every_format(elsewhere, str(repository / "infra/envs/prod"), tmp_path)
    for name, paths in by_format.items():
        for path in paths:
            assert path.startswith("/") and Path(path).is_file(), (name, path)
    sarif = json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"]
    location = sarif[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"].startswith("file:///") and "uriBaseId" not in location


# ---- --format / --output -----------------------------------------------------------------------

def test_each_output_goes_with_the_format_right_before_it(repository: Path, tmp_path: Path) -> None:
    result = run("scan", "infra", "--no-cache", "--format", "text", "--format", "sarif",
                 "--output", str(tmp_path / "b.sarif"), cwd=repository)
    assert json.loads((tmp_path / "b.sarif").read_text())["version"] == "2.1.0"
    assert "IMS104" in result.stdout and not result.stdout.lstrip().startswith("{")


@pytest.mark.parametrize("args, says", [
    (["--format", "sarif", "--format", "json"], "--format sarif and --format json would both print to standard"),
    (["--output", "x.json", "--format", "json"], "comes before any --format"),
    (["--format", "json", "--output", "a.json", "--output", "b.json"], "already has an --output"),
])
def test_output_mistakes_are_usage_errors(repository: Path, args: list[str], says: str) -> None:
    result = run("scan", "infra", *args, cwd=repository)
    assert result.returncode == 2 and says in result.stderr and result.stdout == ""


def test_one_output_without_a_format_takes_the_text_report(repository: Path, tmp_path: Path) -> None:
    result = run("scan", "infra", "--no-cache", "--output", str(tmp_path / "report.txt"), cwd=repository)
    assert result.returncode == 1 and result.stdout == ""
    assert "IMS104" in (tmp_path / "report.txt").read_text()


# ---- what is scanned ---------------------------------------------------------------------------

def test_exclude_leaves_out_a_vendored_copy_of_the_tool(repository: Path) -> None:
    vendored = repository / "tools/iac-ims/sample_configs/bad_ax_role"
    write_tree(vendored, {"main.tf": MODULE.replace("var.policy_document", '"{}"')})
    with_it = run("scan", ".", "--no-cache", "--format", "json", cwd=repository)
    assert any(f["file"].startswith("tools/") for f in json.loads(with_it.stdout)["findings"])
    for args in (["--exclude", "tools/iac-ims"], ["--exclude", "sample_configs"], ["--exclude", "tools/*"]):
        without = run("scan", ".", "--no-cache", "--format", "json", *args, cwd=repository)
        files = {f["file"] for f in json.loads(without.stdout)["findings"]}
        assert files and not any(f.startswith("tools/") for f in files), (args, files)
    (repository / ".iac-ims.yml").write_text("exclude: [tools/iac-ims]\n")
    configured = run("scan", ".", "--no-cache", "--format", "json", cwd=repository)
    assert not any(f["file"].startswith("tools/") for f in json.loads(configured.stdout)["findings"])


def test_an_excluded_file_makes_no_name_of_its_module_certainly_undeclared(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": MODULE, "variables_test.tf": ""})
    (tmp_path / "main.tf").write_text(MODULE.replace('variable "policy_document" {\n  type = string\n}\n', ""))
    (tmp_path / "inputs.tf").write_text('variable "policy_document" {\n  type = string\n}\n')
    result = run("scan", ".", "--no-cache", "--format", "json", "--exclude", "inputs.tf", cwd=tmp_path)
    assert not [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS903"]


@pytest.mark.parametrize("name, text", [("README.md", "# infra\n"), ("notes.txt", "x\n"), ("main.tf.bak", "x\n")])
def test_a_file_argument_that_is_not_terraform_is_a_usage_error(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    result = run("scan", name, cwd=tmp_path)
    assert result.returncode == 2
    assert f"{name} is not a Terraform file (.tf, .tf.json or .tfvars)" in result.stderr


def test_nothing_to_scan_is_a_usage_error_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# nothing here\n")
    result = run("scan", ".", cwd=tmp_path)
    assert result.returncode == 2 and "no Terraform files under ." in result.stderr
    allowed = run("scan", ".", "--allow-empty", cwd=tmp_path)
    assert allowed.returncode == 0 and "0 files" in allowed.stdout


# ---- findings about a module input point at the caller -----------------------------------------

def test_a_finding_about_a_module_input_is_located_at_the_callers_argument(repository: Path, tmp_path: Path) -> None:
    result = run("scan", ".", "--no-cache", "--format", "json", "--output", str(tmp_path / "r.json"),
                 "--format", "sarif", "--output", str(tmp_path / "r.sarif"), "--format", "text", "--no-color",
                 cwd=repository / "infra")
    [finding] = [f for f in json.loads((tmp_path / "r.json").read_text())["findings"] if f["rule_id"] == "IMS104"]
    assert (finding["file"], finding["line"]) == ("envs/prod/main.tf", 3)  # policy_document = ...
    assert finding["resource"] == "module.iam.huaweicloud_identity_role.exporter"
    assert finding["related"] == [{"file": "modules/iam/main.tf", "line": 8,
                                   "message": "where the module uses this input"}]
    [sarif] = [r for r in json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"]
               if r["ruleId"] == "IMS104"]
    related = sarif["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == "modules/iam/main.tf" and related["region"]["startLine"] == 8
    assert "where the module uses this input: modules/iam/main.tf:8" in result.stdout


def test_through_two_modules_the_outermost_argument_is_named(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "modules/iam/main.tf": MODULE,
        "modules/team/main.tf": '''
variable "team_policy" {
  type = string
}
module "roles" {
  source          = "../iam"
  policy_document = var.team_policy
}
''',
        "live/main.tf": '''
module "images" {
  source      = "../modules/team"
  team_policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:lsit"] }] })
}
'''})
    result = run("scan", ".", "--no-cache", "--format", "json", cwd=tmp_path)
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS101"]
    assert (finding["file"], finding["line"]) == ("live/main.tf", 3)
    assert [(r["file"], r["line"], r["message"]) for r in finding["related"]] == [
        ("modules/team/main.tf", 6, "where the input is passed on"),
        ("modules/iam/main.tf", 8, "where the module uses this input")]


def test_a_value_decided_in_the_module_stays_there(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "modules/iam/main.tf": MODULE.replace("var.policy_document", 'jsonencode({ Version = "1.1", Statement = '
                                              '[{ Effect = "Allow", Action = ["ims:images:lsit"] }] })'),
        "live/main.tf": 'module "iam" {\n  source          = "../modules/iam"\n  policy_document = "x"\n}\n'})
    result = run("scan", ".", "--no-cache", "--format", "json", cwd=tmp_path)
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS101"]
    assert finding["file"] == "modules/iam/main.tf" and "related" not in finding
