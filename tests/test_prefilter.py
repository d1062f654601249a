"""Parsing only what IAM blocks can depend on never changes a report: the same findings as a
full parse of every file, on the samples, the real-world corpus and a generated repository."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    FIXTURES,
    HANG_GUARD_S,
    REALWORLD,
    REALWORLD_ABSENT,
    REPO,
    write_tree,
)

from iac_ims.pipeline import ScanOptions, scan
from iac_ims.terraform import ir

GENERATOR = FIXTURES / "gen_corpus.py"


def _both(paths: list[Path]) -> tuple[str, str]:
    fast = scan(paths, ScanOptions())
    full = scan(paths, ScanOptions(full_parse=True))
    as_json = lambda report: json.dumps([f.to_json() for f in report.findings], sort_keys=True)  # noqa: E731
    assert fast.files_scanned == full.files_scanned and fast.resources == full.resources
    return as_json(fast), as_json(full)


def test_samples_identical() -> None:
    fast, full = _both([REPO / "sample_configs"])
    assert fast == full


@pytest.mark.skipif(not REALWORLD.is_dir(), reason=REALWORLD_ABSENT)
def test_realworld_identical() -> None:
    directories = sorted(p for p in REALWORLD.iterdir() if p.is_dir())
    for directory in directories:
        fast, full = _both([directory])
        assert fast == full, directory.name


def test_generated_repository_identical(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), str(tmp_path / "corpus"), "64"], check=True,
                   stdout=subprocess.DEVNULL)
    fast, full = _both([tmp_path / "corpus"])
    assert fast == full


def test_broken_file_nothing_depends_on_still_gets_its_ims900(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "network.tf": 'resource "huaweicloud_vpc" "main" {\n  name = "main"\n  cidr = "10.0.0.0/16"\n',
        "iam.tf": 'resource "huaweicloud_identity_group" "ops" {\n  name = "ops"\n}\n',
    })
    fast, full = _both([tmp_path])
    assert fast == full
    assert '"IMS900"' in fast and "network.tf" in fast


def test_worker_processes_do_not_change_the_report(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), str(tmp_path / "corpus"), "160"], check=True,
                   stdout=subprocess.DEVNULL)
    (tmp_path / "corpus" / "mod_0003" / "broken.tf").write_text('resource "huaweicloud_vpc" "x" {\n  name = = 1\n}\n')
    one = scan([tmp_path / "corpus"], ScanOptions(jobs=1))
    two = scan([tmp_path / "corpus"], ScanOptions(jobs=2))
    as_json = lambda report: json.dumps([f.to_json() for f in report.findings], sort_keys=True)  # noqa: E731
    assert as_json(one) == as_json(two)
    assert any(f.rule_id == "IMS900" and f.file.endswith("broken.tf") for f in two.findings)
    # the workers have exited: none is left waiting for work (the CLI ends with os._exit)
    assert multiprocessing.active_children() == []


def test_worker_sends_the_blocks_the_main_process_would_build(tmp_path: Path) -> None:
    import time

    from iac_ims.pipeline import mentions_iam_resource
    from iac_ims.terraform.parse import parse_file
    from iac_ims.terraform.workers import CHUNK, BackgroundWorkers

    role = ('resource "huaweicloud_identity_role" "r{n}" {{\n  name = "r{n}"\n  type = "XA"\n'
            '  policy = jsonencode({{ Version = "1.1", Statement = [{{ Effect = "Allow", '
            'Action = ["ims:images:list"] }}] }})  # role {n}\n}}\n')
    write_tree(tmp_path, {f"f{n:03}.tf": role.format(n=n) for n in range(2 * CHUNK)})
    files = [(p, p.name) for p in sorted(tmp_path.glob("*.tf"))]
    background = BackgroundWorkers(files, jobs=2, must_parse=mentions_iam_resource)
    try:
        last, rel = files[-1]  # the workers start from the far end
        # parsed() never waits, so poll; the deadline only turns a worker that never answers
        # into a failure, it does not time the workers
        deadline = time.monotonic() + HANG_GUARD_S
        sent = background.parsed(last)
        while sent is None and time.monotonic() < deadline:
            time.sleep(0.01)
            sent = background.parsed(last)
        assert sent is not None, f"no worker sent {last.name} within {HANG_GUARD_S:g} s (a hang)"
        assert sent == parse_file(last, rel)
        assert type(sent.blocks[0].attributes["policy"].expr) is ir.FunctionCall
    finally:
        background.results()
    assert multiprocessing.active_children() == []


def _failing_work(*_args: object) -> None:
    raise RuntimeError("a bug in a worker")


def test_failing_workers_do_not_change_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that fails (a bug, a killed process) costs time, never findings: the main
    process parses and checks the files it did not get answers for."""
    from iac_ims.terraform import workers

    files = {f"net{n:02}.tf": f'resource "huaweicloud_vpc" "v{n}" {{\n  name = "v{n}"\n}}\n' for n in range(70)}
    files["broken.tf"] = 'resource "huaweicloud_vpc" "x" {\n  name = = 1\n}\n'
    files["iam.tf"] = ('resource "huaweicloud_identity_role" "r" {\n  name = "r"\n  type = "AX"\n'
                       '  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", '
                       'Action = ["ims:images:list"] }] })\n}\n')
    write_tree(tmp_path, files)
    as_json = lambda report: json.dumps([f.to_json() for f in report.findings], sort_keys=True)  # noqa: E731
    expected = as_json(scan([tmp_path], ScanOptions(jobs=1)))
    assert '"IMS900"' in expected and '"IMS104"' in expected

    monkeypatch.setattr(workers, "_work", _failing_work)  # the workers are forked: they run this one
    assert as_json(scan([tmp_path], ScanOptions(jobs=2))) == expected
    assert multiprocessing.active_children() == []


def test_worker_processes_stop_when_a_check_phase_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error after the files are read (here, reading the directives) must not leave the worker
    processes running: the CLI ends with os._exit, and a worker left behind holds stdout open."""
    from iac_ims import pipeline
    from iac_ims.terraform.workers import CHUNK

    role = 'resource "huaweicloud_identity_group" "g{n}" {{\n  name = "g{n}"\n}}\n'
    write_tree(tmp_path, {f"f{n:03}.tf": role.format(n=n) for n in range(3 * CHUNK)})

    def broken(*_args: object) -> list:
        raise RuntimeError("a bug after the analysis")

    monkeypatch.setattr(pipeline, "_directive_diagnostics", broken)
    with pytest.raises(RuntimeError, match="a bug after the analysis"):
        scan([tmp_path], ScanOptions(jobs=2))
    assert multiprocessing.active_children() == []
