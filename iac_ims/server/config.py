"""What one `iac-ims serve` process is set to: where it listens, whom it trusts, its limits.

Everything here is decided at start-up and never changes while it runs; nothing a request
carries can change it. A setting that cannot work is a `SetupError` (the CLI exits 2 with it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from iac_ims.server.origins import Origin, parse_origin

DEFAULT_ORIGIN = "https://app.terraform.io"
MiB = 1024 * 1024


class SetupError(Exception):
    """A setting the server cannot start with: one line for the operator."""


@dataclass(frozen=True)
class ArchiveLimits:
    """What one configuration archive may hold. Counted on the bytes actually read and
    written, never taken from the tar headers (which the archive's author writes)."""

    archive_bytes: int = 64 * MiB  # the .tar.gz as downloaded
    total_bytes: int = 256 * MiB  # everything decompressed (tar headers included)
    file_bytes: int = 16 * MiB  # one extracted file
    entries: int = 20_000  # files, directories and skipped entries together
    # a gzip bomb is told apart from a compressible repository by its ratio; small archives
    # are let through whatever their ratio (a few repeated lines compress 100x)
    ratio: int = 200
    ratio_grace_bytes: int = 8 * MiB


@dataclass(frozen=True)
class Timeouts:
    """Seconds. Every network call has one: a peer that hangs must not hold a job forever."""

    connect: float = 10.0
    read: float = 30.0  # between two reads of a response
    # the run task token lives 10 minutes (download, scan and callbacks must fit in them)
    download: float = 120.0  # the whole download, redirects included
    callback: float = 30.0  # one PATCH attempt
    scan: float = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    """The callback PATCH: attempts with exponential backoff (first_delay, x factor, capped)."""

    attempts: int = 5
    first_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return min(self.max_delay, self.first_delay * self.factor ** (attempt - 1))


def available_cores() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    hmac_key: bytes | None = None  # None only when started with --insecure-no-hmac
    allowed_origins: tuple[Origin, ...] = ()
    # pipeline.ScanOptions for every scan: the server's settings, never the archive's
    scan_options: Any = field(default_factory=lambda: _default_scan_options())
    fail_on: str = "error"
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    workers: int = field(default_factory=available_cores)  # scan processes
    concurrency: int = 0  # jobs in progress at once (downloads overlap scans); 0: twice the workers
    queue_size: int = 64  # accepted jobs waiting for a free slot; beyond it requests get 503
    drain_timeout: float = 540.0  # SIGTERM: how long in-flight and queued jobs may take to finish
    work_dir: str | None = None  # where job directories go (default: the system's temporary directory)
    tls: Any = None  # ssl.SSLContext for the listening socket, or None (TLS ends at a proxy)
    client_ssl: Any = None  # ssl.SSLContext for outgoing requests; None: the system's trust store

    def jobs_at_once(self) -> int:
        return self.concurrency or 2 * self.workers


def _default_scan_options() -> Any:
    from iac_ims.pipeline import ScanOptions

    return ScanOptions()


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT`; port 0 picks a free port (printed at start-up)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise SetupError(f"--listen {text!r}: expected HOST:PORT, e.g. 0.0.0.0:8080 or [::]:8080")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def parse_origins(texts: tuple[str, ...] | list[str]) -> tuple[Origin, ...]:
    origins = []
    for text in texts or (DEFAULT_ORIGIN,):
        try:
            origins.append(parse_origin(text))
        except ValueError as exc:
            raise SetupError(f"--allowed-origin {text!r}: {exc}") from None
    return tuple(origins)


def load_tls(cert_file: str | None, key_file: str | None) -> Any:
    """The listening socket's TLS context, when a certificate is given (both files or neither)."""
    if not cert_file and not key_file:
        return None
    if not (cert_file and key_file):
        raise SetupError("--tls-cert and --tls-key go together")
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise SetupError(f"cannot load the TLS certificate {cert_file} / key {key_file}: {exc}") from None
    return context
