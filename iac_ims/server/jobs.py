"""How much work the server takes on: a bounded queue, a fixed number of jobs at once, a fixed
number of scan processes, and draining on shutdown.

A run task request is answered 200 only once its job is in the queue; when the queue is full
(or the server is stopping) the answer is 503 and HCP Terraform sends the request again later,
to this replica or another, so nothing accepted is lost and nothing is accepted that cannot be
done. The queue lives in memory only: the server keeps no state between requests, and a
replica that stops first finishes (drains) what it accepted.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from enum import Enum
from typing import Any

from iac_ims.server.payload import RunTaskRequest

log = logging.getLogger("iac_ims.server")

# task result IDs already taken, so that HCP Terraform's retry of a request this server did
# accept (its 200 lost on the way) does not start the run's job twice
REMEMBERED_IDS = 4096


class Offer(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # the same task result is already queued, running or done here
    FULL = "full"
    STOPPING = "stopping"


class ScanPool:
    """Scan processes, started on first use. Spawned, not forked: the server process has an
    event loop and threads, which a fork would copy in whatever state they are in."""

    def __init__(self, workers: int, initializer: Callable[..., None] | None = None, initargs: tuple = (),
                 executor: Any = None) -> None:
        self._workers = workers
        self._initializer = initializer
        self._initargs = initargs
        self._executor = executor  # given: used as it is (tests use a thread pool)
        self._own = executor is None

    def _current(self) -> Any:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=self._workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=self._initializer, initargs=self._initargs)
        return self._executor

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a scan process. When a process dies (killed for its memory, say)
        every job it shared the pool with fails with it: those are run once more on a new pool."""
        loop = asyncio.get_running_loop()
        executor = self._current()
        try:
            return await loop.run_in_executor(executor, function, *args)
        except BrokenProcessPool:
            log.warning("a scan process died; starting new ones and running the job again")
            self._replace(executor)
            return await loop.run_in_executor(self._current(), function, *args)

    def _replace(self, broken: Any) -> None:
        if self._executor is broken and self._own:
            self._executor = None
            broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._executor is not None and self._own:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None


class JobQueue:
    def __init__(self, handle: Callable[[RunTaskRequest], Awaitable[None]],
                 abandon: Callable[[RunTaskRequest], Awaitable[None]], concurrency: int, queue_size: int) -> None:
        self._handle = handle
        self._abandon = abandon  # tells HCP Terraform a job will not be done (shutdown ran out of time)
        self._queue: asyncio.Queue[RunTaskRequest] = asyncio.Queue(maxsize=queue_size)
        self._concurrency = concurrency
        self._runners: list[asyncio.Task[None]] = []
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._stopping = False
        self.active = 0

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self) -> None:
        self._runners = [asyncio.create_task(self._run(), name=f"iac-ims job runner {n}")
                         for n in range(self._concurrency)]

    def offer(self, request: RunTaskRequest) -> Offer:
        if self._stopping:
            return Offer.STOPPING
        if request.task_result_id in self._seen:
            return Offer.DUPLICATE
        try:
            self._queue.put_nowait(request)
        except asyncio.QueueFull:
            return Offer.FULL
        self._seen[request.task_result_id] = None
        while len(self._seen) > REMEMBERED_IDS:
            self._seen.popitem(last=False)
        return Offer.ACCEPTED

    async def _run(self) -> None:
        while True:
            request = await self._queue.get()
            self.active += 1
            try:
                await self._handle(request)
            except asyncio.CancelledError:
                raise
            except Exception:  # the handler reports its own failures; this keeps the runner alive
                log.exception("job runner: unexpected error")
            finally:
                self.active -= 1
                self._queue.task_done()

    async def drain(self, timeout: float) -> None:
        """Take no more jobs and finish those accepted, for at most `timeout` seconds; what is left
        then is cancelled and reported as not done."""
        self._stopping = True
        pending = self.active + self.waiting
        if pending:
            log.info("stopping: finishing %d accepted jobs (at most %.0f s)", pending, timeout)
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.error("stopping: %d jobs not finished in %.0f s; reporting them as not done",
                      self.active + self.waiting, timeout)
        await self._stop_runners()
        while not self._queue.empty():
            await self._abandon(self._queue.get_nowait())

    async def _stop_runners(self) -> None:
        for runner in self._runners:
            runner.cancel()
        await asyncio.gather(*self._runners, return_exceptions=True)
        self._runners = []
