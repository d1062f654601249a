"""A fuzz target over the whole scan pipeline: mutated copies of `sample_configs/` (bytes flipped,
spans deleted or duplicated, `{`, `}`, `"`, `${`, `<<EOF` ... inserted) are scanned in-process
with `iac_ims.pipeline.scan`.  Whatever the input: no exception escapes, no internal error
(`report.internal_errors` empty), every finding has a rule ID and a file.

Reproducible: input number i is made by `random.Random(f"{seed}:{i}")`.  How many inputs:
`IAC_IMS_FUZZ_EXAMPLES` (default 200, what CI runs); the seed: `IAC_IMS_FUZZ_SEED`.  Failing
inputs are saved under the test's tmp directory and listed with their numbers, e.g.

    IAC_IMS_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py -q -s
"""

from __future__ import annotations

import _thread
import contextlib
import dataclasses
import os
import random
import re
import signal
import threading
import time
import traceback
from pathlib import Path

from conftest import HANG_GUARD_S, REPO

SAMPLES = sorted((REPO / "sample_configs").glob("*/*.tf"))
EXAMPLES = int(os.environ.get("IAC_IMS_FUZZ_EXAMPLES", "200"))
SEED = int(os.environ.get("IAC_IMS_FUZZ_SEED", "20261127"))

TOKENS = [b"{", b"}", b'"', b"${", b"<<EOF\n", b"\nEOF\n", b"%{", b"[", b"]", b"(", b")", b"\\", b"#", b"/*",
          b"*/", b"\n", b"=", b",", b":", b"*", b"<<-EOT\n", b"${var.x}", b"\x00", b"\xff", b"\r\n",
          b"jsonencode(", b"count = 100000\n", b'for_each = toset(["a", "b"])\n', b"[for x in ", b" : x]",
          b"? true : ", b"...", b"[*]", b"try(", b'templatefile("main.tf", {})', b'file("../outside")',
          b"local.", b"module.", b"data.", b"each.value", b"count.index", b"dynamic \"project_role\" {"]
# (no regex()/replace("/.../"): their backtracking hang is a known bug, see test_hostile.py)


WORDS = [b"Allow", b"Deny", b"project_id", b"domain_id", b"enterprise_project_id", b"all", b"XA", b"AX",
         b"ims:*:*", b"ims:images:list", b"ims:images:lsit", b"*", b"obs:*:*", b"Tenant Administrator",
         b"count", b"for_each", b"each.key", b"var.nope", b"local.nope", b"null", b"true", b"1.0", b"1.1",
         b"export_image", b"exprot_image", b"GET /v2/images", b"iac-ims:skip=IMS104", b"iac-ims:intent"]


def _raw_edit(buffer: bytearray, rng: random.Random) -> bytearray:
    size = len(buffer)
    kind = rng.choice(["flip", "delete", "duplicate", "insert", "insert"])
    if kind == "flip" and size:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(size)
            buffer[i] = buffer[i] ^ (1 << rng.randrange(8)) if rng.random() < 0.7 else rng.randrange(256)
    elif kind == "delete" and size:
        start = rng.randrange(size)
        del buffer[start:start + rng.choice([1, 2, rng.randint(1, 64), rng.randint(1, max(1, size // 4))])]
    elif kind == "duplicate" and size:
        start = rng.randrange(size)
        span = bytes(buffer[start:start + rng.randint(1, max(1, min(size, 400)))])
        at = rng.randrange(size + 1)
        buffer[at:at] = span * rng.choice([1, 1, 2, 10])
    else:
        at = rng.randrange(size + 1)
        buffer[at:at] = rng.choice(TOKENS) * rng.choice([1, 1, 1, 3, 50])
    return buffer


def _structured_edit(buffer: bytearray, rng: random.Random) -> bytearray:
    """Edits that mostly keep the syntax, so that the input reaches evaluation and the checks."""
    lines = bytes(buffer).split(b"\n")
    kind = rng.choice(["word", "word", "move_line", "drop_line", "repeat_block"])
    if kind == "word":
        words = re.findall(rb"[A-Za-z_][A-Za-z0-9_:*.-]*", bytes(buffer))
        if words:
            old = rng.choice(words)
            new = rng.choice(WORDS + words)
            text = bytes(buffer)
            positions = [m.start() for m in re.finditer(re.escape(old), text)]
            at = rng.choice(positions)
            return bytearray(text[:at] + new + text[at + len(old):])
    elif kind in ("move_line", "drop_line") and len(lines) > 1:
        line = lines.pop(rng.randrange(len(lines)))
        if kind == "move_line":
            lines.insert(rng.randrange(len(lines) + 1), line)
    elif kind == "repeat_block":
        starts = [i for i, line in enumerate(lines) if re.match(rb"(resource|data|locals|variable|module) ", line)]
        if starts:
            first = rng.choice(starts)
            last = next((i for i in range(first, len(lines)) if lines[i].rstrip() == b"}"), first)
            block = lines[first:last + 1]
            if rng.random() < 0.5:  # a copy under another name, so both instances load
                block = [re.sub(rb'"([A-Za-z_][A-Za-z0-9_-]*)" \{', rb'"\1_copy" {', block[0])] + block[1:]
            at = rng.randrange(len(lines) + 1)
            lines[at:at] = block
    return bytearray(b"\n".join(lines))


def mutate(data: bytes, rng: random.Random) -> bytes:
    """1-4 edits: half of the inputs get raw ones (bytes flipped, spans deleted or duplicated,
    delimiters inserted), the other half mostly syntax-preserving ones (words swapped, lines moved,
    blocks repeated) so that they get past the parser."""
    buffer = bytearray(data)
    raw = rng.random() < 0.5
    for _ in range(rng.randint(1, 4)):
        buffer = _raw_edit(buffer, rng) if raw else _structured_edit(buffer, rng)
    return bytes(buffer)


def make_input(index: int, seed: int, directory: Path) -> list[str]:
    """Write input number `index` into `directory`; returns what was done (for the report)."""
    rng = random.Random(f"{seed}:{index}")
    sources = [rng.choice(SAMPLES)]
    if rng.random() < 0.3:  # a second file of the same module: duplicate names, cross references
        sources.append(rng.choice(SAMPLES))
    directory.mkdir(parents=True)
    done = []
    for number, source in enumerate(sources):
        name = "main.tf" if number == 0 else rng.choice(["other.tf", "zz.tf", "a_first.tf"])
        data = source.read_bytes()
        (directory / name).write_bytes(mutate(data, rng) if number == 0 or rng.random() < 0.5 else data)
        done.append(f"{source.parent.name}/{source.name} -> {name}")
    return done


def _options(index: int):
    from iac_ims.pipeline import ScanOptions

    fields = {f.name for f in dataclasses.fields(ScanOptions)}
    # every other input parsed in full where the option exists (another code path than the default)
    return ScanOptions(full_parse=True) if "full_parse" in fields and index % 2 else ScanOptions()


class Hung(BaseException):
    """Not an Exception: the scan's own `except Exception` guards must not swallow it."""


@contextlib.contextmanager
def hang_guard(seconds: float = HANG_GUARD_S):
    """Raise `Hung` (saying where the code was) if the block is still running after `seconds`.
    Not a limit on the work, which is bounded by counting it elsewhere; a slow input passes. It
    turns a hang, which would stop the whole test run, into a failure of this input. The scan
    runs in the main thread, so a watchdog thread interrupts it with a signal (SIGINT, whose
    handler is ours for the while)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = threading.Event()

    def on_interrupt(signum, frame) -> None:
        if not fired.is_set():
            raise KeyboardInterrupt  # a real Ctrl-C
        where = "".join(traceback.format_stack(frame)[-8:])
        raise Hung(f"no result within {seconds:g} s (a hang), at:\n{where}")

    def interrupt() -> None:
        fired.set()
        if hasattr(signal, "pthread_kill"):  # a real signal: it also wakes a blocked read (a FIFO)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        else:
            _thread.interrupt_main(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    watchdog = threading.Timer(seconds, interrupt)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
        signal.signal(signal.SIGINT, previous)


def test_fuzz_scan_pipeline_on_mutated_samples(tmp_path: Path, capsys) -> None:
    from iac_ims.pipeline import scan

    assert SAMPLES, "no sample configurations to mutate"
    failures: list[str] = []
    tried = parse_errors = findings = 0
    slowest = (0.0, -1)  # reported for whoever reads the output, never asserted on
    started = time.monotonic()
    for index in range(EXAMPLES):
        directory = tmp_path / f"input-{index:05d}"
        what = make_input(index, SEED, directory)
        begun = time.monotonic()
        try:
            with hang_guard():
                report = scan([directory], _options(index))
        except Hung as exc:
            failures.append(f"#{index} {what}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - that is what this test looks for
            failures.append(f"#{index} {what}: {type(exc).__name__}: {exc}\n"
                            + "".join(traceback.format_exception(exc)[-3:]))
            continue
        finally:
            tried += 1
            slowest = max(slowest, (time.monotonic() - begun, index))
        for error in report.internal_errors:
            failures.append(f"#{index} {what}: internal error in {error.check}: {error.message} at {error.where}")
        for finding in report.findings:
            if not finding.rule_id or not finding.file:
                failures.append(f"#{index} {what}: finding without rule_id or file: {finding}")
        parse_errors += any(f.rule_id == "IMS900" for f in report.findings)
        findings += len(report.findings)
        if not any(f.startswith(f"#{index} ") for f in failures):
            for path in directory.iterdir():  # keep only failing inputs on disk
                path.unlink()
            directory.rmdir()
    with capsys.disabled():
        print(f"\nfuzz: {tried} inputs tried (seed {SEED}) in {time.monotonic() - started:.1f} s; "
              f"{parse_errors} with IMS900, {findings} findings; slowest #{slowest[1]} {slowest[0]:.2f} s; "
              f"{len({f.split(' ', 1)[0] for f in failures})} failing (kept under {tmp_path})")
    assert tried == EXAMPLES
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:30])
