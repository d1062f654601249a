"""Write tests/snapshots/sample_configs.json: the JSON report of `iac-ims scan sample_configs/
--format json`, run from the repository root, with `summary.duration_s` set to 0.

Refresh it after an intended change of findings or wording, then review the diff:

    .venv/bin/python tests/refresh_snapshots.py

tests/test_snapshots.py makes the same report and compares it with the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO / "tests" / "snapshots" / "sample_configs.json"
REFRESH_COMMAND = ".venv/bin/python tests/refresh_snapshots.py"
# --no-cache: a stored report of an earlier scan is keyed by the tool's version, not its code,
# so it could hide a change of wording
SCAN = ["-m", "iac_ims", "scan", "sample_configs/", "--format", "json", "--no-cache"]


def sample_configs_report() -> str:
    """The snapshot's text as the code in this checkout makes it."""
    result = subprocess.run([sys.executable, *SCAN], cwd=REPO, capture_output=True, text=True,
                            encoding="utf-8", check=False)
    if result.returncode not in (0, 1):  # 1: there are findings, as the samples mean there to be
        raise RuntimeError(f"`iac-ims {' '.join(SCAN[2:])}` exited {result.returncode}:\n{result.stderr}")
    document = json.loads(result.stdout)
    document["summary"]["duration_s"] = 0
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(sample_configs_report(), encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
