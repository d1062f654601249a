"""Downloading the run's configuration version: origin checks, redirects, size and time limits.

`GET configuration_version_download_url` with the run's bearer token answers with a redirect to
a short-lived blob-storage URL holding the .tar.gz
(https://developer.hashicorp.com/terraform/cloud-docs/api-docs/configuration-versions#download-configuration-files).
Redirects are followed here, hop by hop, rather than by the client: the token goes to the first
URL only (an allowed origin), each later hop must be https or an allowed origin, and there are
at most `MAX_HOPS` of them. Blob URLs carry their own secret: they are never logged or shown.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from iac_ims.server.config import ArchiveLimits, Timeouts
from iac_ims.server.origins import Origin, is_allowed, parse_url

log = logging.getLogger("iac_ims.server")

REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 5
CHUNK = 64 * 1024


class FetchError(Exception):
    """Why the configuration could not be had, in words fit for the run's page (no URL)."""


def request_timeout(timeouts: Timeouts, whole: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=whole, sock_connect=timeouts.connect, sock_read=timeouts.read)


async def download(session: aiohttp.ClientSession, url: URL, token: str, dest: Path, *,
                   allowed: tuple[Origin, ...], limits: ArchiveLimits, timeouts: Timeouts) -> int:
    """Save the archive at `url` to `dest` (which must not exist); its size in bytes."""
    if not is_allowed(url, allowed):
        raise FetchError("the configuration download URL is not on an allowed origin (see --allowed-origin)")
    try:
        async with asyncio.timeout(timeouts.download):
            return await _follow(session, url, token, dest, allowed, limits, timeouts)
    except TimeoutError:
        raise FetchError("the configuration download timed out") from None
    except aiohttp.ClientError as exc:
        log.warning("configuration download failed: %s", type(exc).__name__)
        raise FetchError("the configuration download failed (connection error)") from None


async def _follow(session: aiohttp.ClientSession, url: URL, token: str, dest: Path, allowed: tuple[Origin, ...],
                  limits: ArchiveLimits, timeouts: Timeouts) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    current = url
    for _hop in range(MAX_HOPS + 1):
        async with session.get(current, headers=headers, allow_redirects=False,
                               timeout=request_timeout(timeouts, timeouts.download)) as response:
            if response.status in REDIRECTS:
                current = next_hop(current, response.headers.get("Location"), allowed)
                headers = {}  # the token is for HCP Terraform's API, never for where it redirects
                continue
            if response.status != 200:
                raise FetchError(f"the configuration download answered HTTP {response.status}")
            return await _save(response, dest, limits.archive_bytes)
    raise FetchError(f"the configuration download redirected more than {MAX_HOPS} times")


def next_hop(current: URL, location: str | None, allowed: tuple[Origin, ...]) -> URL:
    """Where a redirect goes: an https URL, or an allowed origin (which may be plain http)."""
    if not location:
        raise FetchError("the configuration download redirected nowhere")
    try:
        target = parse_url(str(current.join(URL(location))))
    except ValueError:
        raise FetchError("the configuration download redirected to an invalid URL") from None
    if target.scheme != "https" and not is_allowed(target, allowed):
        raise FetchError("the configuration download redirected to a URL that is neither https nor on an "
                         "allowed origin")
    return target


async def _save(response: Any, dest: Path, budget: int) -> int:
    declared = response.content_length
    if declared is not None and declared > budget:
        raise FetchError(f"the configuration archive is larger than the limit of {budget} bytes")
    size = 0
    # written from the event loop: chunks of at most 64 KiB to a local file cost less than a
    # thread hop each would
    with open(dest, "xb") as out:
        async for chunk in response.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > budget:  # a missing or false Content-Length is not trusted
                raise FetchError(f"the configuration archive is larger than the limit of {budget} bytes")
            out.write(chunk)
    return size
