"""Several root modules in one scan (envs/prod and envs/staging with the same addresses): each is
checked on its own, and a reference names an instance of its own root module."""

from __future__ import annotations

from pathlib import Path

from conftest import findings_of, scan_tree

ENV = '''
# iac-ims:intent export_image
resource "huaweicloud_identity_group" "exporters" {{
  name = "exporters"
}}
resource "huaweicloud_identity_role" "exporter" {{
  name        = "image-exporter-{env}"
  description = "exports images"
  type        = "{role_type}"
  policy      = jsonencode({{ Version = "1.1", Statement = [{{ Effect = "Allow", Action = [{actions}] }}] }})
}}
resource "huaweicloud_identity_group_role_assignment" "exporters" {{
  group_id   = huaweicloud_identity_group.exporters.id
  role_id    = huaweicloud_identity_role.exporter.id
  project_id = "all"
}}
'''


def env(name: str, role_type: str, actions: str) -> str:
    return ENV.format(env=name, role_type=role_type, actions=actions)


def test_the_same_addresses_in_two_root_modules_are_both_checked(tmp_path: Path) -> None:
    report = scan_tree(tmp_path, {
        "envs/prod/main.tf": env("prod", "XA", '"ims:images:export"'),
        "envs/staging/main.tf": env("staging", "AX", '"ims:images:list"'),
    })
    assert [(f.file, f.resource) for f in findings_of(report, "IMS104")] == [
        ("envs/staging/main.tf", "huaweicloud_identity_role.exporter")]
    # staging's group is not granted export_image; prod's is: each holds its own root's role
    assert [f.file for f in findings_of(report, "IMS300")] == ["envs/staging/main.tf"]
    assert report.resources == 6
    assert all("(envs/" in f.message for f in findings_of(report, "IMS300"))


def test_a_skip_comment_applies_in_its_own_root_module_only(tmp_path: Path) -> None:
    skipped = env("staging", "AX", '"ims:images:list"').replace(
        'resource "huaweicloud_identity_role" "exporter" {', '# iac-ims:skip=IMS104:being moved to XA\n'
        'resource "huaweicloud_identity_role" "exporter" {')
    report = scan_tree(tmp_path, {"envs/prod/main.tf": env("prod", "AX", '"ims:images:export"'),
                                  "envs/staging/main.tf": skipped})
    assert [(f.file, f.suppressed) for f in report.findings if f.rule_id == "IMS104"] == [
        ("envs/prod/main.tf", False), ("envs/staging/main.tf", True)]
