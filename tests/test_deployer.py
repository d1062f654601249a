"""Can the deployer (the identity that runs terraform) apply what is scanned? IMS305 and
IMS308-IMS311 on Terraform written for the purpose, the roles `iac-ims requirements` writes
scanned back, and the command line of both."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import hcl2
import pytest

from conftest import findings_of, scan_tree, write_tree
from test_directives import run
from test_requirements import CATALOG, ENTRIES, UNRESOLVED_IMAGE, block, load_instances, needs_by_block, satisfying

DEPLOYER = "huaweicloud_identity_group.image_ci"


def deployer_holding(actions: list[str], scope: str, *, mark: bool = True) -> str:
    """The CI group that runs terraform, with one XA role of `actions` assigned at `scope` (an
    assignment argument, e.g. `project_id = "all"`)."""
    listed = ", ".join(json.dumps(a) for a in actions)
    return f'''
{"# iac-ims:deployer" if mark else ""}
resource "huaweicloud_identity_group" "image_ci" {{
  name = "image-ci"
}}

resource "huaweicloud_identity_role" "image_ci" {{
  name        = "image-ci"
  type        = "XA"
  description = "Build golden images"
  policy = jsonencode({{
    Version = "1.1"
    Statement = [{{
      Effect = "Allow"
      Action = [{listed}]
    }}]
  }})
}}

resource "huaweicloud_identity_group_role_assignment" "image_ci" {{
  group_id = huaweicloud_identity_group.image_ci.id
  role_id  = huaweicloud_identity_role.image_ci.id
  {scope}
}}
'''


def deployer_rules(report) -> list[str]:
    return sorted(f.rule_id for f in report.findings if not f.suppressed and f.resource == DEPLOYER)


# ---- an argument whose value is unknown: possible needs are IMS305 (or IMS311), never errors ---

REFRESH_AND_DELETE = ["ims:images:list", "ims:images:get", "ims:images:update", "ims:images:delete"]


def test_a_need_that_rests_on_an_unknown_argument_is_ims305_not_an_error(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": UNRESOLVED_IMAGE,
                                  "iam.tf": deployer_holding(REFRESH_AND_DELETE, 'project_id = "all"')})
    rules = deployer_rules(report)
    assert "IMS305" in rules and set(rules) <= {"IMS305", "IMS311"}, rules
    [unsure] = findings_of(report, "IMS305")
    assert "ims:serverImages:create" in unsure.message and "ims:wholeImages:create" in unsure.message


def test_the_same_need_known_to_happen_is_ims308(tmp_path: Path) -> None:
    known = UNRESOLVED_IMAGE.replace("type = string", 'type    = string\n  default = "4f9a1c2e-7b3d-4e5f"')
    report = scan_tree(tmp_path, {"main.tf": known,
                                  "iam.tf": deployer_holding(REFRESH_AND_DELETE, 'project_id = "all"')})
    [missing] = findings_of(report, "IMS308")
    assert missing.resource == DEPLOYER and "ims:serverImages:create" in missing.message
    assert "ims:wholeImages:create" not in missing.message  # made from the server, not from a backup


# ---- held only through an enterprise project ---------------------------------------------------

IMS_IMAGES = [e for e in ENTRIES if e.kind == "resource" and re.fullmatch(r"huaweicloud_ims_\w+_image", e.type)]


def needed_actions(tmp_path: Path, text: str) -> list[str]:
    """Every action of the least-privilege XA roles for `text` (as `iac-ims requirements` writes them)."""
    from iac_ims.least_privilege import deployer_policy
    from iac_ims.requirements import by_resource, needs

    groups = by_resource(needs(load_instances(tmp_path, {"main.tf": text}), CATALOG), CATALOG)
    return [a for role in deployer_policy(groups, CATALOG).roles if role.level == "project" for a in role.actions]


@pytest.mark.parametrize("entry", IMS_IMAGES, ids=lambda e: e.type)
def test_an_ep_only_deployer_cannot_make_the_calls_an_enterprise_project_cannot_grant(tmp_path, entry) -> None:
    image = block(entry, "golden", {"name": '"golden-image"', "description": '"built by CI"'})
    actions = needed_actions(tmp_path / "needs", image)
    # the calls every apply makes whose API cannot be granted through an enterprise project
    refused = [c.api for c in entry.calls if c.enterprise_project == "no" and c.when.form == "always"
               and c.phase != "import" and any(CATALOG.is_ims_action(a) for a in c.actions)]
    assert refused, f"{entry.type}: the map has no call an enterprise project cannot grant"
    assert any(c.phase == "read" and c.api.endswith("/tags") for c in entry.calls if c.api in refused)

    ep_only = scan_tree(tmp_path / "ep", {"main.tf": image,
                                          "iam.tf": deployer_holding(actions, 'enterprise_project_id = "0"')})
    [finding] = findings_of(ep_only, "IMS309")
    assert finding.resource == DEPLOYER
    for api in refused:
        assert api in finding.message, f"IMS309 does not name {api}: {finding.message}"
    assert not findings_of(ep_only, "IMS308")

    everywhere = scan_tree(tmp_path / "all", {"main.tf": image,
                                              "iam.tf": deployer_holding(actions, 'project_id = "all"')})
    assert not findings_of(everywhere, "IMS309") and not findings_of(everywhere, "IMS308")


# ---- the roles `iac-ims requirements` writes, given to the deployer --------------------------

DOMAIN_ID = "9f8e7d6c5b4a43210fedcba987654321"


def invoke(*args: str, exit_code: int = 0) -> str:
    """`iac-ims ARGS`, in this process: its standard output."""
    from click.testing import CliRunner

    from iac_ims.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return result.stdout


def requirements_cli(*args: str) -> str:
    return invoke("requirements", *args)


def every_way(entry) -> str:
    """A block for every way of making every call of the entry happen (see test_requirements)."""
    return "".join(block(entry, f"call{i}_way{n}", way.arguments)
                   for i, call in enumerate(entry.calls) for n, way in enumerate(satisfying(call.when)))


def roles_in(terraform: str) -> list[tuple[str, str]]:
    """(name, type) of every `huaweicloud_identity_role` the Terraform text declares, read by
    python-hcl2 (which keeps the quotes of labels and strings)."""
    return [(name.strip('"'), body["type"].strip('"')) for resource in hcl2.loads(terraform)["resource"]
            for kind, blocks in resource.items() if kind.strip('"') == "huaweicloud_identity_role"
            for name, body in blocks.items()]


def assignments_of_generated_roles(terraform: str) -> str:
    """The deployer group, and an assignment of each role in `terraform` at the scope its type
    asks for: XA in every project, AX at global-service scope."""
    roles = roles_in(terraform)
    assert roles, "requirements wrote no role"
    scope = {"XA": 'project_id = "all"', "AX": f'domain_id  = "{DOMAIN_ID}"'}
    group = '# iac-ims:deployer\nresource "huaweicloud_identity_group" "image_ci" {\n  name = "image-ci"\n}\n'
    return group + "".join(f'''
resource "huaweicloud_identity_group_role_assignment" "{name}" {{
  group_id = huaweicloud_identity_group.image_ci.id
  role_id  = huaweicloud_identity_role.{name}.id
  {scope[role_type]}
}}
''' for name, role_type in roles)


def assignments_of_system_roles(written: dict) -> str:
    """An assignment to the deployer group of one of each system role `requirements` says is
    needed beside its roles, at the scope of the role's service."""
    text = ""
    for index, need in enumerate(written["system_roles"]):
        global_ = CATALOG.services[need["service"]].level == "global"
        text += f'''
data "huaweicloud_identity_role" "needed_{index}" {{
  display_name = {json.dumps(need["any_of"][-1])}
}}

resource "huaweicloud_identity_group_role_assignment" "needed_{index}" {{
  group_id = huaweicloud_identity_group.image_ci.id
  role_id  = data.huaweicloud_identity_role.needed_{index}.id
  {f'domain_id  = "{DOMAIN_ID}"' if global_ else 'project_id = "all"'}
}}
'''
    return text


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.key)
def test_the_written_roles_let_the_deployer_apply_what_they_were_written_for(tmp_path: Path, entry) -> None:
    from iac_ims.checks.policy_document import DOCUMENT_RULES, check_policy
    from iac_ims.iam.policy_parse import parse_policy

    write_tree(tmp_path, {"main.tf": every_way(entry)})
    terraform = requirements_cli(str(tmp_path), "--format", "terraform")
    written = json.loads(requirements_cli(str(tmp_path), "--format", "json"))
    assert sorted((r["name"].replace("-", "_"), r["type"]) for r in written["roles"]) == sorted(roles_in(terraform))

    deployer = assignments_of_generated_roles(terraform)
    report = scan_tree(tmp_path, {"roles.tf": terraform, "iam.tf": deployer})
    wrong = [f"{f.rule_id}: {f.message}" for f in report.findings if not f.suppressed
             and (f.rule_id in ("IMS308", "IMS309") or "IMS100" <= f.rule_id <= "IMS107")]
    assert not wrong, "\n".join(wrong)
    assert not report.internal_errors
    assert bool(findings_of(report, "IMS311")) == bool(written["unconfirmed"])  # what cannot be checked is said

    for role in written["roles"]:
        rules = [r for r in DOCUMENT_RULES if r <= "IMS106"]  # IMS107 is the scan's: the roles declare intents
        problems = check_policy(parse_policy(role["policy"]), CATALOG, role_type=role["type"], rules=rules)
        assert not problems, f"{role['name']}: {[p.message for p in problems]}"

    # with the system roles it lists as well, nothing is missing: all that is left is what no
    # permission table confirms
    report = scan_tree(tmp_path, {"iam.tf": deployer + assignments_of_system_roles(written)})
    left = [f"{f.rule_id}: {f.message}" for f in report.findings if not f.suppressed and f.rule_id != "IMS311"]
    assert not left, "\n".join(left)

    # one certainly needed IMS action fewer, and the deployer is one action short
    certain = next(a["action"] for r in written["resources"] for a in r["actions"]
                   if a["certain"] and CATALOG.is_ims_action(a["action"]))
    short = terraform.replace(f"        {json.dumps(certain)},\n", "")
    assert short != terraform
    report = scan_tree(tmp_path / "short", {"main.tf": every_way(entry), "roles.tf": short, "iam.tf": deployer})
    assert findings_of(report, "IMS308") and all(certain in f.message for f in findings_of(report, "IMS308"))


# ---- the command line ------------------------------------------------------------------------

PIPELINE = {
    "main.tf": '''
        variable "region" {
          type    = string
          default = "cn-north-4"
        }

        data "huaweicloud_images_images" "base" {
          name_regex = "^Ubuntu 22.04"
        }

        resource "huaweicloud_ims_ecs_system_image" "golden" {
          name        = "golden-ubuntu-22.04"
          instance_id = "4f9a1c2e-7b3d-4e5f-9a8b-1c2d3e4f5a6b"
          description = "Hardened Ubuntu 22.04 built by CI"
        }

        resource "huaweicloud_images_image_copy" "golden_dr" {
          region          = var.region
          source_image_id = huaweicloud_ims_ecs_system_image.golden.id
          name            = "golden-ubuntu-22.04-dr"
          target_region   = "cn-east-3"
        }
        ''',
    # the CI group, one action short: it cannot copy the image
    "iam.tf": deployer_holding(["ims:serverImages:create", "ims:images:list", "ims:images:update",
                                "ims:images:delete", "ims:images:get"], 'project_id = "all"', mark=False),
}
PIPELINE_TYPES = ("huaweicloud_ims_ecs_system_image", "huaweicloud_images_image_copy", "data.huaweicloud_images_images")
JOB_POLL = "GET /v1/{project_id}/jobs/{job_id}"


def calls_of(keys=PIPELINE_TYPES):
    return [call for key in keys for call in CATALOG.provider_calls[key].calls]


def test_requirements_json_has_the_documented_shape(tmp_path: Path) -> None:
    write_tree(tmp_path, PIPELINE)
    result = run("requirements", ".", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"schema_version", "tool", "phases", "resources", "roles", "system_roles", "unconfirmed"}
    assert document["schema_version"] == 1 and document["tool"]["name"] == "iac-ims"
    assert document["phases"] == ["plan", "apply", "destroy"]
    assert sorted(r["address"] for r in document["resources"]) == [
        "data.huaweicloud_images_images.base", "huaweicloud_images_image_copy.golden_dr",
        "huaweicloud_ims_ecs_system_image.golden"]
    copy = next(r for r in document["resources"] if r["type"] == "huaweicloud_images_image_copy")
    assert copy["file"] == "main.tf" and copy["instances"] == ["huaweicloud_images_image_copy.golden_dr"]
    # target_region differs from region: the cross-region API, which an enterprise project cannot grant
    [copying] = [a for a in copy["actions"] if a["action"] == "ims:images:copy"]
    assert copying["certain"] and copying["calls"] == ["POST /v1/cloudimages/{image_id}/cross_region_copy"]
    assert copying["enterprise_project"] == "no" and copying["phases"] == ["apply"]


def test_requirements_of_plan_only_are_the_refreshes_and_reads(tmp_path: Path) -> None:
    write_tree(tmp_path, PIPELINE)
    document = json.loads(requirements_cli(str(tmp_path), "--format", "json", "--phase", "plan"))
    assert document["phases"] == ["plan"]
    read = {c.api for c in calls_of() if c.phase == "read"}
    not_read = {c.api for c in calls_of() if c.phase != "read"} - read
    for resource in document["resources"]:
        for need in resource["actions"]:
            assert need["phases"] == ["plan"] and need["provider_phases"] == ["read"], need
            assert set(need["calls"]) <= read
        assert not {u["call"] for u in resource["unconfirmed"]} & not_read
    written = {a for role in document["roles"] for a in role["policy"]["Statement"][0]["Action"]}
    assert written == {a for c in calls_of() if c.phase == "read" for a in c.actions}
    assert "ims:serverImages:create" not in written and "ims:images:copy" not in written
    assert not any(api in json.dumps(document) for api in not_read)


def test_requirements_policy_lists_what_no_table_confirms_and_invents_no_action(tmp_path: Path) -> None:
    write_tree(tmp_path, PIPELINE)
    result = run("requirements", ".", "--format", "policy", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"roles", "system_roles", "unconfirmed"}
    [job] = [u for u in document["unconfirmed"] if u["what"] == JOB_POLL]
    assert set(job["needed_by"]) == {"huaweicloud_ims_ecs_system_image.golden",
                                     "huaweicloud_images_image_copy.golden_dr"}
    assert all(not c.actions and c.unconfirmed for c in calls_of() if c.api == JOB_POLL)
    # every action written is one the map gives a call (or a written requirement) of these blocks
    known = {a for c in calls_of() for a in c.actions}
    known |= {a for c in calls_of() for r in c.requires if r.basis in ("documented", "inferred") for a in r.actions}
    written = [a for role in document["roles"] for a in role["policy"]["Statement"][0]["Action"]]
    assert written and set(written) <= known and len(written) == len(set(written))
    assert {"ims:images:copy", "ims:serverImages:create", "ims:images:list"} <= set(written)


def test_requirements_terraform_is_terraform(tmp_path: Path) -> None:
    write_tree(tmp_path, PIPELINE)
    terraform = requirements_cli(str(tmp_path), "--format", "terraform")
    [(name, role_type)] = roles_in(terraform)
    assert role_type == "XA" and name == "iac_ims_deployer_xa"
    assert f"#   {JOB_POLL} - " in terraform  # said, not written into the role
    assert re.search(r"^# iac-ims:intent .*copy_image_cross_region", terraform, re.MULTILINE)


def test_requirements_of_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = run("requirements", "no-such-dir", cwd=tmp_path)
    assert result.returncode == 2 and "no-such-dir" in result.stderr and not result.stdout


def ims308_of(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 1, result.stderr  # the error fails the run
    return [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS308"]


def test_the_deployer_option_names_who_runs_terraform(tmp_path: Path) -> None:
    # unnamed, nobody is checked
    assert not findings_of(scan_tree(tmp_path, PIPELINE), "IMS308")
    result = run("scan", ".", "--no-cache", "--format", "json", "--deployer", DEPLOYER,
                 "--deployer", "huaweicloud_identity_group.image_cj", cwd=tmp_path)
    [missing] = ims308_of(result)
    assert missing["resource"] == DEPLOYER and "ims:images:copy" in missing["message"]
    assert "huaweicloud_images_image_copy.golden_dr" in missing["message"]
    [absent] = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS904"]
    assert "'huaweicloud_identity_group.image_cj'" in absent["message"]
    assert f"did you mean '{DEPLOYER}'" in absent["message"]


def test_the_config_names_who_runs_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {**PIPELINE, ".iac-ims.yml": f"deployer: {DEPLOYER}\n"})  # one address, not a list
    monkeypatch.chdir(tmp_path)
    report = json.loads(invoke("scan", ".", "--no-cache", "--format", "json", exit_code=1))
    [missing] = [f for f in report["findings"] if f["rule_id"] == "IMS308"]
    assert missing["resource"] == DEPLOYER and "ims:images:copy" in missing["message"]


def test_a_config_deployer_that_is_no_identity_is_ims904(tmp_path: Path) -> None:
    config = f"deployer:\n  - {DEPLOYER}\n  - huaweicloud_identity_role.image_ci\n"
    write_tree(tmp_path, {**PIPELINE, ".iac-ims.yml": config})
    result = run("scan", ".", "--no-cache", "--format", "json", cwd=tmp_path)
    [missing] = ims308_of(result)
    assert missing["resource"] == DEPLOYER and "ims:images:copy" in missing["message"]
    [misplaced] = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS904"]
    assert misplaced["file"] == ".iac-ims.yml"
    assert "'huaweicloud_identity_role.image_ci'" in misplaced["message"]
    assert "not a user, group or agency" in misplaced["message"]


# ---- alternatives: a copy within the region or across it --------------------------------------

COPY = '''
variable "target_region" {
  type = string
}

resource "huaweicloud_images_image_copy" "golden_dr" {
  region          = "cn-north-4"
  source_image_id = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
  name            = "golden-ubuntu-22.04-dr"
  target_region   = var.target_region
}
'''


def test_a_copy_to_an_unknown_region_certainly_copies_though_either_api_may_be_called(tmp_path: Path) -> None:
    from iac_ims.requirements import by_resource, needs

    [group] = by_resource(needs(load_instances(tmp_path / "needs", {"main.tf": COPY}), CATALOG), CATALOG)
    [copying] = [a for a in group.actions if a.action == "ims:images:copy"]
    copy_calls = [c.api for c in CATALOG.resource_calls("huaweicloud_images_image_copy").phase("create")
                  if "ims:images:copy" in c.actions]
    assert len(copy_calls) == 2 and sorted(copying.calls) == sorted(copy_calls)
    assert copying.certain  # within the region or across it: one of them happens
    assert copying.certain_enterprise_project == "yes"  # neither call is certain alone

    actions = [a for a in needed_actions(tmp_path / "roles", COPY) if a != "ims:images:copy"]
    [short] = findings_of(scan_tree(tmp_path / "short", {"main.tf": COPY,
                                                         "iam.tf": deployer_holding(actions, 'project_id = "all"')}),
                          "IMS308")
    assert "ims:images:copy" in short.message

    # through an enterprise project, the cross-region API may fail: unsure, not an error
    ep_only = scan_tree(tmp_path / "ep", {"main.tf": COPY, "iam.tf": deployer_holding(
        needed_actions(tmp_path / "roles2", COPY), 'enterprise_project_id = "0"')})
    assert not [f for f in findings_of(ep_only, "IMS309") if "ims:images:copy" in f.message]
    assert any("ims:images:copy" in f.message for f in findings_of(ep_only, "IMS305"))


PROVIDER = '''
provider "huaweicloud" {{
  region = "cn-north-4"
  {default_tags}
}}
'''


@pytest.mark.parametrize("default_tags, tagged", [
    ('default_tags = { owner = "platform-team" }', True),  # merged into every resource's tags
    ("", False),
    ("default_tags = {}", False),
])
def test_the_provider_s_default_tags_count_as_tags(tmp_path: Path, default_tags: str, tagged: bool) -> None:
    found = needs_by_block(tmp_path, {"providers.tf": PROVIDER.format(default_tags=default_tags),
                                      "main.tf": COPY.replace("var.target_region", '"cn-east-3"')})
    tags_calls = [c for c in CATALOG.resource_calls("huaweicloud_images_image_copy").phase("create")
                  if "tags" in c.when.names]
    assert tags_calls
    needed = {n.call.api for n in found["huaweicloud_images_image_copy.golden_dr"]}
    assert all((c.api in needed) == tagged for c in tags_calls)


def test_default_tags_of_an_aliased_provider_make_the_tag_calls_possible(tmp_path: Path) -> None:
    providers = PROVIDER.format(default_tags="") + PROVIDER.format(
        default_tags='alias = "dr"\n  default_tags = { owner = "platform-team" }')
    copy = COPY.replace("var.target_region", '"cn-east-3"').replace(
        'resource "huaweicloud_images_image_copy" "golden_dr" {',
        'resource "huaweicloud_images_image_copy" "golden_dr" {\n  provider = huaweicloud.dr')
    found = needs_by_block(tmp_path, {"providers.tf": providers, "main.tf": copy})
    tag_needs = [n for n in found["huaweicloud_images_image_copy.golden_dr"] if "tags" in n.call.when.names]
    assert tag_needs and not any(n.certain for n in tag_needs)
