"""Reporters: one module per output format; `render(name, report)` picks one."""

from __future__ import annotations

from typing import Any, Iterator


def render_chunks(name: str, report: Any, *, colour: bool = False, quiet: bool = False,
                  fail_on: str = "error", show_suppressed: bool = False) -> Iterator[str]:
    """The same text as `render`, in pieces to write one after another (JSON: one per finding)."""
    if name == "json":
        from iac_ims.report.json_report import json_chunks

        return json_chunks(report)
    return iter((render(name, report, colour=colour, quiet=quiet, fail_on=fail_on,
                        show_suppressed=show_suppressed),))


def render(name: str, report: Any, *, colour: bool = False, quiet: bool = False, fail_on: str = "error",
           show_suppressed: bool = False) -> str:
    """`show_suppressed`: the formats a person reads (text, github, markdown) count suppressed
    findings and print them only with it; json, sarif and junit always keep them, marked."""
    if name == "text":
        from iac_ims.report.text import render_text

        return render_text(report, colour=colour, quiet=quiet, show_suppressed=show_suppressed)
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

        return render_markdown(report, show_suppressed=show_suppressed)
    if name == "github":
        from iac_ims.report.github import render_github

        return render_github(report, show_suppressed=show_suppressed)
    raise ValueError(f"unknown format {name!r}")
