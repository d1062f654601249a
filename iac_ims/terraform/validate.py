"""Syntax checks of the files nothing depends on, in worker processes while the main process
reads what matters.  Workers only answer "which IMS900, if any" per file: nothing else crosses
the process boundary, and the answers are used in the main process's own order, so the report
is the same whatever the number of jobs."""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

from iac_ims.terraform.parse import read_source, syntax_error
from iac_ims.terraform.values import Diagnostic

CHUNK = 32  # files per task: enough to amortise a task's cost, small enough to spread the load


def _check(paths: Sequence[tuple[str, str]], must_parse: Callable[[str], bool] | None
           ) -> list[tuple[str, Diagnostic | None, bool]]:
    """(path, its IMS900 or None, whether it is a file the main process parses anyway)."""
    results = []
    for path, rel in paths:
        text, error = read_source(Path(path), rel)
        if text is None:
            results.append((path, error, True))
        elif must_parse is not None and must_parse(text):
            results.append((path, None, True))
        else:
            results.append((path, syntax_error(rel, text), False))
    return results


class BackgroundValidation:
    """Starts checking files in `jobs - 1` worker processes; `result(path)` waits for one."""

    def __init__(self, files: Sequence[tuple[Path, str]], jobs: int, must_parse: Callable[[str], bool] | None):
        self._results: dict[str, Diagnostic | None] = {}
        self._futures: list[tuple[Future, list[tuple[str, str]]]] = []
        self._pool: ProcessPoolExecutor | None = None
        self._must_parse = must_parse
        workers = min(jobs - 1, max(1, len(files) // CHUNK))
        if workers < 1 or not files:
            return
        try:
            import multiprocessing

            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
            items = [(str(p), rel) for p, rel in files]
            for start in range(0, len(items), CHUNK):
                chunk = items[start:start + CHUNK]
                self._futures.append((self._pool.submit(_check, chunk, must_parse), chunk))
        except (OSError, ValueError, ImportError):  # no processes here: the main process checks
            self.close()

    def results(self) -> dict[str, Diagnostic | None]:
        """Every answer: the workers', and the main process's own for the chunks no worker had
        started when it asked (it has nothing else to do then).  A failed chunk is not in it."""
        answers: list[list[tuple[str, Diagnostic | None, bool]]] = []
        for future, chunk in reversed(self._futures):  # the last chunks are the least likely started
            if future.cancel():
                answers.append(_check(chunk, self._must_parse))
        for future, _chunk in self._futures:
            if future.cancelled():
                continue
            try:
                answers.append(future.result())
            except Exception:  # noqa: BLE001 - a broken worker: the main process checks those files
                continue
        for answer in answers:
            for path, diagnostic, _parsed_anyway in answer:
                self._results[path] = diagnostic
        self._futures = []
        self.close()
        return self._results

    def close(self) -> None:
        """Stop the workers and wait for them to exit.  Not waiting is not an option: the CLI
        ends with os._exit, and a worker that had not yet been told to stop would wait for work
        forever, holding the caller's stdout open."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
