"""Findings and `iac-ims explain` come from one decision point (decisions.py), so they agree: on
generated configurations, a principal meant to perform an operation gets IMS300/IMS301/IMS305
(or IMS302 on an assignment of it) exactly when explain shows it allowed at none of its scopes,
and IMS302 only where explain says the operation cannot be granted there."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_tree
from iac_ims.catalog import load_catalog
from iac_ims.explain import explain_address
from iac_ims.pipeline import ScanOptions, analyse, scan

CATALOG = load_catalog()
OPERATIONS = sorted(op.id for op in CATALOG.operations.values() if op.actions and not op.deprecated)
ACTIONS = list(CATALOG.actions) + ["ims:*:*", "ims:*:get*", "ims:images:*"]
SCOPES = ['project_id = "0b4c7a1e5c0f4c6e9a3f2d1e8b7c6a5d"', 'project_id = "all"',
          'enterprise_project_id = "0aa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f"',
          'domain_id = "d6f2a9e4c3b14e5f8a7d6c5b4a3f2e1d"', 'project_id = "5f4e3d2c1b0a49382716a5b4c3d2e1f0"']


@st.composite
def configurations(draw) -> tuple[str, str]:
    """Roles of random Allows and Denies held by one group at random scopes; the group's intent."""
    intent = draw(st.sampled_from(OPERATIONS))
    text = f'# iac-ims:intent {intent}\nresource "huaweicloud_identity_group" "team" {{\n  name = "team"\n}}\n'
    for index in range(draw(st.integers(1, 3))):
        allow = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=4, unique=True))
        deny = draw(st.lists(st.sampled_from(ACTIONS), max_size=2, unique=True))
        statements = [f'{{ Effect = "Allow", Action = {list(allow)} }}'.replace("'", '"')]
        if deny:
            statements.append(f'{{ Effect = "Deny", Action = {list(deny)} }}'.replace("'", '"'))
        text += (f'resource "huaweicloud_identity_role" "r{index}" {{\n  name = "r{index}"\n  type = "XA"\n'
                 f'  policy = jsonencode({{ Version = "1.1", Statement = [{", ".join(statements)}] }})\n}}\n')
        for scope in draw(st.lists(st.sampled_from(SCOPES), min_size=1, max_size=2, unique=True)):
            name = f"a{index}_{SCOPES.index(scope)}"
            text += (f'resource "huaweicloud_identity_group_role_assignment" "{name}" {{\n'
                     f'  group_id = huaweicloud_identity_group.team.id\n'
                     f'  role_id  = huaweicloud_identity_role.r{index}.id\n  {scope}\n}}\n')
    return text, intent


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=configurations())
def test_findings_and_explain_agree(tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str]) -> None:
    text, intent = case
    root = write_tree(tmp_path_factory.mktemp("agree"), {"main.tf": text})
    options = ScanOptions(relative_to=root)
    report = scan([root], options)
    about = {f.rule_id for f in report.findings if f.operation == intent and f.resource == "huaweicloud_identity_group.team"}
    rows = [r for r in explain_address(analyse([root], options), "huaweicloud_identity_group.team").rows
            if r.operation == intent]
    allowed_somewhere = any(r.state == "allowed" for r in rows)
    blocked = [f for f in report.findings if f.rule_id == "IMS302" and f.operation == intent]
    not_granted = bool(about & {"IMS300", "IMS301", "IMS305"}) or bool(blocked)
    assert not_granted != allowed_somewhere, (text, about, [(r.scope, r.state) for r in rows])
    for finding in blocked:
        assert any(r.state == "not_at_this_scope" and finding.resource in r.via for r in rows), (text, finding)
