"""Every built-in rule has a bad and a good example of Terraform, kept as Checkov and defsec keep
theirs: `tests/rule_examples/<RULE_ID>/bad/` gives the rule's finding at its default severity, and
`good/`, the same Terraform with the mistake corrected, does not give it.

Adding a rule is one entry in `rules/rules.yaml`, one function in `iac_ims/checks/` registered
with `@rule("IMS123")`, and these two directories (each `.tf` file's first line a comment
`# IMS123 (bad): what it shows` / `# IMS123 (good): ...`). A rule without them fails here.

Each example directory is scanned on its own, as `iac-ims scan` in that directory would: it is
the scanned tree (IMS902's bad example reads a file beside it, outside it). Where a rule is
known to misbehave on its example, the case is listed in MISBEHAVING with the reason and marked
xfail(strict=True), so fixing the rule makes that case fail until the entry is removed."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest

from iac_ims.catalog import load_catalog
from iac_ims.checks import builtin_rule_ids
from iac_ims.pipeline import ScanOptions, scan

EXAMPLES = Path(__file__).resolve().parent / "rule_examples"
TODAY = _dt.date(2026, 6, 1)  # suppression expiry is judged against a fixed day
RULES = builtin_rule_ids()

# (rule ID, "bad" or "good") -> why the rule does not behave as its contract says on that example
MISBEHAVING: dict[tuple[str, str], str] = {}


def _cases(kind: str) -> list:
    return [pytest.param(rule_id, id=rule_id,
                         marks=[pytest.mark.xfail(strict=True, reason=MISBEHAVING[(rule_id, kind)])]
                         if (rule_id, kind) in MISBEHAVING else [])
            for rule_id in RULES]


def _scan(directory: Path):
    if not any(directory.rglob("*.tf")):
        pytest.fail(f"{directory.relative_to(EXAMPLES.parent)} has no .tf file: every rule needs a bad "
                    "and a good example (see this module's docstring)")
    report = scan([directory], ScanOptions(relative_to=directory, today=TODAY))
    assert not report.internal_errors, report.internal_errors
    return report


def _described(report) -> str:
    return "\n".join(f"  {f.rule_id} [{f.severity}]{' (suppressed)' if f.suppressed else ''} "
                     f"{f.file}:{f.line} {f.resource}: {f.message}" for f in report.findings) or "  (none)"


@pytest.mark.parametrize("rule_id", RULES)
def test_rule_has_a_bad_and_a_good_example_that_say_what_they_show(rule_id: str) -> None:
    for kind in ("bad", "good"):
        directory = EXAMPLES / rule_id / kind
        assert directory.is_dir(), f"rule {rule_id} has no {kind} example: add {directory.relative_to(EXAMPLES.parent.parent)}/"
        files = sorted(directory.glob("*.tf"))
        assert files, f"{directory} has no .tf file"
        for path in files:
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first.startswith(f"# {rule_id} ({kind}): "), \
                f"{path}: the first line should be a comment '# {rule_id} ({kind}): what it shows', not {first!r}"


def test_every_example_directory_is_a_registered_rule() -> None:
    stale = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and p.name not in RULES)
    assert not stale, f"examples of rules that are not registered: {stale}"


@pytest.mark.parametrize("rule_id", _cases("bad"))
def test_bad_example_gives_the_finding_at_the_default_severity(rule_id: str) -> None:
    report = _scan(EXAMPLES / rule_id / "bad")
    fired = [f for f in report.findings if f.rule_id == rule_id and not f.suppressed]
    assert fired, f"{rule_id} does not fire on its bad example; findings:\n{_described(report)}"
    default = load_catalog().rule(rule_id).severity
    assert {f.severity for f in fired} == {default}, \
        f"{rule_id} should fire at its default severity {default}; findings:\n{_described(report)}"


@pytest.mark.parametrize("rule_id", _cases("good"))
def test_good_example_does_not_give_the_finding(rule_id: str) -> None:
    report = _scan(EXAMPLES / rule_id / "good")
    fired = [f for f in report.findings if f.rule_id == rule_id]
    assert not fired, f"{rule_id} fires on its good example; findings:\n{_described(report)}"
