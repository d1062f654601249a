#!/usr/bin/env python3
"""Parse speed: iac_ims.terraform.fastparse vs python-hcl2's Lark parser, in the same run.

usage: python bench/parse_speed.py CORPUS_DIR [--repeat 3]

Reads every `.tf` under CORPUS_DIR once, then times (medians of --repeat passes, same process,
same machine) `hcl_parser().parse(text + "\\n")` and `fast_parse(text)` over all files, prints
MB/s for both and their ratio, and how many files the fast parser left to Lark (it raised
FastParseError; the time of that failed attempt is included, the fallback parse is not).
It also checks on the same pass that every tree the fast parser returned equals Lark's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iac_ims.terraform.fastparse import FastParseError, fast_parse  # noqa: E402
from iac_ims.terraform.parse import hcl_parser  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    texts = []
    for path in sorted(args.corpus.rglob("*.tf")):
        try:
            texts.append((path, path.read_bytes().decode("utf-8-sig")))
        except (OSError, UnicodeDecodeError):
            continue
    if not texts:
        print(f"no .tf files under {args.corpus}", file=sys.stderr)
        return 2
    size = sum(len(t.encode("utf-8")) for _, t in texts)
    parser = hcl_parser()

    # Correctness pass (untimed): every tree the fast parser returns must equal Lark's.
    fallbacks: list[Path] = []
    lark_errors = 0
    mismatches = []
    for path, text in texts:
        try:
            expected = parser.parse(text + "\n")
        except Exception:  # noqa: BLE001 - Lark's syntax errors
            expected = None
            lark_errors += 1
        try:
            got = fast_parse(text)
        except FastParseError:
            fallbacks.append(path)
            continue
        if got != expected:
            mismatches.append(path)
    if mismatches:
        print(f"TREE MISMATCH in {len(mismatches)} files, e.g. {mismatches[0]}")

    # Timed passes; trees are dropped as soon as they are built (both parsers alike).
    lark_times, fast_times = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for _path, text in texts:
            try:
                parser.parse(text + "\n")
            except Exception:  # noqa: BLE001 - invalid files are timed too
                pass
        lark_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _path, text in texts:
            try:
                fast_parse(text)
            except FastParseError:
                pass
        fast_times.append(time.perf_counter() - t0)

    lark_s = statistics.median(lark_times)
    fast_s = statistics.median(fast_times)
    mb = size / 1e6
    print(f"corpus: {args.corpus}  files: {len(texts)}  size: {mb:.2f} MB  (medians of {args.repeat})")
    print(f"lark (hcl2.lark LALR):  {lark_s:8.3f} s  {mb / lark_s:7.2f} MB/s")
    print(f"fast_parse:             {fast_s:8.3f} s  {mb / fast_s:7.2f} MB/s")
    print(f"ratio (lark / fast):    {lark_s / fast_s:8.2f} x")
    print(f"fallbacks to Lark: {len(fallbacks)} / {len(texts)} files "
          f"({lark_errors} of all files are Lark syntax errors)")
    for path in fallbacks[:10]:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
