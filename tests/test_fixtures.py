"""The vendored facts in `tests/fixtures/` are still the facts: each copy equals its original in
`../shared` where that folder is beside the project (CI), so a change there fails here until it
is copied; on a plain clone these comparisons skip (nothing to compare with) and every other test
reads the copies."""

from __future__ import annotations

import re

import pytest
from conftest import FIXTURES, SHARED, interface_rules

COPIES = {  # vendored file -> its original under ../shared
    "000_47634986cf5b2380.txt": "spec/000_47634986cf5b2380.txt",
    "ims-more-tables.md": "spec/ims-more-tables.md",
    "system-roles.tsv": "spec/system-roles.tsv",
    "sarif-2.1.0-rtm.5.json": "schemas/sarif-2.1.0-rtm.5.json",
    "gen_corpus.py": "bench/gen_corpus.py",
    "provider-ims-map.tsv": "spec/provider-ims-map.tsv",
}
DERIVED = {"interface_rules.tsv": "spec/INTERFACE.md"}


def _original(relative: str):
    path = SHARED / relative
    if not path.is_file():
        pytest.skip(f"{path} is not beside the project: nothing to compare the copy with")
    return path


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_equals_its_original(name: str) -> None:
    original = _original(COPIES[name])
    assert (FIXTURES / name).read_bytes() == original.read_bytes(), \
        f"{original} changed: cp {original} {FIXTURES / name}"


def _interface_rules(text: str) -> list[tuple[str, str]]:
    """Every rule ID the document mentions, with the default severity its Rules section states
    (`- \\`IMS100\\` [error] ...`, `- \\`IMS200\\` (custom roles) [error] ...`), "" if none."""
    stated: dict[str, str] = {}
    for rule_id, severity in re.findall(r"`(IMS\d{3})`(?: \(custom roles\))? \[(error|warning|info)\]", text):
        assert stated.setdefault(rule_id, severity) == severity, f"{rule_id} is given two severities"
    return [(rule_id, stated.get(rule_id, "")) for rule_id in sorted(set(re.findall(r"IMS\d{3}", text)))]


def test_interface_rules_are_what_interface_md_says() -> None:
    original = _original(DERIVED["interface_rules.tsv"])
    assert interface_rules() == _interface_rules(original.read_text(encoding="utf-8"))


def test_interface_rules_table_is_well_formed() -> None:
    rows = interface_rules()
    assert rows and len({rule_id for rule_id, _ in rows}) == len(rows)
    for rule_id, severity in rows:
        assert re.fullmatch(r"IMS\d{3}", rule_id) and severity in ("error", "warning", "info"), (rule_id, severity)


def test_every_fixture_names_its_source() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    vendored = {path.name for path in FIXTURES.iterdir() if path.is_file() and path.name != "README.md"}
    assert vendored == set(COPIES) | set(DERIVED)
    for name in vendored:
        assert f"| `{name}` |" in readme, f"tests/fixtures/README.md does not say where {name} comes from"
