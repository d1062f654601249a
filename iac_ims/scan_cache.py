"""A warm rescan with nothing changed returns the stored report instead of scanning again.

An entry is keyed by everything a report depends on besides file contents (tool version,
catalogue files, options, today's date for suppression expiry, the scanned paths), and holds
the content hash of every file the scan read (Terraform files, variable files, `file()` targets)
and the listing of module directories.  It is used only when all of those are unchanged, so it
can never change a result; it is written atomically, so concurrent runs are safe; and a cache
that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterable, Sequence

from iac_ims import __version__
from iac_ims.cache import cache_dir, content_digest, write_json_atomically

FORMAT = 1
MAX_ENTRIES = 64


MAX_HASHED_BYTES = 64 * 1024 * 1024


def _digest_file(path: Path) -> str | None:
    """Content hash of a regular file (size and mtime beyond the limit); None for anything else
    (a pipe or device is never read: the scan reported it without reading it either)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > MAX_HASHED_BYTES:
            return f"large:{info.st_size}:{info.st_mtime_ns}"
        with open(path, "rb") as handle:
            return content_digest(handle.read(MAX_HASHED_BYTES))
    except OSError:
        return None


def _listing(paths: Sequence[Path]) -> list[list[str]]:
    """The module directories and their Terraform files: a new or removed file changes it."""
    from iac_ims.terraform.discover import tfvars_files, walk_module_dirs

    listing: list[list[str]] = []
    for path in paths:
        if path.is_file():
            listing.append([str(path)])
            continue
        for module_dir in walk_module_dirs(path):
            names = [p.name for p in module_dir.files] + [p.name for p in tfvars_files(module_dir.path)]
            listing.append([str(module_dir.path), *names])
    return listing


def entry_key(paths: Sequence[Path], options: Any, catalog_sources: Iterable[str], today: str) -> str:
    settings = {f.name: getattr(options, f.name) for f in fields(options)
                if f.name not in ("progress", "use_cache", "today", "jobs")}
    extra = {p: _digest_file(Path(p)) for p in [*options.var_files, *options.catalog_files,
                                                  *([options.baseline] if options.baseline else [])]}
    catalog = {p: _digest_file(Path(p)) for p in catalog_sources}
    # findings name files relative to the working directory: a scan from elsewhere is another entry
    from iac_ims.pipeline import report_base

    base = str(report_base(options))
    material = json.dumps({"format": FORMAT, "version": __version__, "code": _code_stamp(), "base": base,
                           "paths": [str(p) for p in paths], "settings": settings, "extra": extra,
                           "catalog": catalog, "today": today}, sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def _code_stamp() -> list[tuple[str, int, int]]:
    """The tool's own files (name, size, mtime): a changed checkout invalidates every entry."""
    package = Path(__file__).parent
    stamp = []
    for path in sorted(package.rglob("*.py")):
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.append((str(path.relative_to(package)), info.st_size, info.st_mtime_ns))
    return stamp


def _entry_path(key: str) -> Path | None:
    base = cache_dir()
    return base / "scans" / f"{key}.json" if base else None


def load(key: str, paths: Sequence[Path]) -> dict[str, Any] | None:
    path = _entry_path(key)
    if path is None:
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if entry.get("format") != FORMAT or entry.get("listing") != _listing(paths):
        return None
    from iac_ims.terraform.discover import module_files

    for directory, names in entry.get("module_dirs", {}).items():
        if [p.name for p in module_files(Path(directory))] != names:
            return None
    for file, digest in entry.get("files", {}).items():
        if _digest_file(Path(file)) != digest:
            return None
    return entry.get("report")


def store(key: str, paths: Sequence[Path], files_read: Iterable[Path], module_dirs: Iterable[Path],
          report: dict[str, Any], digests: dict[Path, str] | None = None) -> None:
    """`digests`: content hashes the scan took of the bytes it read (the others are hashed now)."""
    from iac_ims.terraform.discover import module_files

    path = _entry_path(key)
    if path is None:
        return
    known = digests or {}
    files = {str(p): known[p] if p in known else _digest_file(p) for p in sorted(set(files_read))}
    directories = {str(d): [p.name for p in module_files(d)] for d in sorted(set(module_dirs))}
    entry = {"format": FORMAT, "listing": _listing(paths), "module_dirs": directories, "files": files,
             "report": report}
    try:
        write_json_atomically(path, entry)
        _prune(path.parent)
    except OSError:
        pass


def _prune(directory: Path) -> None:
    try:
        entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def path_list(paths: Sequence[str | Path]) -> list[Path]:
    return [Path(os.path.realpath(p)) for p in paths]
