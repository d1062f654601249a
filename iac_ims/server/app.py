"""The HTTP side: the run task endpoint, a health check, start-up and a draining shutdown.

`POST /` is the run task URL. In order: the body is read (at most `MAX_REQUEST_BYTES`), its
signature checked on the raw bytes (401), the JSON read and checked (400), the verification
request answered (200, nothing else done), the callback URL checked against the allowed origins
(400: nothing could be reported safely), and the job queued (200) or refused while the queue is
full or the server stopping (503, so HCP Terraform retries). The answer never waits for the job.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from iac_ims.server.config import ServerConfig, SetupError
from iac_ims.server.jobs import JobQueue, Offer, ScanPool
from iac_ims.server.origins import is_allowed
from iac_ims.server.payload import PayloadError, parse_request
from iac_ims.server.run import TaskRunner, remove_tree
from iac_ims.server.signature import HEADER, Verdict, verify
from iac_ims.server.worker import scan_archive, warm_up

log = logging.getLogger("iac_ims.server")

MAX_REQUEST_BYTES = 256 * 1024  # a run task request is a few kilobytes of JSON
RETRY_AFTER_S = "10"


class ServerState:
    """What the routes share: set up when the app starts, drained and closed when it stops."""

    def __init__(self, config: ServerConfig, scan_function: Callable[..., Any] = scan_archive,
                 executor: Any = None) -> None:
        self.config = config
        self.scan_function = scan_function
        self.executor = executor
        self.session: aiohttp.ClientSession | None = None
        self.pool: ScanPool | None = None
        self.jobs: JobQueue | None = None
        self.work_root: str | None = None

    async def start(self, _app: web.Application) -> None:
        config = self.config
        try:
            self.work_root = await asyncio.to_thread(tempfile.mkdtemp, prefix="iac-ims-serve-", dir=config.work_dir)
        except OSError as exc:
            raise SetupError(f"cannot create a work directory in {config.work_dir or tempfile.gettempdir()}: "
                             f"{exc.strerror or exc}") from None
        # no cookies (one run's must not reach another's requests), no proxy or .netrc from the
        # environment, and no transparent decompression: the archive's gzip is decompressed
        # against the limits in archive.py, never by the client
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                                             auto_decompress=False,
                                             connector=aiohttp.TCPConnector(ssl=config.client_ssl or True),
                                             headers={"Accept-Encoding": "identity"})
        catalog_files = list(getattr(config.scan_options, "catalog_files", []) or [])
        self.pool = ScanPool(config.workers, warm_up, (catalog_files,), self.executor)
        runner = TaskRunner(config, self.session, self.pool, self.work_root, self.scan_function)
        self.jobs = JobQueue(runner.handle, runner.abandon, config.jobs_at_once(), config.queue_size)
        self.jobs.start()

    async def drain(self, _app: web.Application) -> None:
        if self.jobs is not None:
            await self.jobs.drain(self.config.drain_timeout)

    async def close(self, _app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()
        if self.pool is not None:
            await asyncio.to_thread(self.pool.close)
        if self.work_root is not None:
            await asyncio.to_thread(remove_tree, self.work_root)


STATE = web.AppKey("iac_ims_server", ServerState)


def build_app(config: ServerConfig, **state: Any) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[STATE] = ServerState(config, **state)
    app.router.add_post("/", run_task)
    app.router.add_get("/healthz", health)
    app.on_startup.append(app[STATE].start)
    app.on_shutdown.append(app[STATE].drain)  # runs once the listening socket is closed
    app.on_cleanup.append(app[STATE].close)
    return app


async def run_task(request: web.Request) -> web.Response:
    response = await _answer(request)
    # one request per connection: a request on a connection kept open across a shutdown would
    # wait for the drain to end, where a new connection is refused at once and retried elsewhere
    response.force_close()
    return response


async def _answer(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await request.read()
    verdict = verify(state.config.hmac_key, body, request.headers.get(HEADER))
    if verdict is not Verdict.VALID:
        log.warning("request from %s refused: %s", request.remote,
                    "signature does not match" if verdict is Verdict.MISMATCH
                    else "signed, but this server has no HMAC key (started with --insecure-no-hmac)")
        return web.Response(status=401 if verdict is Verdict.MISMATCH else 400)
    try:
        task = parse_request(body)
    except PayloadError as exc:
        log.warning("request from %s refused: %s", request.remote, exc)
        return web.Response(status=400)
    if task.is_verification:
        log.info("verification request from %s answered", request.remote)
        return web.Response(status=200)
    if not is_allowed(task.callback_url, state.config.allowed_origins):  # type: ignore[arg-type]
        log.warning("request for %s refused: its callback URL is not on an allowed origin", task.task_result_id)
        return web.Response(status=400)
    assert state.jobs is not None
    offer = state.jobs.offer(task)
    if offer in (Offer.FULL, Offer.STOPPING):
        log.warning("request for %s turned away (%s): HCP Terraform will send it again", task.task_result_id,
                    "queue full" if offer is Offer.FULL else "stopping")
        return web.Response(status=503, headers={"Retry-After": RETRY_AFTER_S})
    log.info("request for %s %s", task.task_result_id,
             "accepted" if offer is Offer.ACCEPTED else "already accepted: not run again")
    return web.Response(status=200)


async def health(request: web.Request) -> web.Response:
    jobs = request.app[STATE].jobs
    stopping = jobs is None or jobs.stopping
    return web.json_response({"status": "stopping" if stopping else "ok", "active": jobs.active if jobs else 0,
                              "waiting": jobs.waiting if jobs else 0}, status=503 if stopping else 200)


@dataclass
class RunningServer:
    runner: web.AppRunner
    url: str  # where it listens (the port filled in when 0 was asked for)

    async def stop(self) -> None:
        """Stop listening, drain accepted jobs, close (as on SIGTERM)."""
        await self.runner.cleanup()


async def start(config: ServerConfig, **state: Any) -> RunningServer:
    runner = web.AppRunner(build_app(config, **state), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, ssl_context=config.tls)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise SetupError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from None
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    return RunningServer(runner, f"{'https' if config.tls else 'http'}://{shown}:{port}")


def serve(config: ServerConfig) -> None:
    """Run until SIGTERM or SIGINT, then drain and stop."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(config))


async def _serve(config: ServerConfig) -> None:
    server = await start(config)
    print(f"iac-ims serve: listening on {server.url}; allowed origins: "
          f"{', '.join(str(o) for o in config.allowed_origins)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("stopping: no new requests")
        await server.stop()
        log.info("stopped")
