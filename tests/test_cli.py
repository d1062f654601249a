"""The command line as users and pipelines meet it: commands, exit codes, config, suppressions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, write_tree

SAMPLES = REPO / "sample_configs"
IMAGE_MANAGEMENT_IDS = [
    "list_images", "update_image", "migrate_image_enterprise_project", "create_image", "create_image_from_file",
    "quick_import_system_image", "quick_import_data_image", "create_data_image_from_file", "create_whole_image",
    "register_image", "export_image", "native_list_images", "native_show_image", "native_update_image",
    "native_delete_image", "native_create_image", "native_upload_image", "native_list_versions",
    "native_v1_list_images_detail", "native_v1_head_image", "native_v1_delete_image",
]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "iac_ims", *args], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=120)


ROLE_AX = '''
    resource "huaweicloud_identity_role" "reader" {
      name   = "image-reader"
      type   = "AX"
      policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
    }
'''


# ---- catalog and rules ---------------------------------------------------------------------

def test_installed_command_prints_the_catalogue_from_another_directory() -> None:
    command = Path(sys.executable).parent / "iac-ims"
    if not command.exists():
        pytest.skip("iac-ims is not installed in this environment (the README's test command installs it)")
    result = subprocess.run([str(command), "catalog", "--format", "json"], cwd="/", capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    operations = {op["id"]: op for op in json.loads(result.stdout)["operations"]}
    assert [i for i in IMAGE_MANAGEMENT_IDS if i in operations] == IMAGE_MANAGEMENT_IDS
    export = operations["export_image"]
    assert export == {**export, "method": "POST", "path": "/v1/cloudimages/{image_id}/file",
                      "actions": ["ims:images:export"], "project": True, "enterprise_project": True,
                      "deprecated": False, "replacement": None, "prerequisites": [["Tenant Administrator"]]}


def test_catalog_json_contract_fields() -> None:
    result = run("catalog", "--format", "json")
    assert result.returncode == 0
    first = json.loads(result.stdout)["operations"][0]
    assert list(first)[:10] == ["id", "method", "path", "title", "actions", "project", "enterprise_project",
                                "deprecated", "replacement", "prerequisites"]


def test_rules_lists_every_rule() -> None:
    result = run("rules")
    assert result.returncode == 0
    for rule_id in ("IMS100", "IMS107", "IMS200", "IMS204", "IMS300", "IMS307", "IMS900", "IMS902"):
        assert rule_id in result.stdout


def test_malformed_user_catalogue_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "extra.yaml"
    bad.write_text("operations:\n  - id: x\n    method: GET\n")
    result = run("catalog", "--catalog", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ---- exit codes ---------------------------------------------------------------------------

@pytest.mark.parametrize("fail_on, expected", [("error", 1), ("warning", 1), ("info", 1), ("never", 0)])
def test_fail_on_levels_with_an_error(tmp_path: Path, fail_on: str, expected: int) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX})
    assert run("scan", str(tmp_path), "--fail-on", fail_on).returncode == expected


@pytest.mark.parametrize("fail_on, expected", [("error", 0), ("warning", 0), ("info", 1), ("never", 0)])
def test_fail_on_levels_with_only_info(tmp_path: Path, fail_on: str, expected: int) -> None:
    write_tree(tmp_path, {"main.tf": '''
        resource "huaweicloud_identity_role" "unused" {
          name   = "image-lister"
          type   = "XA"
          policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
        }
    '''})
    result = run("scan", str(tmp_path), "--fail-on", fail_on, "--format", "json")
    rules = {f["rule_id"] for f in json.loads(result.stdout)["findings"]}
    assert rules == {"IMS203"}
    assert result.returncode == expected


def test_clean_scan_exits_zero() -> None:
    assert run("scan", str(SAMPLES / "good_image_pipeline")).returncode == 0


@pytest.mark.parametrize("args", [
    ("scan", "does-not-exist"),
    ("scan", ".", "--fail-on", "sometimes"),
    ("scan", ".", "--no-such-option"),
    ("scan", ".", "--var", "novalue"),
])
def test_usage_errors_are_one_line_and_exit_two(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


# ---- output --------------------------------------------------------------------------------

def test_json_output_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for cache in ("--no-cache", "--no-cache"):  # two real scans, not a stored report
        result = run("scan", str(SAMPLES), "--format", "json", cache)
        document = json.loads(result.stdout)
        document["summary"]["duration_s"] = 0
        outputs.append(json.dumps(document))
    assert outputs[0] == outputs[1]
    document = json.loads(outputs[0])
    assert document["schema_version"] == 1 and document["tool"]["name"] == "iac-ims"
    keys = [(f["file"], f["line"], f["rule_id"]) for f in document["findings"]]
    assert keys == sorted(keys)


def test_several_formats_each_to_its_own_file(tmp_path: Path) -> None:
    json_out, sarif_out = tmp_path / "out.json", tmp_path / "out.sarif"
    result = run("scan", str(SAMPLES), "--format", "json", "--output", str(json_out),
                 "--format", "sarif", "--output", str(sarif_out))
    assert result.returncode == 1
    assert json.loads(json_out.read_text())["schema_version"] == 1
    assert json.loads(sarif_out.read_text())["version"] == "2.1.0"


def test_text_output_has_no_colour_when_not_a_terminal(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX})
    result = run("scan", str(tmp_path))
    assert "\033[" not in result.stdout
    assert "IMS104" in result.stdout and "main.tf" in result.stdout


# ---- suppressions and baseline ------------------------------------------------------------

def test_baseline_suppresses_the_next_scan(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    first = run("scan", str(SAMPLES), "--create-baseline", str(baseline), "--format", "json")
    # the file is written, one line says so, nothing else is printed, and it is not a failure
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("\n") == 1 and first.stdout.startswith(f"iac-ims: wrote ") and str(baseline) in first.stdout
    assert first.stderr == ""
    second = run("scan", str(SAMPLES), "--baseline", str(baseline), "--format", "json")
    assert second.returncode == 0
    document = json.loads(second.stdout)
    assert document["findings"] and all(f["suppressed"] for f in document["findings"])
    assert document["summary"]["suppressed"] == len(document["findings"])
    # text counts them and lists them only with --show-suppressed
    text = run("scan", str(SAMPLES), "--baseline", str(baseline), "--no-color")
    assert text.returncode == 0 and text.stdout.count("\n") == 1
    assert f"{len(document['findings'])} suppressed" in text.stdout
    shown = run("scan", str(SAMPLES), "--baseline", str(baseline), "--no-color", "--show-suppressed")
    assert shown.stdout.count(" suppressed ") >= len(document["findings"])
    github = run("scan", str(SAMPLES), "--baseline", str(baseline), "--format", "github")
    assert github.stdout == ""
    github = run("scan", str(SAMPLES), "--baseline", str(baseline), "--format", "github", "--show-suppressed")
    assert github.stdout.count("::notice ") == len(document["findings"])


def test_comment_suppression_and_its_expiry(tmp_path: Path) -> None:
    live = ROLE_AX.replace('name   = "image-reader"', 'name   = "image-reader"\n      # iac-ims:skip=IMS104:migrating to XA')
    write_tree(tmp_path / "live", {"main.tf": live})
    expired = ROLE_AX.replace('name   = "image-reader"',
                              'name   = "image-reader"\n      # iac-ims:skip=IMS104:exp=2020-01-31:migrating to XA')
    write_tree(tmp_path / "expired", {"main.tf": expired})
    assert run("scan", str(tmp_path / "live")).returncode == 0
    result = run("scan", str(tmp_path / "expired"), "--format", "json")
    assert result.returncode == 1
    finding = next(f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS104")
    assert not finding["suppressed"] and "expired" in finding["message"]


def test_suppression_on_a_module_call_covers_its_resources(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "main.tf": '''
            # iac-ims:skip=IMS104:legacy module, tracked in OPS-12
            module "legacy" {
              source = "./modules/legacy"
            }
        ''',
        "modules/legacy/main.tf": ROLE_AX,
    })
    result = run("scan", str(tmp_path), "--format", "json")
    findings = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS104"]
    assert findings and all(f["suppressed"] for f in findings)
    assert findings[0]["resource"] == "module.legacy.huaweicloud_identity_role.reader"


# ---- configuration -------------------------------------------------------------------------

def test_config_file_is_found_and_applied(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX, ".iac-ims.yml": "skip_rules: [IMS104]\nfail_on: error\n"})
    assert run("scan", str(tmp_path)).returncode == 0


def test_pyproject_section_is_read(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX, "pyproject.toml": '[tool.iac-ims]\nseverity = {IMS104 = "warning"}\n'})
    result = run("scan", str(tmp_path), "--format", "json")
    assert result.returncode == 0
    assert {f["severity"] for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS104"} == {"warning"}


def test_unknown_config_key_is_named(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX, ".iac-ims.yml": "fail_on: error\nfailon: warning\n"})
    result = run("scan", str(tmp_path))
    assert result.returncode == 2 and "failon" in result.stderr


def test_config_intents_drive_intent_rules(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX.replace('"AX"', '"XA"'),
                          ".iac-ims.yml": 'intents:\n  huaweicloud_identity_role.reader: [export_image]\n'})
    result = run("scan", str(tmp_path), "--format", "json")
    rules = {f["rule_id"] for f in json.loads(result.stdout)["findings"]}
    assert "IMS300" in rules


def test_show_config_names_the_source(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX, ".iac-ims.yml": "fail_on: warning\n"})
    result = run("scan", str(tmp_path), "--show-config")
    assert result.returncode == 0
    assert "fail_on: 'warning'" in result.stdout and ".iac-ims.yml" in result.stdout


# ---- explain and graph ------------------------------------------------------------------

def test_explain_a_principal_shows_the_deny() -> None:
    result = run("explain", str(SAMPLES / "bad_deny_shadow"), "huaweicloud_identity_group.image_admins",
                 "--format", "json")
    assert result.returncode == 0
    rows = json.loads(result.stdout)["operations"]
    delete = [r for r in rows if r["operation"] == "native_delete_image"
              and "huaweicloud_identity_group_role_assignment.admins_image_admin" in r["via"]]
    assert delete[0]["state"] == "denied" and "no_image_delete" in delete[0]["why"]
    listing = [r for r in rows if r["operation"] == "list_images" and r["state"] == "allowed"]
    assert listing


def test_explain_unknown_address_is_a_usage_error() -> None:
    result = run("explain", str(SAMPLES / "bad_deny_shadow"), "huaweicloud_identity_group.nobody")
    assert result.returncode == 2


@pytest.mark.parametrize("format_, marker", [("dot", "digraph"), ("mermaid", "flowchart LR"),
                                             ("graphml", "<graphml"), ("json", '"links"')])
def test_graph_formats(format_: str, marker: str) -> None:
    result = run("graph", str(SAMPLES / "bad_deny_shadow"), "--format", format_)
    assert result.returncode == 0 and marker in result.stdout
    assert "huaweicloud_identity_group.image_admins" in result.stdout
    assert "ims:images:delete" in result.stdout


def test_a_failing_check_is_reported_with_what_it_looked_at_and_exit_three(tmp_path: Path) -> None:
    """A bug in one check: exit 3, the check and the resource named, the other checks' findings kept."""
    write_tree(tmp_path, {"main.tf": ROLE_AX, "sitecustomize.py": '''
import iac_ims.checks.policy as checks_policy

def broken(*args, **kwargs):
    raise RuntimeError("simulated bug")

checks_policy.check_policy = broken
'''})
    env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + str(REPO))
    result = subprocess.run([sys.executable, "-m", "iac_ims", "scan", ".", "--no-cache"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert "check 'IMS104' failed while checking huaweicloud_identity_role.reader (main.tf)" in result.stdout
    assert "simulated bug" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert "IMS203" in result.stdout  # the scope checks still ran


def test_malformed_suppression_does_not_apply(tmp_path: Path) -> None:
    bad = ROLE_AX.replace('name   = "image-reader"', 'name   = "image-reader"\n      # iac-ims:skip=IMS104:exp=2027-02-30:typo')
    write_tree(tmp_path, {"main.tf": bad})
    result = run("scan", str(tmp_path), "--format", "json")
    finding = next(f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS104")
    assert not finding["suppressed"] and "not applied" in finding["message"]
    assert result.returncode == 1


def test_duplicate_resource_is_reported(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.tf": ROLE_AX, "b.tf": ROLE_AX.replace('"AX"', '"XA"')})
    result = run("scan", ".", "--format", "json", cwd=tmp_path)
    duplicates = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS900"]
    assert [(f["file"], "declared twice" in f["message"]) for f in duplicates] == [("b.tf", True)]


def test_python_api_is_what_the_cli_uses(tmp_path: Path) -> None:
    import iac_ims

    write_tree(tmp_path, {"main.tf": ROLE_AX})
    report = iac_ims.scan([tmp_path], iac_ims.ScanOptions(skip_rules=["IMS203"]))
    assert isinstance(report, iac_ims.Report)
    assert sorted(f.rule_id for f in report.findings) == ["IMS104"]


def test_explain_and_graph_read_terraform_as_scan_does(tmp_path: Path) -> None:
    extension = tmp_path / "extension.yaml"
    extension.write_text("kind: extension\nsystem_roles:\n  - display_name: ACME Image Reader\n"
                         "    allow: [\"ims:images:list\"]\n    actions_known: true\n")
    write_tree(tmp_path / "tf", {"main.tf": '''
        variable "reader_role" {
          type = string
        }
        data "huaweicloud_identity_role" "reader" {
          display_name = var.reader_role
        }
        resource "huaweicloud_identity_group" "ops" {
          name = "ops"
        }
        resource "huaweicloud_identity_group_role_assignment" "ops" {
          group_id   = huaweicloud_identity_group.ops.id
          role_id    = data.huaweicloud_identity_role.reader.id
          project_id = "all"
        }
    '''})
    options = ["--catalog", str(extension), "--var", "reader_role=ACME Image Reader"]
    explained = run("explain", str(tmp_path / "tf"), "huaweicloud_identity_group.ops", "--format", "json", *options)
    assert explained.returncode == 0, explained.stderr
    rows = json.loads(explained.stdout)["operations"]
    assert {r["state"] for r in rows if r["operation"] == "list_images"} == {"allowed"}
    graphed = run("graph", str(tmp_path / "tf"), "--format", "json", *options, "--exclude", "nothing")
    assert graphed.returncode == 0 and "system:ACME Image Reader" in graphed.stdout


def test_catalog_lists_the_system_roles(tmp_path: Path) -> None:
    text = run("catalog", "--system-roles")
    assert text.returncode == 0
    assert "IMS Administrator (ims_adm)" in text.stdout and "depends on: Tenant Administrator (global)" in text.stdout
    document = json.loads(run("catalog", "--system-roles", "--format", "json").stdout)
    roles = {r["display_name"]: r for r in document["system_roles"]}
    assert len(roles) == 346 and roles["BMS FullAccess"]["ims_grants"] == "unknown"
    assert roles["IMS ReadOnlyAccess"]["former_names"] == ["IMS Viewer"]


@pytest.mark.parametrize("args, config, says", [
    (["--only-rule", "IMS20O"], None, "no rule IMS20O; did you mean IMS200?"),
    (["--skip-rule", "IMS370"], None, "no rule IMS370; did you mean IMS307 or IMS300?"),
    ([], "skip_rules: [IMS1O4]\n", "no rule IMS1O4; did you mean IMS104?"),
    ([], "severity: {IMS2O3: error}\n", "no rule IMS2O3; did you mean IMS203?"),
])
def test_an_unknown_rule_id_is_a_usage_error_before_anything_runs(tmp_path: Path, args, config, says) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX})
    if config:
        (tmp_path / ".iac-ims.yml").write_text(config)
    result = run("scan", ".", "--no-cache", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert says in result.stderr and result.stdout == ""


def test_a_rule_not_selected_does_not_run(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE_AX, "sitecustomize.py": '''
import iac_ims.checks.scope as scope

def broken(*args, **kwargs):
    raise RuntimeError("IMS203 ran although it was not selected")

scope._unassigned_roles.__code__ = broken.__code__
'''})
    env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + str(REPO))
    result = subprocess.run([sys.executable, "-m", "iac_ims", "scan", ".", "--no-cache", "--only-rule", "IMS104"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "IMS104" in result.stdout and "not selected" not in result.stdout
    everything = subprocess.run([sys.executable, "-m", "iac_ims", "scan", ".", "--no-cache"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
    assert everything.returncode == 3 and "not selected" in everything.stdout  # the sabotage is real
