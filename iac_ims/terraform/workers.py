"""Work done in worker processes while the main process loads the tree.

Workers take the files from the far end of the tree, chunk by chunk, while the main process
loads from the near end: a file the IAM layer reads (`must_parse`) is parsed and its blocks are
sent back, which the main process adopts instead of parsing the file itself when it gets there;
any other file only gets its syntax checked (its IMS900, if any).  Answers are used by path, in
the main process's own order, and a parse is the same in any process, so the report is the same
whatever the number of jobs.  Chunks no worker has started when the main process asks for the
answers are not waited for: the main process checks those files itself.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

from iac_ims.terraform.parse import ParsedFile, parse_source, read_source, syntax_error
from iac_ims.terraform.values import Diagnostic

CHUNK = 32  # files per task: enough to amortise a task's cost, small enough to spread the load

# (path, its IMS900 or None, its blocks when it is a file the IAM layer reads)
Answer = tuple[str, "Diagnostic | None", "ParsedFile | None"]


# How far the main process has read, as an index into the list of files: shared memory that
# the workers inherit (fork); a file the main process has read is parsed there, not here.
_main_progress: Any = None


def _work(first: int, paths: Sequence[tuple[str, str]], must_parse: Callable[[str], bool] | None) -> list[Answer]:
    """Answers for the files `paths` (whose index in the list of files starts at `first`)."""
    _register_reducers()
    answers: list[Answer] = []
    for index, (path, rel) in enumerate(paths, start=first):
        text, error = read_source(Path(path), rel)
        if text is None:
            answers.append((path, error, None))
        elif must_parse is not None and must_parse(text):
            if _main_progress is None or _main_progress.value < index:
                parsed = parse_source(Path(path), rel, text)
                answers.append((path, parsed.error, parsed))
        else:
            answers.append((path, syntax_error(rel, text), None))
    return answers


@functools.cache  # once per worker process
def _register_reducers() -> None:
    """The parsed files go back to the main process pickled node by node with fastnodes'
    reductions: about three times faster to write, twice to read, than the dataclass default."""
    from multiprocessing.reduction import ForkingPickler

    from iac_ims.terraform.fastnodes import reducers

    for cls, reduce in reducers().items():
        ForkingPickler.register(cls, reduce)


class BackgroundWorkers:
    """Starts `jobs - 1` worker processes on the files, last chunk first."""

    def __init__(self, files: Sequence[tuple[Path, str]], jobs: int, must_parse: Callable[[str], bool] | None):
        self._results: dict[str, Diagnostic | None] = {}
        self._parsed: dict[str, ParsedFile] = {}
        self._futures: list[Future] = []  # in submission order: the last chunk of files first
        self._collected = 0  # futures before this one have been collected
        self._pool: ProcessPoolExecutor | None = None
        self._index: dict[Path, int] = {}
        workers = min(jobs - 1, max(1, len(files) // CHUNK))
        if workers < 1 or not files:
            return
        try:
            import multiprocessing

            global _main_progress
            context = multiprocessing.get_context("fork")
            _main_progress = context.Value("q", -1, lock=False)  # one aligned word: no lock needed
            self._index = {path: index for index, (path, _rel) in enumerate(files)}
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            items = [(str(p), rel) for p, rel in files]
            starts = range(0, len(items), CHUNK)
            for start in reversed(starts):
                self._futures.append(self._pool.submit(_work, start, items[start:start + CHUNK], must_parse))
        except (OSError, ValueError, ImportError):  # no processes here: the main process does it all
            self.close()

    def reached(self, path: Path) -> None:
        """The main process has read this file (and will parse it if the IAM layer reads it)."""
        index = self._index.get(path)
        if index is not None and _main_progress is not None and index > _main_progress.value:
            _main_progress.value = index

    def parsed(self, path: Path) -> ParsedFile | None:
        """The blocks a worker already sent for this file, if it has (never waits)."""
        while self._collected < len(self._futures) and self._futures[self._collected].done():
            self._collect(self._futures[self._collected])
            self._collected += 1
        return self._parsed.pop(str(path), None)

    def results(self) -> dict[str, Diagnostic | None]:
        """Every syntax answer of the chunks the workers have started (waiting for those); the
        others are cancelled, and their files are simply not in the answer."""
        for future in reversed(self._futures[self._collected:]):  # the last submitted are the least likely started
            future.cancel()
        for future in self._futures[self._collected:]:
            if not future.cancelled():
                self._collect(future)
        self._futures, self._collected = [], 0
        self._parsed.clear()
        self.close()
        return self._results

    def _collect(self, future: Future) -> None:
        try:
            answers = future.result()
        except Exception:  # noqa: BLE001 - a broken worker: the main process checks those files
            return
        for path, diagnostic, parsed in answers:
            self._results[path] = diagnostic
            if parsed is not None:
                self._parsed[path] = parsed

    def close(self) -> None:
        """Stop the workers and wait for them to exit.  Not waiting is not an option: the CLI
        ends with os._exit, and a worker that had not yet been told to stop would wait for work
        forever, holding the caller's stdout open."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
