"""The warm-rescan cache can never change a result: identical bytes when nothing changed, a
fresh scan as soon as any input changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, write_tree

ROLE = '''
    resource "huaweicloud_identity_role" "reader" {
      name   = "image-reader"
      type   = "XA"
      policy = file("${path.module}/policy.json")
    }
'''
POLICY = '{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ims:images:list"]}]}'


def run_json(path: Path, cache: Path, *extra: str) -> tuple[str, dict]:
    env = dict(os.environ, PYTHONPATH=str(REPO), IAC_IMS_CACHE_DIR=str(cache))
    result = subprocess.run([sys.executable, "-m", "iac_ims", "scan", str(path), "--format", "json", *extra],
                            env=env, capture_output=True, text=True, timeout=120)
    document = json.loads(result.stdout)
    duration = document["summary"].pop("duration_s")
    assert duration >= 0
    return json.dumps(document, sort_keys=True), document


def test_cold_and_warm_reports_are_identical(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold, _ = run_json(REPO / "sample_configs", cache)
    assert list((cache / "scans").glob("*.json")), "the cold scan stores an entry"
    warm, _ = run_json(REPO / "sample_configs", cache)
    uncached, _ = run_json(REPO / "sample_configs", cache, "--no-cache")
    assert cold == warm == uncached


def test_any_changed_input_invalidates(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = write_tree(tmp_path / "repo", {"main.tf": ROLE, "policy.json": POLICY})
    _, first = run_json(root, cache)
    assert {f["rule_id"] for f in first["findings"]} == {"IMS203"}

    (root / "policy.json").write_text(POLICY.replace("ims:images:list", "ims:images:lsit"))  # a file() target
    _, second = run_json(root, cache)
    assert "IMS101" in {f["rule_id"] for f in second["findings"]}

    write_tree(root, {"extra.tf": 'resource "huaweicloud_identity_role" "other" {\n  name = "x"\n  type = "AX"\n'
                                  '  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", '
                                  'Action = ["ims:images:get"] }] })\n}\n'})  # a new file
    _, third = run_json(root, cache)
    assert "IMS104" in {f["rule_id"] for f in third["findings"]}

    _, fourth = run_json(root, cache, "--skip-rule", "IMS104")  # other options
    assert "IMS104" not in {f["rule_id"] for f in fourth["findings"]}

    (root / "main.tf").write_text(ROLE.replace('"XA"', '"AX"'))  # an edited .tf file
    _, fifth = run_json(root, cache)
    assert {f["resource"] for f in fifth["findings"] if f["rule_id"] == "IMS104"} == {
        "huaweicloud_identity_role.reader", "huaweicloud_identity_role.other"}
