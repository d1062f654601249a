"""The README's "As an HCP Terraform run task" says what the server does: its example result is
what the server sends for that configuration, its API calls are well-formed, the options and
limits it names are the server's."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

pytest.importorskip("aiohttp")

from iac_ims.cli import serve  # noqa: E402
from iac_ims.pipeline import ScanOptions, scan  # noqa: E402
from iac_ims.server.config import ArchiveLimits, RetryPolicy, ServerConfig, Timeouts  # noqa: E402
from iac_ims.server.outcomes import MAX_BODY, MAX_OUTCOMES, scan_result  # noqa: E402

HEADING = "### As an HCP Terraform run task"
EXAMPLE = REPO / "sample_configs" / "bad_policy_unknown_action_and_resource"
MiB = 1024 * 1024


def section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.index("\n### ", start + len(HEADING))
    return text[start:end]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section(), re.DOTALL)


def plain(markdown: str) -> str:
    """What the run's page shows of a body: the Markdown rendered, as the README writes it."""
    text = re.sub(r"(?<!\\)`([^`]+?)(?<!\\)`", r"\1", markdown.replace("**", ""))  # code spans
    return re.sub(r"\\(.)", r"\1", text)  # backslash escapes


def test_the_example_result_is_what_the_server_sends() -> None:
    report = scan([EXAMPLE], ScanOptions(relative_to=EXAMPLE))
    result = scan_result(report.findings, report.files_scanned, "error", with_outcomes=True)
    message, outcome = blocks("text")[:2]
    assert result.status == "failed" and message.strip() == result.message
    first = result.outcomes[0]["attributes"]
    shown = outcome.strip().splitlines()
    assert shown[0] == f"{first['outcome-id']}  {first['description']}"
    assert shown[1].split() == ["Severity:", first["tags"]["Severity"][0]["label"], "Rule:", first["outcome-id"]]
    assert "\n".join(shown[3:]) == plain(first["body"])


def test_the_api_calls_are_well_formed() -> None:
    calls = blocks("sh")[-1]
    bodies = [json.loads(b.replace("$IAC_IMS_HMAC_KEY", "k")) for b in re.findall(r"<<JSON\n(.*?)\nJSON", calls, re.DOTALL)]
    task, attachment = (b["data"] for b in bodies)
    assert task["type"] == "tasks" and {"name", "url", "hmac-key", "category"} <= set(task["attributes"])
    assert attachment["type"] == "workspace-tasks" and attachment["attributes"]["stages"] == ["pre_plan"]
    assert attachment["relationships"]["task"]["data"]["type"] == "tasks"
    assert "/organizations/ORGANIZATION/tasks" in calls and "/workspaces/WORKSPACE_ID/tasks" in calls


def test_the_options_it_names_are_the_servers() -> None:
    prose = re.sub(r"```dockerfile\n.*?```", "", section(), flags=re.DOTALL)  # pip's and useradd's options
    named = set(re.findall(r"(--[a-z][a-z-]+)", prose)) - {"--data"}  # curl's
    options = {opt for parameter in serve.params for opt in parameter.opts}
    assert named <= options, named - options


def test_the_limits_it_states_are_the_defaults() -> None:
    text = " ".join(section().split())
    limits, timeouts, retry, config = ArchiveLimits(), Timeouts(), RetryPolicy(), ServerConfig()
    assert (f"{limits.archive_bytes // MiB} MiB downloaded, {limits.total_bytes // MiB} MiB unpacked, "
            f"{limits.file_bytes // MiB} MiB a file") in text
    assert f"{limits.entries:,} files and directories" in text
    assert f"compression ratio of {limits.ratio} once past {limits.ratio_grace_bytes // MiB} MiB" in text
    assert f"{timeouts.download:.0f} s for the download and {timeouts.scan:.0f} s for the scan" in text
    delays = ", ".join(f"{retry.delay(n):.0f}" for n in range(1, retry.attempts - 1))
    assert f"sent {retry.attempts} times, {delays} and {retry.delay(retry.attempts - 1):.0f} s apart" in text
    assert f"At most {MAX_OUTCOMES} outcomes" in text and f"at most {MAX_BODY:,} characters" in text
    assert f"up to {config.drain_timeout / 60:.0f} minutes" in text
    assert f"default {config.queue_size})" in text
