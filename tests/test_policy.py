from __future__ import annotations

import json

import pytest

from iac_ims.catalog import Catalog, Operation, Service
from iac_ims.iam.policy_decide import ALLOWED, DENIED, UNKNOWN, decide
from iac_ims.iam.policy_model import ActionEntry, PolicyDocument, Statement
from iac_ims.iam.policy_parse import parse_policy
from iac_ims.iam.policy_queries import (
    allowed_actions,
    allowed_by_level,
    explicit_actions,
    ims_actions_named,
    ims_service,
)
from iac_ims.checks.policy_document import check_policy
from iac_ims.terraform.values import PartialJson, Reference, Unknown


def jsonencode(value) -> str:
    """What Terraform's jsonencode() writes: compact, keys sorted."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def policy(*statements, version="1.1") -> str:
    return jsonencode({"Version": version, "Statement": list(statements)})


def allow(*actions, **extra) -> dict:
    return {"Effect": "Allow", "Action": list(actions), **extra}


def deny(*actions, **extra) -> dict:
    return {"Effect": "Deny", "Action": list(actions), **extra}


def op(op_id, method, path, *actions, deprecated=False) -> Operation:
    return Operation(op_id, method, path, op_id.replace("_", " "), tuple(actions), True, True, deprecated)


CATALOG = Catalog(
    operations={
        o.id: o
        for o in [
            op("list_images", "GET", "/v2/cloudimages", "ims:images:list"),
            op("native_show_image", "GET", "/v2/images/{image_id}", "ims:images:get"),
            op("native_update_image", "PATCH", "/v2/images/{image_id}", "ims:images:update"),
            op("register_image", "PUT", "/v1/cloudimages/{image_id}/upload", "ims:images:upload"),
            op("create_image", "POST", "/v2/cloudimages/action", "ims:serverImages:create"),
            op(
                "native_upload_image",
                "PUT",
                "/v2/images/{image_id}/file",
                "ims:images:get",
                "ims:images:update",
                "ims:images:upload",
            ),
            op(
                "migrate_image_enterprise_project",
                "PATCH",
                "/v2/cloudimages/{image_id}",
                "ims:images:update",
                "ims:serverImages:create",
            ),
            op(
                "native_add_image_member",
                "POST",
                "/v2/images/{image_id}/members",
                "ims:images:get",
                "ims:images:share",
            ),
            op("old_two_action_op", "PUT", "/v1/old", "ims:images:upload", "ims:images:delete", deprecated=True),
            op("native_list_versions", "GET", "/"),
        ]
    },
    actions=(
        "ims:images:list",
        "ims:images:get",
        "ims:images:update",
        "ims:images:upload",
        "ims:images:delete",
        "ims:images:share",
        "ims:serverImages:create",
        "ims:quotas:get",
        "ims:imageJobs:getPercentage",
    ),
    services={
        "ims": Service("ims", "project"),
        "ecs": Service("ecs", "project"),
        "evs": Service("evs", "project"),
        "obs": Service("obs", "global"),
        "iam": Service("iam", "global"),
    },
)


def problems(value, *, role_type="XA", custom=True, catalog=CATALOG, rule=None):
    doc = parse_policy(value, custom=custom)
    found = check_policy(doc, catalog, role_type=role_type, custom=custom)
    return [p for p in found if rule is None or p.rule_id == rule]


def rule_ids(value, **kwargs) -> list[str]:
    return [p.rule_id for p in problems(value, **kwargs)]


def ims100(value, **kwargs):
    return [p for p in parse_policy(value, **kwargs).problems if p.rule_id == "IMS100"]


# --------------------------------------------------------------------------------------------
# parsing / IMS100


class TestParseValid:
    def test_jsonencode_policy(self):
        text = policy(allow("ims:images:list", "ims:images:get"), deny("ims:images:delete"))
        doc = parse_policy(text)
        assert doc.problems == []
        assert doc.version == "1.1"
        assert doc.unknown is None
        assert [s.effect for s in doc.statements] == ["Allow", "Deny"]
        assert doc.statements[0].actions == [
            ActionEntry("ims:images:list", "Statement[0].Action[0]"),
            ActionEntry("ims:images:get", "Statement[0].Action[1]"),
        ]
        assert doc.statements[1].json_path == "Statement[1]"
        assert check_policy(doc, CATALOG, role_type="XA") == []

    def test_heredoc_with_whitespace(self):
        text = """
        {
          "Version": "1.1",
          "Statement": [
            {
              "Action": ["ims:images:list"],
              "Effect": "Allow"
            }
          ]
        }
        """
        doc = parse_policy(text)
        assert doc.problems == []
        assert doc.statements[0].actions[0].text == "ims:images:list"

    def test_already_decoded_dict(self):
        doc = parse_policy({"Version": "1.1", "Statement": [allow("ims:images:list")]})
        assert doc.problems == []
        assert decide("ims:images:list", doc.statements).state == ALLOWED

    def test_lowercase_keys_are_accepted_like_go_json(self):
        doc = parse_policy('{"version": "1.1", "statement": [{"effect": "Allow", "action": ["ims:images:list"]}]}')
        assert doc.problems == []
        assert decide("ims:images:list", doc.statements).state == ALLOWED

    def test_sid_is_ignored(self):
        assert ims100(policy(allow("ims:images:list", Sid="read"))) == []

    def test_bytes(self):
        assert parse_policy(policy(allow("ims:images:list")).encode()).problems == []

    def test_source_is_recorded(self):
        doc = parse_policy(policy(allow("ims:images:list")), source="huaweicloud_identity_role.reader")
        assert doc.statements[0].source == "huaweicloud_identity_role.reader"
        assert "huaweicloud_identity_role.reader" in decide("ims:images:list", doc.statements).reason


class TestParseInvalid:
    def test_not_json(self):
        found = ims100('{"Version": "1.1", "Statement": [')
        assert len(found) == 1
        assert "not valid JSON" in found[0].message
        assert "line 1" in found[0].message
        assert found[0].fix

    def test_not_json_reports_line_and_column(self):
        found = ims100('{\n  "Version": "1.1",\n  "Statement": [,]\n}')
        assert "line 3" in found[0].message

    def test_empty_string(self):
        found = ims100("   ")
        assert found and "empty" in found[0].message

    def test_none(self):
        found = ims100(None)
        assert found and "no policy" in found[0].message

    def test_nan_is_not_json(self):
        assert ims100('{"Version": "1.1", "Statement": [], "X": NaN}')

    @pytest.mark.parametrize("text, kind", [("[]", "a list"), ("42", "a number"), ("true", "a boolean"), ("null", "null")])
    def test_not_an_object(self, text, kind):
        found = ims100(text)
        assert len(found) == 1
        assert kind in found[0].message
        assert found[0].json_path == ""

    def test_list_of_statements_gets_a_hint(self):
        found = ims100(jsonencode([allow("ims:images:list")]))
        assert "Statement list" in found[0].message

    def test_plain_json_string(self):
        found = ims100(json.dumps("hello"))
        assert "JSON string" in found[0].message

    def test_double_encoded(self):
        inner = policy(allow("ims:images:list"))
        doc = parse_policy(json.dumps(inner))  # jsonencode(jsonencode(...))
        found = [p for p in doc.problems if p.rule_id == "IMS100"]
        assert len(found) == 1
        assert "twice" in found[0].message
        assert "jsonencode" in found[0].fix
        assert doc.double_encoded
        # the inner document is still analysed
        assert doc.statements[0].actions[0].text == "ims:images:list"

    def test_double_encoded_partial_json(self):
        doc = parse_policy(PartialJson("unknown", (), policy(allow("ims:images:get"))))
        assert doc.double_encoded
        assert any("twice" in p.message for p in doc.problems)

    def test_missing_version(self):
        found = ims100(jsonencode({"Statement": [allow("ims:images:list")]}))
        assert len(found) == 1
        assert found[0].json_path == "Version"
        assert '"1.1"' in found[0].fix

    def test_version_10_on_custom_role(self):
        found = ims100(policy(allow("ims:images:list"), version="1.0"))
        assert len(found) == 1
        assert '"1.0"' in found[0].message and "1.1" in found[0].message

    def test_version_10_ok_for_system_role(self):
        assert ims100(policy(allow("ims:images:list"), version="1.0"), custom=False) == []

    def test_version_as_number(self):
        found = ims100('{"Version": 1.1, "Statement": [{"Effect": "Allow", "Action": ["ims:images:list"]}]}')
        assert len(found) == 1 and "a number" in found[0].message

    def test_missing_statement(self):
        found = ims100(jsonencode({"Version": "1.1"}))
        assert len(found) == 1 and found[0].json_path == "Statement"

    def test_empty_statement_list(self):
        found = ims100(policy())
        assert len(found) == 1 and "empty" in found[0].message

    def test_statement_object_instead_of_list(self):
        doc = parse_policy(jsonencode({"Version": "1.1", "Statement": allow("ims:images:list")}))
        found = [p for p in doc.problems if p.rule_id == "IMS100"]
        assert len(found) == 1 and "must be a list" in found[0].message
        assert decide("ims:images:list", doc.statements).state == ALLOWED  # still read

    def test_statement_not_a_list(self):
        found = ims100(jsonencode({"Version": "1.1", "Statement": "ims:images:list"}))
        assert len(found) == 1 and "a string" in found[0].message

    def test_statement_entry_not_an_object(self):
        doc = parse_policy(jsonencode({"Version": "1.1", "Statement": ["x", allow("ims:images:list")]}))
        assert [p.json_path for p in doc.problems] == ["Statement[0]"]
        assert [s.index for s in doc.statements] == [1]

    @pytest.mark.parametrize("effect", ["allow", "ALLOW", "Allow "])
    def test_effect_wrong_case(self, effect):
        doc = parse_policy(policy({"Effect": effect, "Action": ["ims:images:list"]}))
        found = doc.problems
        assert len(found) == 1 and found[0].rule_id == "IMS100"
        assert found[0].json_path == "Statement[0].Effect"
        assert found[0].fix == 'write "Effect": "Allow"'
        # analysed as meant so that only the root cause is reported
        assert doc.statements[0].effect == "Allow"

    @pytest.mark.parametrize("effect", ["Permit", 1, True])
    def test_effect_invalid(self, effect):
        doc = parse_policy(policy({"Effect": effect, "Action": ["ims:images:list"]}))
        assert [p.json_path for p in doc.problems] == ["Statement[0].Effect"]
        assert doc.statements[0].effect is None
        assert decide("ims:images:list", doc.statements).state == DENIED

    def test_effect_missing(self):
        found = ims100(policy({"Action": ["ims:images:list"]}))
        assert len(found) == 1 and "no \"Effect\"" in found[0].message

    def test_action_as_bare_string(self):
        doc = parse_policy(policy({"Effect": "Allow", "Action": "ims:images:list"}))
        found = doc.problems
        assert len(found) == 1 and found[0].rule_id == "IMS100"
        assert "list of strings" in found[0].message and "apply" in found[0].message
        assert found[0].fix == 'write "Action": ["ims:images:list"]'
        assert found[0].json_path == "Statement[0].Action"
        # still analysed as that action
        assert doc.statements[0].actions == [ActionEntry("ims:images:list", "Statement[0].Action")]
        assert decide("ims:images:list", doc.statements).state == ALLOWED

    def test_action_with_a_number(self):
        doc = parse_policy('{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["ims:images:list",42]}]}')
        found = doc.problems
        assert len(found) == 1
        assert found[0].json_path == "Statement[0].Action[1]"
        assert "a number" in found[0].message
        assert [e.text for e in doc.statements[0].actions] == ["ims:images:list"]

    def test_action_with_null_entry(self):
        found = ims100('{"Version":"1.1","Statement":[{"Effect":"Allow","Action":[null]}]}')
        assert [p.json_path for p in found] == ["Statement[0].Action[0]"]

    def test_action_object(self):
        found = ims100(policy({"Effect": "Allow", "Action": {"ims": "images"}}))
        assert len(found) == 1 and "an object" in found[0].message

    def test_action_empty(self):
        found = ims100(policy(allow()))
        assert len(found) == 1 and "empty" in found[0].message

    def test_action_missing(self):
        found = ims100(policy({"Effect": "Allow"}))
        assert len(found) == 1 and found[0].json_path == "Statement[0].Action"

    def test_not_action_is_explained(self):
        found = ims100(policy({"Effect": "Deny", "NotAction": ["ims:images:list"]}))
        assert len(found) == 1 and "NotAction" in found[0].message

    def test_malformed_action_string(self):
        found = ims100(policy(allow("ims:images", "ims:images:list")))
        assert len(found) == 1
        assert found[0].json_path == "Statement[0].Action[0]"
        assert "service:resourceType:operation" in found[0].message

    def test_statements_and_actions_are_not_counted(self):
        """IAM limits neither (its 8/100 figures were superseded): only the length counts."""
        assert ims100(policy(*[allow("ims:images:list")] * 17)) == []
        assert ims100(policy(allow(*[f"ecs:servers:op{i}" for i in range(150)]))) == []

    def test_compact_length_over_6144_characters(self):
        actions = [f"ecs:servers:operation{i:04d}" for i in range(230)]  # 31 characters each in the JSON
        found = ims100(policy(allow(*actions)))
        assert len(found) == 1 and "6,144" in found[0].message and found[0].json_path == ""
        assert ims100(policy(allow(*actions[:190]))) == []

    def test_length_is_not_checked_for_system_roles(self):
        actions = [f"ecs:servers:operation{i:04d}" for i in range(230)]
        assert parse_policy(policy(allow(*actions)), custom=False).problems == []

    def test_duplicate_key_in_statement(self):
        text = '{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["ims:images:list"],"Action":["ims:images:get"]}]}'
        doc = parse_policy(text)
        found = doc.problems
        assert len(found) == 1 and found[0].rule_id == "IMS100"
        assert "duplicate" in found[0].message and '"Action"' in found[0].message
        assert found[0].json_path == "Statement[0].Action"
        # the last one wins, as in the provider
        assert [e.text for e in doc.statements[0].actions] == ["ims:images:get"]

    def test_duplicate_top_level_key(self):
        text = '{"Version":"1.0","Version":"1.1","Statement":[{"Effect":"Allow","Action":["ims:images:list"]}]}'
        found = ims100(text)
        assert [p.json_path for p in found] == ["Version"]

    def test_duplicate_key_in_condition(self):
        text = (
            '{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["ims:images:list"],'
            '"Condition":{"StringEquals":{"g:ProjectName":["a"]},"StringEquals":{"g:UserName":["b"]}}}]}'
        )
        found = ims100(text)
        assert [p.json_path for p in found] == ["Statement[0].Condition.StringEquals"]

    def test_keys_differing_only_in_case(self):
        text = '{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["ims:images:list"],"action":["ims:images:get"]}]}'
        doc = parse_policy(text)
        assert len(doc.problems) == 1 and "case-insensitively" in doc.problems[0].message

    def test_condition_not_an_object(self):
        found = ims100(policy(allow("ims:images:list", Condition="g:MFAPresent")))
        assert [p.json_path for p in found] == ["Statement[0].Condition"]

    def test_condition_and_resource_flags(self):
        doc = parse_policy(
            policy(
                allow("ims:images:list", Condition={"Bool": {"g:MFAPresent": ["true"]}}),
                allow("ims:images:get", Condition={}),
                allow("ims:images:get", Condition=None, Resource=None),
                allow("obs:object:GetObject", Resource=["obs:*:*:object:bucket/*"]),
                allow("obs:object:GetObject", Resource=[]),
            )
        )
        flags = [(s.has_condition, s.has_resource) for s in doc.statements]
        assert flags == [(True, False), (False, False), (False, False), (False, True), (False, False)]


class TestParseUnknown:
    def test_unknown_policy(self):
        unknown = Unknown('variable "policy" has no value', ("var.policy",))
        doc = parse_policy(unknown)
        assert doc.unknown == unknown
        assert doc.statements == [] and doc.problems == []
        assert check_policy(doc, CATALOG, role_type="XA") == []
        assert allowed_actions(doc, CATALOG.actions) == set()

    def test_reference_policy(self):
        ref = Reference("computed", ("data.huaweicloud_identity_custom_role.r",), "data.huaweicloud_identity_custom_role.r", ("policy",))
        assert parse_policy(ref).unknown == ref

    def test_partial_json_with_unknown_action(self):
        unknown = Unknown('variable "extra_action" has no value', ("var.extra_action",))
        value = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ims:images:list", unknown]}]}
        doc = parse_policy(PartialJson("jsonencode of an unknown value", ("var.extra_action",), value))
        assert doc.problems == []
        statement = doc.statements[0]
        assert [e.text for e in statement.actions] == ["ims:images:list"]
        assert statement.unknown_actions == [("Statement[0].Action[1]", unknown)]
        assert decide("ims:images:list", doc.statements).state == ALLOWED
        decision = decide("ims:images:export", doc.statements)
        assert decision.state == UNKNOWN
        assert decision.unknowns == [unknown]
        assert "var.extra_action" in unknown.depends_on and "no value" in decision.reason
        assert check_policy(doc, CATALOG, role_type="XA") == []

    def test_partial_json_unknown_action_list(self):
        unknown = Unknown("unknown list")
        value = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": unknown}]}
        doc = parse_policy(PartialJson("x", (), value))
        assert doc.statements[0].unknown_actions == [("Statement[0].Action", unknown)]
        assert doc.problems == []

    def test_partial_json_unknown_statement_list(self):
        unknown = Unknown("for expression over an unknown list")
        doc = parse_policy(PartialJson("x", (), {"Version": "1.1", "Statement": unknown}))
        assert doc.unknown == unknown

    def test_partial_json_unknown_statement_entry(self):
        unknown = Unknown("unknown statement")
        doc = parse_policy(PartialJson("x", (), {"Version": "1.1", "Statement": [unknown]}))
        assert doc.statements[0].unknown_actions == [("Statement[0]", unknown)]
        assert decide("ims:images:list", doc.statements).state == UNKNOWN

    def test_partial_json_unknown_condition(self):
        unknown = Unknown("unknown condition")
        value = {"Version": "1.1", "Statement": [allow("ims:images:list", Condition=unknown)]}
        doc = parse_policy(PartialJson("x", (), value))
        assert doc.statements[0].has_condition
        decision = decide("ims:images:list", doc.statements)
        assert decision.state == UNKNOWN and decision.unknowns == [unknown]

    def test_partial_json_unknown_effect(self):
        unknown = Unknown("unknown effect")
        value = {"Version": "1.1", "Statement": [{"Effect": unknown, "Action": ["ims:images:list"]}]}
        doc = parse_policy(PartialJson("x", (), value))
        decision = decide("ims:images:list", doc.statements)
        assert decision.state == UNKNOWN
        assert "unknown effect" in decision.reason
        assert decide("ims:images:get", doc.statements).state == DENIED

    def test_partial_json_unknown_version_is_not_a_problem(self):
        doc = parse_policy(PartialJson("x", (), {"Version": Unknown("v"), "Statement": [allow("ims:images:list")]}))
        assert doc.problems == []

    def test_partial_json_whose_value_is_unknown(self):
        unknown = Unknown("all of it")
        assert parse_policy(PartialJson("x", (), unknown)).unknown == unknown


# --------------------------------------------------------------------------------------------
# decide


def statements_of(text: str, source: str | None = None) -> list[Statement]:
    return parse_policy(text, source=source).statements


class TestDecide:
    def test_allowed_by_unconditional_allow(self):
        decision = decide("ims:images:list", statements_of(policy(allow("ims:images:list"))))
        assert decision.state == ALLOWED and decision.allowed
        assert len(decision.allow) == 1 and decision.deny == []
        assert "Statement[0]" in decision.reason

    def test_case_insensitive(self):
        sts = statements_of(policy(allow("IMS:Images:LIST")))
        assert decide("ims:images:list", sts).state == ALLOWED
        assert decide("ims:serverImages:create", statements_of(policy(allow("ims:serverimages:create")))).allowed

    def test_wildcards(self):
        sts = statements_of(policy(allow("ims:*:get*")))
        assert decide("ims:images:get", sts).allowed
        assert decide("ims:imageJobs:getPercentage", sts).allowed
        assert decide("ims:images:list", sts).denied
        assert decide("ims:images:list", statements_of(policy(allow("*:*:*")))).allowed

    def test_denied_without_allow(self):
        decision = decide("ims:images:export", statements_of(policy(allow("ims:images:list"))))
        assert decision.state == DENIED
        assert not decision.explicitly_denied
        assert "no Allow" in decision.reason

    def test_no_statements(self):
        assert decide("ims:images:list", []).state == DENIED

    def test_deny_wins_in_same_policy(self):
        sts = statements_of(policy(allow("ims:*:*"), deny("ims:images:delete")))
        decision = decide("ims:images:delete", sts)
        assert decision.state == DENIED and decision.explicitly_denied
        assert decision.deny[0].json_path == "Statement[1]"
        assert "Deny" in decision.reason and "Statement[1]" in decision.reason
        assert decide("ims:images:list", sts).allowed

    def test_deny_across_two_roles(self):
        exporter = statements_of(policy(allow("ims:images:export", "ims:images:list")), "huaweicloud_identity_role.exporter")
        guard = statements_of(policy(deny("ims:images:export")), "huaweicloud_identity_role.guard")
        decision = decide("ims:images:export", exporter + guard)
        assert decision.state == DENIED
        assert decision.deny[0].source == "huaweicloud_identity_role.guard"
        assert decision.allow[0].source == "huaweicloud_identity_role.exporter"
        assert "huaweicloud_identity_role.guard" in decision.reason
        # order of roles does not matter
        assert decide("ims:images:export", guard + exporter).state == DENIED
        assert decide("ims:images:list", exporter + guard).state == ALLOWED

    def test_conditional_allow_is_unknown(self):
        sts = statements_of(policy(allow("ims:images:list", Condition={"StringEquals": {"g:ProjectName": ["cn-north-4"]}})))
        decision = decide("ims:images:list", sts)
        assert decision.state == UNKNOWN
        assert "Condition" in decision.reason

    def test_unconditional_allow_beats_conditional_allow(self):
        cond = allow("ims:images:list", Condition={"Bool": {"g:MFAPresent": ["true"]}})
        assert decide("ims:images:list", statements_of(policy(cond, allow("ims:images:list")))).allowed

    def test_allow_with_conditional_deny_is_unknown(self):
        role_a = statements_of(policy(allow("ims:images:list")), "role.a")
        role_b = statements_of(
            policy(deny("ims:*:*", Condition={"Bool": {"g:MFAPresent": ["false"]}})), "role.b"
        )
        decision = decide("ims:images:list", role_a + role_b)
        assert decision.state == UNKNOWN
        assert decision.deny and decision.deny[0].source == "role.b"
        assert "role.b" in decision.reason and "Condition" in decision.reason

    def test_unconditional_deny_beats_conditional_allow(self):
        sts = statements_of(policy(allow("ims:images:list", Condition={"Bool": {"g:MFAPresent": ["true"]}}), deny("ims:images:list")))
        assert decide("ims:images:list", sts).state == DENIED

    def test_conditional_deny_without_allow_is_denied(self):
        sts = statements_of(policy(deny("ims:images:list", Condition={"Bool": {"g:MFAPresent": ["false"]}})))
        assert decide("ims:images:list", sts).state == DENIED

    def test_allow_with_resource_is_unknown(self):
        sts = statements_of(policy(allow("ims:images:list", Resource=["ims:*:*:image:abc"])))
        decision = decide("ims:images:list", sts)
        assert decision.state == UNKNOWN and "Resource" in decision.reason

    def test_unknown_action_in_allow(self):
        unknown = Unknown("variable \"a\" has no value", ("var.a",))
        st = Statement(0, "Allow", [], json_path="Statement[0]", unknown_actions=[("Statement[0].Action[0]", unknown)])
        decision = decide("ims:images:list", [st])
        assert decision.state == UNKNOWN and decision.unknowns == [unknown]

    def test_unknown_action_in_deny_makes_allow_unknown(self):
        unknown = Unknown("x")
        allowing = statements_of(policy(allow("ims:images:list")))
        denying = Statement(0, "Deny", [], json_path="Statement[0]", unknown_actions=[("Statement[0].Action", unknown)])
        decision = decide("ims:images:list", allowing + [denying])
        assert decision.state == UNKNOWN
        assert denying in decision.deny

    def test_definite_deny_beats_unknowns(self):
        unknown = Unknown("x")
        maybe = Statement(0, "Allow", [], json_path="Statement[0]", unknown_actions=[("p", unknown)])
        assert decide("ims:images:list", [maybe] + statements_of(policy(deny("ims:images:*")))).state == DENIED

    def test_invalid_effect_ignored(self):
        st = Statement(0, None, [ActionEntry("ims:images:list", "Statement[0].Action[0]")], json_path="Statement[0]")
        assert decide("ims:images:list", [st]).state == DENIED

    def test_accepts_any_iterable(self):
        sts = statements_of(policy(allow("ims:images:list")))
        assert decide("ims:images:list", iter(sts)).allowed

    def test_each_statement_is_looked_at_once_per_action(self, monkeypatch):
        """The work of a decision grows with the statements, not faster: one match per statement
        and action, however many roles and entries (a bound that a busy machine cannot break)."""
        roles = [
            statements_of(policy(allow(*[f"ecs:servers:op{i}" for i in range(50)], "ims:*:get*"), deny("ims:images:delete")), f"r{r}")
            for r in range(20)
        ]
        statements = [s for sts in roles for s in sts]
        looked_at = []
        original = Statement.matches
        monkeypatch.setattr(Statement, "matches", lambda self, action: looked_at.append(1) or original(self, action))
        for action in CATALOG.actions:
            decide(action, statements)
        assert len(looked_at) <= len(CATALOG.actions) * len(statements)


# --------------------------------------------------------------------------------------------
# check_policy: IMS101-IMS107


class TestIMS101:
    def test_typo_in_resource_type(self):
        found = problems(policy(allow("ims:image:list")), rule="IMS101")
        assert len(found) == 1
        assert found[0].json_path == "Statement[0].Action[0]"
        assert '"ims:images:list"' in found[0].message
        assert found[0].fix == 'replace "ims:image:list" with "ims:images:list"'
        assert found[0].actions == ("ims:image:list",)

    def test_typo_in_operation(self):
        found = problems(policy(allow("ims:images:list", "ims:images:lsit")), rule="IMS101")
        assert [p.json_path for p in found] == ["Statement[0].Action[1]"]
        assert "did you mean \"ims:images:list\"" in found[0].message

    def test_unknown_wildcard(self):
        found = problems(policy(allow("ims:imagez:*")), rule="IMS101")
        assert len(found) == 1
        assert "matches no known IMS action" in found[0].message
        assert '"ims:images:*"' in found[0].message

    def test_misspelt_service(self):
        found = problems(policy(allow("imss:images:list")), rule="IMS101")
        assert len(found) == 1 and '"ims:images:list"' in found[0].message

    def test_in_deny_too(self):
        assert rule_ids(policy(allow("ims:images:list"), deny("ims:images:dlete"))) == ["IMS101"]

    def test_no_suggestion_for_nonsense(self):
        found = problems(policy(allow("ims:zzzzzzzz:qqqqqqq")), rule="IMS101")
        assert len(found) == 1 and "did you mean" not in found[0].message
        assert "iac-ims catalog" in found[0].fix

    @pytest.mark.parametrize(
        "action",
        [
            "ims:images:list",
            "ims:Images:LIST",  # resource type and operation are case-insensitive
            "ims:serverimages:create",
            "ims:*:get*",
            "ims:images:*",
            "ims:*",
            "*:*:*",
            "obs:bucket:ListAllMyBuckets",  # other services are not checked
            "ecs:cloudServers:list",
            "iam:users:listUsers",  # a known service one edit away from "ims"
            "im*:images:list",
        ],
    )
    def test_negative(self, action):
        assert problems(policy(allow(action)), rule="IMS101") == []

    def test_service_name_comes_from_catalogue(self):
        other = Catalog(actions=("ecs:servers:list",), services={"ecs": Service("ecs", "project")})
        assert problems(policy(allow("ims:whatever:x")), catalog=other, rule="IMS101") == []
        assert len(problems(policy(allow("ecs:server:list")), catalog=other, rule="IMS101")) == 1

    def test_empty_catalogue_checks_nothing(self):
        assert problems(policy(allow("ims:image:list")), catalog=Catalog(), rule="IMS101") == []


class TestIMS102:
    def test_uppercase_service(self):
        found = problems(policy(allow("IMS:images:list")), rule="IMS102")
        assert len(found) == 1
        assert found[0].json_path == "Statement[0].Action[0]"
        assert found[0].fix == 'write "ims:images:list"'
        # the action is still understood
        assert problems(policy(allow("IMS:images:list")), rule="IMS101") == []

    def test_not_for_other_services(self):
        """Huawei's own docs and system roles write OBS:, KMS:, DNS: and TMS: in upper case."""
        for action in ("OBS:*:*", "KMS:cmk:list", "DNS:Zone:*", "TMS:resource_tag:*"):
            assert problems(policy(allow(action)), role_type="AX", rule="IMS102") == []

    def test_once_per_statement(self):
        found = problems(policy(allow("IMS:images:list", "IMS:images:get"), allow("Ims:quotas:get")), rule="IMS102")
        assert [(p.json_path, p.actions) for p in found] == [
            ("Statement[0].Action[0]", ("IMS:images:list", "IMS:images:get")),
            ("Statement[1].Action[0]", ("Ims:quotas:get",))]
        assert found[0].fix == 'write "ims:images:list", "ims:images:get"'

    def test_mixed_case_service(self):
        assert len(problems(policy(allow("Ims:images:list")), rule="IMS102")) == 1

    @pytest.mark.parametrize("action", ["ims:images:list", "ims:Images:List", "*", "ims:serverImages:create"])
    def test_negative(self, action):
        assert problems(policy(allow(action)), rule="IMS102") == []


class TestMixedLevels:
    """IMS103 is decided where the role is assigned (checks/policy.py); the policy layer only
    sorts its Allow entries by service level."""

    def test_allow_entries_by_level(self, catalog):
        doc = parse_policy(policy(allow("ims:images:list"), allow("obs:bucket:ListAllMyBuckets"), deny("iam:users:list")))
        by_level = allowed_by_level(doc, catalog)
        assert [e.text for e in by_level["global"]] == ["obs:bucket:ListAllMyBuckets"]
        assert [e.text for e in by_level["project"]] == ["ims:images:list"]

    @pytest.mark.parametrize("action", ["*:*:*", "*:bucket:ListBucket", "foo:bar:baz"])
    def test_wildcard_and_unknown_services_count_for_neither(self, catalog, action):
        by_level = allowed_by_level(parse_policy(policy(allow(action))), catalog)
        assert by_level == {"global": [], "project": []}

    def test_not_a_problem_of_the_policy_itself(self, catalog):
        text = policy(allow("ims:images:list"), allow("obs:bucket:ListAllMyBuckets", "obs:object:GetObject"))
        assert problems(text, rule="IMS103") == []


class TestIMS104:
    @pytest.mark.parametrize("role_type", ["AX", "ax", " Ax "])
    def test_ax_with_ims_actions(self, role_type):
        found = problems(policy(allow("ims:images:list")), role_type=role_type, rule="IMS104")
        assert len(found) == 1
        assert found[0].fix == 'use type "XA" (region-specific projects)'
        assert "Statement[0].Action[0]" in found[0].message

    def test_wildcard_ims_action(self):
        assert len(problems(policy(allow("ims:*:*")), role_type="AX", rule="IMS104")) == 1

    def test_deny_only(self):
        assert len(problems(policy(deny("ims:images:delete")), role_type="AX", rule="IMS104")) == 1

    @pytest.mark.parametrize(
        "role_type, actions",
        [
            ("XA", ["ims:images:list"]),
            (None, ["ims:images:list"]),
            (Unknown("unknown type"), ["ims:images:list"]),
            ("AX", ["obs:bucket:ListBucket"]),
            ("AX", ["*:*:*"]),
        ],
    )
    def test_negative(self, role_type, actions):
        assert problems(policy(allow(*actions)), role_type=role_type, rule="IMS104") == []


class TestIMS105:
    def test_resource_on_ims_statement(self):
        text = policy(allow("ecs:cloudServers:list"), allow("ims:images:list", "ims:images:get", Resource=["ims:*:*:image:*"]))
        found = problems(text, rule="IMS105")
        assert len(found) == 1
        assert found[0].json_path == "Statement[1].Resource"
        assert 'remove "Resource" from Statement[1]' in found[0].fix
        assert found[0].actions == ("ims:images:list", "ims:images:get")

    def test_resource_object_form(self):
        text = policy(allow("ims:*:*", Resource={"uri": ["/iam/projects/x"]}))
        assert len(problems(text, rule="IMS105")) == 1

    def test_deny_with_resource(self):
        assert len(problems(policy(deny("ims:images:delete", Resource=["*"])), rule="IMS105")) == 1

    @pytest.mark.parametrize(
        "statement",
        [
            allow("obs:object:GetObject", Resource=["obs:*:*:object:my-bucket/*"]),
            allow("ims:images:list"),
            allow("ims:images:list", Resource=[]),
            allow("*:*:*", Resource=["obs:*:*:bucket:*"]),
        ],
    )
    def test_negative(self, statement):
        assert problems(policy(statement), role_type="AX", rule="IMS105") == []


class TestIMS106:
    @pytest.mark.parametrize("action", ["*", "*:*", "*:*:*", "ims:*:*", "ims:*", "IMS:*:*"])
    def test_admin_wildcards(self, action):
        found = problems(policy(allow(action)), rule="IMS106")
        assert len(found) == 1
        assert found[0].json_path == "Statement[0].Action[0]"
        assert f'replace "{action}"' in found[0].fix

    def test_message_says_what_is_granted(self):
        assert "every IMS action" in problems(policy(allow("ims:*:*")), rule="IMS106")[0].message
        assert "every service" in problems(policy(allow("*")), rule="IMS106")[0].message

    @pytest.mark.parametrize(
        "statement",
        [
            deny("*:*:*"),
            deny("ims:*:*"),
            allow("ims:images:*"),
            allow("ims:*:get*"),
            allow("ims:*:list"),
            allow("obs:*:*"),
        ],
    )
    def test_negative(self, statement):
        assert problems(policy(statement), rule="IMS106") == []

    def test_conditional_allow_still_reported(self):
        text = policy(allow("ims:*:*", Condition={"Bool": {"g:MFAPresent": ["true"]}}))
        assert len(problems(text, rule="IMS106")) == 1


class TestIMS107:
    def test_upload_without_get_and_update(self):
        found = problems(policy(allow("ims:images:upload")), rule="IMS107")
        assert [p.operation for p in found] == ["native_upload_image"]
        problem = found[0]
        assert problem.actions == ("ims:images:get", "ims:images:update")
        assert "native_upload_image" in problem.message
        assert "PUT /v2/images/{image_id}/file" in problem.message
        assert problem.json_path == "Statement[0].Action[0]"
        assert problem.fix == 'add "ims:images:get", "ims:images:update" to the Allow statement'

    def test_update_without_server_images_create(self):
        found = problems(policy(allow("ims:images:update")), rule="IMS107")
        assert {p.operation for p in found} == {"migrate_image_enterprise_project", "native_upload_image"}
        migrate = next(p for p in found if p.operation == "migrate_image_enterprise_project")
        assert migrate.actions == ("ims:serverImages:create",)

    def test_explicit_deny_named_in_fix(self):
        text = policy(allow("ims:images:*"), deny("ims:images:get"))
        found = problems(text, rule="IMS107")
        upload = next(p for p in found if p.operation == "native_upload_image")
        assert "Statement[1]" in upload.message
        assert upload.fix.startswith('remove "ims:images:get" from the Deny in Statement[1]')

    @pytest.mark.parametrize(
        "actions",
        [
            ["ims:images:get", "ims:images:update", "ims:images:upload", "ims:serverImages:create"],
            ["ims:*:*"],
            ["ims:images:*", "ims:serverImages:create"],
            ["ims:images:list", "ims:images:get"],  # a read-only role is not half of a write
            ["ims:images:list"],
            ["ecs:cloudServers:list"],
        ],
    )
    def test_negative(self, actions):
        assert problems(policy(allow(*actions)), rule="IMS107") == []

    def test_deprecated_operations_skipped(self):
        # old_two_action_op (deprecated) needs upload + delete
        found = problems(policy(allow("ims:images:get", "ims:images:update", "ims:images:upload")), rule="IMS107")
        assert "old_two_action_op" not in {p.operation for p in found}
        # ... while a non-deprecated operation in the same situation is reported
        assert "migrate_image_enterprise_project" in {p.operation for p in found}

    def test_conditional_grants_are_not_missing(self):
        text = policy(
            allow("ims:images:upload", "ims:images:update"),
            allow("ims:images:get", Condition={"Bool": {"g:MFAPresent": ["true"]}}),
        )
        assert [p.operation for p in problems(text, rule="IMS107")] == ["migrate_image_enterprise_project"]

    def test_not_for_system_roles(self):
        assert problems(policy(allow("ims:images:upload")), custom=False, rule="IMS107") == []


class TestCheckPolicyGeneral:
    def test_parse_problems_come_first_and_all_have_fixes(self):
        text = (
            '{"Version":"1.0","Statement":[{"Effect":"Allow","Action":"IMS:image:list"},'
            '{"Effect":"Allow","Action":["*"],"Resource":["*"]}]}'
        )
        found = problems(text, role_type="AX")
        ids = [p.rule_id for p in found]
        assert ids[:2] == ["IMS100", "IMS100"]
        assert {"IMS101", "IMS102", "IMS104", "IMS106"} <= set(ids)
        assert all(p.fix for p in found)
        assert all(p.message for p in found)

    def test_deterministic(self):
        text = policy(allow("IMS:image:list", "obs:*:*"), allow("ims:*:*", Resource=["*"]))
        first = problems(text, role_type="AX")
        assert first == problems(text, role_type="AX")

    def test_unreadable_document(self):
        doc = PolicyDocument(version=None, unknown=Unknown("x"))
        assert check_policy(doc, CATALOG, role_type="AX") == []


# --------------------------------------------------------------------------------------------
# helpers


class TestHelpers:
    def test_ims_service(self):
        assert ims_service(CATALOG) == "ims"
        assert ims_service(Catalog()) is None

    def test_allowed_actions_expands_wildcards(self):
        doc = parse_policy(policy(allow("ims:*:get*", "ims:images:list")))
        assert allowed_actions(doc, CATALOG.actions) == {
            "ims:images:get",
            "ims:quotas:get",
            "ims:imageJobs:getPercentage",
            "ims:images:list",
        }

    def test_allowed_actions_excludes_denied_and_conditional(self):
        doc = parse_policy(
            policy(
                allow("ims:images:*"),
                deny("ims:images:delete"),
                allow("ims:serverImages:create", Condition={"Bool": {"g:MFAPresent": ["true"]}}),
            )
        )
        granted = allowed_actions(doc, CATALOG.actions)
        assert "ims:images:upload" in granted
        assert "ims:images:delete" not in granted
        assert "ims:serverImages:create" not in granted

    def test_allowed_actions_uses_catalogue_spelling(self):
        doc = parse_policy(policy(allow("IMS:SERVERIMAGES:CREATE")))
        assert allowed_actions(doc, CATALOG.actions) == {"ims:serverImages:create"}

    def test_explicit_actions(self):
        doc = parse_policy(
            policy(
                allow("ims:serverimages:create", "ims:images:*", "ims:images:list", "obs:bucket:ListBucket", "bad"),
                deny("ims:images:delete"),
                allow("ims:images:get", Condition={"Bool": {"g:MFAPresent": ["true"]}}),
            )
        )
        assert explicit_actions(doc, CATALOG.actions) == {
            "ims:serverImages:create",
            "ims:images:list",
            "obs:bucket:ListBucket",
            "ims:images:get",
        }
        assert "ims:serverimages:create" in explicit_actions(doc)

    def test_ims_actions_named(self):
        doc = parse_policy(policy(allow("ims:images:list", "obs:*:*", "*:*:*", "IMS:*:*"), deny("ims:images:delete")))
        assert [e.text for e in ims_actions_named(doc, CATALOG)] == ["ims:images:list", "IMS:*:*", "ims:images:delete"]
        assert [e.text for e in ims_actions_named(doc, CATALOG, effect="Deny")] == ["ims:images:delete"]
        assert ims_actions_named(doc, Catalog()) == []


# --------------------------------------------------------------------------------------------
# against the shipped catalogue, when its loader exists

from iac_ims.catalog import load_catalog  # noqa: E402


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


class TestShippedCatalogue:
    def test_service_is_ims(self, catalog):
        assert ims_service(catalog) == "ims"

    def test_clean_policy(self, catalog):
        text = policy(allow("ims:images:list", "ims:images:get", "ims:images:export"))
        assert check_policy(parse_policy(text), catalog, role_type="XA") == []

    def test_typo_suggestions(self, catalog):
        found = check_policy(parse_policy(policy(allow("ims:image:list", "ims:images:lsit"))), catalog, role_type="XA")
        assert [p.rule_id for p in found] == ["IMS101", "IMS101"]
        assert all('"ims:images:list"' in p.fix for p in found)

    def test_native_upload_partial(self, catalog):
        found = check_policy(
            parse_policy(policy(allow("ims:images:upload", "ims:images:update"))), catalog, role_type="XA"
        )
        upload = [p for p in found if p.operation == "native_upload_image"]
        assert len(upload) == 1 and upload[0].actions == ("ims:images:get",)

    def test_read_only_role_is_clean(self, catalog):
        text = policy(allow("ims:images:list", "ims:images:get", "ims:quotas:get"))
        assert check_policy(parse_policy(text), catalog, role_type="XA") == []

    def test_obs_and_ims_mixed_is_no_problem_of_the_document(self, catalog):
        text = policy(allow("ims:images:export"), allow("obs:object:PutObject"))
        assert check_policy(parse_policy(text), catalog, role_type="XA") == []

    def test_every_catalogue_action_is_known(self, catalog):
        text = policy(*[allow(*catalog.actions[i : i + 100]) for i in range(0, len(catalog.actions), 100)])
        found = check_policy(parse_policy(text), catalog, role_type="XA")
        assert [p for p in found if p.rule_id == "IMS101"] == []

    def test_wildcard_expansion(self, catalog):
        doc = parse_policy(policy(allow("ims:*:get*")))
        granted = allowed_actions(doc, catalog.actions)
        assert "ims:images:get" in granted and "ims:images:list" not in granted


# --------------------------------------------------------------------------------------------
# robustness: no input makes the parser or the checks crash

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["Allow", "Deny", "1.1", "1.0", "ims:images:list", "IMS:*:*", "*", "obs:*:*", "x", ""]),
    st.builds(Unknown, st.just("unknown leaf")),
)
_keys = st.sampled_from(["Version", "Statement", "Effect", "Action", "Condition", "Resource", "action", "Sid", "k"])
_json_values = st.recursive(
    _json_leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_fuzz_decoded_values_never_crash(value):
    doc = parse_policy(PartialJson("fuzz", (), value))
    found = check_policy(doc, CATALOG, role_type="AX")
    assert all(p.rule_id.startswith("IMS1") and p.message for p in found)
    for action in CATALOG.actions:
        assert decide(action, doc.statements).state in (ALLOWED, DENIED, UNKNOWN)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]":,1.AVSaceilnot ', max_size=60))
def test_fuzz_text_never_crashes(text):
    doc = parse_policy(text)
    check_policy(doc, CATALOG, role_type="XA")
