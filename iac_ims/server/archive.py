"""Unpacking a configuration archive (.tar.gz) someone else wrote, safely.

Only regular files and directories are written, only inside the destination, never executable
and never with the archive's owners or modes. An entry with `..` or an absolute path makes the
whole archive refused (no packer HCP Terraform uses writes one); links, devices, FIFOs and sparse
files are skipped and counted, as is a file over the size limit that Terraform does not read.
Sizes are counted on the bytes actually decompressed and written, not on the tar headers: the
gzip stream is decompressed against a byte budget and a ratio limit, so a bomb stops early.
Nothing from the archive is ever executed.
"""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from iac_ims.findings import printable
from iac_ims.server.config import ArchiveLimits

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 64 * 1024
MAX_NAME_CHARS = 1024
MAX_COMPONENT_BYTES = 255
MAX_DEPTH = 64
# files Terraform (and so the scanner) reads as configuration: one of them over the size limit
# cannot be left out quietly, the scan would pass on what it never saw
TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")


class ArchiveError(Exception):
    """Why the archive is refused, in words fit for the run's page."""


@dataclass
class Extracted:
    files: int = 0
    bytes: int = 0
    entries: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # what was left out -> how many

    def skip(self, what: str) -> None:
        self.skipped[what] = self.skipped.get(what, 0) + 1


class _BudgetedStream:
    """The decompressed tar stream, refusing to go past the byte budget or the ratio limit."""

    def __init__(self, raw: IO[bytes], limits: ArchiveLimits) -> None:
        self._raw = raw
        self._gzip = gzip.GzipFile(fileobj=raw, mode="rb")
        self._limits = limits
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        # the tar reader asks for blocks; an unbounded read is bounded here all the same
        data = self._gzip.read(CHUNK if size is None or size < 0 else min(size, CHUNK))
        self.read_bytes += len(data)
        limits = self._limits
        if self.read_bytes > limits.total_bytes:
            raise ArchiveError(f"the configuration is larger than the limit of {limits.total_bytes} bytes "
                               "uncompressed")
        if self.read_bytes > limits.ratio_grace_bytes and self.read_bytes > limits.ratio * max(1, self._raw.tell()):
            raise ArchiveError(f"the configuration archive decompresses more than {limits.ratio} times its size "
                               "(a compression bomb?)")
        return data


def extract(archive: Path, dest: Path, limits: ArchiveLimits) -> Extracted:
    """Unpack `archive` into the existing empty directory `dest`."""
    result = Extracted()
    with open(archive, "rb") as raw:
        if raw.read(2) != GZIP_MAGIC:
            raise ArchiveError("the configuration is not a gzip-compressed tar archive")
        raw.seek(0)
        stream = _BudgetedStream(raw, limits)
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    result.entries += 1
                    if result.entries > limits.entries:
                        raise ArchiveError(f"the configuration has more than {limits.entries} files and directories")
                    _extract_member(tar, member, dest, limits, result)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile):
            raise ArchiveError("the configuration is not a valid .tar.gz archive") from None
    return result


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, limits: ArchiveLimits,
                    result: Extracted) -> None:
    parts = safe_parts(member.name)
    if not parts:
        return  # the archive's own root ("." or "./")
    if member.isdir():
        _make_dirs(dest, parts)
    elif member.issym() or member.islnk():
        result.skip("links")
    elif not member.isreg() or member.issparse():
        result.skip("devices, FIFOs and sparse files")
    elif member.size > limits.file_bytes:
        if member.name.endswith(TERRAFORM_SUFFIXES):
            raise ArchiveError(f"{shown(member.name)} is larger than the limit of {limits.file_bytes} bytes")
        result.skip(f"files over {limits.file_bytes} bytes")
    else:
        _make_dirs(dest, parts[:-1])
        result.bytes += _write_file(tar, member, dest.joinpath(*parts), limits, result.bytes)
        result.files += 1


def safe_parts(name: str) -> list[str]:
    """The path components of an entry name, refusing any that would leave the destination."""
    if "\x00" in name or len(name) > MAX_NAME_CHARS:
        raise ArchiveError("the configuration archive has an entry with an invalid name")
    if name.startswith("/"):
        raise ArchiveError(f"the configuration archive has an entry with an absolute path ({shown(name)})")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"the configuration archive has an entry that leaves its directory ({shown(name)})")
    if len(parts) > MAX_DEPTH or any(len(p.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES for p in parts):
        raise ArchiveError("the configuration archive has an entry with an invalid name")
    return parts


def shown(name: str) -> str:
    return printable(name if len(name) <= 120 else name[:117] + "...")


def _make_dirs(dest: Path, parts: list[str]) -> None:
    """Each directory of `parts` under `dest`: created, or already a real directory (never a
    link: none is ever created, and this checks rather than assumes)."""
    current = dest
    for part in parts:
        current = current / part
        try:
            os.mkdir(current, 0o700)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                raise ArchiveError(f"the configuration archive has a file and a directory both named "
                                   f"{shown(part)}") from None


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, limits: ArchiveLimits,
                written_before: int) -> int:
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has data
    try:
        # O_NOFOLLOW: a name already taken by a link is refused rather than followed; 0600: the
        # archive's modes (setuid, executable) are never kept
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except IsADirectoryError:
        raise ArchiveError(f"the configuration archive has a file and a directory both named "
                           f"{shown(member.name)}") from None
    size = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limits.file_bytes or written_before + size > limits.total_bytes:
                raise ArchiveError(f"the configuration is larger than the limits ({limits.file_bytes} bytes a file, "
                                   f"{limits.total_bytes} in all)")
            out.write(chunk)
    return size
