"""What a scan process does for one job: unpack the archive, scan the working directory.

It runs in a process of its own (see jobs.ScanPool): the scan is CPU-bound and switches the
garbage collector off while it runs, which must not stall or bloat the server's event loop, and
a process that dies takes only its own job with it. Arguments and results cross the process
boundary by pickling, so both are plain values.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iac_ims.server.archive import ArchiveError, extract, shown
from iac_ims.server.config import ArchiveLimits


@dataclass
class ScanOutcome:
    refused: str | None = None  # why the configuration was not scanned (fit for the run's page)
    findings: list[Any] = field(default_factory=list)  # iac_ims.findings.Finding
    files_scanned: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # archive entries left out -> how many
    internal_errors: list[str] = field(default_factory=list)  # for the server's log only


def warm_up(catalog_files: list[str]) -> None:
    """Set up a scan process: load the scanner and the catalogue once, not in the first job.
    SIGINT and SIGTERM are the server's to handle: sent to the whole process group (Ctrl-C in a
    terminal, some service managers), they must not kill the scans the draining server waits for;
    the server ends these processes itself once drained."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from iac_ims.catalog import load_catalog

    load_catalog(tuple(catalog_files))


def scan_archive(archive: str, dest: str, working_directory: str, options: Any, limits: ArchiveLimits) -> ScanOutcome:
    """Unpack `archive` into `dest` (created afresh) and scan `working_directory` in it."""
    root = Path(dest)
    if root.exists():  # a retry after a scan process died half-way
        shutil.rmtree(root)
    root.mkdir(mode=0o700)
    try:
        extracted = extract(Path(archive), root, limits)
    except ArchiveError as exc:
        return ScanOutcome(refused=str(exc))
    target = root.joinpath(*working_directory.split("/")) if working_directory else root
    if not _is_real_directory(target):
        return ScanOutcome(refused=f"the workspace's working directory {shown(working_directory)!r} is not in the "
                                   "configuration", skipped=extracted.skipped)
    from iac_ims.pipeline import scan

    # file names are reported relative to the configuration's root, as the repository has them
    report = scan([target], dataclasses.replace(options, relative_to=root, jobs=1, use_cache=False, progress=None,
                                                  confine_to=root))
    return ScanOutcome(findings=[_without_paths(f, root) for f in report.findings], files_scanned=report.files_scanned,
                       skipped=extracted.skipped, internal_errors=[e.describe() for e in report.internal_errors])


def _is_real_directory(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _without_paths(finding: Any, root: Path) -> Any:
    """The finding with the job directory's path taken out of its text: the run's page must not
    show where the server keeps its files."""
    spellings = sorted({str(root), os.path.realpath(root)}, key=len, reverse=True)

    def scrub(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        for spelling in spellings:
            text = text.replace(f"{spelling}{os.sep}", "").replace(spelling, ".")
        return text

    return dataclasses.replace(finding, message=scrub(finding.message), fix=scrub(finding.fix),
                               file=scrub(finding.file), evidence=[scrub(e) for e in finding.evidence],
                               related=[{**r, "file": scrub(r.get("file")), "message": scrub(r.get("message"))}
                                        for r in finding.related])
