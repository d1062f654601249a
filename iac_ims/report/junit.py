"""`--format junit`: JUnit XML for CI test-report viewers (GitLab, Jenkins, Azure DevOps, ...).

One `<testcase>` per (rule, resource) pair that has findings: `classname` is the rule ID, `name`
the resource address (the file for findings without one, e.g. IMS900). Each unsuppressed finding
at or above `fail_on` (the CLI's `--fail-on`, default `error`; same meaning as
`Report.failing`) is a `<failure>`; findings below it are listed in `<system-out>`; a testcase
whose findings are all suppressed (or suppressed and below the threshold) is `<skipped>`.
Internal errors of checks are `<error>` testcases. A scan without findings gives one passing
testcase, so that viewers do not report an empty suite.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from iac_ims.findings import Finding

# characters XML 1.0 cannot carry, even escaped
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: Any) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))


def _where(finding: Finding) -> str:
    where = finding.file or "(no file)"
    if finding.line is not None:
        where += f":{finding.line}"
        if finding.end_line is not None and finding.end_line != finding.line:
            where += f"-{finding.end_line}"
    return where


def _details(finding: Finding) -> str:
    lines = [f"{finding.rule_id} [{finding.severity}] {finding.title}", finding.message, f"at {_where(finding)}"]
    if finding.resource:
        lines.append(f"resource: {finding.resource}")
    if finding.operation:
        lines.append(f"operation: {finding.operation}")
    if finding.scope:
        lines.append(f"scope: {finding.scope}")
    if finding.evidence:
        path = [str(item) for i, item in enumerate(finding.evidence) if i == 0 or item != finding.evidence[i - 1]]
        lines.append("path: " + " -> ".join(path))
    if finding.fix:
        lines.append(f"fix: {finding.fix}")
    if finding.suppressed:
        lines.append(f"suppressed: {finding.suppression_reason or 'yes'}")
    return _clean("\n".join(lines))


def _is_failure(finding: Finding, threshold: int) -> bool:
    from iac_ims.findings import SEVERITY_RANK

    return not finding.suppressed and SEVERITY_RANK.get(finding.severity, 0) >= threshold


def report_to_junit(report: Any, *, fail_on: str = "error") -> ET.Element:
    from iac_ims.findings import FAIL_ON_RANK

    if fail_on not in FAIL_ON_RANK:
        raise ValueError(f"unknown fail_on {fail_on!r}: expected one of {', '.join(FAIL_ON_RANK)}")
    threshold = FAIL_ON_RANK[fail_on]

    cases: dict[tuple[str, str], list[Finding]] = {}
    for finding in report.findings:  # already sorted by file, line, rule: first appearance is stable
        name = finding.resource or finding.file or "(no file)"
        cases.setdefault((finding.rule_id, name), []).append(finding)

    suite = ET.Element("testsuite", {"name": "iac-ims"})
    tests = failures = errors = skipped = 0
    for (rule_id, name), findings in cases.items():
        tests += 1
        case = ET.SubElement(suite, "testcase", {"classname": _clean(rule_id), "name": _clean(name)})
        first = next((f for f in findings if f.file), None)
        if first is not None:
            case.set("file", _clean(first.file))
            if first.line is not None:
                case.set("line", str(first.line))
        failing = [f for f in findings if _is_failure(f, threshold)]
        suppressed = [f for f in findings if f.suppressed]
        below = [f for f in findings if not f.suppressed and not _is_failure(f, threshold)]
        for finding in failing:
            failure = ET.SubElement(case, "failure", {
                "message": _clean(finding.message), "type": finding.severity})
            failure.text = _details(finding)
        if failing:
            failures += 1
        elif suppressed:
            skipped += 1
            reasons = sorted({f.suppression_reason or "suppressed" for f in suppressed})
            skip = ET.SubElement(case, "skipped", {"message": _clean("suppressed: " + "; ".join(reasons))})
            skip.text = "\n\n".join(_details(f) for f in suppressed)
        out = list(below)
        if failing:  # the suppressed findings of a failing testcase are still worth listing
            out += suppressed
        if out:
            system_out = ET.SubElement(case, "system-out")
            system_out.text = "\n\n".join(_details(f) for f in out)

    for error in getattr(report, "internal_errors", []) or []:
        tests += 1
        errors += 1
        case = ET.SubElement(suite, "testcase", {"classname": "iac-ims.internal", "name": _clean(error.check)})
        element = ET.SubElement(case, "error", {"message": _clean(error.message), "type": "internal"})
        element.text = _clean(f"{error.message} ({error.where}); please report this at the iac-ims issue tracker")

    if tests == 0:
        tests = 1
        ET.SubElement(suite, "testcase", {"classname": "iac-ims", "name": "no findings"})

    time_s = f"{float(getattr(report, 'duration_s', 0.0) or 0.0):.3f}"
    counts = {"tests": str(tests), "failures": str(failures), "errors": str(errors),
              "skipped": str(skipped), "time": time_s}
    for key, value in counts.items():
        suite.set(key, value)
    properties = ET.Element("properties")
    for key, value in (("tool_version", report.tool_version), ("fail_on", fail_on),
                       ("files_scanned", report.files_scanned), ("resources", report.resources)):
        ET.SubElement(properties, "property", {"name": key, "value": _clean(value)})
    suite.insert(0, properties)

    root = ET.Element("testsuites", {"name": "iac-ims", **counts})
    root.append(suite)
    return root


def render_junit(report: Any, *, fail_on: str = "error") -> str:
    root = report_to_junit(report, fail_on=fail_on)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
