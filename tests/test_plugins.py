"""Third-party rules load from the `iac_ims.checks` entry-point group, bring their metadata, and
run with the built-in ones; a plugin that is not a rule is a usage error, not a silent no-op."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import findings_of, scan_tree, write_tree

EXAMPLE = Path(__file__).parent / "plugin_example" / "acme_iam_rules.py"
ROLES = {"main.tf": '''
    resource "huaweicloud_identity_role" "reader" {
      name   = "reader"
      type   = "XA"
      policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
    }
    resource "huaweicloud_identity_role" "lister" {
      name   = "img-lister"
      type   = "XA"
      policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
    }
'''}


def install(site: Path, entry: str, monkeypatch) -> None:
    """Install the example as a package with one entry point in the group."""
    site.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLE, site / "acme_iam_rules.py")
    write_tree(site, {
        "acme_iam_rules-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: acme-iam-rules\nVersion: 1.0\n",
        "acme_iam_rules-1.0.dist-info/entry_points.txt": f"[iac_ims.checks]\nrole_prefix = {entry}\n",
    })
    monkeypatch.syspath_prepend(str(site))
    sys.modules.pop("acme_iam_rules", None)


def test_a_plugin_rule_runs_with_its_own_metadata(tmp_path: Path, monkeypatch) -> None:
    install(tmp_path / "site", "acme_iam_rules:RULES", monkeypatch)
    report = scan_tree(tmp_path / "code", ROLES)
    found = findings_of(report, "ACME001")
    assert [(f.resource, f.severity, f.title) for f in found] == [
        ("huaweicloud_identity_role.reader", "warning", "Image role name without the img- prefix")]
    assert "IMS203" in {f.rule_id for f in report.findings}  # the built-in rules still run
    only = scan_tree(tmp_path / "code", only_rules=["ACME001"])
    assert {f.rule_id for f in only.findings} == {"ACME001"}


def test_a_plugin_that_is_not_a_rule_is_refused(tmp_path: Path, monkeypatch) -> None:
    from iac_ims.checks import RuleError

    install(tmp_path / "site", "acme_iam_rules:role_name_prefix", monkeypatch)
    with pytest.raises(RuleError, match="must name an iac_ims.checks.Rule"):
        scan_tree(tmp_path / "code", ROLES)
