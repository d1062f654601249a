#!/usr/bin/env python3
"""Benchmark iac-ims against its baselines on the synthetic corpus, in one run.

usage: python bench/run_bench.py [--sizes 500,2000,8000] [--roles 10000] [--repeat 5] [--skip-hcl2]
                                 [--checkov-repeat 1] [--generator ../shared/bench/gen_corpus.py] [--work bench/out]
                                 [--baseline DIR]

For each corpus size it generates the corpus (deterministic), then measures, medians of
--repeat runs on the same machine in the same run:
  - iac-ims cold: a new process with no stored report (the grammar and catalogue caches, which
    a first-ever run builds once, are warm)
  - iac-ims warm: a new process rescanning with nothing changed (the stored report is reused)
  - python-hcl2: `hcl2.loads` of every file (what parsing everything with python-hcl2 costs)
  - Checkov `-d CORPUS --framework terraform`, when `checkov` is on PATH
  - with --baseline DIR (a checkout of the code before a change, e.g. made with
    `git worktree add DIR <commit>`): that code's cold scan, its runs alternating with this
    code's cold runs so that the machine's load falls on both alike
and prints a table of seconds, peak RSS and the ratios.  Timings are wall-clock and the machines
are shared: read the ratios, which are measured side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"

HCL2_ALL = (
    "import sys, pathlib, hcl2\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.tf')):\n"
    "    try:\n"
    "        hcl2.loads(p.read_text(encoding='utf-8-sig'))\n"
    "    except Exception:\n"
    "        pass\n"
)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of one run of a command (the child's own rusage, via wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024


def median_run(command: list[str], env: dict[str, str], repeat: int, before=None) -> tuple[float, int]:
    return median_runs([(command, env)], repeat, before)[0]


def median_runs(runs: list[tuple[list[str], dict[str, str]]], repeat: int, before=None) -> list[tuple[float, int]]:
    """(median seconds, peak RSS in MB) of each command, their runs alternating (A B A B ...)."""
    times: list[list[float]] = [[] for _ in runs]
    peaks: list[list[int]] = [[] for _ in runs]
    for _ in range(repeat):
        for k, (command, env) in enumerate(runs):
            if before:
                before()
            seconds, rss = timed(command, env)
            times[k].append(seconds)
            peaks[k].append(rss)
    return [(statistics.median(t), max(p)) for t, p in zip(times, peaks)]


def code_env(env: dict[str, str], code: Path) -> dict[str, str]:
    """`env` with the iac_ims package of the checkout `code` first on the import path."""
    return dict(env, PYTHONPATH=str(code) + os.pathsep + env.get("PYTHONPATH", ""))


def check_imports_from(code: Path, env: dict[str, str]) -> None:
    """Stop unless `env` makes Python import iac_ims from `code` (an installed copy could win)."""
    found = subprocess.run([sys.executable, "-c", "import iac_ims, pathlib; print(pathlib.Path(iac_ims.__file__).resolve())"],
                           env=env, capture_output=True, text=True).stdout.strip()
    if not found.startswith(str(code.resolve())):
        raise SystemExit(f"iac_ims is imported from {found or '(nowhere)'}, not from {code}")


ROLE_TEMPLATE = """
resource "huaweicloud_identity_role" "r{n}" {{
  name   = "role-{n}"
  type   = "XA"
  policy = jsonencode({{
    Version   = "1.1"
    Statement = [{{ Effect = "Allow", Action = ["ims:images:list", "ims:images:get", "{extra}"] }}]
  }})
}}

resource "huaweicloud_identity_group" "g{n}" {{
  name = "group-{n}"
}}

resource "huaweicloud_identity_group_role_assignment" "a{n}" {{
  group_id              = huaweicloud_identity_group.g{n}.id
  role_id               = huaweicloud_identity_role.r{n}.id
  {scope}
}}
"""
EXTRA_ACTIONS = ["ims:images:export", "ims:serverImages:create", "ims:images:delete", "obs:object:GetObject"]
SCOPES = ['project_id = "0a1b2c3d"', 'enterprise_project_id = "ep-1"', 'domain_id = "d-1"', 'project_id = "all"']


def generate_roles(directory: Path, roles: int, per_file: int = 50) -> None:
    """A repository of `roles` custom roles, each with a group and an assignment, 10 files a module."""
    for start in range(0, roles, per_file):
        module = directory / f"mod_{start // (per_file * 10):04d}"
        module.mkdir(parents=True, exist_ok=True)
        text = "".join(ROLE_TEMPLATE.format(n=n, extra=EXTRA_ACTIONS[n % 4], scope=SCOPES[n % 4])
                       for n in range(start, min(start + per_file, roles)))
        (module / f"roles_{start:06d}.tf").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000", help="comma-separated corpus sizes (files)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--generator", default=str(DEFAULT_GENERATOR))
    parser.add_argument("--work", default=str(REPO / "bench" / "out"))
    parser.add_argument("--skip-hcl2", action="store_true", help="skip the python-hcl2 baseline (slow)")
    parser.add_argument("--roles", default="", help="comma-separated role counts: repositories of N custom roles")
    parser.add_argument("--baseline", default="", help="a checkout of the code before a change: its cold scan too")
    parser.add_argument("--checkov-repeat", type=int, default=1,
                        help="Checkov runs per corpus, median taken (each takes minutes; 0 skips Checkov)")
    args = parser.parse_args()

    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    args.generator = str(Path(args.generator).resolve())
    os.chdir(work)  # `python -m` puts the working directory first on the import path: not a checkout
    env = code_env(dict(os.environ), REPO)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    check_imports_from(REPO, env)
    baseline = Path(args.baseline) if args.baseline else None
    if baseline is not None:
        check_imports_from(baseline, code_env(env, baseline))
    checkov = shutil.which("checkov")
    rows = []
    corpora: list[Path] = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        corpus = work / f"corpus{size}"
        if not corpus.exists():
            subprocess.run([sys.executable, args.generator, str(corpus), str(size)], check=True,
                           stdout=subprocess.DEVNULL)
        corpora.append(corpus)
    for roles in [int(s) for s in args.roles.split(",") if s]:
        corpus = work / f"roles{roles}"
        if not corpus.exists():
            generate_roles(corpus, roles)
        corpora.append(corpus)
    for corpus in corpora:
        files = sum(1 for _ in corpus.rglob("*.tf"))
        megabytes = sum(p.stat().st_size for p in corpus.rglob("*.tf")) / 1e6
        cache = Path(tempfile.mkdtemp(prefix="iac-ims-bench-cache-"))
        run_env = dict(env, IAC_IMS_CACHE_DIR=str(cache))
        scan = [sys.executable, "-m", "iac_ims", "scan", str(corpus), "--format", "json", "--quiet"]
        runs = [(scan, run_env)]
        if baseline is not None:
            base_cache = Path(tempfile.mkdtemp(prefix="iac-ims-bench-cache-"))
            runs.append((scan, code_env(dict(run_env, IAC_IMS_CACHE_DIR=str(base_cache)), baseline)))
        # warm up the grammar cache and the catalogue cache once (a first-ever run builds them)
        for command, each_env in runs:
            subprocess.run(command, env=each_env, capture_output=True)

        def forget_reports() -> None:
            for _, each_env in runs:
                shutil.rmtree(Path(each_env["IAC_IMS_CACHE_DIR"]) / "scans", ignore_errors=True)

        measured = median_runs(runs, args.repeat, before=forget_reports)
        cold = measured[0]
        subprocess.run(scan, env=run_env, capture_output=True)
        warm = median_run(scan, run_env, args.repeat)
        row = {"files": files, "MB": round(megabytes, 1), "cold_s": cold[0], "cold_rss_mb": cold[1],
               "warm_s": warm[0], "warm_rss_mb": warm[1]}
        if baseline is not None:
            row["baseline_cold_s"], row["baseline_cold_rss_mb"] = measured[1]
            shutil.rmtree(base_cache, ignore_errors=True)
        if not args.skip_hcl2:
            hcl2_all = [sys.executable, "-c", HCL2_ALL, str(corpus)]
            row["hcl2_s"], row["hcl2_rss_mb"] = median_run(hcl2_all, env, min(args.repeat, 3))
        if checkov and args.checkov_repeat > 0:
            checkov_scan = [checkov, "-d", str(corpus), "--framework", "terraform", "--quiet"]
            row["checkov_s"], row["checkov_rss_mb"] = median_run(checkov_scan, env, args.checkov_repeat)
        shutil.rmtree(cache, ignore_errors=True)
        rows.append(row)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; medians of {args.repeat} "
          f"(python-hcl2: {min(args.repeat, 3)}, Checkov: {args.checkov_repeat})")
    header = "files   MB  cold s  cold MB  warm s  hcl2-all s  checkov s  hcl2/cold  checkov/cold"
    print(header)
    for row in rows:
        hcl2, checkov_s, cold_s = row.get("hcl2_s"), row.get("checkov_s"), row["cold_s"]
        hcl2_text = "-" if hcl2 is None else f"{hcl2:.2f}"
        checkov_text = "-" if checkov_s is None else f"{checkov_s:.1f}"
        hcl2_ratio = "-" if hcl2 is None else f"{hcl2 / cold_s:.1f}x"
        checkov_ratio = "-" if checkov_s is None else f"{checkov_s / cold_s:.0f}x"
        print(f"{row['files']:>5} {row['MB']:>4} {cold_s:>7.2f} {row['cold_rss_mb']:>8} {row['warm_s']:>7.2f}"
              f" {hcl2_text:>11} {checkov_text:>10} {hcl2_ratio:>10} {checkov_ratio:>13}")
    if baseline is not None:
        print(f"baseline {baseline}: cold scans alternating with this code's")
        print("files  baseline cold s  this cold s  this/baseline  baseline MB  this MB")
        for row in rows:
            ratio = row["cold_s"] / row["baseline_cold_s"]
            print(f"{row['files']:>5} {row['baseline_cold_s']:>16.2f} {row['cold_s']:>12.2f} {ratio:>14.2f}"
                  f" {row['baseline_cold_rss_mb']:>12} {row['cold_rss_mb']:>8}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
