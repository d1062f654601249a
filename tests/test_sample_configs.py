"""`sample_configs/` is what the README demo scans: each directory yields exactly the rules its
README row promises (every severity), and together they show at least 18 rules of all four
families. The JSON report of the whole demo is pinned by tests/test_snapshots.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iac_ims.pipeline import ScanOptions, scan

SAMPLES = Path(__file__).resolve().parents[1] / "sample_configs"


def _expectations() -> dict[str, set[str]]:
    rows = {}
    for line in (SAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([^`]+)/`\s*\|[^|]*\|([^|]*)\|", line)
        if match:
            rows[match.group(1)] = set(re.findall(r"IMS\d{3}", match.group(2)))
    return rows


EXPECTED = _expectations()


def test_every_sample_directory_is_documented() -> None:
    directories = {p.name for p in SAMPLES.iterdir() if p.is_dir()}
    assert directories == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_yields_its_documented_findings(name: str) -> None:
    report = scan([SAMPLES / name], ScanOptions(relative_to=SAMPLES / name))
    expected = EXPECTED[name]
    found = {f.rule_id for f in report.findings if not f.suppressed}
    assert not report.internal_errors, report.internal_errors
    assert expected <= found, f"missing {expected - found}; got {sorted(found)}"
    assert found <= expected, f"unexpected {found - expected}: " + "; ".join(
        f"{f.rule_id} {f.message}" for f in report.findings if f.rule_id in found - expected)


def test_samples_show_at_least_18_rules_of_every_family() -> None:
    shown = set().union(*EXPECTED.values())
    assert len(shown) >= 18, sorted(shown)
    assert {rule_id[:4] for rule_id in shown} == {"IMS1", "IMS2", "IMS3", "IMS9"}, sorted(shown)
    summary = re.search(r"Together they show (\d+) rules", (SAMPLES / "README.md").read_text(encoding="utf-8"))
    assert summary and int(summary.group(1)) == len(shown), "the README's count of rules shown is stale"


def test_findings_point_at_the_right_blocks() -> None:
    report = scan([SAMPLES], ScanOptions(relative_to=SAMPLES))
    by_rule = {(f.rule_id, f.resource) for f in report.findings}
    assert ("IMS302", "huaweicloud_identity_group_role_assignment.auditors_ep") in by_rule
    assert ("IMS303", "huaweicloud_identity_group.exporters") in by_rule
    assert ("IMS301", "huaweicloud_identity_group.image_admins") in by_rule
    assert ("IMS200", "huaweicloud_identity_agency.image_factory") in by_rule
    assert ("IMS201", "huaweicloud_identity_role_assignment.image_ops_domain") in by_rule
    assert ("IMS205", "huaweicloud_identity_group_role_assignment.catalogue_admins_ims") in by_rule
    assert ("IMS204", "huaweicloud_identity_agency.security_audit") in by_rule
    assert ("IMS202", "huaweicloud_identity_group_role_assignment.golden_image_builders") in by_rule
    assert ("IMS903", "module.image_roles") in by_rule
    assert ("IMS308", "huaweicloud_identity_user.ci") in by_rule
    short = next(f for f in report.findings if f.rule_id == "IMS308")
    assert "huaweicloud_images_image_share.golden_prod" in short.message and "ims:images:share" in short.message
    assert short.fix == 'add "ims:images:share" to huaweicloud_identity_role.image_ci'
    skip = next(f for f in report.findings if f.rule_id == "IMS904")
    skip_text = (SAMPLES / "bad_skip_unknown_rule" / "main.tf").read_text().splitlines()
    assert skip.file == "bad_skip_unknown_rule/main.tf"
    assert skip_text[skip.line - 1].startswith("# iac-ims:skip=IMS160:")
    text = (SAMPLES / "bad_enterprise_project_listing" / "main.tf").read_text().splitlines()
    finding = next(f for f in report.findings if f.rule_id == "IMS302")
    assert finding.file == "bad_enterprise_project_listing/main.tf"
    assert text[finding.line - 1].startswith('resource "huaweicloud_identity_group_role_assignment" "auditors_ep"')
    assert text[finding.end_line - 1] == "}"


def test_the_readme_shows_what_requirements_prints_for_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's `requirements --format terraform` block is the command's output, verbatim."""
    monkeypatch.chdir(SAMPLES.parent)
    from click.testing import CliRunner

    from iac_ims.cli import cli

    readme = (SAMPLES.parent / "README.md").read_text(encoding="utf-8")
    command = "iac-ims requirements sample_configs/bad_deployer_image_pipeline --format terraform"
    shown = re.search(re.escape(command) + r"\n```\n\n```hcl\n(.*?)```", readme, re.DOTALL)
    assert shown, "the README no longer shows the requirements of the sample pipeline"
    result = CliRunner().invoke(cli, command.split()[1:], catch_exceptions=False)
    assert result.exit_code == 0
    assert shown.group(1) == result.output
