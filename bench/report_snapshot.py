#!/usr/bin/env python3
"""Save, or compare against, the JSON reports of the scans a refactoring must not change.

usage: python bench/report_snapshot.py save DIR      # before the change
       python bench/report_snapshot.py compare DIR   # after: exit 1 and a diff summary on any change

The scans: every folder of the real-world corpus (../shared/realworld, where it exists), the
sample configurations, every rule example and hostile case under tests/, and the synthetic corpus (tests/fixtures/gen_corpus.py, 2,000 files, made
deterministic), each with the scan cache off and `duration_s` set to 0. Each report is written
as DIR/<name>.json; compare prints, per scan, the findings added and removed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REALWORLD = REPO.parent / "shared" / "realworld"
GENERATOR = REPO / "tests" / "fixtures" / "gen_corpus.py"
CORPUS_FILES = 2000


def scans(work: Path) -> dict[str, Path]:
    """Name -> directory to scan."""
    found = {}
    if REALWORLD.is_dir():
        for folder in sorted(p for p in REALWORLD.iterdir() if p.is_dir()):
            found[f"realworld-{folder.name}"] = folder
    found["sample_configs"] = REPO / "sample_configs"
    for example in sorted((REPO / "tests" / "rule_examples").glob("*/*")):
        found[f"example-{example.parent.name}-{example.name}"] = example
    for case in sorted(p for p in (REPO / "tests" / "hostile").iterdir() if p.is_dir()):
        found[f"hostile-{case.name}"] = case
    corpus = work / "corpus"
    subprocess.run([sys.executable, str(GENERATOR), str(corpus), str(CORPUS_FILES)], check=True,
                   stdout=subprocess.DEVNULL)
    found["synthetic-2000"] = corpus
    return found


def report_of(directory: Path) -> dict:
    from iac_ims.pipeline import ScanOptions, scan
    from iac_ims.report.json_report import report_to_json

    report = scan([directory], ScanOptions(relative_to=directory, jobs=1))
    data = report_to_json(report)
    data["summary"]["duration_s"] = 0
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    changed = 0
    with tempfile.TemporaryDirectory() as work:
        for name, directory in scans(Path(work)).items():
            current = report_of(directory)
            target = args.directory / f"{name}.json"
            if args.action == "save":
                args.directory.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(current, indent=1, sort_keys=True))
                print(f"saved {name}: {len(current['findings'])} findings")
                continue
            before = json.loads(target.read_text())
            if before == current:
                print(f"same  {name}: {len(current['findings'])} findings")
                continue
            changed += 1
            was = {json.dumps(f, sort_keys=True) for f in before["findings"]}
            now = {json.dumps(f, sort_keys=True) for f in current["findings"]}
            print(f"DIFF  {name}: {len(now - was)} added, {len(was - now)} removed"
                  f"{'' if before['summary'] == current['summary'] else '; summary ' + json.dumps(current['summary'])}")
            for line in sorted(now - was)[:5]:
                print(f"  + {line[:300]}")
            for line in sorted(was - now)[:5]:
                print(f"  - {line[:300]}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
