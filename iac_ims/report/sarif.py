"""`--format sarif`: SARIF 2.1.0, one run, for GitHub code scanning and other SARIF viewers.

Every rule of the catalogue is listed in `tool.driver.rules` (in ID order, so `ruleIndex` is
stable); a result's `partialFingerprints["iacIms/v1"]` is the SHA-256 of
`rule_id|file|resource|operation|scope`, so it survives edits that only move lines. Suppressed
findings carry `suppressions` (`external` for the baseline, `inSource` for a skip comment).
The output is deterministic: the same report gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from iac_ims.findings import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "iacIms/v1"
SRCROOT = "%SRCROOT%"

LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def sarif_level(severity: str) -> str:
    return LEVELS.get(severity, "warning")


def rule_name(title: str) -> str:
    """CamelCase of a rule title: `IMS actions in a global-services (AX) role` ->
    `IMSActionsInAGlobalServicesAXRole` (acronyms kept)."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(word[0].upper() + word[1:] for word in words)


def fingerprint(finding: Finding) -> str:
    """Stable identity of a finding across runs: independent of line numbers and wording."""
    parts = (finding.rule_id, finding.file or "", finding.resource or "", finding.operation or "",
             finding.scope or "")
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def _rules(findings: list[Finding]) -> list[dict[str, Any]]:
    try:
        from iac_ims.catalog import load_catalog

        metas = dict(load_catalog().rules)
    except Exception:  # a broken catalogue must not lose the results: describe rules from findings
        metas = {}
    rules: dict[str, dict[str, Any]] = {}
    for rule_id in sorted(metas):
        meta = metas[rule_id]
        rule: dict[str, Any] = {
            "id": meta.id,
            "name": rule_name(meta.title) or meta.id,
            "shortDescription": {"text": meta.title},
            "fullDescription": {"text": meta.rationale or meta.title},
            "help": {"text": meta.remediation or meta.rationale or meta.title},
            "defaultConfiguration": {"level": sarif_level(meta.severity)},
        }
        if getattr(meta, "family", ""):
            rule["properties"] = {"tags": ["iam", "huaweicloud", "ims", meta.family]}
        rules[rule_id] = rule
    # a finding of a rule the shipped catalogue does not describe (a plugin check): still a rule
    for finding in findings:
        if finding.rule_id not in rules:
            rules[finding.rule_id] = {
                "id": finding.rule_id,
                "name": rule_name(finding.title) or finding.rule_id,
                "shortDescription": {"text": finding.title or finding.rule_id},
                "defaultConfiguration": {"level": sarif_level(finding.severity)},
            }
    return [rules[key] for key in sorted(rules)]


def _message(finding: Finding) -> str:
    text = finding.message.rstrip()
    if finding.fix:
        separator = " " if text.endswith((".", "!", "?")) else ". "
        text = f"{text}{separator}Fix: {finding.fix}"
    return text


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/-._~!$&'()*+,;=@")


def _artifact(path: str) -> dict[str, Any]:
    """A file as SARIF names it: relative to %SRCROOT% (the working directory), or an absolute
    file URI for a file outside it."""
    if path.startswith("/"):
        return {"uri": "file://" + _uri(path)}
    return {"uri": _uri(path), "uriBaseId": SRCROOT}


def _related(index: int, place: dict[str, Any]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(place["file"])}
    if isinstance(place.get("line"), int) and place["line"] >= 1:
        physical["region"] = {"startLine": place["line"]}
    return {"id": index, "physicalLocation": physical, "message": {"text": place.get("message") or ""}}


def _base_uri(base: str) -> str:
    return "file://" + _uri(base.rstrip("/") + "/")


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": sarif_level(finding.severity),
        "message": {"text": _message(finding)},
    }
    location: dict[str, Any] = {}
    if finding.file:
        physical: dict[str, Any] = {"artifactLocation": _artifact(finding.file)}
        if finding.line is not None and finding.line >= 1:
            end = finding.end_line if finding.end_line is not None and finding.end_line >= finding.line \
                else finding.line
            physical["region"] = {"startLine": finding.line, "endLine": end}
        location["physicalLocation"] = physical
    if finding.resource:
        location["logicalLocations"] = [
            {"name": finding.resource, "fullyQualifiedName": finding.resource, "kind": "resource"}]
    if location:
        result["locations"] = [location]
    related = [_related(index, place) for index, place in enumerate(finding.related, start=1) if place.get("file")]
    if related:
        result["relatedLocations"] = related
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding)}
    if finding.suppressed:
        reason = finding.suppression_reason or "suppressed"
        kind = "external" if reason == "baseline" else "inSource"
        justification = "recorded in the baseline file" if reason == "baseline" else reason
        result["suppressions"] = [{"kind": kind, "justification": justification}]
    properties: dict[str, Any] = {"severity": finding.severity}
    if finding.operation is not None:
        properties["operation"] = finding.operation
    if finding.scope is not None:
        properties["scope"] = finding.scope
    if finding.evidence:
        properties["evidence"] = list(finding.evidence)
    result["properties"] = properties
    return result


def report_to_sarif(report: Any) -> dict[str, Any]:
    findings: list[Finding] = list(report.findings)
    rules = _rules(findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    driver: dict[str, Any] = {
        "name": "iac-ims",
        "version": str(report.tool_version),
        "semanticVersion": str(report.tool_version),
        "rules": rules,
    }
    internal_errors = list(getattr(report, "internal_errors", []) or [])
    invocation: dict[str, Any] = {"executionSuccessful": not internal_errors}
    if internal_errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error",
             "message": {"text": f"internal error in check {e.check}: {e.message} ({e.where}); "
                                 "please report this at the iac-ims issue tracker"},
             "descriptor": {"id": str(e.check)}}
            for e in internal_errors]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule_id]) for f in findings],
        "properties": {"filesScanned": report.files_scanned, "resources": report.resources},
    }
    base = getattr(report, "base", None)
    if base:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": _base_uri(base)}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Any) -> str:
    return json.dumps(report_to_sarif(report), indent=2, ensure_ascii=False) + "\n"
