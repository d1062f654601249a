"""The run-task server under load and on shutdown, against the fake HCP Terraform of test_serve.py.

- 200 concurrent run requests to one server whose queue holds fewer: the ones turned away (503)
  are sent again, as HCP Terraform does, and every run ends with exactly one final callback with
  its own result, after its `running`.
- SIGTERM to `iac-ims serve` (a subprocess, the real command line) while a job is downloading:
  it stops listening, finishes the job, reports it and exits 0, leaving no job directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import HANG_GUARD_S

pytest.importorskip("aiohttp")

import aiohttp  # noqa: E402
from test_serve import BAD_TF, GOOD_TF, KEY, TEST_CERT, Loopback, tar_gz  # noqa: E402

from iac_ims.server.signature import HEADER, sign  # noqa: E402

RUNS = 200
QUEUE = 40  # smaller than the burst: some requests must be turned away and sent again


@pytest.fixture
def busy(tmp_path: Path):
    harness = Loopback(tmp_path, config={"queue_size": QUEUE, "concurrency": 4})
    yield harness
    harness.close()


async def post_until_accepted(harness: Loopback, body: bytes, turned_away: list[int]) -> None:
    """As HCP Terraform does: a request not answered 200 is sent again, after a pause."""
    while True:
        status = await harness.post_async(body, sign(KEY, body))
        if status == 200:
            return
        assert status == 503, status
        turned_away.append(status)
        await asyncio.sleep(0.05)


def test_200_concurrent_runs_each_get_exactly_one_final_callback_with_their_result(busy: Loopback) -> None:
    busy.fakes.archives["bad"] = tar_gz([("main.tf", BAD_TF)])
    busy.fakes.archives["good"] = tar_gz([("main.tf", GOOD_TF)])
    expected = {f"load-{n}": ("failed" if n % 3 == 0 else "passed") for n in range(RUNS)}
    turned_away: list[int] = []

    async def burst() -> None:
        bodies = [json.dumps(busy.payload(task, "bad" if status == "failed" else "good")).encode()
                  for task, status in expected.items()]
        await asyncio.gather(*(post_until_accepted(busy, body, turned_away) for body in bodies))
        await asyncio.gather(*(busy.fakes.finals[task].wait() for task in expected))

    busy.call(burst())
    assert turned_away, "the queue never filled: the test did not exercise the 503 path"
    busy.call(busy.server.stop())  # drains: anything still to come would arrive now
    busy.server = None
    for task, status in expected.items():
        callbacks = busy.fakes.callbacks[task]
        finals = [c for c in callbacks if c.status in ("passed", "failed")]
        assert [c.status for c in finals] == [status], (task, callbacks)
        assert callbacks[0].status == "running" and callbacks[-1] is finals[0]
    assert not list(busy.work.iterdir()), "a job or work directory outlived the server"
    assert not busy.fakes.evil_requests


def test_sigterm_drains_the_job_in_flight(tmp_path: Path) -> None:
    harness = Loopback(tmp_path, server=False)
    key_file = tmp_path / "hmac.key"
    key_file.write_bytes(KEY + b"\n")
    (tmp_path / "ca.pem").write_text(TEST_CERT)
    env = {**os.environ, "SSL_CERT_FILE": str(tmp_path / "ca.pem"), "PYTHONUNBUFFERED": "1"}
    env.pop("IAC_IMS_HMAC_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "iac_ims", "serve", "--listen", "127.0.0.1:0", "--hmac-key-file", str(key_file),
         "--allowed-origin", harness.hcp_url, "--work-dir", str(harness.work), "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        announced = read_line(process)
        assert announced.startswith("iac-ims serve: listening on http://127.0.0.1:"), announced
        harness.url = announced.split("listening on ")[1].split(";")[0]
        harness.fakes.archives["slow"] = tar_gz([("main.tf", BAD_TF)])
        harness.fakes.hanging.add("slow")  # its download waits for fakes.release
        assert harness.post(harness.payload("slow", "slow")) == 200
        harness.call(harness.fakes.downloading["slow"].wait())
        process.send_signal(signal.SIGTERM)
        harness.fakes.archives["late"] = tar_gz([("main.tf", GOOD_TF)])
        late = harness.call(refused_from_now_on(harness))
        harness.call(release(harness))
        final = [c for c in harness.finished("slow") if c.status in ("passed", "failed")]
        assert [c.status for c in final] == ["failed"]
        assert final[0].body["data"]["attributes"]["message"].startswith("iac-ims: 1 error"), final[0].body
        if late:  # got in before the socket closed: drained like the rest
            assert [c.status for c in harness.finished("late") if c.status in ("passed", "failed")] == ["passed"]
        assert process.wait(HANG_GUARD_S) == 0, process.stderr.read()
        log = process.stderr.read()
        assert "finishing 1 accepted jobs" in log and "stopped" in log, log
        assert not list(harness.work.iterdir()), "a work directory outlived the server"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(HANG_GUARD_S)
        harness.close()


def read_line(process: subprocess.Popen) -> str:
    """The first line the server prints, with the hang guard (a thread, as pipes cannot time out)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(HANG_GUARD_S)
    assert lines and lines[0], f"iac-ims serve printed nothing: {process.poll()=}"
    return lines[0].strip()


async def refused_from_now_on(harness: Loopback) -> bool:
    """Once stopping, the server takes no new request: the socket closes (or, on a connection
    already open, it answers 503). Whether a request got in before that (then it is drained too)."""
    body = json.dumps(harness.payload("late", "late")).encode()
    accepted = False
    while True:
        try:
            # a new connection each time, as a new request from HCP Terraform would be (aiohttp
            # lets a request on a connection kept open across the shutdown wait for its end)
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
                async with session.post(f"{harness.url}/", data=body, headers={HEADER: sign(KEY, body)}) as response:
                    status = response.status
        except aiohttp.ClientConnectionError:
            return accepted
        if status == 503:
            return accepted
        accepted = accepted or status == 200
        await asyncio.sleep(0.05)


async def release(harness: Loopback) -> None:
    harness.fakes.release.set()
