"""The JSON report of the README demo is pinned: `tests/snapshots/sample_configs.json` is what
`iac-ims scan sample_configs/ --format json`, run from the repository root, prints (with
`summary.duration_s` set to 0). Any change of a finding, a location, a message's wording, a fix
or a count fails here with the diff.

After an intended change, refresh the snapshot from the repository root and review its diff:

    .venv/bin/python tests/refresh_snapshots.py
"""

from __future__ import annotations

import difflib
import json

from refresh_snapshots import REFRESH_COMMAND, SNAPSHOT, sample_configs_report


def test_sample_configs_report_matches_the_snapshot() -> None:
    assert SNAPSHOT.is_file(), f"no snapshot {SNAPSHOT}: make it with `{REFRESH_COMMAND}`"
    expected = SNAPSHOT.read_text(encoding="utf-8")
    actual = sample_configs_report()
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                            fromfile="tests/snapshots/sample_configs.json (snapshot)",
                                            tofile="iac-ims scan sample_configs/ --format json (now)"))
        raise AssertionError(f"the report of sample_configs/ differs from its snapshot:\n{diff}\n"
                             f"If the change is intended, refresh the snapshot with `{REFRESH_COMMAND}` "
                             "(from the repository root) and commit it with the change.")


def test_snapshot_is_the_json_report_without_timing() -> None:
    document = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert document["schema_version"] == 1
    assert document["summary"]["duration_s"] == 0
    assert document["findings"], "the demo's report has findings"
    assert all(f["file"].startswith("sample_configs/") for f in document["findings"]), \
        "file paths are relative to the repository root, where the demo runs"
