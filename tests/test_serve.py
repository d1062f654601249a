"""`iac-ims serve` against a fake HCP Terraform on loopback: the whole run task exchange.

`Loopback` runs, in one event loop on a background thread:

- a fake HCP Terraform (http, 127.0.0.1, the one allowed origin): the configuration download at
  `/api/v2/configuration-versions/<cv>/download`, which checks the bearer token and answers 302
  to the blob server, and the callback at `/api/v2/task-results/<id>/callback`, which records
  every PATCH (and can be told to fail);
- a "blob storage" server (https with a test certificate, not an allowed origin, as blob storage
  is in production) serving the archives, recording whether a token reached it;
- an "evil" server (http, not allowed) that records any request at all: none may reach it;
- the server under test (`iac_ims.server.app.start`), its job directories under `<tmp>/work`.

Hostile cases each assert the answer's status code, that nothing was written outside the job
directory (`<tmp>/outside` and the rest of `<tmp>` unchanged, the work directory empty once the
result is in) and that no request went to a host not allowed. No assertion is about time:
timeouts (conftest's HANG_GUARD_S) only turn a hang into a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import io
import json
import logging
import os
import ssl
import tarfile
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import HANG_GUARD_S, REPO

aiohttp = pytest.importorskip("aiohttp")
from aiohttp import web  # noqa: E402

from iac_ims.pipeline import ScanOptions  # noqa: E402
from iac_ims.server import app as server_app  # noqa: E402
from iac_ims.server.config import ArchiveLimits, RetryPolicy, ServerConfig, Timeouts  # noqa: E402
from iac_ims.server.origins import parse_origin  # noqa: E402
from iac_ims.server.signature import HEADER, sign  # noqa: E402

KEY = b"test-hmac-key"
TOKEN = "PLACEHOLDER.atlasv1.run-task-token"
EXAMPLES = REPO / "tests" / "rule_examples"
BAD_TF = (EXAMPLES / "IMS101" / "bad" / "main.tf").read_bytes()  # gives an error finding (fails the run)
GOOD_TF = (EXAMPLES / "IMS101" / "good" / "main.tf").read_bytes()  # gives none at error (passes)

# A self-signed certificate for 127.0.0.1 (valid until 2126), made for these tests only: the blob
# server speaks https, as blob storage does, and the server under test is told to trust it.
TEST_CERT = """-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUXR20a2DXgKUUd9mK6lIDk1dqcJgwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwMjA4MzgwMVoYDzIxMjYxMTA4
MDgzODAxWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQfJUcIJpArJLwDrqAF+gsLfrpD/Q+QRqzApeFLtddLR1aYwtZvA/Am
6rpPnc8bcUinhuOKuohl/xAWJd2D4Sc8o2QwYjAdBgNVHQ4EFgQUqJFvUJ/oZzLL
K6hWH3pdiAiik2UwHwYDVR0jBBgwFoAUqJFvUJ/oZzLLK6hWH3pdiAiik2UwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IQCo+S+e6DmFnxsIKa0t65DstAmU6U5QH5aFSQ4eU2mrPQIgDPiKugoBeJkChktp
dSJRxq1LlQD4MQ/1GjTZtLazcWI=
-----END CERTIFICATE-----
"""
TEST_CERT_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQnNfs9906FpoRtvo
wyxnGcBHe9uL1n403kFaIQUVHWihRANCAAQfJUcIJpArJLwDrqAF+gsLfrpD/Q+Q
RqzApeFLtddLR1aYwtZvA/Am6rpPnc8bcUinhuOKuohl/xAWJd2D4Sc8
-----END PRIVATE KEY-----
"""
FINAL = ("passed", "failed")
# small limits, so that each can be crossed by a small archive
LIMITS = ArchiveLimits(archive_bytes=2 * 1024 * 1024, total_bytes=1024 * 1024, file_bytes=256 * 1024, entries=50,
                       ratio=50, ratio_grace_bytes=256 * 1024)
FAST_RETRY = RetryPolicy(attempts=3, first_delay=0.01, factor=2.0, max_delay=0.05)


# ---- archives ---------------------------------------------------------------------------------

def tar_gz(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    """A .tar.gz of `(name, content)` files and ready-made TarInfo entries (links, devices...)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                name, content = entry
                info = tarfile.TarInfo(name)
                info.size = len(content)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def gzip_bomb(uncompressed: int) -> bytes:
    """A .tar.gz whose one file is `uncompressed` zero bytes (about 1000 times its size)."""
    header = tarfile.TarInfo("zeros.txt")
    header.size = uncompressed
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as stream:
        stream.write(header.tobuf(format=tarfile.GNU_FORMAT))
        chunk = bytes(1024 * 1024)
        for _ in range(uncompressed // len(chunk)):
            stream.write(chunk)
        stream.write(bytes(1024))  # end-of-archive blocks
    return out.getvalue()


# ---- the fake HCP Terraform, blob storage and evil host -----------------------------------------

@dataclass
class Callback:
    status: str
    body: dict[str, Any]
    authorization: str | None
    content_type: str | None
    answered: int


@dataclass
class Fakes:
    """What the three fake servers serve and what they saw."""

    archives: dict[str, bytes] = field(default_factory=dict)  # configuration version -> .tar.gz
    missing: set[str] = field(default_factory=set)  # versions whose download answers 404
    hanging: set[str] = field(default_factory=set)  # versions whose download never answers
    redirects: dict[str, str] = field(default_factory=dict)  # version -> where its download redirects
    failing_callbacks: dict[str, int] = field(default_factory=dict)  # task result -> PATCHes answered 500
    callbacks: dict[str, list[Callback]] = field(default_factory=lambda: defaultdict(list))
    downloads: list[tuple[str, str | None]] = field(default_factory=list)  # (version, Authorization)
    blob_authorizations: list[str | None] = field(default_factory=list)
    loop_authorizations: list[str | None] = field(default_factory=list)
    evil_requests: list[str] = field(default_factory=list)
    finals: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    downloading: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    release: asyncio.Event = field(default_factory=asyncio.Event)  # ends every hanging download
    blob_url: str = ""

    def delivered_finals(self, task: str) -> list[Callback]:
        return [c for c in self.callbacks[task] if c.status in FINAL and c.answered == 200]


def fake_hcp(fakes: Fakes) -> web.Application:
    async def download(request: web.Request) -> web.StreamResponse:
        version = request.match_info["cv"]
        fakes.downloads.append((version, request.headers.get("Authorization")))
        fakes.downloading[version].set()
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"errors": [{"status": "401"}]}, status=401)
        if version in fakes.hanging:
            await fakes.release.wait()
        if version in fakes.missing:
            return web.json_response({"errors": [{"status": "404", "title": "not found"}]}, status=404)
        location = fakes.redirects.get(version, f"{fakes.blob_url}/blob/{version}")
        raise web.HTTPFound(location)

    async def callback(request: web.Request) -> web.Response:
        task = request.match_info["task"]
        body = await request.json()
        failing = fakes.failing_callbacks.get(task, 0)
        answered = 500 if failing else 200
        if failing:
            fakes.failing_callbacks[task] = failing - 1
        record = Callback(body["data"]["attributes"]["status"], body, request.headers.get("Authorization"),
                          request.headers.get("Content-Type"), answered)
        fakes.callbacks[task].append(record)
        if record.status in FINAL and answered == 200:
            fakes.finals[task].set()
        return web.Response(status=answered)

    async def loop(request: web.Request) -> web.Response:
        """A redirect to the next hop, for ever (on the allowed origin, so only the hop limit stops it)."""
        fakes.loop_authorizations.append(request.headers.get("Authorization"))
        raise web.HTTPFound(f"/loop/{int(request.match_info['n']) + 1}")

    application = web.Application()
    application.router.add_get("/loop/{n}", loop)
    application.router.add_get("/api/v2/configuration-versions/{cv}/download", download)
    application.router.add_patch("/api/v2/task-results/{task}/callback", callback)
    return application


def fake_blob(fakes: Fakes) -> web.Application:
    async def blob(request: web.Request) -> web.Response:
        fakes.blob_authorizations.append(request.headers.get("Authorization"))
        return web.Response(body=fakes.archives[request.match_info["cv"]], content_type="application/octet-stream")

    application = web.Application()
    application.router.add_get("/blob/{cv}", blob)
    return application


def fake_evil(fakes: Fakes) -> web.Application:
    async def anything(request: web.Request) -> web.Response:
        fakes.evil_requests.append(f"{request.method} {request.path}")
        return web.Response(body=tar_gz([("main.tf", BAD_TF)]))

    application = web.Application()
    application.router.add_route("*", "/{tail:.*}", anything)
    return application


def trusting_test_cert(directory: Path) -> ssl.SSLContext:
    cert = directory / "test-cert.pem"
    cert.write_text(TEST_CERT)
    return ssl.create_default_context(cafile=str(cert))


def serving_test_cert(directory: Path) -> ssl.SSLContext:
    cert, key = directory / "test-cert.pem", directory / "test-cert-key.pem"
    cert.write_text(TEST_CERT)
    key.write_text(TEST_CERT_KEY)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class LogRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage() + ("\n" + self.format(record) if record.exc_info else ""))


class Loopback:
    """The fakes and (unless `server=False`) the server under test, in one background event loop."""

    def __init__(self, base: Path, server: bool = True, **settings: Any) -> None:
        self.base = base
        self.work = base / "work"
        self.outside = base / "outside"  # what hostile archives aim at
        self.work.mkdir(parents=True)
        self.outside.mkdir()
        (self.outside / "secret.txt").write_text("must not change\n")
        (base / "certs").mkdir()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="loopback", daemon=True)
        self.thread.start()
        self.log = LogRecords()
        logging.getLogger("iac_ims.server").addHandler(self.log)
        logging.getLogger("iac_ims.server").setLevel(logging.INFO)
        self.runners: list[web.AppRunner] = []
        self.server: Any = None
        self.call(self._start(server, settings))

    def call(self, coroutine: Any, timeout: float = HANG_GUARD_S) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _serve(self, application: web.Application, tls: ssl.SSLContext | None = None) -> str:
        runner = web.AppRunner(application, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls).start()
        self.runners.append(runner)
        return f"{'https' if tls else 'http'}://127.0.0.1:{runner.addresses[0][1]}"

    async def _start(self, server: bool, settings: dict[str, Any]) -> None:
        self.fakes = Fakes()
        self.hcp_url = await self._serve(fake_hcp(self.fakes))
        self.fakes.blob_url = await self._serve(fake_blob(self.fakes), serving_test_cert(self.base / "certs"))
        self.evil_url = await self._serve(fake_evil(self.fakes))
        self.session = aiohttp.ClientSession()
        if server:
            self.server = await server_app.start(self.config(**settings.pop("config", {})), **settings)
            self.url = self.server.url

    def config(self, **changes: Any) -> ServerConfig:
        """The server's settings: the fake HCP Terraform the one allowed origin, small limits."""
        settings: dict[str, Any] = dict(
            host="127.0.0.1", port=0, hmac_key=KEY, allowed_origins=(parse_origin(self.hcp_url),),
            scan_options=ScanOptions(), limits=LIMITS, retry=FAST_RETRY, workers=2, work_dir=str(self.work),
            client_ssl=trusting_test_cert(self.base / "certs"),
            timeouts=Timeouts(connect=HANG_GUARD_S, read=HANG_GUARD_S, download=HANG_GUARD_S,
                              callback=HANG_GUARD_S, scan=HANG_GUARD_S))
        settings.update(changes)
        return ServerConfig(**settings)

    def close(self) -> None:
        self.fakes.release.set()
        self.call(self._stop())
        logging.getLogger("iac_ims.server").removeHandler(self.log)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(HANG_GUARD_S)
        self.loop.close()

    async def _stop(self) -> None:
        self.fakes.release.set()
        if self.server is not None:
            await self.server.stop()
        await self.session.close()
        for runner in self.runners:
            await runner.cleanup()

    # --- talking to the server, as HCP Terraform does

    def payload(self, task: str, version: str | None, **changes: Any) -> dict[str, Any]:
        body = {
            "payload_version": 1, "stage": "pre_plan", "access_token": TOKEN, "capabilities": {"outcomes": True},
            "configuration_version_download_url":
                None if version is None else f"{self.hcp_url}/api/v2/configuration-versions/{version}/download",
            "configuration_version_id": version, "is_speculative": False, "organization_name": "example-org",
            "run_app_url": f"{self.hcp_url}/app/example-org/ws/runs/run-{task}", "run_created_at": "2026-12-01T09:30:00Z",
            "run_created_by": "jdoe", "run_id": f"run-{task}", "run_message": "test",
            "task_result_callback_url": f"{self.hcp_url}/api/v2/task-results/{task}/callback",
            "task_result_enforcement_level": "mandatory", "task_result_id": f"taskrs-{task}",
            "vcs_branch": None, "vcs_commit_url": None, "vcs_pull_request_url": None, "vcs_repo_url": None,
            "workspace_app_url": f"{self.hcp_url}/app/example-org/ws", "workspace_id": "ws-1",
            "workspace_name": "ws", "workspace_working_directory": "",
        }
        body.update(changes)
        return body

    async def post_async(self, body: bytes, signature: str | None, url: str | None = None) -> int:
        headers = {"Content-Type": "application/json", "User-Agent": "TFC/1.0 (+https://app.terraform.io; TFC)"}
        if signature is not None:
            headers[HEADER] = signature
        async with self.session.post(url or f"{self.url}/", data=body, headers=headers) as response:
            return response.status

    def post(self, payload: dict[str, Any] | bytes, signature: str | None = "sign") -> int:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.call(self.post_async(body, sign(KEY, body) if signature == "sign" else signature))

    def run(self, task: str, archive: bytes, **changes: Any) -> list[Callback]:
        """Post a run whose configuration is `archive`: 200, then its callbacks up to the final one."""
        self.fakes.archives[task] = archive
        assert self.post(self.payload(task, task, **changes)) == 200
        return self.finished(task)

    def finished(self, task: str) -> list[Callback]:
        self.call(self.fakes.finals[task].wait())
        return list(self.fakes.callbacks[task])

    def wait_for_log(self, text: str) -> None:
        async def appears() -> None:
            while not any(text in m for m in self.log.messages):
                await asyncio.sleep(0.01)

        self.call(appears())

    # --- what must hold after every hostile case

    def tree(self) -> dict[str, bytes | None]:
        """Every path under the test's directory except the work directory, with file contents."""
        seen: dict[str, bytes | None] = {}
        for path in sorted(self.base.rglob("*")):
            if self.work in (path, *path.parents):
                continue
            seen[str(path.relative_to(self.base))] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        return seen

    def job_directories(self) -> list[Path]:
        return [p for root in self.work.iterdir() for p in root.iterdir()]


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory):
    harness = Loopback(tmp_path_factory.mktemp("serve"))
    yield harness
    harness.close()
    assert not list(harness.work.iterdir()), "the server's work directory outlived it"


@contextlib.contextmanager
def containment(harness: Loopback) -> Iterator[Loopback]:
    """Checks, around a test, that nothing outside the job directory was written, that no job
    directory is left and that no request reached a host not allowed."""
    before = harness.tree()
    evil_before = len(harness.fakes.evil_requests)
    yield harness
    assert harness.tree() == before, "a file outside the job's directory was written"
    assert harness.job_directories() == [], "a job directory outlived its job"
    assert harness.fakes.evil_requests[evil_before:] == [], "a request went to a host not allowed"


@pytest.fixture
def contained(loopback: Loopback):
    with containment(loopback) as harness:
        yield harness


def final_of(callbacks: list[Callback]) -> Callback:
    finals = [c for c in callbacks if c.status in FINAL and c.answered == 200]
    assert len(finals) == 1, callbacks
    return finals[0]


def outcomes_of(callback: Callback) -> list[dict[str, Any]]:
    return callback.body["data"].get("relationships", {}).get("outcomes", {}).get("data", [])


# ---- the exchange ----------------------------------------------------------------------------------

def test_verification_request_gets_200_and_nothing_else(contained: Loopback) -> None:
    downloads = len(contained.fakes.downloads)
    body = {"payload_version": 1, "stage": "pre_plan", "access_token": "test-token",
            "task_result_callback_url": f"{contained.hcp_url}/api/v2/task-results/verify/callback",
            "configuration_version_download_url": f"{contained.hcp_url}/api/v2/configuration-versions/v/download"}
    assert contained.post(body) == 200
    assert contained.post(body, signature="0" * 128) == 401  # signed like any request
    assert len(contained.fakes.downloads) == downloads and "verify" not in contained.fakes.callbacks


def test_a_failing_run_gets_running_then_failed_with_one_outcome_per_finding(contained: Loopback) -> None:
    callbacks = contained.run("fail", tar_gz([("main.tf", BAD_TF)]))
    assert callbacks[0].status == "running"
    final = final_of(callbacks)
    assert final.status == "failed" and callbacks[-1] is final
    assert all(c.authorization == f"Bearer {TOKEN}" and c.content_type == "application/vnd.api+json"
               for c in callbacks)
    attributes = final.body["data"]["attributes"]
    assert final.body["data"]["type"] == "task-results"
    assert attributes["message"].startswith("iac-ims: 1 error") and "\n" not in attributes["message"]
    outcomes = outcomes_of(final)
    assert [o["attributes"]["outcome-id"] for o in outcomes] == ["IMS101"]
    outcome = outcomes[0]["attributes"]
    assert outcome["tags"]["Severity"] == [{"label": "Error", "level": "error"}]
    assert "`main.tf`, line" in outcome["body"] and "**Fix:**" in outcome["body"] and "**Evidence**" in outcome["body"]
    assert str(contained.work) not in json.dumps(final.body)
    # the token went to HCP Terraform's download URL, never to the blob storage it redirected to
    assert ("fail", f"Bearer {TOKEN}") in contained.fakes.downloads
    assert None in contained.fakes.blob_authorizations and TOKEN not in str(contained.fakes.blob_authorizations)


def test_a_clean_run_passes_and_the_working_directory_is_what_is_scanned(contained: Loopback) -> None:
    archive = tar_gz([("stacks/network/main.tf", GOOD_TF), ("elsewhere/main.tf", BAD_TF)])
    final = final_of(contained.run("pass", archive, workspace_working_directory="/stacks/network"))
    assert final.status == "passed", final.body
    assert final.body["data"]["attributes"]["message"].startswith("iac-ims: ")
    final = final_of(contained.run("pass-root", archive))  # no working directory: the whole tree
    assert final.status == "failed" and outcomes_of(final)[0]["attributes"]["body"].count("elsewhere/main.tf") == 1


def test_outcomes_are_left_out_when_hcp_terraform_does_not_accept_them(contained: Loopback) -> None:
    final = final_of(contained.run("no-outcomes", tar_gz([("main.tf", BAD_TF)]), capabilities={"outcomes": False}))
    assert final.status == "failed" and "relationships" not in final.body["data"]


def test_a_retried_request_does_not_run_the_job_twice(contained: Loopback) -> None:
    contained.fakes.archives["twice"] = tar_gz([("main.tf", GOOD_TF)])
    payload = contained.payload("twice", "twice")
    assert contained.post(payload) == 200 and contained.post(payload) == 200
    contained.finished("twice")
    contained.wait_for_log("already accepted")
    assert len(contained.fakes.delivered_finals("twice")) == 1


def test_a_run_without_a_download_url_fails_with_a_reason(contained: Loopback) -> None:
    assert contained.post(contained.payload("no-url", None)) == 200
    final = final_of(contained.finished("no-url"))
    assert final.status == "failed" and "no configuration version" in final.body["data"]["attributes"]["message"]


def test_a_working_directory_missing_from_the_archive_fails(contained: Loopback) -> None:
    final = final_of(contained.run("no-dir", tar_gz([("main.tf", GOOD_TF)]), workspace_working_directory="infra"))
    assert final.status == "failed" and "'infra' is not in the configuration" in final.body["data"]["attributes"]["message"]


def test_health_says_ok(loopback: Loopback) -> None:
    async def health() -> tuple[int, dict[str, Any]]:
        async with loopback.session.get(f"{loopback.url}/healthz") as response:
            return response.status, await response.json()

    status, body = loopback.call(health())
    assert status == 200 and body["status"] == "ok"


# ---- hostile requests ------------------------------------------------------------------------------

@pytest.mark.parametrize("signature", [None, "", "0" * 128, "not hex", sign(b"another key", b"{}"), "é" * 3])
def test_a_bad_or_missing_signature_is_401_and_nothing_is_done(contained: Loopback, signature: str | None) -> None:
    downloads, callbacks = len(contained.fakes.downloads), sum(map(len, contained.fakes.callbacks.values()))
    contained.fakes.archives["unsigned"] = tar_gz([("main.tf", GOOD_TF)])
    assert contained.post(contained.payload("unsigned", "unsigned"), signature=signature) == 401
    assert len(contained.fakes.downloads) == downloads
    assert sum(map(len, contained.fakes.callbacks.values())) == callbacks


def test_the_signature_is_checked_on_the_raw_body(contained: Loopback) -> None:
    contained.fakes.archives["raw"] = tar_gz([("main.tf", GOOD_TF)])
    body = json.dumps(contained.payload("raw", "raw"), indent=7).encode() + b"\n\n"
    assert contained.post(body) == 200
    assert final_of(contained.finished("raw")).status == "passed"
    tampered = body.replace(b'"pre_plan"', b'"post_plan"')
    assert contained.post(tampered, signature=sign(KEY, body)) == 401


@pytest.mark.parametrize("body", [
    b"", b"{", b"[]", b"null", b'"text"', b"{\"access_token\": 5}", b"\xff\xfe", b"[" * 100_000,
])
def test_malformed_json_is_400(contained: Loopback, body: bytes) -> None:
    assert contained.post(body) == 400


@pytest.mark.parametrize("changes", [
    {"payload_version": 2}, {"payload_version": True}, {"stage": "plan"}, {"task_result_id": None},
    {"task_result_callback_url": "not a url"}, {"task_result_callback_url": None},
    {"configuration_version_download_url": "ftp://127.0.0.1/x"}, {"workspace_working_directory": "../up"},
    {"workspace_working_directory": ["a"]},
], ids=lambda c: ",".join(c))
def test_an_invalid_payload_is_400(contained: Loopback, changes: dict[str, Any]) -> None:
    assert contained.post(contained.payload("invalid", "invalid", **changes)) == 400


def test_a_body_over_the_size_limit_is_refused(contained: Loopback) -> None:
    assert contained.post(contained.payload("huge", "huge", run_message="x" * 300_000)) == 413


def test_a_callback_url_outside_the_allowed_origins_is_400_and_not_called(contained: Loopback) -> None:
    for url in (f"{contained.evil_url}/api/v2/task-results/evil/callback",
                f"{contained.hcp_url}.evil.example/api/v2/task-results/evil/callback",
                contained.hcp_url.replace("http://", "http://user@") + "/api/v2/task-results/evil/callback",
                contained.hcp_url.replace("http://", "https://") + "/api/v2/task-results/evil/callback"):
        contained.fakes.archives["evil-callback"] = tar_gz([("main.tf", GOOD_TF)])
        assert contained.post(contained.payload("evil-callback", "evil-callback", task_result_callback_url=url)) == 400
    assert "evil-callback" not in contained.fakes.downloads and not contained.fakes.callbacks["evil-callback"]


def test_a_download_url_outside_the_allowed_origins_is_not_fetched(contained: Loopback) -> None:
    url = f"{contained.evil_url}/api/v2/configuration-versions/x/download"
    assert contained.post(contained.payload("evil-download", "x", configuration_version_download_url=url)) == 200
    final = final_of(contained.finished("evil-download"))
    assert final.status == "failed" and "not on an allowed origin" in final.body["data"]["attributes"]["message"]


def test_a_redirect_to_plain_http_outside_the_allowed_origins_is_not_followed(contained: Loopback) -> None:
    contained.fakes.redirects["to-evil"] = f"{contained.evil_url}/blob/to-evil"
    contained.fakes.archives["to-evil"] = tar_gz([("main.tf", GOOD_TF)])
    final = final_of(contained.run("to-evil", b""))
    assert final.status == "failed" and "neither https nor" in final.body["data"]["attributes"]["message"]


def test_a_redirect_loop_stops_after_five_hops_none_with_the_token(contained: Loopback) -> None:
    contained.fakes.redirects["loop"] = f"{contained.hcp_url}/loop/1"
    final = final_of(contained.run("loop", b""))
    assert final.status == "failed" and "redirected more than 5 times" in final.body["data"]["attributes"]["message"]
    assert contained.fakes.loop_authorizations == [None] * 5


def test_a_download_that_404s_fails_the_run(contained: Loopback) -> None:
    contained.fakes.missing.add("gone")
    final = final_of(contained.run("gone", b""))
    assert final.status == "failed" and "HTTP 404" in final.body["data"]["attributes"]["message"]


@pytest.fixture
def impatient(tmp_path: Path):
    """A server of its own that waits half a second for a response (the hanging download)."""
    harness = Loopback(tmp_path, config={"timeouts": Timeouts(connect=HANG_GUARD_S, read=0.5, download=HANG_GUARD_S,
                                                              callback=HANG_GUARD_S, scan=HANG_GUARD_S)})
    yield harness
    harness.close()


def test_a_download_that_hangs_times_out_and_fails_the_run(impatient: Loopback) -> None:
    impatient.fakes.hanging.add("hang")
    with containment(impatient):
        final = final_of(impatient.run("hang", b""))
    assert final.status == "failed" and "timed out" in final.body["data"]["attributes"]["message"]


# ---- hostile archives ------------------------------------------------------------------------------

def refused(loopback: Loopback, task: str, archive: bytes, reason: str) -> None:
    final = final_of(loopback.run(task, archive))
    message = final.body["data"]["attributes"]["message"]
    assert final.status == "failed" and message.startswith("iac-ims could not check this run: ") and reason in message, \
        message


def test_an_entry_with_dotdot_refuses_the_archive(contained: Loopback) -> None:
    archive = tar_gz([("main.tf", GOOD_TF), ("../../../../escaped.tf", BAD_TF), ("a/../../b.tf", BAD_TF)])
    refused(contained, "dotdot", archive, "leaves its directory")


def test_an_absolute_entry_refuses_the_archive(contained: Loopback) -> None:
    archive = tar_gz([("main.tf", GOOD_TF), (f"{contained.outside}/absolute.tf", BAD_TF)])
    refused(contained, "absolute", archive, "absolute path")


def test_links_out_of_the_tree_are_not_followed_or_created(contained: Loopback) -> None:
    archive = tar_gz([
        ("main.tf", GOOD_TF),
        special("out", tarfile.SYMTYPE, str(contained.outside)),
        ("out/planted.tf", BAD_TF),  # through the link, were it made: it lands in the job directory instead
        special("secret.txt", tarfile.LNKTYPE, str(contained.outside / "secret.txt")),
        ("secret.txt", b"overwritten\n"),  # through the hard link, were it made
        special("up", tarfile.SYMTYPE, "../../../.."),
    ])
    final = final_of(contained.run("links", archive))
    message = final.body["data"]["attributes"]["message"]
    assert "not unpacked: 3 links" in message, message
    # out/planted.tf was unpacked as a plain file inside the configuration, and scanned there
    assert final.status == "failed" and "out/planted.tf" in json.dumps(final.body)


def test_a_module_source_leading_out_of_the_configuration_is_not_read(contained: Loopback,
                                                                        tmp_path: Path) -> None:
    """A configuration must not make the server read its own disk through a module source: a
    module outside the archive is unknown (IMS901), while one inside it, beside the working
    directory, is read as Terraform would."""
    host_module = tmp_path / "host_module"
    host_module.mkdir()
    (host_module / "main.tf").write_bytes(BAD_TF)  # an error finding, were it read
    escape = "../" * 40 + str(host_module).lstrip("/")
    calls = (f'module "host" {{\n  source = "{escape}"\n}}\n'
             'module "shared" {\n  source = "../../modules/shared"\n}\n').encode()
    archive = tar_gz([("stacks/app/main.tf", GOOD_TF + b"\n" + calls), ("modules/shared/main.tf", BAD_TF)])
    final = final_of(contained.run("module-out", archive, workspace_working_directory="stacks/app"))
    assert final.status == "failed"  # the module inside the configuration is read: its error counts
    bodies = {o["attributes"]["outcome-id"]: o["attributes"]["body"] for o in outcomes_of(final)}
    assert set(bodies) == {"IMS101", "IMS901"}
    assert "`modules/shared/main.tf`" in bodies["IMS101"]
    assert "module.host" in bodies["IMS901"] and "leads outside the configuration" in bodies["IMS901"]


def test_devices_and_fifos_are_skipped(contained: Loopback) -> None:
    device = special("dev/disk", tarfile.BLKTYPE)
    device.devmajor, device.devminor = 8, 0
    archive = tar_gz([("main.tf", GOOD_TF), device, special("dev/null", tarfile.CHRTYPE), special("pipe", tarfile.FIFOTYPE)])
    final = final_of(contained.run("devices", archive))
    assert final.status == "passed" and "not unpacked: 3 devices, FIFOs and sparse files" in \
        final.body["data"]["attributes"]["message"]


def test_a_gzip_bomb_is_stopped(contained: Loopback) -> None:
    refused(contained, "bomb", gzip_bomb(64 * 1024 * 1024), "a compression bomb?")


def test_more_files_than_the_limit_refuses_the_archive(contained: Loopback) -> None:
    refused(contained, "many", tar_gz([(f"f{n}.tf", b"# empty\n") for n in range(LIMITS.entries + 1)]),
            f"more than {LIMITS.entries} files")


def test_more_bytes_than_the_limit_refuses_the_archive(contained: Loopback) -> None:
    files = [(f"blob{n}.bin", os.urandom(200 * 1024)) for n in range(6)]  # incompressible: not a bomb
    refused(contained, "bytes", tar_gz([("main.tf", GOOD_TF), *files]), "larger than the limit")


def test_a_terraform_file_over_the_file_limit_refuses_the_archive(contained: Loopback) -> None:
    big = b"# padding\n" * (LIMITS.file_bytes // 10 + 1)
    refused(contained, "big-tf", tar_gz([("main.tf", GOOD_TF), ("big.tf", big)]), "big.tf is larger than the limit")


def test_another_file_over_the_file_limit_is_skipped(contained: Loopback) -> None:
    final = final_of(contained.run("big-bin", tar_gz([("main.tf", GOOD_TF), ("lambda.zip", os.urandom(300 * 1024))])))
    assert final.status == "passed" and "not unpacked: 1 files over" in final.body["data"]["attributes"]["message"]


def test_an_archive_over_the_download_limit_is_not_kept(contained: Loopback) -> None:
    archive = tar_gz([(f"r{n}.bin", os.urandom(200 * 1024)) for n in range(12)])
    assert len(archive) > LIMITS.archive_bytes
    refused(contained, "too-big", archive, "archive is larger than the limit")


@pytest.mark.parametrize("archive", [b"not gzip at all", gzip.compress(b"not a tar archive" * 100), b"\x1f\x8b\x08garbage"])
def test_what_is_not_a_tar_gz_is_refused(contained: Loopback, archive: bytes) -> None:
    refused(contained, f"junk-{len(archive)}", archive, "")


# ---- failures on the way back -----------------------------------------------------------------------

def test_a_failing_callback_is_retried_with_backoff(contained: Loopback) -> None:
    contained.fakes.failing_callbacks["flaky"] = FAST_RETRY.attempts - 1  # the `running` PATCH, then one final
    callbacks = contained.run("flaky", tar_gz([("main.tf", GOOD_TF)]))
    assert [(c.status, c.answered) for c in callbacks if c.status == "running"] == [("running", 500), ("running", 500),
                                                                                   ("running", 200)]
    assert final_of(callbacks).status == "passed"


def test_a_callback_that_keeps_failing_is_given_up_and_logged(contained: Loopback) -> None:
    contained.fakes.failing_callbacks["down"] = 1000
    contained.fakes.archives["down"] = tar_gz([("main.tf", GOOD_TF)])
    assert contained.post(contained.payload("down", "down")) == 200
    contained.wait_for_log("gave up sending the passed result after 3 attempts")
    assert [c.status for c in contained.fakes.callbacks["down"]] == ["running"] * 3 + ["passed"] * 3


def exploding_scan(*_args: Any) -> Any:
    raise RuntimeError("boom in /srv/secret/iac_ims/checks/module.py line 12")


@pytest.fixture
def exploding(tmp_path: Path):
    """A server whose scan raises (run in a thread pool: the function is this module's)."""
    pool = ThreadPoolExecutor(1)
    harness = Loopback(tmp_path, scan_function=exploding_scan, executor=pool)
    yield harness
    harness.close()
    pool.shutdown()


def test_a_scan_that_raises_fails_the_run_with_internal_error_and_no_details(exploding: Loopback) -> None:
    with containment(exploding):
        final = final_of(exploding.run("raises", tar_gz([("main.tf", GOOD_TF)])))
    message = final.body["data"]["attributes"]["message"]
    assert final.status == "failed" and "internal error" in message
    assert "/srv/secret" not in json.dumps(final.body) and "Traceback" not in json.dumps(final.body)
    exploding.wait_for_log("the scan failed")
    assert any("boom in /srv/secret" in m for m in exploding.log.messages)  # the details are in the log
