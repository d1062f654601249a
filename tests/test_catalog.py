"""The catalogue: shipped data, index helpers, JSON shape, user extensions, malformed files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from iac_ims import catalog as catalog_module
from iac_ims.catalog import Catalog, CatalogError, load_catalog, shipped_rules_dir
from iac_ims.report.catalog import catalog_to_json, render_catalog_text, render_rules_text, rules_to_json

INTERFACE_RULES = Path(__file__).resolve().parent / "fixtures" / "interface_rules.tsv"

# The image-management operation IDs of INTERFACE.md, in order: (id, method, path, row).
IMAGE_MANAGEMENT = [
    ("list_images", "GET", "/v2/cloudimages", 1),
    ("update_image", "PATCH", "/v2/cloudimages/{image_id}", 2),
    ("migrate_image_enterprise_project", "PATCH", "/v2/cloudimages/{image_id}", 2),
    ("create_image", "POST", "/v2/cloudimages/action", 3),
    ("create_image_from_file", "POST", "/v2/cloudimages/action", 3),
    ("quick_import_system_image", "POST", "/v2/cloudimages/quickimport/action", 4),
    ("quick_import_data_image", "POST", "/v2/cloudimages/quickimport/action", 4),
    ("create_data_image_from_file", "POST", "/v1/cloudimages/dataimages/action", 5),
    ("create_whole_image", "POST", "/v1/cloudimages/wholeimages/action", 6),
    ("register_image", "PUT", "/v1/cloudimages/{image_id}/upload", 7),
    ("export_image", "POST", "/v1/cloudimages/{image_id}/file", 8),
    ("native_list_images", "GET", "/v2/images", 9),
    ("native_show_image", "GET", "/v2/images/{image_id}", 10),
    ("native_update_image", "PATCH", "/v2/images/{image_id}", 11),
    ("native_delete_image", "DELETE", "/v2/images/{image_id}", 12),
    ("native_create_image", "POST", "/v2/images", 13),
    ("native_upload_image", "PUT", "/v2/images/{image_id}/file", 14),
    ("native_list_versions", "GET", "/", 15),
    ("native_v1_list_images_detail", "GET", "/v1.1/images/detail", 16),
    ("native_v1_head_image", "HEAD", "/v1/images/{image_id}", 17),
    ("native_v1_delete_image", "DELETE", "/v1.1/images/{image_id}", 18),
]

def _registered_rule_ids() -> list[str]:
    from iac_ims.checks import builtin_rule_ids

    return builtin_rule_ids()


RULE_IDS = _registered_rule_ids()

OBS_TA = [["Tenant Administrator"]]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep the disk cache of these tests out of the user's cache directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


# -------------------------------------------------------------------- shipped data


def test_loads_shipped_files(cat):
    names = [Path(s).name for s in cat.sources]
    assert names[:4] == ["ims_catalog.yaml", "services.yaml", "system_roles.yaml", "rules.yaml"]
    assert all(Path(s).parent == shipped_rules_dir() for s in cat.sources)
    assert load_catalog() is load_catalog()  # cached


def test_image_management_ids_in_order(cat):
    ops = list(cat.operations.values())
    assert [op.id for op in ops[: len(IMAGE_MANAGEMENT)]] == [row[0] for row in IMAGE_MANAGEMENT]
    assert all(op.table != "image_management" for op in ops[len(IMAGE_MANAGEMENT):])


@pytest.mark.parametrize(("op_id", "method", "path", "row"), IMAGE_MANAGEMENT, ids=[r[0] for r in IMAGE_MANAGEMENT])
def test_image_management_operation(cat, op_id, method, path, row):
    op = cat.operation(op_id)
    assert op is not None
    assert (op.method, op.path, op.table, op.row) == (method, path, "image_management", row)
    assert op.title
    assert op.project is True
    assert op.enterprise_project is (row <= 8 or row in (10, 11, 12))
    assert op.deprecated is (row >= 16)
    assert all(cat.is_ims_action(a) for a in op.actions)


@pytest.mark.parametrize(
    ("op_id", "actions"),
    [
        ("list_images", ["ims:images:list"]),
        ("update_image", ["ims:images:update"]),
        ("migrate_image_enterprise_project", ["ims:images:update", "ims:serverImages:create"]),
        ("create_image", ["ims:serverImages:create"]),
        ("create_image_from_file", ["ims:serverImages:create"]),
        ("quick_import_system_image", ["ims:serverImages:create"]),
        ("quick_import_data_image", ["ims:dataImages:create"]),
        ("create_data_image_from_file", ["ims:dataImages:create"]),
        ("create_whole_image", ["ims:wholeImages:create"]),
        ("register_image", ["ims:images:upload"]),
        ("export_image", ["ims:images:export"]),
        ("native_upload_image", ["ims:images:get", "ims:images:update", "ims:images:upload"]),
        ("native_list_versions", []),
        ("copy_image_in_region_enterprise_project", ["ims:images:copy", "ims:serverImages:create"]),
    ],
)
def test_operation_actions(cat, op_id, actions):
    assert list(cat.operation(op_id).actions) == actions


@pytest.mark.parametrize(
    ("op_id", "prerequisites"),
    [
        ("create_image", []),
        ("create_image_from_file", OBS_TA),
        ("quick_import_system_image", OBS_TA),
        ("quick_import_data_image", OBS_TA),
        ("create_data_image_from_file", OBS_TA),
        ("create_whole_image", [["CSBS Administrator", "CBR Admin", "CBR FullAccess"]]),
        ("register_image", OBS_TA),
        ("export_image", OBS_TA),
        ("list_images", []),
        ("native_upload_image", []),
    ],
)
def test_prerequisites(cat, op_id, prerequisites):
    op = cat.operation(op_id)
    assert [list(p.any_of) for p in op.prerequisites] == prerequisites
    expected_service = {"Tenant Administrator": "obs", "CSBS Administrator": "cbr"}
    for p in op.prerequisites:
        assert p.service == expected_service[p.any_of[0]]


def test_deprecated_rows_name_their_replacement(cat):
    replacements = {
        op.id: op.replacement for op in cat.operations.values() if op.deprecated
    }
    assert replacements == {
        "native_v1_list_images_detail": "native_list_images",
        "native_v1_head_image": "native_show_image",
        "native_v1_delete_image": "native_delete_image",
    }
    assert all(op.replacement is None for op in cat.operations.values() if not op.deprecated)


def test_other_tables_present(cat):
    tables = {}
    for op in cat.operations.values():
        tables.setdefault(op.table, []).append(op)
    assert list(tables) == ["image_management", "tags", "schemas", "sharing", "replication", "quota"]
    assert len(tables["tags"]) == 11
    assert len(tables["schemas"]) == 4
    assert len(tables["sharing"]) == 10
    assert len(tables["replication"]) == 3
    assert len(tables["quota"]) == 1
    for table in ("tags", "schemas", "sharing"):
        assert all(op.project and not op.enterprise_project for op in tables[table])
    assert cat.operation("copy_image_cross_region").enterprise_project is False
    assert cat.operation("copy_image_in_region").enterprise_project is True
    assert cat.operation("show_image_quota").actions == ("ims:quotas:get",)


def test_known_actions(cat):
    assert set(cat.actions) == {
        *(f"ims:images:{op}" for op in ("list", "get", "create", "update", "delete", "upload", "export", "copy", "share")),
        "ims:serverImages:create",
        "ims:dataImages:create",
        "ims:wholeImages:create",
        "ims:quotas:get",
        "ims:imageJobs:getPercentage",
    }
    used = {a for op in cat.operations.values() for a in op.actions}
    assert used <= set(cat.actions)


# -------------------------------------------------------------------- index helpers


def test_operations_for_api(cat):
    ids = [op.id for op in cat.operations_for_api("patch", " /v2/cloudimages/{image_id} ")]
    assert ids == ["update_image", "migrate_image_enterprise_project"]
    assert [op.id for op in cat.operations_for_api("GET", "/v2/images")] == ["native_list_images"]
    assert [op.id for op in cat.operations_for_api("POST", "/v2/cloudimages/action")] == [
        "create_image",
        "create_image_from_file",
    ]
    assert cat.operations_for_api("GET", "/v2/nothing") == []
    assert cat.operation("no_such_operation") is None


def test_action_helpers(cat):
    assert cat.is_ims_action("ims:images:list")
    assert cat.is_ims_action("IMS:Images:List")
    assert not cat.is_ims_action("ims:images:lsit")
    assert not cat.is_ims_action("ims:*:*")
    assert not cat.is_ims_action("obs:bucket:list")
    assert cat.canonical_action("ims:serverimages:CREATE") == "ims:serverImages:create"
    assert cat.actions_matching("ims:*:get*") == ["ims:images:get", "ims:quotas:get", "ims:imageJobs:getPercentage"]
    assert cat.actions_matching("ims:*:*") == list(cat.actions)
    assert cat.actions_matching("*") == list(cat.actions)
    assert cat.actions_matching("ims:image:list") == []


def test_service_levels(cat):
    assert cat.service_level("ims") == "project"
    assert cat.service_level("IMS") == "project"
    for svc in ("ecs", "evs", "vpc", "cbr", "csbs", "kms", "rds", "cce", "elb"):
        assert cat.service_level(svc) == "project", svc
    assert cat.service_level("obs") == "global"
    assert cat.service_level("iam") == "global"
    assert cat.service_level("nosuchservice") is None


def test_system_roles(cat):
    ta = cat.system_role("Tenant Administrator")
    assert ta is not None and ta.name == "te_admin"
    assert ta.allow == ("*:*:*",) and ta.deny == ("iam:*:*",) and ta.actions_known
    assert cat.system_role("te_admin") is ta
    assert cat.system_role("tenant administrator") is None  # case-sensitive, as IAM is
    assert cat.system_role("Tenant Adminstrator") is None
    for former, current in [
        ("CBR Admin", "CBR FullAccess"),
        ("CBR User", "CBR BackupsAndVaultsFullAccess"),
        ("CBR Viewer", "CBR ReadOnlyAccess"),
        ("IMS Admin", "IMS FullAccess"),
        ("IMS Viewer", "IMS ReadOnlyAccess"),
    ]:
        assert cat.system_role(former).display_name == current
    assert cat.system_role("IMS Administrator").allow == ("ims:*:*",)
    assert cat.system_role("IMS ReadOnlyAccess").allow == ("ims:*:list", "ims:*:get")
    assert cat.system_role("Tenant Guest").allow == ("*:*:list*", "*:*:get*")
    assert cat.system_role("FullAccess").allow == ("*:*:*",)
    # roles of other services are known to grant no IMS action
    for name in ("OBS Administrator", "CBR FullAccess", "KMS Administrator", "CSBS Administrator"):
        role = cat.system_role(name)
        assert role.actions_known and role.allow == ()
    assert cat.system_role("Server Administrator").actions_known is True
    assert cat.system_role("BMS FullAccess").actions_known is False
    assert cat.role_name("CBR Admin")[1].display_name == "CBR FullAccess"
    # every prerequisite names a known role
    for op in cat.operations.values():
        for p in op.prerequisites:
            assert all(cat.system_role(n) for n in p.any_of)


# -------------------------------------------------------------------- rules


# Rules the revised interface names that are not built yet, with the issue that builds them.
# Remove an entry when its issue lands.
NOT_YET_BUILT: dict[str, str] = {}


def _interface_rules() -> list[tuple[str, str]]:
    """(rule ID, default severity) of every rule the public interface names (severity "" where it
    states none), from the vendored table (tests/fixtures/README.md says where it comes from)."""
    rows = (INTERFACE_RULES.read_text(encoding="utf-8").splitlines())[1:]
    return [tuple(row.split("\t")) + ("",) * (2 - len(row.split("\t"))) for row in rows if row.strip()]


def _with_pending(ids):
    return [pytest.param(rid, marks=pytest.mark.xfail(reason=f"not built yet: {NOT_YET_BUILT[rid]}", strict=True))
            if rid in NOT_YET_BUILT else rid for rid in ids]


INTERFACE_RULE_IDS = sorted(set(RULE_IDS) | {rid for rid, _ in _interface_rules()})
INTERFACE_SEVERITIES = sorted((rid, severity) for rid, severity in _interface_rules() if severity)


def test_every_rule_in_the_catalogue_has_a_check_and_every_check_metadata(cat):
    from iac_ims.checks import registry

    assert sorted(registry(cat)) == sorted(cat.rules) == RULE_IDS


@pytest.mark.parametrize("rid", _with_pending(INTERFACE_RULE_IDS))
def test_every_rule_has_metadata(cat, rid):
    assert rid in cat.rules
    rule = cat.rule(rid)
    assert rule.severity in ("error", "warning", "info")
    assert rule.title and rule.rationale and rule.remediation
    assert "\n" not in rule.rationale
    assert rule.family == {"1": "policy", "2": "scope", "3": "intent", "9": "reading"}[rid[3]]


@pytest.mark.parametrize("rid,severity", [
    pytest.param(rid, sev, marks=pytest.mark.xfail(reason=f"not built yet: {NOT_YET_BUILT[rid]}", strict=True))
    if rid in NOT_YET_BUILT else (rid, sev) for rid, sev in INTERFACE_SEVERITIES])
def test_default_severities_match_interface(cat, rid, severity):
    assert cat.rule(rid) is not None and cat.rule(rid).severity == severity, rid


# -------------------------------------------------------------------- JSON and text


def test_catalog_json_shape(cat):
    data = catalog_to_json(cat)
    assert list(data) == ["operations"]
    ops = data["operations"]
    assert [o["id"] for o in ops] == list(cat.operations)
    contracted = ["id", "method", "path", "title", "actions", "project", "enterprise_project",
                  "deprecated", "replacement", "prerequisites"]
    for o in ops:
        assert list(o)[: len(contracted)] == contracted
        assert isinstance(o["actions"], list) and all(isinstance(a, str) for a in o["actions"])
        assert isinstance(o["prerequisites"], list)
        assert all(isinstance(alts, list) and alts for alts in o["prerequisites"])
    export = next(o for o in ops if o["id"] == "export_image")
    assert {k: export[k] for k in contracted} == {
        "id": "export_image",
        "method": "POST",
        "path": "/v1/cloudimages/{image_id}/file",
        "title": export["title"],
        "actions": ["ims:images:export"],
        "project": True,
        "enterprise_project": True,
        "deprecated": False,
        "replacement": None,
        "prerequisites": [["Tenant Administrator"]],
    }
    assert json.loads(json.dumps(data)) == data


def test_rules_json(cat):
    rules = rules_to_json(cat)["rules"]
    assert [r["id"] for r in rules] == sorted(cat.rules)
    assert set(rules[0]) >= {"id", "severity", "title", "rationale"}


def test_text_renderings(cat):
    text = render_catalog_text(cat)
    for op in cat.operations.values():
        assert re.search(rf"^{re.escape(op.id)}\s+{re.escape(op.method)} {re.escape(op.path)}\s", text, re.M)
    assert "deprecated: use native_list_images" in text
    assert "Tenant Administrator" in text
    rules_text = render_rules_text(cat)
    for rid in RULE_IDS:
        assert re.search(rf"^{rid}\s+(error|warning|info)\s+\S", rules_text, re.M)


def test_schemas_are_valid():
    import jsonschema

    schema_dir = shipped_rules_dir() / "schema"
    files = sorted(schema_dir.glob("*.json"))
    assert {f.name for f in files} >= {f"{k}.schema.json" for k in catalog_module.KINDS}
    for f in files:
        schema = json.loads(f.read_text(encoding="utf-8"))
        jsonschema.validators.validator_for(schema).check_schema(schema)


# -------------------------------------------------------------------- user extensions


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_extension_merges(tmp_path, cat):
    ext = _write(
        tmp_path,
        "extra.yaml",
        """
known_actions: [ims:images:archive]
operations:
  - id: list_images            # replaces the shipped one, keeps its position
    method: GET
    path: /v2/cloudimages
    title: List images (site override)
    actions: [ims:images:list]
    project: true
    enterprise_project: false
  - id: archive_image           # a new one, appended
    method: POST
    path: /v9/images/{image_id}/archive
    title: Archive an image
    actions: [ims:images:archive, ims:images:get]
    project: true
    enterprise_project: true
    deprecated: true
    replacement: native_show_image
    prerequisites: [{service: obs, any_of: [Site Storage Admin, Tenant Administrator]}]
services:
  - {name: foo, level: global}
system_roles:
  - {display_name: Site Storage Admin, service: obs, allow: [], actions_known: true}
rules:
  - {id: IMS101, severity: warning, title: Unknown IMS action, rationale: site policy, remediation: fix it}
""",
    )
    merged = load_catalog([ext])
    assert merged is not cat
    ids = list(merged.operations)
    assert ids[0] == "list_images" and ids[-1] == "archive_image"
    assert len(ids) == len(cat.operations) + 1
    assert merged.operation("list_images").enterprise_project is False
    assert merged.operation("list_images").title == "List images (site override)"
    assert merged.operation("archive_image").table == "custom"
    assert merged.is_ims_action("ims:images:archive")
    assert merged.service_level("foo") == "global"
    assert merged.system_role("Site Storage Admin").service == "obs"
    assert merged.rule("IMS101").severity == "warning"
    assert merged.sources[-1] == str(ext.resolve()) or merged.sources[-1].endswith("extra.yaml")
    # the shipped catalogue is untouched
    assert load_catalog().operation("list_images").enterprise_project is True
    assert load_catalog().rule("IMS101").severity == "error"


def test_user_files_apply_in_order(tmp_path):
    op = "{{id: {id}, method: GET, path: /x, title: {title}, actions: [], project: true, enterprise_project: false}}"
    a = _write(tmp_path, "a.yaml", f"operations: [{op.format(id='site_op', title='first')}]\n")
    b = _write(tmp_path, "b.yaml", f"kind: extension\noperations: [{op.format(id='site_op', title='second')}]\n")
    assert load_catalog([a, b]).operation("site_op").title == "second"
    assert load_catalog([b, a]).operation("site_op").title == "first"


def test_user_file_of_one_kind(tmp_path):
    f = _write(tmp_path, "svc.yaml", "kind: services\nservices: [{name: bar, level: project}]\n")
    assert load_catalog([str(f)]).service_level("bar") == "project"


def test_loads_without_disk_cache(monkeypatch):
    monkeypatch.setenv("IAC_IMS_NO_CACHE", "1")
    catalog_module.clear_cache()
    try:
        fresh = load_catalog()
        assert list(fresh.operations)[: len(IMAGE_MANAGEMENT)] == [r[0] for r in IMAGE_MANAGEMENT]
    finally:
        catalog_module.clear_cache()


def test_disk_cache_gives_the_same_catalogue(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("IAC_IMS_NO_CACHE", raising=False)
    catalog_module.clear_cache()
    try:
        first = load_catalog()
        assert (tmp_path / "cache" / "iac-ims").is_dir()
        catalog_module.clear_cache()
        second = load_catalog()
        assert second is not first
        assert second.operations == first.operations
        assert second.system_roles == first.system_roles
        assert second.rules == first.rules
        assert second.services == first.services
        assert second.actions == first.actions
        assert second.provider_calls == first.provider_calls and second.provider_calls
        assert second.provenance == first.provenance
    finally:
        catalog_module.clear_cache()


# -------------------------------------------------------------------- malformed files

_OP = "{id: site_op, method: GET, path: /x, title: t, actions: [], project: true, enterprise_project: false"

MALFORMED = [
    ("yaml_syntax", "operations: [\n  - x: 1\n", "$"),
    ("not_a_mapping", "- just\n- a list\n", "$"),
    ("empty", "", "$"),
    ("unknown_kind", "kind: policies\n", "kind"),
    ("unknown_section", "policies: []\n", "policies"),
    ("section_not_list", "operations: {id: x}\n", "operations"),
    ("actions_not_list", f"operations:\n  - {_OP.replace('actions: []', 'actions: ims:images:list')}}}\n",
     "operations[0].actions"),
    ("missing_field", "operations:\n  - {id: site_op, method: GET, path: /x, title: t, actions: []}\n",
     "operations[0].project"),
    ("bad_method", f"operations:\n  - {_OP.replace('GET', 'FETCH')}}}\n", "operations[0].method"),
    ("bad_action", f"operations:\n  - {_OP.replace('actions: []', 'actions: [imagesList]')}}}\n",
     "operations[0].actions[0]"),
    ("unknown_action", f"operations:\n  - {_OP.replace('actions: []', 'actions: [ims:images:lsit]')}}}\n",
     "operations[0].actions[0]"),
    ("noncanonical_action", f"operations:\n  - {_OP.replace('actions: []', 'actions: [ims:images:LIST]')}}}\n",
     "operations[0].actions[0]"),
    ("unknown_key", f"operations:\n  - {_OP}, colour: red}}\n", "operations[0].colour"),
    ("unknown_replacement", f"operations:\n  - {_OP}, deprecated: true, replacement: no_such_op}}\n",
     "operations[0].replacement"),
    ("duplicate_id", f"operations:\n  - {_OP}}}\n  - {_OP}}}\n", "operations[1].id"),
    ("unknown_prereq_role",
     f"operations:\n  - {_OP}, prerequisites: [{{service: obs, any_of: [Tenant Adminstrator]}}]}}\n",
     "operations[0].prerequisites[0].any_of[0]"),
    ("unknown_prereq_service",
     f"operations:\n  - {_OP}, prerequisites: [{{service: nosuch, any_of: [Tenant Administrator]}}]}}\n",
     "operations[0].prerequisites[0].service"),
    ("bad_level", "services:\n  - {name: ims, level: regional}\n", "services[0].level"),
    ("duplicate_service", "services:\n  - {name: a, level: global}\n  - {name: a, level: project}\n",
     "services[1].name"),
    ("duplicate_action", "known_actions: [ims:images:list, ims:Images:List]\n", "known_actions[1]"),
    ("role_missing_known", "system_roles:\n  - {display_name: X Admin}\n", "system_roles[0].actions_known"),
    ("bad_severity", "rules:\n  - {id: IMS100, severity: fatal, title: t, rationale: r, remediation: x}\n",
     "rules[0].severity"),
    ("wrong_kind_section", "kind: services\noperations: []\n", "operations"),
]


@pytest.mark.parametrize(("content", "key"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_file_names_file_and_key(tmp_path, content, key):
    path = _write(tmp_path, "bad.yaml", content)
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    err = info.value
    assert Path(err.file).name == "bad.yaml"
    assert Path(err.file).resolve() == path.resolve()
    assert err.key == key
    assert err.message
    assert str(err).startswith(f"{err.file}: {key}: ")


def test_missing_file(tmp_path):
    with pytest.raises(CatalogError) as info:
        load_catalog([tmp_path / "nope.yaml"])
    assert Path(info.value.file).name == "nope.yaml"
    assert "not found" in info.value.message


def test_malformed_file_is_not_cached(tmp_path):
    path = _write(tmp_path, "fix.yaml", "services:\n  - {name: baz, level: regional}\n")
    with pytest.raises(CatalogError):
        load_catalog([path])
    path.write_text("services:\n  - {name: baz, level: project}\n", encoding="utf-8")
    assert load_catalog([path]).service_level("baz") == "project"
