"""Reporters: one module per output format; `render(name, report)` picks one."""

from __future__ import annotations

from typing import Any, Iterator


def render_chunks(name: str, report: Any, *, colour: bool = False, quiet: bool = False,
                  fail_on: str = "error") -> Iterator[str]:
    """The same text as `render`, in pieces to write one after another (JSON: one per finding)."""
    if name == "json":
        from iac_ims.report.json_report import json_chunks

        return json_chunks(report)
    return iter((render(name, report, colour=colour, quiet=quiet, fail_on=fail_on),))


def render(name: str, report: Any, *, colour: bool = False, quiet: bool = False, fail_on: str = "error") -> str:
    if name == "text":
        from iac_ims.report.text import render_text

        return render_text(report, colour=colour, quiet=quiet)
    if name == "json":
        from iac_ims.report.json_report import render_json

        return render_json(report)
    if name == "sarif":
        from iac_ims.report.sarif import render_sarif

        return render_sarif(report)
    if name == "junit":
        from iac_ims.report.junit import render_junit

        return render_junit(report, fail_on=fail_on)
    if name == "markdown":
        from iac_ims.report.markdown import render_markdown

        return render_markdown(report)
    if name == "github":
        from iac_ims.report.github import render_github

        return render_github(report)
    raise ValueError(f"unknown format {name!r}")
