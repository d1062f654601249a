"""One run task job, from the accepted request to the final callback.

`running` goes out at once (while the download starts); then the configuration is downloaded
into a fresh job directory, unpacked and scanned in a scan process, the job directory is
deleted, and `passed` or `failed` goes out with the outcomes. Whatever goes wrong ends in a
`failed` result that says what, in words fit for the run's page: exception text, paths and
tracebacks go to the server's log only.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from iac_ims.server import callback
from iac_ims.server.config import RetryPolicy, ServerConfig
from iac_ims.server.fetch import FetchError, download
from iac_ims.server.jobs import ScanPool
from iac_ims.server.outcomes import INTERNAL_ERROR, TaskResult, could_not_check, scan_result
from iac_ims.server.payload import RunTaskRequest
from iac_ims.server.worker import ScanOutcome, scan_archive

log = logging.getLogger("iac_ims.server")

RUNNING = TaskResult("running", "iac-ims is checking the configuration")
STOPPED = could_not_check("the iac-ims server stopped before it finished; start a new run")
ONE_ATTEMPT = RetryPolicy(attempts=1)


def job_name(request: RunTaskRequest) -> str:
    return f"{request.run_id or 'run'} ({request.task_result_id}, {request.workspace})"


class TaskRunner:
    def __init__(self, config: ServerConfig, session: aiohttp.ClientSession, pool: ScanPool, work_root: str,
                 scan_function: Callable[..., ScanOutcome] = scan_archive) -> None:
        self.config = config
        self.session = session
        self.pool = pool
        self.work_root = work_root
        self.scan_function = scan_function

    async def handle(self, request: RunTaskRequest) -> None:
        job = job_name(request)
        started = time.monotonic()
        running = asyncio.create_task(self._send(request, RUNNING, job))
        try:
            result = await self._result(request, job)
        except asyncio.CancelledError:  # shutdown ran out of time: say so rather than go silent
            running.cancel()
            await self._send(request, STOPPED, job, ONE_ATTEMPT)
            raise
        except Exception:
            log.exception("%s: unexpected error", job)
            result = INTERNAL_ERROR
        await running  # a late `running` must not arrive after the final result
        delivery = await self._send(request, result, job)
        if delivery is callback.Delivery.REJECTED and result.outcomes:
            # the result's text is the scanned code's: should it ever be refused, the verdict still gets through
            delivery = await self._send(request, result.without_outcomes(), job)
        log.info("%s: %s (%s) in %.1f s, result %s", job, result.status, result.message,
                 time.monotonic() - started, delivery.value)

    async def abandon(self, request: RunTaskRequest) -> None:
        await self._send(request, STOPPED, job_name(request), ONE_ATTEMPT)

    async def _send(self, request: RunTaskRequest, result: TaskResult, job: str,
                    retry: RetryPolicy | None = None) -> callback.Delivery:
        assert request.callback_url is not None  # checked before the job was accepted
        return await callback.send(self.session, request.callback_url, request.access_token, result,
                                   allowed=self.config.allowed_origins, retry=retry or self.config.retry,
                                   timeouts=self.config.timeouts, job=job)

    async def _result(self, request: RunTaskRequest, job: str) -> TaskResult:
        if request.download_url is None:
            return could_not_check("HCP Terraform offered no configuration version to download")
        directory = await asyncio.to_thread(tempfile.mkdtemp, prefix="job-", dir=self.work_root)
        try:
            return await self._download_and_scan(request, Path(directory), job)
        finally:
            await asyncio.to_thread(remove_tree, directory)

    async def _download_and_scan(self, request: RunTaskRequest, directory: Path, job: str) -> TaskResult:
        config = self.config
        archive = directory / "configuration.tar.gz"
        try:
            await download(self.session, request.download_url, request.access_token, archive,  # type: ignore[arg-type]
                           allowed=config.allowed_origins, limits=config.limits, timeouts=config.timeouts)
        except FetchError as exc:
            log.warning("%s: %s", job, exc)
            return could_not_check(str(exc))
        try:
            outcome = await asyncio.wait_for(
                self.pool.run(self.scan_function, str(archive), str(directory / "src"), request.working_directory,
                              config.scan_options, config.limits), config.timeouts.scan)
        except TimeoutError:
            log.error("%s: the scan took longer than %.0f s", job, config.timeouts.scan)
            return could_not_check(f"the scan took longer than {config.timeouts.scan:.0f} s")
        except Exception:
            log.exception("%s: the scan failed", job)
            return INTERNAL_ERROR
        return self._verdict(outcome, request, job)

    def _verdict(self, outcome: ScanOutcome, request: RunTaskRequest, job: str) -> TaskResult:
        notes = [f"not unpacked: {count} {what}" for what, count in sorted(outcome.skipped.items())]
        if outcome.refused:
            log.warning("%s: configuration refused: %s", job, outcome.refused)
            return could_not_check(outcome.refused)
        if outcome.files_scanned == 0:
            notes.append("no Terraform file in the working directory")
        result = scan_result(outcome.findings, outcome.files_scanned, self.config.fail_on,
                             with_outcomes=request.outcomes, notes=notes)
        if not outcome.internal_errors:
            return result
        for error in outcome.internal_errors:
            log.error("%s: internal error: %s", job, error)
        return TaskResult("failed", f"iac-ims: internal error in {len(outcome.internal_errors)} checks (details are "
                                    f"in the iac-ims server's log); {result.message}", result.outcomes)


def remove_tree(directory: str) -> None:
    def report(_function: Any, path: str, exc: Any) -> None:
        log.error("cannot remove %s: %s", path, exc)

    # the same three arguments either way; Python 3.12 renamed the keyword
    shutil.rmtree(directory, **({"onexc": report} if sys.version_info >= (3, 12) else {"onerror": report}))
