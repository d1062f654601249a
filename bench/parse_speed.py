#!/usr/bin/env python3
"""Parse speed: iac_ims.terraform.fastparse.parse_body vs python-hcl2's Lark parser + lark_to_ir.

usage: python bench/parse_speed.py CORPUS_DIR [--repeat 3]

Reads every `.tf` under CORPUS_DIR once, then times (medians of --repeat passes, same process,
same machine, the passes of each parser alternating so that the machine's load falls on all
alike) what the scanner gets for a file from each parser:
  - `lark_to_ir.file_body(hcl_parser().parse(text + "\\n"))` (the fallback)
  - `fastparse.parse_body(text)`
and prints MB/s for each and the ratios, and how many files the fast parser left to Lark (it
raised FastParseError; the time of that failed attempt is included, the fallback is not).
It also checks, untimed, that every IR the fast parser returned equals Lark's.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iac_ims.terraform.fastparse import FastParseError, parse_body
from iac_ims.terraform.lark_to_ir import file_body
from iac_ims.terraform.parse import hcl_parser


def _timed(parse: Callable[[str], object], texts: list[str]) -> float:
    gc.collect()
    started = time.perf_counter()
    for text in texts:
        try:
            parse(text)
        except Exception:
            pass
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    paths, texts = [], []
    for path in sorted(args.corpus.rglob("*.tf")):
        try:
            texts.append(path.read_bytes().decode("utf-8-sig"))
            paths.append(path)
        except (OSError, UnicodeDecodeError):
            continue
    if not texts:
        print(f"no .tf files under {args.corpus}", file=sys.stderr)
        return 2
    size = sum(len(t.encode("utf-8")) for t in texts)
    parser = hcl_parser()

    def lark(text: str) -> object:
        return file_body(parser.parse(text + "\n"), text + "\n")

    # Correctness pass (untimed): every IR the fast parser returns must equal Lark's.
    fallbacks: list[Path] = []
    lark_errors = 0
    mismatches = []
    for path, text in zip(paths, texts):
        try:
            expected = lark(text)
        except Exception:
            expected = None
            lark_errors += 1
        try:
            got = parse_body(text)
        except FastParseError:
            fallbacks.append(path)
            continue
        if got != expected:
            mismatches.append(path)
    if mismatches:
        print(f"IR MISMATCH in {len(mismatches)} files, e.g. {mismatches[0]}")

    timed: dict[str, Callable[[str], object]] = {"lark + lark_to_ir": lark, "parse_body": parse_body}
    times: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(args.repeat):
        for name, parse in timed.items():
            times[name].append(_timed(parse, texts))

    mb = size / 1e6
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"corpus: {args.corpus}  files: {len(texts)}  size: {mb:.2f} MB  (medians of {args.repeat})")
    for name, seconds in medians.items():
        print(f"{name + ':':27s} {seconds:8.3f} s  {mb / seconds:7.2f} MB/s")
    fast = medians["parse_body"]
    for name, seconds in medians.items():
        if name != "parse_body":
            print(f"ratio ({name} / parse_body): {seconds / fast:6.2f} x")
    print(f"fallbacks to Lark: {len(fallbacks)} / {len(texts)} files "
          f"({lark_errors} of all files are Lark syntax errors)")
    for path in fallbacks[:10]:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
