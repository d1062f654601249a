"""IMS904: an `iac-ims` comment or config entry that is not understood as written is said, never
ignored; what the writer meant is kept where it can be told."""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, findings_of, scan_tree, write_tree
from iac_ims.directives import parse_directive

ROLE = '''
{comment}
resource "huaweicloud_identity_role" "reader" {{
  name        = "image-reader"
  description = "reads images"
  type        = "AX"
  policy      = jsonencode({{ Version = "1.1", Statement = [{{ Effect = "Allow", Action = ["ims:images:list"] }}] }})
}}
resource "huaweicloud_identity_group" "readers" {{
  name = "readers"
}}
resource "huaweicloud_identity_group_role_assignment" "readers" {{
  group_id   = huaweicloud_identity_group.readers.id
  role_id    = huaweicloud_identity_role.reader.id
  project_id = "0b4c7a1e5c0f4c6e9a3f2d1e8b7c6a5d"
}}
'''


def scan_comment(tmp_path: Path, comment: str, **options):
    return scan_tree(tmp_path, {"main.tf": ROLE.format(comment=comment)}, today=_dt.date(2026, 12, 2), **options)


def ims904(report) -> list[tuple[int, str]]:
    return [(f.line, f.message) for f in findings_of(report, "IMS904")]


def test_a_space_after_the_colon_is_read_and_reported(tmp_path: Path) -> None:
    report = scan_comment(tmp_path, "# iac-ims: intent export_image")
    [(line, message)] = ims904(report)
    assert line == 1 and "write iac-ims:intent (no space, lowercase)" in message
    # the intent is not lost: export_image is checked (and not granted)
    assert [f.operation for f in findings_of(report, "IMS300")] == ["export_image"]


def test_a_skip_of_a_rule_that_does_not_exist_names_the_closest(tmp_path: Path) -> None:
    report = scan_comment(tmp_path, "# iac-ims:skip=IMS370:not needed")
    [(line, message)] = ims904(report)
    assert "'IMS370' is not a rule iac-ims has; did you mean IMS307 or IMS300?" in message


def test_a_skip_without_equals_suppresses_nothing_and_says_so(tmp_path: Path) -> None:
    report = scan_comment(tmp_path, "# iac-ims:skip IMS104")
    assert "a skip needs '=' before its rule IDs" in ims904(report)[0][1]
    assert findings_of(report, "IMS104")  # still reported


def test_an_expiry_after_the_reason_still_expires(tmp_path: Path) -> None:
    report = scan_comment(tmp_path, "# iac-ims:skip=IMS104:migrating to XA:exp=2020-06-30")
    assert "the expiry comes after the reason" in ims904(report)[0][1]
    [finding] = findings_of(report, "IMS104")
    assert "expired on 2020-06-30" in finding.message


def test_a_bad_expiry_date_applies_nothing(tmp_path: Path) -> None:
    report = scan_comment(tmp_path, "# iac-ims:skip=IMS104:exp=2027-13-40:migrating")
    assert "the expiry date '2027-13-40' is not YYYY-MM-DD" in ims904(report)[0][1]
    assert findings_of(report, "IMS104")


def test_an_unknown_keyword(tmp_path: Path) -> None:
    report = scan_comment(tmp_path, "# iac-ims:skipp=IMS104:typo")
    assert "unknown iac-ims keyword 'skipp'; did you mean iac-ims:skip?" in ims904(report)[0][1]
    assert findings_of(report, "IMS104")


@pytest.mark.parametrize("comment", [
    "# iac-ims:intent list_images",
    "// iac-ims:intent list_images, GET /v2/images",
    "/* iac-ims:skip=IMS104:exp=2099-01-31:migrating to XA */",
    "# iac-ims:skip=IMS104,IMS203:migrating",
])
def test_directives_written_right_are_not_reported(tmp_path: Path, comment: str) -> None:
    assert ims904(scan_comment(tmp_path, comment)) == []


def test_the_deployer_mark_above_an_identity_is_not_reported(tmp_path: Path) -> None:
    text = ROLE.format(comment="").replace('resource "huaweicloud_identity_group" "readers"',
                                           '# iac-ims:deployer\nresource "huaweicloud_identity_group" "readers"')
    report = scan_tree(tmp_path, {"main.tf": text})
    assert ims904(report) == []


def test_the_deployer_mark_above_anything_else_is_reported(tmp_path: Path) -> None:
    [(line, message)] = ims904(scan_comment(tmp_path, "# iac-ims:deployer"))
    written = (tmp_path / "main.tf").read_text().splitlines()
    assert written[line - 1] == "# iac-ims:deployer"
    assert "iac-ims:deployer marks huaweicloud_identity_role.reader, which is not a user, group or agency" in message


def test_the_parser_keeps_what_it_can() -> None:
    directive = parse_directive(7, "iac-ims:skip=IMS104,IMS999,bogus:exp=2027-01-31:reason", {"IMS104", "IMS100"})
    assert directive.suppression.rule_ids == ("IMS104",)
    assert directive.suppression.expires == _dt.date(2027, 1, 31) and directive.suppression.reason == "reason"
    assert len(directive.problems) == 2


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "iac_ims", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_config_intents_for_an_address_the_code_does_not_have(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tf": ROLE.format(comment="").replace('"AX"', '"XA"'),
                          ".iac-ims.yml": 'intents:\n  "huaweicloud_identity_role.raeder": [list_images]\n'})
    result = run("scan", ".", "--no-cache", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0  # a warning does not fail the run by default
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "IMS904"]
    assert finding["file"] == ".iac-ims.yml" and finding["severity"] == "warning"
    assert "'huaweicloud_identity_role.raeder'" in finding["message"]
    assert "did you mean 'huaweicloud_identity_role.reader'?" in finding["message"]
    assert run("scan", ".", "--no-cache", "--fail-on", "warning", cwd=tmp_path).returncode == 1


def test_a_space_instead_of_the_colon_is_read_and_reported(tmp_path: Path) -> None:
    report = scan_comment(tmp_path, "# iac-ims intent export_image")
    assert "write iac-ims:intent" in ims904(report)[0][1]
    assert [f.operation for f in findings_of(report, "IMS300")] == ["export_image"]


def test_any_comment_starting_with_iac_ims_is_read(tmp_path: Path) -> None:
    report = scan_comment(tmp_path, "# iac-ims ignore this role please")
    assert "unknown iac-ims keyword 'ignore'" in ims904(report)[0][1]
    assert ims904(scan_comment(tmp_path / "prose", "# reviewed with iac-ims before merging")) == []
    assert ims904(scan_comment(tmp_path / "name", "# iac-ims-managed")) == []
