"""Whether a value read statically is the value every plan of the configuration would see, and
what Terraform certainly rejects on the way.

Terraform certainly rejects an index that a fully known collection lacks (IMS903) only when the
collection and the key would be the same in every run: built from literals, locals and function
calls over them.  A root-module variable (its default can be overridden by -var, -var-file,
TF_VAR_ and tfvars files the scan does not see), the content of a file, the selected workspace,
or a block that may not exist at all (its count/for_each unknown, or itself uncertain) make a
value uncertain.  Values are plain Python and carry no such mark, so it is kept beside them:
each evaluation runs in a frame, whatever it reads notes its uncertainty in the innermost frame,
and a cached value keeps the mark it was computed with, so that every later reader inherits it.

A reference to something not declared is rejected whatever the values: the evaluator records it
in the frame (`reject`) and goes on with an unknown in its place, so that the rest of the value
is still read; the frame's owner reports it where the expression is written.
"""

from __future__ import annotations

from typing import Any, Callable


class Frame:
    """What one evaluation met: whether it read anything uncertain, what it was rejected for."""

    __slots__ = ("uncertain", "rejected")

    def __init__(self, uncertain: bool):
        self.uncertain = uncertain
        self.rejected: list[Any] = []


class Certainty:
    """The frames of the evaluations under way (one loader, one thread)."""

    def __init__(self) -> None:
        self._frames: list[Frame] = []

    def note(self, uncertain: bool = True) -> None:
        """The evaluation under way read something uncertain (no-op outside an evaluation)."""
        if uncertain and self._frames:
            self._frames[-1].uncertain = True

    def reject(self, invalid: Any) -> None:
        """The evaluation under way refers to something Terraform rejects (an `Invalid`)."""
        if self._frames:
            self._frames[-1].rejected.append(invalid)

    def measure(self, compute: Callable[[], Any], uncertain: bool = False) -> tuple[Any, Frame]:
        """`compute()` in a new frame: its value and what the frame met.  The enclosing
        evaluation, which uses the value, inherits its uncertainty (not its rejections: they are
        reported where they are written).  `uncertain`: known uncertain from the start (the block
        may not exist)."""
        frame = Frame(uncertain)
        self._frames.append(frame)
        try:
            value = compute()
        finally:
            self._frames.pop()
        self.note(frame.uncertain)
        return value, frame
