"""Huawei Cloud IAM action names and action patterns.

An action is `service:resourceType:operation` (`ims:images:list`). A pattern is an action in which
any segment may contain `*` (`ims:*:get*`, `ims:images:*`); `*`, `*:*` and `*:*:*` mean every action
of every service, and `service:*` every action of that service. All three segments are matched
case-insensitively (IAM wants the service lowercase: policy checks warn about that separately).

Matching is segment by segment with a split-based glob (no regular expressions, so no backtracking
blow-up), and compiled patterns are cached. Nothing here knows IMS: which actions exist comes from
the catalogue the caller passes in.
"""

from __future__ import annotations

import functools
import re

from collections import Counter
from functools import lru_cache
from typing import Iterable, Union

MAX_ACTION_LENGTH = 512  # longer strings are not actions (and are not worth matching)

# A compiled segment: ANY (matches everything), an exact lowercase string, or the tuple of the
# literal pieces between the `*`s of a glob (`get*` -> ("get", "")).
class _AnySegment:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY"


ANY = _AnySegment()
Segment = Union[_AnySegment, str, tuple]


_BAD_CHARACTER = re.compile(r"[\s\x00-\x1f\x7f]")


def _is_all_stars(text: str) -> bool:
    return bool(text) and text.strip("*") == ""


def split_action(text: object) -> tuple[str, str, str] | None:
    """`(service, resource_type, operation)` as written, or None when `text` is not an action.

    `*`, `*:*` and `*:*:*` give `("*", "*", "*")`; `svc:*` gives `(svc, "*", "*")`. Malformed:
    not a string, empty, too long, whitespace or control characters anywhere, an empty segment,
    two segments whose second is not `*`, more than three segments.
    """
    if not isinstance(text, str):
        return None
    return _split_action_text(text)


@lru_cache(maxsize=65536)  # a policy names the same few actions many times, and checks ask again
def _split_action_text(text: str) -> tuple[str, str, str] | None:
    if not text or len(text) > MAX_ACTION_LENGTH:
        return None
    if _BAD_CHARACTER.search(text):
        return None
    parts = text.split(":")
    if len(parts) == 1:
        return ("*", "*", "*") if _is_all_stars(parts[0]) else None
    if len(parts) == 2:
        service, rest = parts
        if service and _is_all_stars(rest):
            return (service, "*", "*")
        return None
    if len(parts) == 3 and all(parts):
        return (parts[0], parts[1], parts[2])
    return None


def is_wildcard(pattern: str) -> bool:
    """True when `pattern` contains a `*` (it may stand for several actions)."""
    return isinstance(pattern, str) and "*" in pattern


def service_of(text: object) -> str | None:
    """The lowercase service segment of an action or pattern (`*` for `*`, `*:*`), or None if malformed."""
    parts = split_action(text)
    return parts[0].lower() if parts else None


def _compile_segment(segment: str) -> Segment:
    segment = segment.lower()
    if _is_all_stars(segment):
        return ANY
    if "*" not in segment:
        return segment
    return tuple(segment.split("*"))


def _match_segment(compiled: Segment, text: str) -> bool:
    """`text` is lowercase."""
    if compiled is ANY:
        return True
    if isinstance(compiled, str):
        return compiled == text
    pieces: tuple = compiled  # type: ignore[assignment]
    prefix, suffix = pieces[0], pieces[-1]
    if len(text) < sum(len(p) for p in pieces):
        return False
    if not text.startswith(prefix) or not text.endswith(suffix):
        return False
    position = len(prefix)
    end = len(text) - len(suffix)
    # Leftmost-greedy placement of the middle pieces is optimal for `*`-only globs.
    for piece in pieces[1:-1]:
        if not piece:
            continue
        found = text.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def segment_matches(pattern_segment: str, segment: str) -> bool:
    """Whether one pattern segment (`get*`) matches one action segment (`getPercentage`), ignoring case."""
    return _match_segment(_compile_segment(pattern_segment), segment.lower())


@lru_cache(maxsize=16384)
def compile_pattern(pattern: str) -> tuple[Segment, Segment, Segment] | None:
    """The compiled form of a pattern (cached), or None if it is malformed."""
    parts = split_action(pattern)
    if parts is None:
        return None
    return (_compile_segment(parts[0]), _compile_segment(parts[1]), _compile_segment(parts[2]))


@lru_cache(maxsize=16384)
def normalise_action(action: str) -> tuple[str, str, str] | None:
    """The lowercase segments of a concrete action, or None if it is malformed."""
    parts = split_action(action)
    if parts is None or len(action.split(":")) != 3:
        return None
    return (parts[0].lower(), parts[1].lower(), parts[2].lower())


def _matches_compiled(compiled: tuple[Segment, Segment, Segment], parts: tuple[str, str, str]) -> bool:
    return (
        _match_segment(compiled[0], parts[0])
        and _match_segment(compiled[1], parts[1])
        and _match_segment(compiled[2], parts[2])
    )


@lru_cache(maxsize=65536)
def action_matches(pattern: str, action: str) -> bool:
    """Whether the pattern (an action, possibly with `*`) covers the concrete `action`.

    Case-insensitive in every segment. A malformed pattern or action matches nothing.
    """
    if not isinstance(pattern, str) or not isinstance(action, str):
        return False
    compiled = compile_pattern(pattern)
    parts = normalise_action(action)
    if compiled is None or parts is None:
        return False
    return _matches_compiled(compiled, parts)


def expand(pattern: str, known_actions: Iterable[str]) -> list[str]:
    """The known actions the pattern covers, in the order given, without duplicates."""
    out: list[str] = []
    seen: set[str] = set()
    for action in known_actions:
        if action not in seen and action_matches(pattern, action):
            seen.add(action)
            out.append(action)
    return out


def is_admin_wildcard(pattern: str, service: str) -> bool:
    """`*`, `*:*`, `*:*:*` (everything), or `<service>:*:*` / `<service>:*` (all of `service`)."""
    parts = split_action(pattern)
    if parts is None:
        return False
    svc, resource, operation = parts
    if not (_is_all_stars(resource) and _is_all_stars(operation)):
        return False
    return _is_all_stars(svc) or (bool(service) and svc.lower() == service.lower())


def canonical_index(known_actions: Iterable[str]) -> dict[str, str]:
    """lowercase action -> the catalogue's spelling (first one wins)."""
    index: dict[str, str] = {}
    for action in known_actions:
        index.setdefault(action.lower(), action)
    return index


def primary_service(known_actions: Iterable[str]) -> str | None:
    """The service most of `known_actions` belong to (lowercase): the catalogue's own service.

    Ties go to the alphabetically first; None when there are no well-formed actions.
    """
    return _primary_service(tuple(known_actions))


@functools.lru_cache(maxsize=8)
def _primary_service(known_actions: tuple[str, ...]) -> str | None:
    counts = Counter(s for s in (service_of(a) for a in known_actions) if s and s != "*")
    if not counts:
        return None
    best = max(counts.values())
    return min(s for s, c in counts.items() if c == best)


class ActionMatcher:
    """A set of patterns compiled once, for testing many actions against them.

    Concrete actions go into a hash set; only true wildcards are matched one by one.
    """

    __slots__ = ("exact", "wildcards", "match_all")

    def __init__(self, patterns: Iterable[str]):
        self.exact: set[tuple[str, str, str]] = set()
        self.wildcards: list[tuple[Segment, Segment, Segment]] = []
        self.match_all = False
        for pattern in patterns:
            compiled = compile_pattern(pattern) if isinstance(pattern, str) else None
            if compiled is None:
                continue
            if all(seg is ANY for seg in compiled):
                self.match_all = True
            elif all(isinstance(seg, str) for seg in compiled):
                self.exact.add(compiled)  # type: ignore[arg-type]
            elif compiled not in self.wildcards:
                self.wildcards.append(compiled)

    def __bool__(self) -> bool:
        return self.match_all or bool(self.exact) or bool(self.wildcards)

    def matches(self, action: str) -> bool:
        parts = normalise_action(action) if isinstance(action, str) else None
        if parts is None:
            return False
        if self.match_all or parts in self.exact:
            return True
        return any(_matches_compiled(w, parts) for w in self.wildcards)
