"""The run task request HCP Terraform sends, read and checked.

Fields as documented at
https://developer.hashicorp.com/terraform/cloud-docs/api-docs/tasks/run-tasks-integration
Only what the server uses is required; unknown keys are ignored (the payload grows new keys
over time). A request that cannot be a run task request is a `PayloadError` (answered 400).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from yarl import URL

from iac_ims.server.origins import parse_url

# The access token of the request HCP Terraform sends when a run task is created or checked: it
# asks for a 200 and nothing else (no download, no callback).
VERIFICATION_TOKEN = "test-token"
STAGES = ("pre_plan", "post_plan", "pre_apply", "post_apply")
MAX_ID_CHARS = 256


class PayloadError(ValueError):
    """Why the body is not a run task request (logged; the answer is a bare 400)."""


@dataclass(frozen=True)
class RunTaskRequest:
    access_token: str
    stage: str = ""
    task_result_id: str = ""
    callback_url: URL | None = None
    download_url: URL | None = None  # null when HCP Terraform cannot offer the configuration
    working_directory: str = ""  # relative to the archive root, "" for the root
    outcomes: bool = False  # HCP Terraform accepts detailed outcomes in the callback
    run_id: str = ""
    workspace: str = ""  # organization/workspace, for the log

    @property
    def is_verification(self) -> bool:
        return self.access_token == VERIFICATION_TOKEN


def parse_request(body: bytes) -> RunTaskRequest:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("the body is not a JSON object")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise PayloadError("access_token is missing")
    if token == VERIFICATION_TOKEN:
        # what else the verification request carries is not documented: nothing more is required
        return RunTaskRequest(access_token=token)
    if data.get("payload_version") != 1 or isinstance(data.get("payload_version"), bool):
        raise PayloadError(f"payload_version {data.get('payload_version')!r} is not 1")
    if data.get("stage") not in STAGES:
        raise PayloadError(f"stage {data.get('stage')!r} is not one of {', '.join(STAGES)}")
    capabilities = data.get("capabilities")
    return RunTaskRequest(
        access_token=token,
        stage=data["stage"],
        task_result_id=_identifier(data, "task_result_id"),
        callback_url=_url(data, "task_result_callback_url", required=True),
        download_url=_url(data, "configuration_version_download_url", required=False),
        working_directory=working_directory(data.get("workspace_working_directory")),
        outcomes=isinstance(capabilities, dict) and capabilities.get("outcomes") is True,
        run_id=_optional_text(data, "run_id"),
        workspace=f"{_optional_text(data, 'organization_name')}/{_optional_text(data, 'workspace_name')}",
    )


def _identifier(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        raise PayloadError(f"{key} is missing or not a short string")
    return value


def _optional_text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value[:MAX_ID_CHARS] if isinstance(value, str) else ""


def _url(data: dict[str, Any], key: str, required: bool) -> URL | None:
    value = data.get(key)
    if value is None and not required:
        return None
    try:
        return parse_url(value)
    except ValueError as exc:
        raise PayloadError(f"{key}: {exc}") from None


def working_directory(value: Any) -> str:
    """The workspace's working directory as a path relative to the archive root. The docs'
    sample writes it with a leading slash (`/terraform`), so both forms are read alike; absent,
    null and empty mean the root. `..` or a NUL is refused, not resolved."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError("workspace_working_directory is not a string")
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." or "\x00" in p for p in parts):
        raise PayloadError("workspace_working_directory leaves the configuration")
    return "/".join(parts)
