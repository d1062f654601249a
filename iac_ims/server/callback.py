"""Reporting to HCP Terraform: `PATCH task_result_callback_url` with the run's token, retried.

The API answers 200 when it takes the result, 401 for a bad token and 422 for a body it refuses
(https://developer.hashicorp.com/terraform/cloud-docs/api-docs/tasks/run-tasks-integration).
A connection error, a timeout, 429 or a 5xx is retried with exponential backoff, since nothing
else would tell HCP Terraform the result; any other answer is final, retrying cannot change it.
Giving up is logged as an error: the run then waits for HCP Terraform's own timeout, and the
log is the only place that says why.
"""

from __future__ import annotations

import asyncio
import json
import logging
from enum import Enum

import aiohttp
from yarl import URL

from iac_ims.server.config import RetryPolicy, Timeouts
from iac_ims.server.fetch import request_timeout
from iac_ims.server.origins import Origin, is_allowed
from iac_ims.server.outcomes import TaskResult

log = logging.getLogger("iac_ims.server")

JSON_API = "application/vnd.api+json"


class Delivery(Enum):
    DELIVERED = "delivered"
    REJECTED = "rejected"  # HCP Terraform refused it for good (401, 404, 422...)
    UNDELIVERED = "undelivered"  # every attempt failed


def encode(result: TaskResult) -> bytes:
    return json.dumps(result.body(), ensure_ascii=False).encode("utf-8")


async def send(session: aiohttp.ClientSession, url: URL, token: str, result: TaskResult, *,
               allowed: tuple[Origin, ...], retry: RetryPolicy, timeouts: Timeouts, job: str) -> Delivery:
    if not is_allowed(url, allowed):  # checked when the request came in: this is the last guard
        log.error("%s: callback URL not on an allowed origin; %s result not sent", job, result.status)
        return Delivery.REJECTED
    data = encode(result)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": JSON_API}
    for attempt in range(1, retry.attempts + 1):
        why = await _attempt(session, url, data, headers, timeouts)
        if why is None:
            return Delivery.DELIVERED
        if isinstance(why, int) and why != 429 and why < 500:
            log.error("%s: HCP Terraform refused the %s result: HTTP %s", job, result.status, why)
            return Delivery.REJECTED
        log.warning("%s: %s callback attempt %d of %d failed (%s)", job, result.status, attempt, retry.attempts,
                    f"HTTP {why}" if isinstance(why, int) else why)
        if attempt < retry.attempts:
            await asyncio.sleep(retry.delay(attempt))
    log.error("%s: gave up sending the %s result after %d attempts; the run waits for HCP Terraform's timeout",
              job, result.status, retry.attempts)
    return Delivery.UNDELIVERED


async def _attempt(session: aiohttp.ClientSession, url: URL, data: bytes, headers: dict[str, str],
                   timeouts: Timeouts) -> int | str | None:
    """None when delivered, else the HTTP status or the kind of error."""
    try:
        # redirects are not followed: the token would go with them
        async with session.patch(url, data=data, headers=headers, allow_redirects=False,
                                 timeout=request_timeout(timeouts, timeouts.callback)) as response:
            return None if 200 <= response.status < 300 else response.status
    except TimeoutError:
        return "timed out"
    except aiohttp.ClientError as exc:
        return type(exc).__name__
