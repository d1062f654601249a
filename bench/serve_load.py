#!/usr/bin/env python3
"""Load on `iac-ims serve`: N concurrent run task requests, as HCP Terraform would send them.

usage: python bench/serve_load.py [--runs 200] [--config-dir sample_configs] [--workers N] [--max-queue 64]

Starts a fake HCP Terraform on loopback (the configuration download answers 302 to a blob URL
on the same origin, the callback records each PATCH) and `iac-ims serve` as a subprocess with an
HMAC key, then sends --runs signed requests at once, each for its own task result, whose
configuration is --config-dir packed as a .tar.gz. A request answered 503 (queue full) is sent
again after a pause (0.2 s, doubling up to 3.2 s), as HCP Terraform retries. Prints the throughput (runs from the first request
to the last final callback), the time from a run's first request to its final callback (p50,
p95, max), how many requests were turned away, and the server's peak resident memory: the
server process and each scan process (VmHWM from /proc at the end of the load), and the sum
over all of them sampled every 20 ms. Wall-clock on a shared machine: compare runs made side by
side.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

from aiohttp import ClientSession, TCPConnector, web

REPO = Path(__file__).resolve().parents[1]
KEY = b"bench-hmac-key"
TOKEN = "bench-run-task-token"


def pack(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(directory)))
    return buffer.getvalue()


class FakeHcp:
    def __init__(self, archive: bytes) -> None:
        self.archive = archive
        self.finals: dict[str, float] = {}
        self.done = asyncio.Event()
        self.expected = 0

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/api/v2/configuration-versions/{cv}/download", self.download)
        application.router.add_get("/blob/{cv}", self.blob)
        application.router.add_patch("/api/v2/task-results/{task}/callback", self.callback)
        return application

    async def download(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401)
        raise web.HTTPFound(f"/blob/{request.match_info['cv']}")

    async def blob(self, request: web.Request) -> web.Response:
        return web.Response(body=self.archive)

    async def callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body["data"]["attributes"]["status"] in ("passed", "failed"):
            self.finals.setdefault(request.match_info["task"], time.monotonic())
            if len(self.finals) >= self.expected:
                self.done.set()
        return web.Response(status=200)


class MemoryWatch:
    """Peak resident memory of a process and its children, from /proc (Linux)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[int, int]:
        """The server's and each scan process's own peak (VmHWM, kB), read before they exit;
        sampling ends."""
        peaks = {pid: status_kb(pid, "VmHWM") for pid in self.family() if not is_resource_tracker(pid)}
        self._stop.set()
        self._thread.join()
        return peaks

    def family(self) -> list[int]:
        pids = [self.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit() and parent_of(int(entry)) == self.pid:
                pids.append(int(entry))
        return pids

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_total = max(self.peak_total, sum(status_kb(pid, "VmRSS") for pid in self.family()))


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def is_resource_tracker(pid: int) -> bool:
    """multiprocessing's helper process (spawn starts one): not a scan process, counted in the total only."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"resource_tracker" in handle.read()
    except OSError:
        return False


def status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def payload(hcp_url: str, task: str) -> bytes:
    return json.dumps({
        "payload_version": 1, "stage": "pre_plan", "access_token": TOKEN, "capabilities": {"outcomes": True},
        "configuration_version_download_url": f"{hcp_url}/api/v2/configuration-versions/cv-{task}/download",
        "task_result_callback_url": f"{hcp_url}/api/v2/task-results/{task}/callback",
        "task_result_id": f"taskrs-{task}", "run_id": f"run-{task}", "organization_name": "bench",
        "workspace_name": "bench", "workspace_working_directory": "",
    }).encode()


async def post_until_accepted(session: ClientSession, url: str, body: bytes, turned_away: list[int]) -> None:
    signature = hmac.new(KEY, body, hashlib.sha512).hexdigest()
    pause = 0.2
    while True:
        async with session.post(url, data=body, headers={"X-TFC-Task-Signature": signature}) as response:
            if response.status == 200:
                return
            if response.status != 503:
                raise SystemExit(f"the server answered {response.status}")
        turned_away.append(1)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 3.2)


async def start_server(hcp_url: str, args: argparse.Namespace, work: str) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "iac_ims", "serve", "--listen", "127.0.0.1:0", "--allowed-origin", hcp_url,
               "--max-queue", str(args.max_queue), "--work-dir", work]
    if args.workers:
        command += ["--workers", str(args.workers)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "IAC_IMS_HMAC_KEY": KEY.decode()})
    line = await asyncio.to_thread(process.stdout.readline)  # type: ignore[union-attr]
    if "listening on " not in line:
        raise SystemExit(f"iac-ims serve did not start: {line!r}")
    return process, line.split("listening on ")[1].split(";")[0]


async def bench(args: argparse.Namespace) -> None:
    import tempfile

    archive = pack(Path(args.config_dir))
    hcp = FakeHcp(archive)
    hcp.expected = args.runs
    runner = web.AppRunner(hcp.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hcp_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    with tempfile.TemporaryDirectory(prefix="iac-ims-bench-") as work:
        process, server_url = await start_server(hcp_url, args, work)
        watch = MemoryWatch(process.pid)
        watch.start()
        try:
            await warm(server_url, hcp_url, hcp)  # one run first: the scan processes start and load the catalogue
            turned_away: list[int] = []
            tasks = [f"run{n}" for n in range(args.runs)]
            hcp.finals.clear()
            hcp.done.clear()
            async with ClientSession(connector=TCPConnector(limit=0)) as session:
                started = {task: time.monotonic() for task in tasks}
                first = min(started.values())
                await asyncio.gather(*(post_until_accepted(session, f"{server_url}/", payload(hcp_url, t), turned_away)
                                       for t in tasks))
                await asyncio.wait_for(hcp.done.wait(), 1800)
            peaks = watch.stop()
        finally:
            process.terminate()
            process.wait(600)
    await runner.cleanup()
    report(args, archive, tasks, started, hcp.finals, first, turned_away, peaks, watch.peak_total, process.pid)


async def warm(server_url: str, hcp_url: str, hcp: FakeHcp) -> None:
    expected, hcp.expected = hcp.expected, 1
    async with ClientSession() as session:
        await post_until_accepted(session, f"{server_url}/", payload(hcp_url, "warm-up"), [])
    await asyncio.wait_for(hcp.done.wait(), 600)
    hcp.expected = expected


def report(args: argparse.Namespace, archive: bytes, tasks: list[str], started: dict[str, float],
           finals: dict[str, float], first: float, turned_away: list[int], peaks: dict[int, int], peak_total: int,
           server_pid: int) -> None:
    latencies = sorted(finals[t] - started[t] for t in tasks)
    elapsed = max(finals[t] for t in tasks) - first
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    workers = sorted((kb for pid, kb in peaks.items() if pid != server_pid), reverse=True)
    shown = os.path.relpath(args.config_dir, REPO)
    print(f"runs: {len(tasks)} sent at once; configuration {shown} ({len(archive) / 1024:.1f} KB .tar.gz); "
          f"--max-queue {args.max_queue}, scan processes: {len(workers)}")
    print(f"throughput: {len(tasks) / elapsed:.1f} runs/s ({elapsed:.2f} s for all)")
    print(f"time to final callback: p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, "
          f"max {latencies[-1]:.2f} s")
    print(f"requests turned away (503, sent again): {len(turned_away)}")
    print(f"peak RSS: server process {peaks.get(server_pid, 0) / 1024:.0f} MB; scan processes "
          f"{', '.join(f'{kb / 1024:.0f} MB' for kb in workers) or '-'}; all together (sampled) "
          f"{peak_total / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--config-dir", default=str(REPO / "sample_configs"),
                        help="the Terraform each run's configuration version holds")
    parser.add_argument("--workers", type=int, default=None, help="--workers of iac-ims serve (default: the cores)")
    parser.add_argument("--max-queue", type=int, default=64)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
