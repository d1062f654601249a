"""`iac-ims explain` and `iac-ims graph` say only what matters: explain groups the operations of a
scope by decision (a scope that reaches no IMS operation is one line); graph keeps, of a role's
fan-out, the operations someone is meant to perform or a finding names, draws decisions as edges
styled by state, and `--focus` keeps one role's or principal's part of the picture."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from conftest import REPO, write_tree
from iac_ims.catalog import load_catalog
from iac_ims.explain import explain_address, render_explanation
from iac_ims.pipeline import ScanOptions, analyse, scan
from iac_ims.report.graph_export import STATE_STYLES, export_graph, what_matters

CATALOG = load_catalog()
OPERATIONS = [op for op in CATALOG.operations.values() if op.actions]
TOTAL = len(OPERATIONS)
PROJECT = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"


def needing(*actions: str) -> list[str]:
    """The operations (in catalogue order) whose actions are all among `actions`."""
    return [op.id for op in OPERATIONS if set(op.actions) <= set(actions)]


def group(name: str, intent: str) -> str:
    return f'# iac-ims:intent {intent}\nresource "huaweicloud_identity_group" "{name}" {{\n  name = "{name}"\n}}\n'


def role(name: str, effect: str, *actions: str) -> str:
    listed = ", ".join(a if a.startswith("var.") else f'"{a}"' for a in actions)
    return (f'resource "huaweicloud_identity_role" "{name}" {{\n  name   = "{name}"\n  type   = "XA"\n'
            f'  policy = jsonencode({{ Version = "1.1", Statement = [{{ Effect = "{effect}", Action = [{listed}] }}] }})\n}}\n')


def assignment(name: str, group_name: str, role_ref: str, scope: str) -> str:
    return (f'resource "huaweicloud_identity_group_role_assignment" "{name}" {{\n'
            f'  group_id = huaweicloud_identity_group.{group_name}.id\n  role_id  = {role_ref}.id\n  {scope}\n}}\n')


IN_PROJECT = f'project_id = "{PROJECT}"'
# One principal per decision state; a user in the readers group; Tenant Administrator held at a project.
CONFIG = "\n".join([
    'variable "extra" {\n  type = string\n}\n',
    group("readers", "list_images"), group("admins", "native_delete_image"), group("exporters", "export_image"),
    group("auditors", "native_list_images"), group("global_only", "list_images"),
    group("tenant_admins", "list_images"),
    'resource "huaweicloud_identity_user" "alice" {\n  name = "alice"\n}\n',
    'resource "huaweicloud_identity_group_membership" "alice_readers" {\n'
    '  group = huaweicloud_identity_group.readers.id\n  users = [huaweicloud_identity_user.alice.id]\n}\n',
    role("reader", "Allow", "ims:images:list"), role("admin", "Allow", "ims:*:*"),
    role("guard", "Deny", "ims:images:delete"), role("exporter", "Allow", "ims:images:list", "var.extra"),
    role("unused", "Allow", "ims:images:get"),
    'data "huaweicloud_identity_role" "tenant_admin" {\n  display_name = "Tenant Administrator"\n}\n',
    assignment("readers", "readers", "huaweicloud_identity_role.reader", IN_PROJECT),
    assignment("admins", "admins", "huaweicloud_identity_role.admin", IN_PROJECT),
    assignment("admins_guard", "admins", "huaweicloud_identity_role.guard", IN_PROJECT),
    assignment("exporters", "exporters", "huaweicloud_identity_role.exporter", IN_PROJECT),
    assignment("auditors", "auditors", "huaweicloud_identity_role.reader",
               'enterprise_project_id = "0aa6b1f4-7b4c-4e4b-9b7e-0d5c1ab3c2f1"'),
    assignment("global_only", "global_only", "huaweicloud_identity_role.reader",
               'domain_id = "9f8e7d6c5b4a43210fedcba987654321"'),
    assignment("tenant_admins", "tenant_admins", "data.huaweicloud_identity_role.tenant_admin", IN_PROJECT),
])

GROUP = "huaweicloud_identity_group"
ROLE = "huaweicloud_identity_role"
ASSIGNMENT = "huaweicloud_identity_group_role_assignment"
TENANT_ADMIN = "system:Tenant Administrator"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("explain_graph"), {"main.tf": CONFIG})


@pytest.fixture(scope="module")
def analysis(root: Path):
    return analyse([root], ScanOptions(relative_to=root))


@pytest.fixture(scope="module")
def report(root: Path):
    return scan([root], ScanOptions(relative_to=root))


def explained(analysis, address: str, format_: str = "text") -> str:
    explanation = explain_address(analysis, address)
    assert explanation is not None
    return render_explanation(explanation, format_)


def graph(report, format_: str, focus: str | None = None) -> str:
    return export_graph(report.graph, format_, what_matters(report.graph, report.findings), focus)


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "iac_ims", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


# ---- explain ------------------------------------------------------------------------------

def test_explain_groups_the_operations_of_a_scope_by_decision(analysis) -> None:
    deleting = [op.id for op in OPERATIONS if "ims:images:delete" in op.actions]
    assert explained(analysis, f"{GROUP}.admins").splitlines() == [
        f"{GROUP}.admins (group)",
        f"  at project {PROJECT} via {ASSIGNMENT}.admins, {ASSIGNMENT}.admins_guard",
        f"    allowed ({TOTAL - len(deleting)}/{TOTAL})  by {ROLE}.admin: "
        f"every operation except {', '.join(deleting)}",
        f"    denied ({len(deleting)}/{TOTAL})    by Statement[0] of {ROLE}.guard: {', '.join(deleting)}",
    ]


def test_explain_names_each_shared_reason_once(analysis) -> None:
    """One state label per group; the operations missing the same actions on one line."""
    lines = explained(analysis, f"{GROUP}.readers").splitlines()
    listing = needing("ims:images:list")
    assert lines[2] == (f"    allowed ({len(listing)}/{TOTAL})   by {ROLE}.reader: {', '.join(listing)}")
    assert re.match(rf"    denied \({TOTAL - len(listing)}/{TOTAL}\) +no Allow for ", lines[3])
    assert all(re.match(r" {21}no Allow for ", line) for line in lines[4:]), lines
    reasons = [line.split(": ", 1)[0].strip().split(")  ")[-1].strip() for line in lines[3:]]
    assert len(reasons) == len(set(reasons))  # each reason once
    export = next(line for line in lines if line.endswith(": export_image"))
    assert export.strip() == "no Allow for ims:images:export: export_image"
    listed = [op for line in lines[2:] for op in line.rsplit(": ", 1)[1].split(", ")]
    assert sorted(listed) == sorted(op.id for op in OPERATIONS)  # every operation exactly once
    assert len(lines) < TOTAL  # not a line per operation


def test_a_scope_reaching_no_ims_operation_is_one_line(analysis) -> None:
    assert explained(analysis, f"{GROUP}.global_only") == (
        f"{GROUP}.global_only (group)\n"
        f"  at global services (domain) via {ASSIGNMENT}.global_only: no IMS operation "
        "(IMS is project-level and this scope does not reach it)\n")


def test_a_role_allowing_no_ims_action_is_one_line(analysis) -> None:
    assert explained(analysis, f"{ROLE}.guard").splitlines()[1:] == [
        f"  at project {PROJECT} via {ASSIGNMENT}.admins_guard: allows no IMS action (all {TOTAL} operations denied)"]


def test_not_at_this_scope_and_unknown_are_groups_too(analysis) -> None:
    auditors = explained(analysis, f"{GROUP}.auditors").splitlines()
    not_here = [line for line in auditors if line.startswith("    not at this scope (")]
    assert len(not_here) == 1 and "cannot be granted through an enterprise project: native_list_images" in not_here[0]
    exporters = explained(analysis, f"{GROUP}.exporters")
    unknown = [line for line in exporters.splitlines() if line.startswith("    unknown (")]
    # every operation that needs the unresolved action is unknown for the same reason: one line
    assert len(unknown) == 1 and unknown[0].count('variable "extra" has no value') == 1
    assert unknown[0].endswith(f": every operation except {', '.join(needing('ims:images:list'))}")
    assert exporters.count("unknown") == 1


def test_a_role_nobody_holds_is_explained_as_written(analysis) -> None:
    lines = explained(analysis, f"{ROLE}.unused").splitlines()
    assert lines[1] == "  not assigned: the role as written"
    assert lines[2].startswith(f"    allowed ({len(needing('ims:images:get'))}/{TOTAL})")


def test_explain_json_keeps_a_row_per_operation_and_adds_the_groups(analysis) -> None:
    document = json.loads(explained(analysis, f"{GROUP}.auditors", "json"))
    rows = document["operations"]
    assert len(rows) == TOTAL and set(rows[0]) == {"operation", "scope", "via", "state", "why", "path"}
    grouped = {(op, group["state"]) for group in document["groups"] for op in group["operations"]}
    assert grouped == {(row["operation"], row["state"]) for row in rows}
    assert {"native_list_images", "not_at_this_scope"} <= {x for pair in grouped for x in pair}


# ---- graph --------------------------------------------------------------------------------

def nodes_and_edges(text: str) -> tuple[set[str], list[dict]]:
    document = json.loads(text)
    return {n["id"] for n in document["nodes"]}, document["links"]


def test_graph_focus_on_a_principal_keeps_only_what_it_reaches(report) -> None:
    nodes, edges = nodes_and_edges(graph(report, "json", f"{GROUP}.readers"))
    assert nodes == {f"{GROUP}.readers", f"{ASSIGNMENT}.readers", f"{ROLE}.reader", "ims:images:list", "list_images",
                     f"{ROLE}.reader +more"}
    decisions = [(e["source"], e["target"], e["state"]) for e in edges if e["kind"] == "decision"]
    assert decisions == [(f"{GROUP}.readers", "list_images", "allowed")]


def test_graph_focus_on_a_user_takes_its_groups(report) -> None:
    nodes, edges = nodes_and_edges(graph(report, "json", "huaweicloud_identity_user.alice"))
    assert {f"{GROUP}.readers", f"{ASSIGNMENT}.readers", f"{ROLE}.reader"} <= nodes
    assert not any(n.startswith(f"{GROUP}.") and n != f"{GROUP}.readers" for n in nodes)
    assert ("huaweicloud_identity_user.alice", f"{GROUP}.readers", "member_of") in \
        {(e["source"], e["target"], e["kind"]) for e in edges}


def test_graph_focus_on_a_role_keeps_its_holders(report) -> None:
    nodes, edges = nodes_and_edges(graph(report, "json", f"{ROLE}.reader"))
    assert {f"{GROUP}.readers", f"{GROUP}.auditors", f"{GROUP}.global_only"} <= nodes
    assert not {f"{GROUP}.admins", f"{GROUP}.tenant_admins", f"{ROLE}.admin", TENANT_ADMIN} & nodes
    states = {(e["source"], e["state"]) for e in edges if e["kind"] == "decision"}
    assert states == {(f"{GROUP}.readers", "allowed"), (f"{GROUP}.auditors", "not_at_this_scope"),
                      (f"{GROUP}.global_only", "no_ims_at_this_scope")}


def test_graph_focus_usage_errors(tmp_path: Path) -> None:
    for name in ("envs/prod", "envs/test"):
        write_tree(tmp_path / name, {"main.tf": 'resource "huaweicloud_identity_group" "ops" {\n  name = "ops"\n}\n'})
    several = run("graph", str(tmp_path), "--focus", f"{GROUP}.ops")
    assert several.returncode == 2
    keys = re.findall(rf"{GROUP}\.ops \([^)]*\)", several.stderr)
    assert "several root modules" in several.stderr and len(keys) == 2
    assert keys[0].endswith("envs/prod)") and keys[1].endswith("envs/test)")
    one = run("graph", str(tmp_path), "--focus", keys[0], "--format", "json")
    assert one.returncode == 0, one.stderr
    assert {n["id"] for n in json.loads(one.stdout)["nodes"]} == {keys[0]}
    missing = run("graph", str(tmp_path), "--focus", f"{GROUP}.nobody")
    assert missing.returncode == 2 and "no role or principal" in missing.stderr


def test_a_system_role_fan_out_is_collapsed_to_what_matters(report) -> None:
    """Tenant Administrator grants every IMS action; its holder is meant to list images: one grant
    edge (the action that needs), the rest one node."""
    nodes, edges = nodes_and_edges(graph(report, "json"))
    grants = [e["target"] for e in edges if e["source"] == TENANT_ADMIN and e["kind"] == "grant"]
    assert grants == ["ims:images:list"]
    more = [e["target"] for e in edges if e["source"] == TENANT_ADMIN and e["kind"] == "collapsed"]
    document = json.loads(graph(report, "json"))
    node = next(n for n in document["nodes"] if n["id"] == more[0])
    assert node["label"] == f"+ {TOTAL - 1} more operations" and node["count"] == str(TOTAL - 1)
    # the same for a custom role allowing everything: only the action its holders' intent needs
    assert [e["target"] for e in edges if e["source"] == f"{ROLE}.admin" and e["kind"] == "grant"] == \
        ["ims:images:delete"]
    assert f"{ROLE}.unused" in nodes  # a custom role nobody holds is still shown
    dot = graph(report, "dot")
    assert len(re.findall(rf'^  "{TENANT_ADMIN}" -> ', dot, re.M)) == 2


def test_operations_matter_when_a_finding_names_them(tmp_path: Path) -> None:
    """No intents: the operation an IMS303 finding names is kept, with the finding on the edge."""
    write_tree(tmp_path, {"main.tf": f'''
        resource "huaweicloud_identity_group" "exporters" {{
          name = "exporters"
        }}
        resource "huaweicloud_identity_role" "exporter" {{
          name   = "exporter"
          type   = "XA"
          policy = jsonencode({{ Version = "1.1", Statement = [{{ Effect = "Allow", Action = ["ims:images:export", "ims:images:list"] }}] }})
        }}
        resource "huaweicloud_identity_group_role_assignment" "exporters" {{
          group_id   = huaweicloud_identity_group.exporters.id
          role_id    = huaweicloud_identity_role.exporter.id
          project_id = "{PROJECT}"
        }}
    '''})
    report = scan([tmp_path], ScanOptions(relative_to=tmp_path))
    assert any(f.rule_id == "IMS303" and f.operation == "export_image" for f in report.findings)
    _nodes, edges = nodes_and_edges(graph(report, "json"))
    decision = [e for e in edges if e["kind"] == "decision"]
    assert [(e["source"], e["target"], e["state"], e["rules"]) for e in decision] == \
        [(f"{GROUP}.exporters", "export_image", "allowed", "IMS303")]
    assert "IMS303" in decision[0]["label"]


EXPECTED_STATES = {f"{GROUP}.readers": "allowed", f"{GROUP}.admins": "denied", f"{GROUP}.exporters": "unknown",
                   f"{GROUP}.auditors": "not_at_this_scope", f"{GROUP}.global_only": "no_ims_at_this_scope",
                   f"{GROUP}.tenant_admins": "allowed"}


def test_dot_draws_each_decision_state_in_its_style(report) -> None:
    dot = graph(report, "dot")
    found = {}
    for source, attrs in re.findall(r'^  "([^"]+)" -> "[^"]+" \[(.*penwidth=2\.5.*)\];$', dot, re.M):
        colour = re.search(r'color="([^"]+)"', attrs).group(1)
        style = re.search(r"style=(\w+)", attrs).group(1)
        found[source] = (colour, style)
    assert found == {source: STATE_STYLES[state] for source, state in EXPECTED_STATES.items()}
    assert len(set(STATE_STYLES.values())) == len(STATE_STYLES)  # no two states look alike
    assert 'legend [shape=plaintext' in dot and "not at this scope" in dot


def test_mermaid_styles_each_decision_link(report) -> None:
    text = graph(report, "mermaid")
    ids = dict(re.findall(r"^\s*%% (n\d+): (.+)$", text, re.M))
    links = re.findall(r"^\s*(n\d+) (-->|-\.->)(?:\|\"([^\"]*)\"\|)? (n\d+)$", text, re.M)
    styles = dict(re.findall(r"^\s*linkStyle (\d+) (.+)$", text, re.M))
    assert len(styles) == len(links)  # every link styled, by its index
    found = {}
    for index, (source, _arrow, _label, target) in enumerate(links):
        if ids[source] in EXPECTED_STATES and ids[target] in {op.id for op in OPERATIONS}:
            found[ids[source]] = styles[str(index)]
    for source, state in EXPECTED_STATES.items():
        colour, dash = STATE_STYLES[state]
        assert found[source].startswith(f"stroke:{colour},stroke-width:3px")
        assert ("stroke-dasharray" in found[source]) == (dash != "solid")
    assert re.search(r"^  legend\[\".*not&nbsp;at&nbsp;this&nbsp;scope", text, re.M)


def test_graphml_and_json_carry_the_decision_state(report) -> None:
    parsed = nx.read_graphml(io.StringIO(graph(report, "graphml")))
    states = {u: d["state"] for u, _v, d in parsed.edges(data=True) if d.get("kind") == "decision"}
    assert states == EXPECTED_STATES
    _nodes, edges = nodes_and_edges(graph(report, "json"))
    assert {e["source"]: e["state"] for e in edges if e["kind"] == "decision"} == EXPECTED_STATES
    why = next(e["why"] for e in edges if e["kind"] == "decision" and e["source"] == f"{GROUP}.admins")
    assert why == f"denied by Statement[0] of {ROLE}.guard"


def test_mermaid_labels_keep_addresses_with_quotes_and_pipes_inside_their_quotes() -> None:
    from iac_ims.report.graph_export import _mermaid_text

    text = _mermaid_text('huaweicloud_identity_group.g["a|b\\"c"]#0\nsecond <line>')
    assert '"' not in text and "|" not in text and "<line>" not in text
    assert text == 'huaweicloud_identity_group.g[#quot;a#124;b\\#quot;c#quot;]#35;0<br/>second #lt;line#gt;'
