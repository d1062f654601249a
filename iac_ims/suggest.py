"""Nearest names, for "did you mean ...?" messages.

`closest` ranks candidates by difflib similarity (case-insensitive) and is used for action names and
operation IDs; `edit_distance` is a bounded Levenshtein distance, for deciding whether a role name is
a likely typo of a known one.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Iterable


def closest(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to `n` candidates most similar to `word`, best first.

    Similarity is difflib's ratio on the lowercased strings; candidates scoring below `cutoff` are
    dropped. Ties are broken by the candidate text, so the order is deterministic. Candidates are
    returned as given (their own case); a candidate equal to `word` (ignoring case) is included.
    """
    if n <= 0:
        return []
    target = word.lower()
    seen: set[str] = set()
    scored: list[tuple[float, str]] = []
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for candidate in candidates:
        if not isinstance(candidate, str) or candidate in seen:
            continue
        seen.add(candidate)
        matcher.set_seq1(candidate.lower())
        # cheap upper bounds first, as difflib.get_close_matches does
        if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
            continue
        score = matcher.ratio()
        if score >= cutoff:
            scored.append((score, candidate))
    scored.sort(key=lambda item: (-item[0], item[1].lower(), item[1]))
    return [candidate for _, candidate in scored[:n]]


def edit_distance(a: str, b: str, max_distance: int | None = None) -> int:
    """Levenshtein distance between `a` and `b` (insertions, deletions, substitutions; case-sensitive).

    With `max_distance`, the computation stops as soon as the distance is known to exceed it and
    returns `max_distance + 1`, so comparing a name against hundreds of long ones stays cheap.
    """
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    # now len(a) >= len(b)
    if max_distance is not None:
        if max_distance < 0:
            return 0 if a == b else max_distance + 1
        if len(a) - len(b) > max_distance:
            return max_distance + 1
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        row_min = i
        for j, char_b in enumerate(b, start=1):
            cost = 0 if char_a == char_b else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            current.append(value)
            if value < row_min:
                row_min = value
        if max_distance is not None and row_min > max_distance:
            return max_distance + 1
        previous = current
    distance = previous[-1]
    if max_distance is not None and distance > max_distance:
        return max_distance + 1
    return distance
