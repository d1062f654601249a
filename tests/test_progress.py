"""The progress line appears only on a terminal, only after the delay, and is erased."""

from __future__ import annotations

import io

from iac_ims import progress as progress_module
from iac_ims.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_progress_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(stream=stream) as progress:
        progress.started -= 10
        progress.tick(5, 1)
    assert stream.getvalue() == ""


def test_progress_on_a_terminal_after_the_delay(monkeypatch) -> None:
    stream = FakeTerminal()
    with Progress(stream=stream) as progress:
        progress.tick(1, 0)
        assert stream.getvalue() == ""  # the first second stays quiet
        progress.started -= progress_module.DELAY_S + 1
        progress.tick(42, 7)
    assert "42 files read, 7 parsed" in stream.getvalue()
    assert stream.getvalue().endswith("\r\033[K")


def test_quiet_disables_progress() -> None:
    stream = FakeTerminal()
    with Progress(enabled=False, stream=stream) as progress:
        progress.started -= 10
        progress.tick(3, 3)
    assert stream.getvalue() == ""
