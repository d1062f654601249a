"""The provider-call map (`rules/provider_calls.yaml`): the shipped data against the vendored
facts (`tests/fixtures/provider-ims-map.tsv`) row by row, nothing invented; its loading into
`Catalog.provider_calls`; user extension files replacing an entry, or malformed."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import FIXTURES

from iac_ims.catalog import (
    WHEN_FORMS,
    AttributeRef,
    CatalogError,
    ProviderCall,
    ResourceCalls,
    When,
    load_catalog,
    provider_calls_key,
    shipped_rules_dir,
)

# The TSV's prerequisites text names some permissions by what they allow, not by action: the
# action each such phrase is read as (a requirement with basis "inferred").
INFERRED = {
    "read access to the OBS object": "obs:object:GetObject",
    "write access to the target OBS bucket": "obs:object:PutObject",
    "the CBR backup (backup_id) must be visible to the caller": "cbr:backups:get",
}
# "(+ the create-image dependency list)" refers to the dependencies of this API, stated in full
# in the rows that call it.
CREATE_IMAGE = ("POST", "/v2/cloudimages/action")
ACTION = re.compile(r"(?<![A-Za-z0-9:])[a-z][a-z0-9-]*:[A-Za-z*]+:[A-Za-z*]+")
ROLES = ("Tenant Administrator", "CSBS Administrator", "CBR Admin", "CBR FullAccess")
# What in a requirement's `why` says it is needed only sometimes (its `when` is not always).
CONDITIONAL = (" when ", "only for ", "encrypted", "vault_id:", "is_delete_backup")
DEPRECATED = {"huaweicloud_images_image", "huaweicloud_images_image_v2"}  # resources, per the provider


def _rows() -> list[dict[str, str]]:
    with (FIXTURES / "provider-ims-map.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for line, row in enumerate(rows, start=2):
        row["line"] = str(line)
    return rows


ROWS = _rows()


def _by_entry() -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in ROWS:
        grouped[provider_calls_key(row["resource_type"], row["kind"])].append(row)
    return grouped


BY_ENTRY = _by_entry()


def _pairs() -> list[tuple[dict[str, str], int]]:
    """Each TSV row with its position among its resource's rows."""
    position: dict[str, int] = defaultdict(int)
    out = []
    for row in ROWS:
        key = provider_calls_key(row["resource_type"], row["kind"])
        out.append((row, position[key]))
        position[key] += 1
    return out


PAIRS = _pairs()


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def _call(cat, row: dict[str, str], index: int) -> ProviderCall:
    entry = cat.resource_calls(row["resource_type"], row["kind"])
    assert entry is not None, f"TSV line {row['line']}: no entry for {row['kind']} {row['resource_type']}"
    assert index < len(entry.calls), f"TSV line {row['line']}: {entry.key} has only {len(entry.calls)} calls"
    return entry.calls[index]


def _clauses(text: str) -> list[str]:
    """`a; b (c; d); e` -> [a, b (c; d), e]: split at "; " outside parentheses."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and text.startswith("; ", i):
            out.append(text[start:i])
            start = i + 2
    out.append(text[start:])
    return [c for c in out if c]


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _forms(when: When) -> set[str]:
    found = {when.form}
    for clause in when.clauses:
        found |= _forms(clause)
    return found


def _row_id(pair: tuple[dict[str, str], int]) -> str:
    row, _ = pair
    return f"L{row['line']}-{row['resource_type']}-{row['phase']}"


# -------------------------------------------------------------------- entries


def test_one_entry_per_resource_type_and_data_source(cat):
    assert list(cat.provider_calls) == list(BY_ENTRY), "the entries are the TSV's, in its order"
    for key, entry in cat.provider_calls.items():
        assert isinstance(entry, ResourceCalls)
        row = BY_ENTRY[key][0]
        assert (entry.type, entry.kind) == (row["resource_type"], row["kind"])
        assert entry.key == key
        assert len(entry.calls) == len(BY_ENTRY[key]), f"{key}: one call per TSV row, no other"
        assert entry.provider == entry.type.split("_")[0]
        assert entry.provider in ("huaweicloud", "flexibleengine")
        assert entry.deprecated == (entry.kind == "resource" and entry.type in DEPRECATED), key
        # import runs the read (and a custom importer's import calls): importable exactly where a
        # read or import call's condition says it happens on import
        on_import = any(c.phase in ("read", "import") and "import" in c.condition for c in entry.calls)
        assert entry.importable == (entry.kind == "resource" and on_import), key
    kinds = [entry.kind for entry in cat.provider_calls.values()]
    assert kinds.count("resource") + kinds.count("data") == len(kinds)


def test_lookup_by_type_and_kind(cat):
    resource = cat.resource_calls("huaweicloud_images_image")
    data = cat.resource_calls("huaweicloud_images_image", "data")
    assert resource.kind == "resource" and data.kind == "data" and resource is not data
    assert data.key == "data.huaweicloud_images_image"
    assert [c.phase for c in data.calls] == ["read"]
    assert cat.resource_calls("huaweicloud_no_such_thing") is None
    assert {c.phase for c in resource.phase("import")} == {"import"}


# -------------------------------------------------------------------- row by row


@pytest.mark.parametrize("pair", PAIRS, ids=[_row_id(p) for p in PAIRS])
def test_row_is_one_call(cat, pair):
    row, index = pair
    call = _call(cat, row, index)
    where = f"TSV line {row['line']}"
    assert (call.phase, call.method, call.path) == (row["phase"], row["method"], row["path"]), where
    assert call.enterprise_project == row["ep_supported"], where
    assert call.condition == row["condition"], where
    assert call.source == row["source"], where
    if row["actions"].startswith("UNCONFIRMED"):
        assert call.unconfirmed and call.actions == (), f"{where}: an unconfirmed action is never invented"
        note = re.fullmatch(r"UNCONFIRMED(?: \((.*)\))?", row["actions"]).group(1) or ""
        assert call.unconfirmed_note == note, where
    else:
        assert not call.unconfirmed and not call.unconfirmed_note, where
        assert call.actions == tuple(row["actions"].split(",")), where
    assert call.inferred == ("ACTION INFERRED" in row["prerequisites"]), where


@pytest.mark.parametrize("pair", PAIRS, ids=[_row_id(p) for p in PAIRS])
def test_when_is_structured_from_the_condition(cat, pair):
    row, index = pair
    call = _call(cat, row, index)
    when, condition = call.when, row["condition"]
    where = f"TSV line {row['line']}: {condition!r}"
    assert _forms(when) <= set(WHEN_FORMS), where
    assert _forms(when) <= {"always", "on_error", "other", "all_of", "any_of"} or when.names, where
    # every argument it names is one the condition names (an argument compared with is named
    # inside another's name, as region in target_region)
    for name in when.names - _refs(when):
        assert name in _tokens(condition), f"{where}: names {name!r}"
    for name in _refs(when):
        assert name in condition, f"{where}: compares with {name!r}"
    if when.form == "always":
        assert not condition.startswith(("only", "otherwise")), where
    else:
        assert not condition.startswith(("always", "also at the end of")), where
    assert ("attribute_changes" in _forms(when)) <= (call.phase == "update"), where
    assert ("on_error" in _forms(when)) == ("fails with" in condition), where


def _refs(when: When) -> set[str]:
    found = {v.name for v in when.values if isinstance(v, AttributeRef)}
    for clause in when.clauses:
        found |= _refs(clause)
    return found


@pytest.mark.parametrize("pair", PAIRS, ids=[_row_id(p) for p in PAIRS])
def test_requirements_are_what_the_row_says(cat, pair):
    row, index = pair
    call = _call(cat, row, index)
    text = row["prerequisites"]
    where = f"TSV line {row['line']}"
    if text == "-":
        assert call.requires == () and call.prerequisite_note == "", where
        return
    named = set(ACTION.findall(text))
    required = {a for req in call.requires for a in req.actions}
    roles = {r for req in call.requires for r in req.roles}
    assert named <= required, f"{where}: the row names {sorted(named - required)}"
    create_image = _create_image_dependencies() if "(+ the create-image dependency list)" in text else set()
    for req in call.requires:
        assert req.why, where
        for action in req.actions:
            assert action.split(":")[0] == req.service, f"{where}: {action} under {req.service}"
            inferred = {a for phrase, a in INFERRED.items() if phrase in text}
            assert action in named | create_image | inferred, f"{where}: {action} is not in the row"
            assert (req.basis == "inferred") == (action in inferred - named), f"{where}: {action} basis {req.basis}"
        for role in req.roles:
            assert role in text, f"{where}: {role!r} is not in the row"
        assert (req.when.form != "always") == any(p in req.why for p in CONDITIONAL), f"{where}: {req}"
        for name in req.when.names:
            assert name in _tokens(text), f"{where}: the requirement's when names {name!r}"
        if req.basis == "unconfirmed":
            assert "UNCONFIRMED" in text or not req.actions, where
        if not req.actions and not req.roles:
            assert req.basis == "unconfirmed", where
    # nothing lost: each clause is in the note, explains a requirement, or is structured by one
    note = _clauses(call.prerequisite_note)
    assert all(part in _clauses(text) for part in note), f"{where}: the note is the row's own words"
    whys = " ".join(req.why for req in call.requires)
    for clause in _clauses(text):
        structured = (set(ACTION.findall(clause)) & required or {r for r in ROLES if r in clause} & roles
                      or any(phrase in clause for phrase in INFERRED))
        assert clause in note or clause in whys or structured, f"{where}: {clause!r} is lost"


def _create_image_dependencies() -> set[str]:
    found: set[str] = set()
    for row in ROWS:
        if (row["method"], row["path"]) == CREATE_IMAGE and "dependency actions:" in row["prerequisites"]:
            found |= set(ACTION.findall(row["prerequisites"]))
    assert found
    return found


def test_every_ims_action_is_known_or_unconfirmed(cat):
    for entry in cat.provider_calls.values():
        for call in entry.calls:
            for action in call.actions:
                if action.startswith("ims:"):
                    assert cat.canonical_action(action) == action, (entry.key, call.api, action)
                else:
                    assert action.split(":")[0] in cat.services, (entry.key, call.api, action)


def test_when_forms_in_use(cat):
    used: dict[str, int] = defaultdict(int)
    for entry in cat.provider_calls.values():
        for call in entry.calls:
            used[call.when.form] += 1
    assert used["always"] > used["attribute_changes"] > 0
    assert {"attribute_set", "all_of", "any_of", "attribute_differs"} <= set(used)
    copy = cat.resource_calls("huaweicloud_images_image_copy")
    cross = next(c for c in copy.calls if c.path.endswith("/cross_region_copy"))
    assert cross.when == When("attribute_differs", ("target_region",), (AttributeRef("region"),))
    assert cross.when.to_data() == {"attribute_differs": {"target_region": {"attribute": "region"}}}
    fallback = [c for c in cat.resource_calls("huaweicloud_ims_ecs_system_image").calls if "fails with" in c.condition]
    assert fallback and all(c.when.form == "all_of" and c.when.clauses[1].form == "on_error" for c in fallback)


# -------------------------------------------------------------------- the file itself


def test_header_names_the_commits_and_sources(cat):
    by_name = {s.name: s for s in cat.provenance}
    assert by_name["huaweicloud"].commit == "a0345b8dcc818aa80d932ec0802891222b0a22af"
    assert by_name["flexibleengine"].commit == "daeea5203b02b7885cf83cfdc7f597802ea453fb"
    assert by_name["golangsdk"].commit == "83ad1d270e52a3a4ff67b7b2cf267b9d1377950c"
    for source in cat.provenance:
        assert source.url is None or source.url.startswith("https://"), source
        if source.commit and source.url:
            assert source.commit in source.url, source
    text = (shipped_rules_dir() / "provider_calls.yaml").read_text(encoding="utf-8")
    for private in ("/work/", "/tmp/", "/home/", "shared/", "provider-ims-map", "ims-permissions.md",
                    "ims-more-tables.md", ".tsv"):
        assert private not in text, private


# -------------------------------------------------------------------- user files


def _write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


QUOTAS = """
provider_calls:
  - type: huaweicloud_ims_quotas
    kind: data
    provider: huaweicloud
    deprecated: false
    importable: false
    calls:
      - phase: read
        method: GET
        path: /v2/cloudimages/quota
        actions: [ims:quotas:get]
        enterprise_project: "no"
        when: {attribute_set: [region]}
        condition: only when region is set (a newer provider)
        source: huaweicloud/services/ims/data_source_huaweicloud_ims_quotas.go:99
  - type: huaweicloud_ims_image_tags_v3
    kind: resource
    provider: huaweicloud
    deprecated: false
    importable: true
    calls:
      - phase: create
        method: POST
        path: /v3/images/{image_id}/tags
        actions: []
        unconfirmed: true
        enterprise_project: unknown
        when: always
        requires:
          - {service: tms, basis: unconfirmed, why: tag management may be needed}
        condition: always
        source: huaweicloud/services/ims/resource_huaweicloud_ims_image_tags_v3.go:10
"""


def test_user_file_replaces_one_resource(tmp_path, cat):
    merged = load_catalog([_write(tmp_path, QUOTAS)])
    quotas = merged.resource_calls("huaweicloud_ims_quotas", "data")
    assert [c.path for c in quotas.calls] == ["/v2/cloudimages/quota"]
    assert quotas.calls[0].when == When("attribute_set", ("region",))
    assert quotas.calls[0].enterprise_project == "no"
    assert list(merged.provider_calls)[: len(cat.provider_calls)] == list(cat.provider_calls)  # in place
    assert list(merged.provider_calls)[-1] == "huaweicloud_ims_image_tags_v3"
    assert merged.resource_calls("huaweicloud_ims_image_tags_v3").calls[0].unconfirmed
    for key, entry in cat.provider_calls.items():
        if key != "data.huaweicloud_ims_quotas":
            assert merged.provider_calls[key] == entry
    assert load_catalog().resource_calls("huaweicloud_ims_quotas", "data").calls[0].path == "/v1/cloudimages/quota"


def test_user_file_of_kind_provider_calls(tmp_path):
    text = "kind: provider_calls\nprovenance: [{name: site, used_for: our fork}]\n" + QUOTAS
    merged = load_catalog([_write(tmp_path, text)])
    assert merged.provenance[-1].name == "site"
    assert merged.resource_calls("huaweicloud_ims_quotas", "data").calls[0].path == "/v2/cloudimages/quota"


_CALL = ("{phase: read, method: GET, path: /x, actions: [ims:images:list], enterprise_project: 'yes', "
         "when: always, condition: always, source: x.go:1}")
_ENTRY = "provider_calls:\n  - {{type: {type}, kind: resource, provider: huaweicloud, deprecated: false, importable: true, calls: [{call}]}}\n"


def _entry(call: str = _CALL, type_: str = "huaweicloud_site_image") -> str:
    return _ENTRY.format(type=type_, call=call)


MALFORMED = [
    ("unknown_key", _entry(_CALL.replace("source:", "colour: red, source:")), "provider_calls[0].calls[0].colour"),
    ("missing_when", _entry(_CALL.replace("when: always, ", "")), "provider_calls[0].calls[0].when"),
    ("bad_when_form", _entry(_CALL.replace("when: always", "when: {attribute_is: [name]}")),
     "provider_calls[0].calls[0].when"),
    ("bad_phase", _entry(_CALL.replace("phase: read", "phase: refresh")), "provider_calls[0].calls[0].phase"),
    ("bad_ep", _entry(_CALL.replace("'yes'", "maybe")), "provider_calls[0].calls[0].enterprise_project"),
    ("unknown_ims_action", _entry(_CALL.replace("ims:images:list", "ims:images:lsit")),
     "provider_calls[0].calls[0].actions[0]"),
    ("noncanonical_action", _entry(_CALL.replace("ims:images:list", "ims:Images:List")),
     "provider_calls[0].calls[0].actions[0]"),
    ("unknown_service_action", _entry(_CALL.replace("ims:images:list", "nosuch:things:get")),
     "provider_calls[0].calls[0].actions[0]"),
    ("requirement_unknown_service",
     _entry(_CALL.replace("when:", "requires: [{service: nosuch, actions: ['nosuch:a:b'], basis: documented, why: w}], when:")),
     "provider_calls[0].calls[0].requires[0].service"),
    ("requirement_other_service_action",
     _entry(_CALL.replace("when:", "requires: [{service: obs, actions: ['kms:cmk:get'], basis: documented, why: w}], when:")),
     "provider_calls[0].calls[0].requires[0].actions[0]"),
    ("requirement_unknown_role",
     _entry(_CALL.replace("when:", "requires: [{service: obs, roles: [Tenant Adminstrator], basis: documented, why: w}], when:")),
     "provider_calls[0].calls[0].requires[0].roles[0]"),
    ("requirement_says_nothing",
     _entry(_CALL.replace("when:", "requires: [{service: obs, basis: documented, why: w}], when:")),
     "provider_calls[0].calls[0].requires[0]"),
    ("type_of_another_provider", _entry(type_="flexibleengine_site_image"), "provider_calls[0].provider"),
    ("duplicate_type", _entry() + _entry().replace("provider_calls:\n", ""), "provider_calls[1].type"),
    ("bad_provenance_url", "provenance: [{name: x, used_for: y, url: /home/me/notes}]\n", "provenance[0].url"),
]


@pytest.mark.parametrize(("content", "key"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_user_file_names_the_key(tmp_path, content, key):
    path = _write(tmp_path, content, "bad.yaml")
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    assert Path(info.value.file).resolve() == path.resolve()
    assert info.value.key == key, info.value
    assert str(info.value).startswith(f"{info.value.file}: {key}: ")


def test_unconfirmed_call_may_name_an_action_the_catalogue_lacks(tmp_path):
    call = _CALL.replace("ims:images:list", "ims:imageJobs:get").replace("actions:", "unconfirmed: true, actions:")
    merged = load_catalog([_write(tmp_path, _entry(call))])
    assert merged.resource_calls("huaweicloud_site_image").calls[0].actions == ("ims:imageJobs:get",)
