"""Parsing only what IAM blocks can depend on never changes a report: the same findings as a
full parse of every file, on the samples, the real-world corpus and a generated repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SHARED, write_tree
from iac_ims.scan import ScanOptions, scan

REALWORLD = SHARED / "realworld"
GENERATOR = SHARED / "bench" / "gen_corpus.py"


def _both(paths: list[Path]) -> tuple[str, str]:
    fast = scan(paths, ScanOptions())
    full = scan(paths, ScanOptions(full_parse=True))
    as_json = lambda report: json.dumps([f.to_json() for f in report.findings], sort_keys=True)  # noqa: E731
    assert fast.files_scanned == full.files_scanned and fast.resources == full.resources
    return as_json(fast), as_json(full)


def test_samples_identical() -> None:
    fast, full = _both([REPO / "sample_configs"])
    assert fast == full


@pytest.mark.skipif(not REALWORLD.exists(), reason="../shared/realworld is not present")
def test_realworld_identical() -> None:
    directories = sorted(p for p in REALWORLD.iterdir() if p.is_dir())
    for directory in directories:
        fast, full = _both([directory])
        assert fast == full, directory.name


@pytest.mark.skipif(not GENERATOR.exists(), reason="../shared/bench/gen_corpus.py is not present")
def test_generated_repository_identical(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), str(tmp_path / "corpus"), "64"], check=True,
                   stdout=subprocess.DEVNULL)
    fast, full = _both([tmp_path / "corpus"])
    assert fast == full


def test_broken_file_nothing_depends_on_gets_the_full_parsers_ims900(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "network.tf": 'resource "huaweicloud_vpc" "main" {\n  name = "main"\n  cidr = "10.0.0.0/16"\n',
        "iam.tf": 'resource "huaweicloud_identity_group" "ops" {\n  name = "ops"\n}\n',
    })
    fast, full = _both([tmp_path])
    assert fast == full
    assert '"IMS900"' in fast and "network.tf" in fast
