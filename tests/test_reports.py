"""Reporters for CI: SARIF 2.1.0, JUnit XML, Markdown (PR comment / job summary), GitHub
workflow commands; and the pre-commit hook definition."""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES

from iac_ims.findings import Finding
from iac_ims.pipeline import InternalError, Report, ScanOptions, scan
from iac_ims.report import render
from iac_ims.report.github import escape_data, escape_property, render_github
from iac_ims.report.junit import render_junit
from iac_ims.report.markdown import MAX_ROWS, escape_cell, render_markdown
from iac_ims.report.sarif import fingerprint, render_sarif, rule_name

REPO = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = FIXTURES / "sarif-2.1.0-rtm.5.json"

TERRAFORM = """
resource "huaweicloud_identity_group" "ops" {
  name = "image-ops"
}

# iac-ims:intent list_images
resource "huaweicloud_identity_role" "typo" {
  name        = "typo"
  description = "a role whose only action is misspelt"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:lsit"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "ops_typo" {
  group_id   = huaweicloud_identity_group.ops.id
  role_id    = huaweicloud_identity_role.typo.id
  project_id = "all"
}

resource "huaweicloud_identity_role" "global" {
  name        = "global"
  description = "IMS actions in a global-services role"
  type        = "AX"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:list", "ims:images:get"]
    }]
  })
}

resource "huaweicloud_identity_role" "legacy" {
  # iac-ims:skip=IMS104:legacy role, replaced in Q3
  name        = "legacy"
  description = "the same mistake, suppressed"
  type        = "AX"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:get"]
    }]
  })
}
"""


# ------------------------------------------------------------------ helpers


def finding(rule_id: str = "IMS300", severity: str = "error", **kwargs) -> Finding:
    values = dict(title="Intended operation not granted", message="not granted", resource="huaweicloud_identity_role.r",
                  file="main.tf", line=3, end_line=9)
    values.update(kwargs)
    return Finding(rule_id, severity, **values)


def make_report(findings: list[Finding], **kwargs) -> Report:
    findings = sorted(findings, key=Finding.sort_key)
    return Report(findings, files_scanned=kwargs.pop("files_scanned", 1), resources=kwargs.pop("resources", 3),
                  duration_s=0.5, **kwargs)


@pytest.fixture
def manual_report() -> Report:
    return make_report([
        finding("IMS300", "error", message="role r is meant to perform export_image | but\nnot granted",
                operation="export_image", scope="project", fix="add \"ims:images:export\"",
                evidence=["huaweicloud_identity_group.ops", "huaweicloud_identity_group_role_assignment.a",
                          "huaweicloud_identity_role.r", "ims:images:export", "export_image"]),
        finding("IMS300", "error", message="role r is meant to perform list_images", operation="list_images",
                evidence=["huaweicloud_identity_group.ops", "huaweicloud_identity_group_role_assignment.a",
                          "huaweicloud_identity_role.r", "ims:images:list", "list_images"]),
        finding("IMS106", "warning", title="Administrator wildcard in an Allow",
                message='"ims:*:*" is an admin wildcard', line=4, end_line=4),
        finding("IMS203", "info", title="IMS role never assigned", message="nothing assigns it",
                resource="huaweicloud_identity_role.other", file="sub/dir/other.tf", line=1, end_line=5),
        finding("IMS104", "error", title="IMS actions in a global-services (AX) role", message="AX role",
                resource="huaweicloud_identity_role.legacy", file="legacy.tf", line=2, end_line=8,
                suppressed=True, suppression_reason="legacy role, replaced in Q3"),
        finding("IMS201", "error", title="IMS role assigned only at global-service scope", message="domain only",
                resource="huaweicloud_identity_role_assignment.d", file="legacy.tf", line=20, end_line=25,
                suppressed=True, suppression_reason="baseline"),
        finding("IMS900", "error", title="File cannot be parsed", message="syntax error at 1:5",
                resource=None, file="broken.tf", line=1, end_line=1),
    ])


@pytest.fixture
def scanned(tmp_path: Path) -> Report:
    (tmp_path / "main.tf").write_text(textwrap.dedent(TERRAFORM).lstrip(), encoding="utf-8")
    return scan([tmp_path], ScanOptions(relative_to=tmp_path))


def sarif_validator():
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def assert_valid_sarif(text: str) -> dict:
    document = json.loads(text)
    errors = sorted(sarif_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    return document


# ------------------------------------------------------------------ SARIF


def test_rule_names_are_camel_case() -> None:
    assert rule_name("IMS actions in a global-services (AX) role") == "IMSActionsInAGlobalServicesAXRole"
    assert rule_name("Unknown IMS action") == "UnknownIMSAction"
    assert rule_name("File referenced by file()/templatefile() not read") == \
        "FileReferencedByFileTemplatefileNotRead"


def test_sarif_structure(manual_report: Report) -> None:
    document = assert_valid_sarif(render_sarif(manual_report))
    assert document["version"] == "2.1.0"
    assert document["$schema"]
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "iac-ims"
    assert driver["version"] == manual_report.tool_version

    from iac_ims.catalog import load_catalog

    catalog_rules = load_catalog().rules
    rules = driver["rules"]
    assert {r["id"] for r in rules} >= set(catalog_rules)
    for rule in rules:
        meta = catalog_rules[rule["id"]]
        assert rule["name"] == rule_name(meta.title)
        assert re.fullmatch(r"[A-Za-z0-9]+", rule["name"])
        assert rule["shortDescription"]["text"] == meta.title
        assert rule["fullDescription"]["text"] == meta.rationale
        assert rule["help"]["text"] == meta.remediation
        assert rule["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[
            meta.severity]

    results = run["results"]
    assert len(results) == len(manual_report.findings)
    for result, source in zip(results, manual_report.findings):
        assert result["ruleId"] == source.rule_id
        assert rules[result["ruleIndex"]]["id"] == source.rule_id
        assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[source.severity]
        assert result["message"]["text"].startswith(source.message)
        if source.fix:
            assert source.fix in result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": source.file, "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": source.line, "endLine": source.end_line}
        if source.resource:
            assert location["logicalLocations"][0]["fullyQualifiedName"] == source.resource
        else:
            assert "logicalLocations" not in location
        expected = hashlib.sha256("|".join([source.rule_id, source.file or "", source.resource or "",
                                            source.operation or "", source.scope or ""]).encode()).hexdigest()
        assert result["partialFingerprints"] == {"iacIms/v1": expected}


def test_sarif_suppressions(manual_report: Report) -> None:
    results = json.loads(render_sarif(manual_report))["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["IMS104"]["suppressions"] == [{"kind": "inSource", "justification": "legacy role, replaced in Q3"}]
    assert by_rule["IMS201"]["suppressions"][0]["kind"] == "external"
    assert all("suppressions" not in r for r in results if r["ruleId"] not in ("IMS104", "IMS201"))


def test_sarif_region_omitted_without_line_and_uri_is_relative() -> None:
    report = make_report([finding(line=None, end_line=None, file="modules/my iam/main.tf")])
    document = assert_valid_sarif(render_sarif(report))
    physical = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert "region" not in physical
    assert physical["artifactLocation"]["uri"] == "modules/my%20iam/main.tf"


def test_sarif_fingerprint_ignores_lines_and_wording() -> None:
    a = finding(line=3, end_line=9, message="one wording")
    b = finding(line=30, end_line=40, message="another wording")
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(finding(operation="export_image"))
    assert fingerprint(a) != fingerprint(finding(rule_id="IMS301"))


def test_sarif_is_deterministic(manual_report: Report) -> None:
    assert render_sarif(manual_report) == render_sarif(manual_report)
    assert render("sarif", manual_report) == render_sarif(manual_report)


def test_sarif_reports_internal_errors() -> None:
    report = make_report([], internal_errors=[InternalError("intent", "KeyError: 'x'", "intent.py:10")])
    document = assert_valid_sarif(render_sarif(report))
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "KeyError" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_of_a_scan(scanned: Report, tmp_path: Path) -> None:
    document = assert_valid_sarif(render_sarif(scanned))
    results = document["runs"][0]["results"]
    rules = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r for r in results
             if r.get("locations") and r["locations"][0].get("logicalLocations")}
    assert ("IMS101", "huaweicloud_identity_role.typo") in rules
    assert "suppressions" not in rules[("IMS101", "huaweicloud_identity_role.typo")]
    assert ("IMS104", "huaweicloud_identity_role.global") in rules
    suppressed = rules[("IMS104", "huaweicloud_identity_role.legacy")]
    assert suppressed["suppressions"] == [{"kind": "inSource", "justification": "legacy role, replaced in Q3"}]
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "main.tf"  # relative to the scanned directory
    # the same code scanned again gives the same fingerprints, and moving lines keeps them
    again = json.loads(render_sarif(scan([tmp_path], ScanOptions(relative_to=tmp_path))))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in again] == [r["partialFingerprints"] for r in results]
    main = tmp_path / "main.tf"
    main.write_text("\n\n\n# moved down\n" + main.read_text(encoding="utf-8"), encoding="utf-8")
    moved = json.loads(render_sarif(scan([tmp_path], ScanOptions(relative_to=tmp_path))))["runs"][0]["results"]
    assert sorted(json.dumps(r["partialFingerprints"]) for r in moved) == \
        sorted(json.dumps(r["partialFingerprints"]) for r in results)
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in moved] != \
        [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]


def test_sarif_of_the_sample_configs() -> None:
    report = scan([REPO / "sample_configs"], ScanOptions(relative_to=REPO / "sample_configs"))
    assert report.findings
    text = render_sarif(report)
    document = assert_valid_sarif(text)
    assert len(document["runs"][0]["results"]) == len(report.findings)
    assert render_sarif(scan([REPO / "sample_configs"], ScanOptions(relative_to=REPO / "sample_configs"))) == text  # byte for byte


# ------------------------------------------------------------------ JUnit


def test_junit_counts(manual_report: Report) -> None:
    root = ET.fromstring(render_junit(manual_report))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "iac-ims"
    cases = suite.findall("testcase")
    # (rule, resource-or-file) pairs: IMS300/r (2 findings), IMS106/r, IMS203/other, IMS104/legacy,
    # IMS201/d, IMS900/broken.tf
    assert len(cases) == 6 == int(suite.get("tests")) == int(root.get("tests"))
    by_key = {(c.get("classname"), c.get("name")): c for c in cases}
    ims300 = by_key[("IMS300", "huaweicloud_identity_role.r")]
    assert len(ims300.findall("failure")) == 2
    assert {f.get("type") for f in ims300.findall("failure")} == {"error"}
    assert "not granted" in ims300.find("failure").get("message")
    assert by_key[("IMS900", "broken.tf")].find("failure") is not None
    warning = by_key[("IMS106", "huaweicloud_identity_role.r")]
    assert warning.find("failure") is None
    assert "admin wildcard" in warning.find("system-out").text
    assert by_key[("IMS203", "huaweicloud_identity_role.other")].find("failure") is None
    skipped = by_key[("IMS104", "huaweicloud_identity_role.legacy")]
    assert skipped.find("failure") is None
    assert "legacy role, replaced in Q3" in skipped.find("skipped").get("message")
    assert by_key[("IMS201", "huaweicloud_identity_role_assignment.d")].find("skipped") is not None
    assert suite.get("failures") == root.get("failures") == "2"
    assert suite.get("skipped") == "2"
    assert suite.get("errors") == "0"


def test_junit_fail_on(manual_report: Report) -> None:
    warning = ET.fromstring(render_junit(manual_report, fail_on="warning"))
    assert warning.get("failures") == "3"
    info = ET.fromstring(render_junit(manual_report, fail_on="info"))
    assert info.get("failures") == "4"
    never = ET.fromstring(render_junit(manual_report, fail_on="never"))
    assert never.get("failures") == "0"
    assert not never.findall(".//failure")
    with pytest.raises(ValueError):
        render_junit(manual_report, fail_on="sometimes")


def test_junit_escapes() -> None:
    nasty = 'a <b> & "c" \x01 ]]> done\nsecond line'
    report = make_report([finding(message=nasty, resource='huaweicloud_identity_role.r["a&b"]')])
    text = render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text)
    case = root.find(".//testcase")
    assert case.get("name") == 'huaweicloud_identity_role.r["a&b"]'
    message = case.find("failure").get("message")
    assert message.startswith('a <b> & "c" ')
    # control characters arrive escaped (Finding escapes them for every format)
    assert "\x01" not in message and message.endswith("done\\nsecond line")


def test_junit_empty_and_internal_errors() -> None:
    empty = ET.fromstring(render_junit(make_report([])))
    assert empty.get("tests") == "1" and empty.get("failures") == "0"
    broken = ET.fromstring(render_junit(make_report([], internal_errors=[InternalError("scope", "boom", "x.py:1")])))
    assert broken.get("errors") == "1"
    assert broken.find(".//error").get("message") == "boom"


def test_junit_of_a_scan(scanned: Report) -> None:
    root = ET.fromstring(render_junit(scanned))
    cases = root.findall(".//testcase")
    pairs = {(f.rule_id, f.resource or f.file) for f in scanned.findings}
    assert len(cases) == len(pairs)
    failing_pairs = {(f.rule_id, f.resource or f.file) for f in scanned.failing("error")}
    assert int(root.get("failures")) == len(failing_pairs)
    assert len(root.findall(".//failure")) == len(scanned.failing("error"))
    by_key = {(c.get("classname"), c.get("name")): c for c in cases}
    assert by_key[("IMS101", "huaweicloud_identity_role.typo")].find("failure") is not None
    assert by_key[("IMS104", "huaweicloud_identity_role.global")].find("failure") is not None
    legacy = by_key[("IMS104", "huaweicloud_identity_role.legacy")]
    assert legacy.find("failure") is None and legacy.find("skipped") is not None


# ------------------------------------------------------------------ Markdown


def test_markdown_table_and_chart(manual_report: Report) -> None:
    text = render_markdown(manual_report)
    assert text.startswith("## ")
    assert "**3 errors**, 1 warning, 1 info, 2 suppressed" in text
    assert "| Severity | Rule | Location | Resource | Message |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "IMS" in line]
    assert len(rows) == 5  # the unsuppressed findings
    assert rows[0].split("|")[2].strip() in ("IMS300", "IMS900")  # errors first
    for row in rows:  # escaped pipes do not add cells
        assert len(re.split(r"(?<!\\)\|", row)) == 7
    row = next(r for r in rows if "export_image" in r)
    assert "\\|" in row and "<br>" in row and "\n" not in row
    assert "main.tf:3" in text
    assert "```mermaid\nflowchart LR" in text
    chart = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    edges = re.findall(r"^\s+(\w+) --> (\w+)$", chart, re.M)
    assert len(edges) == len(set(edges))  # deduplicated
    # group -> assignment -> role shared by both IMS300 paths: 4 + 2 distinct edges
    assert len(edges) == 6
    labels = dict(re.findall(r'^\s+(\w+)\["([^"]*)"\]$', chart, re.M))
    assert set(labels.values()) >= {"huaweicloud_identity_group.ops", "ims:images:export", "export_image"}
    assert all(re.fullmatch(r"n\d+", node) for node in labels)


def test_markdown_without_errors_has_no_chart() -> None:
    report = make_report([finding("IMS106", "warning", message="wildcard", evidence=["a", "b"])])
    text = render_markdown(report)
    assert "mermaid" not in text
    assert "| :warning: warning | IMS106 |" in text
    assert "No findings." in render_markdown(make_report([]))
    assert "mermaid" not in render_markdown(make_report([]))


def test_markdown_row_limit() -> None:
    many = [finding(line=i, end_line=i, message=f"finding {i}", operation=f"op{i}") for i in range(1, MAX_ROWS + 8)]
    text = render_markdown(make_report(many))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "IMS300" in line]
    assert len(rows) == MAX_ROWS
    assert "and 7 more" in text


def test_markdown_escaping() -> None:
    assert escape_cell("a|b") == "a\\|b"
    assert escape_cell("one\ntwo\r\nthree") == "one<br>two<br>three"
    assert escape_cell("<script>") == "\\<script\\>"
    assert escape_cell("ims:*:*") == "ims:\\*:\\*"
    assert escape_cell("huaweicloud_identity_role") == "huaweicloud_identity_role"
    assert escape_cell("_x_") == "\\_x\\_"
    report = make_report([finding(evidence=['role.r["a"]', "end", 'x"y'])])
    chart = render_markdown(report).split("```mermaid\n", 1)[1]
    assert '["role.r[#quot;a#quot;]"]' in chart
    assert re.search(r"^\s+end\b", chart, re.M) is None  # node ids never a Mermaid keyword


def test_markdown_of_a_scan(scanned: Report) -> None:
    text = render_markdown(scanned)
    assert "| Severity | Rule | Location | Resource | Message |" in text
    assert "IMS101" in text and "```mermaid" in text
    counts = scanned.counts()
    assert f"{counts['info']} info, {scanned.suppressed} suppressed" in text


# ------------------------------------------------------------------ GitHub


def test_github_commands(manual_report: Report) -> None:
    lines = render_github(manual_report).splitlines()
    assert len(lines) == 5  # unsuppressed only
    commands = {line.split(" ", 1)[0] for line in lines}
    assert commands == {"::error", "::warning", "::notice"}
    first = next(line for line in lines if "export" in line)
    assert first.startswith(
        "::error file=main.tf,line=3,endLine=9,title=IMS300 Intended operation not granted::")
    assert "\n" not in first
    notice = next(line for line in lines if line.startswith("::notice"))
    assert "file=sub/dir/other.tf,line=1,endLine=5,title=IMS203 IMS role never assigned::" in notice
    assert any(line.startswith("::warning file=main.tf,line=4,endLine=4,title=IMS106 ") for line in lines)


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    report = make_report([finding(file="dir,x/a:b.tf", title="T, with: colon", message="50%\nsure", line=None,
                                  end_line=None)])
    (line,) = render_github(report).splitlines()
    assert line.startswith("::error file=dir%2Cx/a%3Ab.tf,title=IMS300 T%2C with%3A colon::")
    assert "50%25\\nsure" in line  # the newline was escaped when the finding was made
    assert "line=" not in line


def test_github_of_a_scan(scanned: Report) -> None:
    lines = render_github(scanned).splitlines()
    assert len(lines) == sum(1 for f in scanned.findings if not f.suppressed)
    assert any(line.startswith("::error file=main.tf,") and "title=IMS101 " in line for line in lines)
    assert not any("legacy" in line and "IMS104" in line for line in lines)


# ------------------------------------------------------------------ pre-commit


def test_pre_commit_hook() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "iac-ims"
    assert hook["name"]
    assert hook["entry"] == "iac-ims scan"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["require_serial"] is True
    pattern = re.compile(hook["files"])
    for name in ("main.tf", "a/b/vars.tfvars", "x.tf.json"):
        assert pattern.search(name), name
    for name in ("main.tf.bak", "README.md", "x.json"):
        assert not pattern.search(name), name
