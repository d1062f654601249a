"""Third-party checks load from the `iac_ims.checks` entry-point group and run with the others."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import write_tree

PLUGIN = '''
def role_name_prefix(ctx):
    """A site rule: custom role names must start with "img-"."""
    for role in ctx.model.custom_roles():
        if isinstance(role.display_name, str) and not role.display_name.startswith("img-"):
            yield ctx.finding("IMS999", role.instance, f"role name {role.display_name!r} lacks the img- prefix",
                              severity="warning")
'''


def test_entry_point_plugin_runs(tmp_path: Path, monkeypatch) -> None:
    site = tmp_path / "site"
    write_tree(site, {
        "acme_iam_rules.py": PLUGIN,
        "acme_iam_rules-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: acme-iam-rules\nVersion: 1.0\n",
        "acme_iam_rules-1.0.dist-info/entry_points.txt": "[iac_ims.checks]\nrole_prefix = acme_iam_rules:role_name_prefix\n",
    })
    monkeypatch.syspath_prepend(str(site))
    sys.modules.pop("acme_iam_rules", None)
    code = write_tree(tmp_path / "code", {"main.tf": '''
        resource "huaweicloud_identity_role" "reader" {
          name   = "reader"
          type   = "XA"
          policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
        }
    '''})
    from iac_ims.checks import all_checks
    from iac_ims.pipeline import scan

    assert "plugin:role_prefix" in all_checks()
    report = scan([code])
    plugin_findings = [f for f in report.findings if f.rule_id == "IMS999"]
    assert [(f.resource, f.severity) for f in plugin_findings] == [("huaweicloud_identity_role.reader", "warning")]
    assert "IMS203" in {f.rule_id for f in report.findings}  # the built-in checks still run
