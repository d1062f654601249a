from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # present in CI; a user's clone may not have it
FIXTURES = REPO / "tests" / "fixtures"  # vendored copies of what the tests compare against (README there)
REALWORLD = SHARED / "realworld"  # never copied into the repository: tests that scan it skip without it
REALWORLD_ABSENT = (f"the real-world corpus {REALWORLD} is not beside the project "
                    "(it is not copied into the repository; CI has it)")

# The only wall-clock bound a test may have: how long before work that should take a second is
# reported as a hang. Never a performance assertion: work is bounded by counting it (steps,
# calls, reads), and this only turns a hang into a failure that names the input.
HANG_GUARD_S = 300.0

# A busy machine must never fail a test: no per-example deadline, no health check that times
# data generation. Explicit @settings keep these unless they set them themselves.
settings.register_profile("no-wall-clock", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("no-wall-clock")


def interface_rules() -> list[tuple[str, str]]:
    """(rule ID, default severity) of every rule INTERFACE.md names, from the vendored table."""
    with (FIXTURES / "interface_rules.tsv").open(encoding="utf-8", newline="") as handle:
        return [(row["rule_id"], row["severity"]) for row in csv.DictReader(handle, delimiter="\t")]


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `{relative path: text}` under root (text dedented), return root."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def _product_time_limits_are_hang_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scanner's own time limits (a Lark parse's CPU time, a backtracking regex's wall-clock
    time) change findings when they fire; on a slow machine a sound 1 MB parse can pass 10 s. In-process tests lift
    them to the hang guard, so a result never depends on load; no in-process test relies on
    them firing (the hostile cases that do run the CLI in a subprocess, with the real limits)."""
    from iac_ims.terraform import functions_strings, parse

    monkeypatch.setattr(parse, "PARSE_TIMEOUT_S", HANG_GUARD_S, raising=False)
    monkeypatch.setattr(functions_strings, "REGEX_TIMEOUT_S", HANG_GUARD_S)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches go to a per-test-session directory, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def scan_tree(root: Path, files: dict[str, str] | None = None, **options):
    """Scan `root` (after writing `files` under it); findings name files relative to `root`, as
    they do when the tool runs in the scanned directory."""
    from iac_ims.pipeline import ScanOptions, scan

    if files:
        write_tree(root, files)
    options.setdefault("relative_to", root)
    return scan([root], ScanOptions(**options))


def rule_ids(report, *, include_suppressed: bool = False) -> list[str]:
    return sorted(f.rule_id for f in report.findings if include_suppressed or not f.suppressed)


def findings_of(report, rule_id: str):
    return [f for f in report.findings if f.rule_id == rule_id and not f.suppressed]


def attr_expr(src: str, name: str):
    """The expression of attribute `name` in HCL source `src`, parsed as a scan parses it (the
    first in document order, nested blocks included)."""
    from iac_ims.terraform.parse import parse_hcl_body

    body, error = parse_hcl_body(src, "test.tf")
    if error is not None:
        raise ValueError(error.message)
    found = _attribute_in(body, name)
    if found is None:
        raise KeyError(name)
    return found.expr


def _attribute_in(body, name: str):
    from iac_ims.terraform import ir

    for item in body.items:
        if type(item) is ir.AttributeDef:
            if item.name == name:
                return item
        else:
            found = _attribute_in(item.body, name)
            if found is not None:
                return found
    return None


def ev(text: str, ctx=None, **kw):
    """Evaluate `value = <text>` inside a locals block."""
    from iac_ims.terraform.context import SimpleContext
    from iac_ims.terraform.evaluate import evaluate

    src = f"locals {{\n  value = {text}\n}}\n"
    return evaluate(attr_expr(src, "value"), ctx if ctx is not None else SimpleContext(**kw))


def is_error(value) -> bool:
    """An evaluation error, which `evaluate` turns into an Unknown saying "error: ..."."""
    from iac_ims.terraform.values import Unknown

    return isinstance(value, Unknown) and value.reason.startswith("error:")
