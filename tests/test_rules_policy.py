"""IMS100-IMS107: what is wrong with a custom role's policy document itself.

Each rule: realistic Terraform that triggers it (on the role's address), and a near miss that
must not.  Policies are written the ways real code writes them: `jsonencode` with bare keys,
`jsonencode` with quoted keys and colons, and heredoc JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import findings_of, rule_ids, scan_tree

ROLE = "huaweicloud_identity_role.image_ops"


def role_tf(policy: str, *, role_type: str = "XA", resource: str = "huaweicloud_identity_role",
            name: str = "image_ops", assigned: bool = True) -> str:
    """A custom role with `policy` (an HCL expression or heredoc), assigned at project scope so
    that only the policy rules are in play."""
    text = (
        f'resource "{resource}" "{name}" {{\n'
        f'  name        = "ims-{name.replace("_", "-")}"\n'
        f'  description = "image pipeline role"\n'
        f'  type        = "{role_type}"\n'
        f"  policy      = {policy}\n"
        "}\n"
    )
    if assigned:
        text += (
            'resource "huaweicloud_identity_group" "image_team" {\n'
            '  name = "image-team"\n'
            "}\n"
            'resource "huaweicloud_identity_group_role_assignment" "image_team" {\n'
            "  group_id   = huaweicloud_identity_group.image_team.id\n"
            f"  role_id    = {resource}.{name}.id\n"
            '  project_id = "0b4c7a1e5c0f4c6e9a3f2d1e8b7c6a5d"\n'
            "}\n"
        )
    return text


def bare(*actions: str, effect: str = "Allow") -> str:
    """jsonencode with bare keys."""
    quoted = ", ".join(f'"{a}"' for a in actions)
    return ('jsonencode({\n    Version = "1.1"\n'
            f'    Statement = [{{ Effect = "{effect}", Action = [{quoted}] }}]\n  }})')


def heredoc(document: dict | str) -> str:
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    return "<<EOF\n" + text + "\nEOF"


def scan_role(tmp_path: Path, policy: str, **kwargs):
    return scan_tree(tmp_path, {"main.tf": role_tf(policy, **kwargs)})


def on_role(report, rule_id: str, address: str = ROLE):
    return [f for f in findings_of(report, rule_id) if f.resource == address]


# ---- IMS100: invalid policy document ----------------------------------------------------------

def sized_document(characters: int, statements: int = 1) -> dict:
    """A valid policy whose compact JSON (as the provider sends it) is exactly `characters` long."""
    document = {"Version": "1.1", "Statement": [
        {"Action": ["ims:images:list"] + [f"ecs:cloudServers:op{i}" for i in range(20)], "Effect": "Allow"}
        for _ in range(statements)]}
    actions = document["Statement"][0]["Action"]
    while characters - len(json.dumps(document, separators=(",", ":"))) > 100:
        actions.append("ecs:servers:" + "x" * 48)
    actions[-1] += "x" * (characters - len(json.dumps(document, separators=(",", ":"))))  # cut to size
    assert len(json.dumps(document, separators=(",", ":"))) == characters
    return document


INVALID_POLICIES = {
    "not_json": heredoc('{ "Version": "1.1", "Statement": [ {"Effect": "Allow", "Action": ["ims:images:list"] ] }'),
    "no_version": heredoc({"Statement": [{"Effect": "Allow", "Action": ["ims:images:list"]}]}),
    "no_statement": 'jsonencode({ Version = "1.1" })',
    "version_1_0_in_custom_role": heredoc({"Version": "1.0", "Statement": [{"Effect": "Allow",
                                                                          "Action": ["ims:images:list"]}]}),
    "effect_permit": '''jsonencode({
    "Version" : "1.1",
    "Statement" : [{ "Effect" : "Permit", "Action" : ["ims:images:list"] }]
  })''',
    "action_is_a_string": ('jsonencode({ Version = "1.1", '
                           'Statement = [{ Effect = "Allow", Action = "ims:images:list" }] })'),
    "action_list_holds_a_number": heredoc('{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": [42]}]}'),
    "over_6144_characters": heredoc(json.dumps(sized_document(6145))),
}


# what the message must mention for each case
INVALID_SAYS = {
    "not_json": "JSON",
    "no_version": "Version",
    "no_statement": "Statement",
    "version_1_0_in_custom_role": "1.1",
    "effect_permit": "Permit",
    "action_is_a_string": "list",
    "action_list_holds_a_number": "42",
    "over_6144_characters": "6,145 characters",
}


@pytest.mark.parametrize("case", sorted(INVALID_POLICIES))
def test_ims100_invalid_policy_document(tmp_path: Path, case: str) -> None:
    report = scan_role(tmp_path, INVALID_POLICIES[case])
    found = on_role(report, "IMS100")
    assert found, rule_ids(report)
    assert all(f.severity == "error" and f.file == "main.tf" for f in found)
    assert any(INVALID_SAYS[case] in f.message for f in found), [f.message for f in found]


@pytest.mark.parametrize("policy", [
    bare("ims:images:list", "ims:images:get"),
    '''jsonencode({
    "Version" : "1.1",
    "Statement" : [
      { "Effect" : "Allow", "Action" : ["ims:images:list", "ims:images:get"] },
      { "Effect" : "Deny", "Action" : ["ims:images:delete"] },
    ]
  })''',
    heredoc({"Version": "1.1", "Statement": [
        {"Effect": "Allow", "Action": [f"ecs:cloudServers:op{i}" for i in range(150)] + ["ims:images:list"]}
    ] + [{"Effect": "Allow", "Action": ["ims:images:get"]} for _ in range(16)]}),
    # indented JSON longer than the limit, but compact (as the provider sends it) exactly at it
    heredoc(json.dumps(sized_document(6144, statements=3), indent=4)),
], ids=["bare_keys", "quoted_keys_allow_and_deny", "17_statements_151_actions", "6144_compact_characters"])
def test_ims100_not_for_valid_documents_at_the_limits(tmp_path: Path, policy: str) -> None:
    """IAM limits the characters of a policy, not its statements or actions (17 statements deploy)."""
    report = scan_role(tmp_path, policy)
    assert not findings_of(report, "IMS100"), [f.message for f in findings_of(report, "IMS100")]


def test_ims100_length_counts_what_the_provider_sends(tmp_path: Path) -> None:
    """Keys the provider drops (Sid) do not count; <, > and & count as the six characters Go's
    encoder writes for each."""
    document = sized_document(6100)
    document["Statement"][0]["Sid"] = "s" * 500
    report = scan_role(tmp_path / "dropped", heredoc(json.dumps(document)))
    assert not findings_of(report, "IMS100")
    document = sized_document(6100)
    document["Statement"][0]["Condition"] = {"StringEquals": {"g:UserName": ["<&>" * 3]}}
    report = scan_role(tmp_path / "escaped", heredoc(json.dumps(document)))
    # 58 characters of Condition, and 5 more for each of the nine escaped characters
    assert [f.message.split(" as ")[0] for f in on_role(report, "IMS100")] == [
        "the policy is 6,203 characters long"]


def test_ims100_length_with_unknown_parts_only_when_certain(tmp_path: Path) -> None:
    long_actions = ", ".join(f'"ecs:cloudServers:operation{i:04d}"' for i in range(200))
    over = scan_role(tmp_path / "over", f'''jsonencode({{
    Version   = "1.1"
    Statement = [{{ Effect = "Allow", Action = [{long_actions}, var.extra_action] }}]
  }})''')
    assert ["at least" in f.message for f in on_role(over, "IMS100")] == [True]
    under = scan_role(tmp_path / "under", '''jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", var.extra_action] }]
  })''')
    assert not on_role(under, "IMS100")


# ---- IMS101: unknown IMS action ---------------------------------------------------------------

@pytest.mark.parametrize("action, closest", [
    ("ims:image:list", "ims:images:list"),
    ("ims:images:lsit", "ims:images:list"),
    ("ims:images:exprot", "ims:images:export"),
    ("ims:serverimage:create", "ims:serverImages:create"),
])
def test_ims101_unknown_action_names_the_closest_real_one(tmp_path: Path, action: str, closest: str) -> None:
    report = scan_role(tmp_path, bare(action))
    found = on_role(report, "IMS101")
    assert len(found) == 1, rule_ids(report)
    assert found[0].severity == "error"
    assert action in found[0].message and closest in found[0].message
    assert closest in (found[0].fix or "")


def test_ims101_wildcard_matching_no_catalogue_action(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:imagez:*", "ims:images:list"))
    found = on_role(report, "IMS101")
    assert [f.rule_id for f in found] == ["IMS101"]
    assert "ims:imagez:*" in found[0].message


def test_ims101_misspelt_service_segment(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ins:images:list"))
    found = on_role(report, "IMS101")
    assert found and "ims:images:list" in found[0].message


@pytest.mark.parametrize("actions", [
    ("ims:images:*", "ims:images:list"),
    ("ims:*:get*", "ims:*:list*"),
    ("ims:serverImages:create", "ims:wholeImages:create", "ims:dataImages:create"),
    ("ecs:cloudServers:list", "evs:volumes:list", "ims:images:list"),
])
def test_ims101_not_for_real_actions_matching_wildcards_or_other_services(tmp_path: Path, actions) -> None:
    report = scan_role(tmp_path, bare(*actions))
    assert not findings_of(report, "IMS101"), [f.message for f in findings_of(report, "IMS101")]


def test_ims101_in_a_deny_statement_too(tmp_path: Path) -> None:
    report = scan_role(tmp_path, heredoc({"Version": "1.1", "Statement": [
        {"Effect": "Allow", "Action": ["ims:images:list"]},
        {"Effect": "Deny", "Action": ["ims:images:delte"]},
    ]}))
    found = on_role(report, "IMS101")
    assert found and "ims:images:delete" in found[0].message


# ---- IMS102: service segment not lowercase ----------------------------------------------------

def test_ims102_uppercase_service(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("IMS:images:list", "ims:images:get"))
    found = on_role(report, "IMS102")
    assert len(found) == 1 and found[0].severity == "warning"
    assert "IMS:images:list" in found[0].message
    assert "ims:images:list" in (found[0].fix or "")
    # matched case-insensitively: not also an unknown action
    assert not findings_of(report, "IMS101")


def test_ims102_not_for_camel_case_resource_segment(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:serverImages:create", "ims:wholeImages:create"))
    assert not findings_of(report, "IMS102")


# ---- IMS103: a mixed policy assigned where part of it takes no effect -------------------------

MIXED = '''jsonencode({
    "Version" : "1.1",
    "Statement" : [
      { "Effect" : "Allow", "Action" : ["ims:images:export", "ims:images:list", "ecs:cloudServers:list"] },
      { "Effect" : "Allow", "Action" : ["obs:bucket:ListAllMyBuckets", "obs:object:PutObject"] }
    ]
  })'''


def assigned_at(scope: str, *, role_type: str = "XA", policy: str = MIXED) -> str:
    return role_tf(policy, role_type=role_type, assigned=False) + f'''
resource "huaweicloud_identity_group" "image_team" {{
  name = "image-team"
}}
resource "huaweicloud_identity_group_role_assignment" "image_team" {{
  group_id = huaweicloud_identity_group.image_team.id
  role_id  = huaweicloud_identity_role.image_ops.id
  {scope}
}}
'''


def test_ims103_global_actions_take_no_effect_at_a_project(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": assigned_at('project_id = "0b4c7a1e5c0f4c6e9a3f2d1e8b7c6a5d"')})
    found = on_role(report, "IMS103")
    assert len(found) == 1 and found[0].severity == "warning"
    message = found[0].message
    assert "huaweicloud_identity_group_role_assignment.image_team" in message
    assert '"obs:bucket:ListAllMyBuckets", "obs:object:PutObject" take no effect' in message
    assert "ims:images:export" not in message.split("effect:")[1]
    assert found[0].line == 5  # the policy argument
    assert "reject" not in message  # IAM accepts mixed policies


def test_ims103_project_level_actions_take_no_effect_at_global_services(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": assigned_at('domain_id = "d6f2a9e4c3b14e5f8a7d6c5b4a3f2e1d"')})
    found = on_role(report, "IMS103")
    assert len(found) == 1
    lost = found[0].message.split("effect:")[1]
    # the IMS actions of a role only at domain scope are IMS201's
    assert '"ecs:cloudServers:list" take no effect' in lost and "ims:" not in lost and "obs:" not in lost
    assert on_role(report, "IMS201") == [] and findings_of(report, "IMS201")


def test_ims103_ax_role_at_global_services_like_an_auditor(tmp_path: Path) -> None:
    """An AX role reading ECS, EVS and OBS, assigned at domain scope: the ECS and EVS reads are lost."""
    auditor = '''jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ecs:*:get*", "ecs:*:list*", "evs:*:get*", "obs:bucket:Get*", "obs:bucket:List*", "iam:*:list*"]
    }]
  })'''
    report = scan_tree(tmp_path, {"main.tf": assigned_at('domain_id = "d6f2a9e4c3b14e5f8a7d6c5b4a3f2e1d"',
                                                         role_type="AX", policy=auditor)})
    found = on_role(report, "IMS103")
    assert len(found) == 1 and "in an AX role" in found[0].message
    assert '"ecs:*:get*", "ecs:*:list*", "evs:*:get*" take no effect' in found[0].message


def test_ims103_ax_role_at_a_project_leaves_ims_actions_to_ims104(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": assigned_at('project_id = "0b4c7a1e5c0f4c6e9a3f2d1e8b7c6a5d"',
                                                         role_type="AX")})
    lost = on_role(report, "IMS103")[0].message.split("effect:")[1]
    assert "obs:object:PutObject" in lost and "ecs:cloudServers:list" in lost and "ims:" not in lost
    assert on_role(report, "IMS104")


def test_ims103_agency_list_names_the_list(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {"main.tf": role_tf(MIXED, assigned=False) + '''
resource "huaweicloud_identity_agency" "builder" {
  name                  = "image-builder"
  delegated_domain_name = "ci-tenant"
  project_role {
    project = "cn-north-4"
    roles   = [huaweicloud_identity_role.image_ops.name]
  }
}
'''})
    found = on_role(report, "IMS103")
    assert len(found) == 1 and "huaweicloud_identity_agency.builder (project_role)" in found[0].message


@pytest.mark.parametrize("scope", ['project_id = "all"', None])
def test_ims103_not_at_all_projects_or_unassigned(tmp_path: Path, scope) -> None:
    text = assigned_at(scope) if scope else role_tf(MIXED, assigned=False)
    report = scan_tree(tmp_path, {"main.tf": text})
    assert not findings_of(report, "IMS103")


@pytest.mark.parametrize("actions", [
    ("ims:images:list", "ecs:cloudServers:list", "evs:volumes:list"),  # all project-level
    ("ims:images:list", "acme:widgets:list"),  # a service the catalogue does not know: neither
    ("ims:images:list", "*:*:list*"),  # a wildcard service: neither
])
def test_ims103_not_for_project_level_only_or_unknown_services(tmp_path: Path, actions) -> None:
    report = scan_role(tmp_path, bare(*actions))
    assert not findings_of(report, "IMS103")


def test_ims103_not_for_an_obs_only_global_role(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("obs:bucket:ListAllMyBuckets", "obs:object:GetObject"), role_type="AX")
    assert not findings_of(report, "IMS103") and not findings_of(report, "IMS104")


# ---- IMS104: IMS actions in an AX role --------------------------------------------------------

def test_ims104_ax_role_with_ims_actions(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:images:list", "ims:images:get"), role_type="AX")
    found = on_role(report, "IMS104")
    assert len(found) == 1 and found[0].severity == "error"
    assert "AX" in found[0].message and "XA" in (found[0].fix or "")


def test_ims104_flexibleengine_role(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:images:export"), role_type="AX",
                       resource="flexibleengine_identity_role_v3", name="exporter")
    assert [f.resource for f in findings_of(report, "IMS104")] == ["flexibleengine_identity_role_v3.exporter"]


def test_ims104_not_for_xa(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:images:list", "ims:images:get"), role_type="XA")
    assert not findings_of(report, "IMS104")


def test_ims104_not_for_flexibleengine_xa(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:images:export"), role_type="XA",
                       resource="flexibleengine_identity_role_v3", name="exporter")
    assert not findings_of(report, "IMS104")


# ---- IMS105: Resource on a statement with IMS actions -----------------------------------------

def test_ims105_resource_with_ims_actions(tmp_path: Path) -> None:
    report = scan_role(tmp_path, heredoc({"Version": "1.1", "Statement": [{
        "Effect": "Allow",
        "Action": ["ims:images:get", "ims:images:update"],
        "Resource": ["ims:*:*:image:3c1f2b4e-8d3a-4e1f-9b0c-5a6d7e8f9a0b"],
    }]}))
    found = on_role(report, "IMS105")
    assert len(found) == 1 and found[0].severity == "warning"
    assert "ims:images:get" in found[0].message and "Resource" in found[0].message


def test_ims105_not_for_resource_on_a_statement_without_ims_actions(tmp_path: Path) -> None:
    report = scan_role(tmp_path, heredoc({"Version": "1.1", "Statement": [
        {"Effect": "Allow", "Action": ["ecs:cloudServers:list"], "Resource": ["ecs:*:*:instance:*"]},
        {"Effect": "Allow", "Action": ["ims:images:list"]},
    ]}))
    assert not findings_of(report, "IMS105")


# ---- IMS106: admin wildcard in an Allow -------------------------------------------------------

@pytest.mark.parametrize("wildcard", ["*", "*:*", "*:*:*", "ims:*:*", "ims:*"])
def test_ims106_admin_wildcard(tmp_path: Path, wildcard: str) -> None:
    report = scan_role(tmp_path, bare(wildcard))
    found = on_role(report, "IMS106")
    assert len(found) == 1, rule_ids(report)
    assert found[0].severity == "warning" and f'"{wildcard}"' in found[0].message


def test_ims106_not_for_explicit_actions(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:images:list", "ims:images:get", "ims:images:export",
                                      "ims:serverImages:create"))
    assert not findings_of(report, "IMS106")


def test_ims106_not_for_an_admin_wildcard_in_a_deny(tmp_path: Path) -> None:
    report = scan_role(tmp_path, heredoc({"Version": "1.1", "Statement": [
        {"Effect": "Allow", "Action": ["ims:images:list"]},
        {"Effect": "Deny", "Action": ["ims:*:*"]},
    ]}))
    assert not findings_of(report, "IMS106")


def test_ims106_not_for_a_resource_scoped_wildcard(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:images:*"))
    assert not findings_of(report, "IMS106")


# ---- IMS107: some but not all actions of an operation ----------------------------------------

def test_ims107_upload_without_get_and_update(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:images:upload", "ims:images:update"))
    found = [f for f in on_role(report, "IMS107") if f.operation == "native_upload_image"]
    assert len(found) == 1 and found[0].severity == "info"
    assert '"ims:images:get"' in found[0].message
    assert "PUT /v2/images/{image_id}/file" in found[0].message


def test_ims107_names_a_denied_action(tmp_path: Path) -> None:
    report = scan_role(tmp_path, '''jsonencode({
    Version = "1.1"
    Statement = [
      { Effect = "Allow", Action = ["ims:images:upload", "ims:images:update", "ims:images:get"] },
      { Effect = "Deny", Action = ["ims:images:get"] },
    ]
  })''')
    found = [f for f in on_role(report, "IMS107") if f.operation == "native_upload_image"]
    assert found and "denied" in found[0].message and "Statement[1]" in found[0].message


def test_ims107_not_when_every_action_is_granted(tmp_path: Path) -> None:
    report = scan_role(tmp_path, bare("ims:images:upload", "ims:images:update", "ims:images:get"))
    assert not [f for f in findings_of(report, "IMS107") if f.operation == "native_upload_image"]


def test_ims107_not_for_a_read_only_role(tmp_path: Path) -> None:
    # get + list are each the whole of a read operation: not a half-granted write
    report = scan_role(tmp_path, bare("ims:images:get", "ims:images:list"))
    assert not findings_of(report, "IMS107"), [f.message for f in findings_of(report, "IMS107")]


@pytest.mark.parametrize("action, variant", [
    ("ims:images:update", "migrate_image_enterprise_project"),
    ("ims:images:copy", "copy_image_in_region_enterprise_project"),
])
def test_ims107_not_for_the_situational_action_of_a_variant(tmp_path: Path, action: str, variant: str) -> None:
    # moving an image to another enterprise project also needs ims:serverImages:create, but a
    # role for the base call is not half-granted
    report = scan_role(tmp_path, bare(action))
    assert not [f for f in findings_of(report, "IMS107") if f.operation == variant]
    if action == "ims:images:copy":  # no other operation needs copy with something else
        assert not findings_of(report, "IMS107")


# ---- all policy rules: which block, and the shapes around the role -----------------------------

def test_policy_findings_name_the_role_inside_a_module_with_for_each(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {
        "main.tf": '''
            module "iam" {
              source = "./modules/ims"
              roles = {
                reader   = ["ims:images:list", "ims:images:get"]
                exporter = ["IMS:images:export"]
              }
            }
        ''',
        "modules/ims/main.tf": '''
            variable "roles" {
              type = map(list(string))
            }
            resource "huaweicloud_identity_role" "r" {
              for_each = var.roles
              name     = "ims-${each.key}"
              type     = "XA"
              policy   = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = each.value }] })
            }
        ''',
    })
    assert [(f.resource, f.file) for f in findings_of(report, "IMS102")] == [
        ('module.iam.huaweicloud_identity_role.r["exporter"]', "modules/ims/main.tf")]
