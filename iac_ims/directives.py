"""`iac-ims` comments: intents (`iac-ims:intent a, b`), suppressions
(`iac-ims:skip=IMS200,IMS201[:exp=YYYY-MM-DD][:reason]`) and the deployer mark
(`iac-ims:deployer`).

Each comment is read once into a `Directive`, which also says what is wrong with how it is
written (IMS904). What the writer meant is kept whenever it can be told: `iac-ims: intent x`
(a space after the colon) is an intent, and says so; an expiry written after the reason still
expires. What cannot be told safely (a skip without `=`, a bad date) applies nothing.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Iterable

_RULE_ID = re.compile(r"^IMS\d{3}$")
_METHOD_PATH = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD)\s+(/\S*)$", re.IGNORECASE)
# `iac-ims`, then the keyword: `:` directly (the documented form), or with whitespace around it,
# or whitespace alone (both variants accepted and reported)
_HEAD = re.compile(r"^iac-ims(?P<sep>\s*:\s*|\s+)(?P<keyword>[A-Za-z_-]*)(?P<rest>.*)$", re.DOTALL)
_EXPIRY = re.compile(r"^\s*exp\s*=\s*(?P<date>.*?)\s*$", re.IGNORECASE)
KEYWORDS = ("intent", "skip", "deployer")
MAX_ITEMS = 200  # per comment: bounds a hostile comment

INTENT, SKIP, DEPLOYER = KEYWORDS


@dataclass(frozen=True)
class IntentItem:
    text: str  # as written (quotes removed)
    line: int


@dataclass(frozen=True)
class Suppression:
    rule_ids: tuple[str, ...]
    reason: str
    expires: _dt.date | None
    line: int
    problem: str | None = None  # what keeps it from applying at all

    def active(self, today: _dt.date) -> bool:
        return self.expires is None or today <= self.expires


@dataclass
class Directive:
    """One `iac-ims` comment as understood: its keyword (None when it cannot be told), what it
    carries, and what is wrong with how it is written (each a sentence with its fix)."""

    line: int
    text: str
    keyword: str | None = None
    intents: list[IntentItem] = field(default_factory=list)
    suppression: Suppression | None = None
    problems: list[str] = field(default_factory=list)


def parse_directive(line: int, text: str, known_rules: Iterable[str] = ()) -> Directive:
    """`text` starts with `iac-ims` (the comment marker removed). `known_rules`: rule IDs a skip
    may name (an empty collection accepts any `IMSnnn`)."""
    directive = Directive(line, text)
    head = _HEAD.match(text)
    if head is None or not head.group("keyword"):
        directive.problems.append(f"{text!r} is not an iac-ims directive: write iac-ims:intent OPERATION, "
                                  "iac-ims:skip=IMSnnn:reason or iac-ims:deployer")
        return directive
    keyword = head.group("keyword")
    canonical = keyword.lower()
    if canonical not in KEYWORDS:
        from iac_ims.suggest import closest

        near = closest(canonical, KEYWORDS, n=1, cutoff=0.5)
        hint = f"; did you mean iac-ims:{near[0]}?" if near else ""
        directive.problems.append(f"unknown iac-ims keyword {keyword!r}{hint} (known: {', '.join(KEYWORDS)})")
        return directive
    directive.keyword = canonical
    if head.group("sep") != ":" or keyword != canonical:
        directive.problems.append(f"write iac-ims:{canonical} (no space, lowercase): {text!r} is read as that, "
                                  "but other tools may not")
    rest = head.group("rest")
    if canonical == INTENT:
        directive.intents = _intent_items(line, rest)
    elif canonical == SKIP:
        directive.suppression = _suppression(line, rest, set(known_rules), directive.problems)
    elif rest.strip():
        directive.problems.append(f"iac-ims:deployer takes nothing after it, not {rest.strip()!r}")
    return directive


def _intent_items(line: int, rest: str) -> list[IntentItem]:
    body = rest.strip().lstrip(":=").strip()
    items = []
    for raw in body.split(",")[:MAX_ITEMS]:
        item = raw.strip().strip("\"'`").strip()
        if item:
            items.append(IntentItem(item, line))
    return items


def _suppression(line: int, rest: str, known_rules: set[str], problems: list[str]) -> Suppression:
    body = rest.lstrip()
    if not body.startswith("="):
        problems.append("a skip needs '=' before its rule IDs: write iac-ims:skip=IMSnnn[,IMSnnn]:reason "
                        "(it suppresses nothing as written)")
        return Suppression((), "", None, line, "expected iac-ims:skip=IMSnnn[,IMSnnn][:reason]")
    parts = body[1:].split(":")
    ids = [i.strip().upper() for i in parts[0].split(",")[:MAX_ITEMS] if i.strip()]
    malformed = [i for i in ids if not _RULE_ID.match(i)]
    unknown = [i for i in ids if _RULE_ID.match(i) and known_rules and i not in known_rules]
    for rule_id in malformed + unknown:
        problems.append(_unknown_rule(rule_id, known_rules))
    if not ids:
        problems.append("a skip names no rule ID: write iac-ims:skip=IMSnnn:reason")
    expires: _dt.date | None = None
    problem = None
    rest_parts = parts[1:]
    expiry_at = next((k for k, part in enumerate(rest_parts) if _EXPIRY.match(part)), None)
    if expiry_at is not None:
        written = _EXPIRY.match(rest_parts[expiry_at]).group("date")  # type: ignore[union-attr]
        try:
            expires = _dt.date.fromisoformat(written)
        except ValueError:
            problem = f"expiry date is not YYYY-MM-DD: {written!r}"
            problems.append(f"the expiry date {written!r} is not YYYY-MM-DD, so the skip applies nothing")
        if expiry_at > 0:
            problems.append("the expiry comes after the reason: write iac-ims:skip=IMSnnn:exp=YYYY-MM-DD:reason "
                            "(it is read as an expiry all the same)")
        rest_parts = rest_parts[:expiry_at] + rest_parts[expiry_at + 1:]
    reason = ":".join(rest_parts).strip()
    applicable = tuple(i for i in ids if _RULE_ID.match(i) and (not known_rules or i in known_rules))
    return Suppression(applicable, reason, expires, line, problem)


def _unknown_rule(rule_id: str, known_rules: set[str]) -> str:
    near = closest_rule_ids(rule_id, known_rules)
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    return f"{rule_id!r} is not a rule iac-ims has{hint} (it suppresses nothing)"


def closest_rule_ids(rule_id: str, known_rules: Iterable[str], n: int = 2) -> list[str]:
    """Known rule IDs one slip away from `rule_id`: a letter typed for the digit it looks like
    (IMS20O -> IMS200) alone when there is one; else two characters swapped (IMS370 -> IMS307),
    then one character wrong (IMS370 -> IMS300)."""
    text = rule_id.upper()
    lookalike, swapped, changed = [], [], []
    for known in sorted(known_rules):
        if len(known) != len(text) or known == text:
            continue
        diffs = [k for k in range(len(text)) if text[k] != known[k]]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1 and text[diffs[0]] == known[diffs[1]] \
                and text[diffs[1]] == known[diffs[0]]:
            swapped.append(known)
        elif len(diffs) == 1:
            (lookalike if _LOOKALIKE.get(text[diffs[0]]) == known[diffs[0]] else changed).append(known)
    return lookalike[:n] if lookalike else (swapped + changed)[:n]


_LOOKALIKE = {"O": "0", "I": "1", "L": "1", "S": "5", "Z": "2", "B": "8"}


def parse_directives(directives: Iterable[tuple[int, str]], known_rules: Iterable[str] = ()) -> list[Directive]:
    known = set(known_rules)
    return [parse_directive(line, text, known) for line, text in directives]


def intents_in(directives: list[tuple[int, str]]) -> list[IntentItem]:
    return [item for d in parse_directives(directives) for item in d.intents]


def marks_deployer(directives: list[tuple[int, str]]) -> bool:
    """Whether the comments above a block mark it as the deployer (`iac-ims:deployer`)."""
    return any(d.keyword == DEPLOYER for d in parse_directives(directives))


def suppressions_in(directives: list[tuple[int, str]], known_rules: Iterable[str] = ()) -> list[Suppression]:
    return [d.suppression for d in parse_directives(directives, known_rules) if d.suppression is not None]


def split_method_path(text: str) -> tuple[str, str] | None:
    """`"GET /v2/images"` -> ("GET", "/v2/images"); None when the text is not of that form."""
    match = _METHOD_PATH.match(text.strip())
    if not match:
        return None
    return match.group(1).upper(), match.group(2)
