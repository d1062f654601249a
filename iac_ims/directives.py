"""`iac-ims:` comments: intents (`iac-ims:intent a, b`) and suppressions
(`iac-ims:skip=IMS200,IMS201[:exp=YYYY-MM-DD][:reason]`)."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

_RULE_ID = re.compile(r"^IMS\d{3}$")
_METHOD_PATH = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD)\s+(/\S*)$", re.IGNORECASE)
MAX_ITEMS = 200  # per comment: bounds a hostile comment


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
    problem: str | None = None  # a malformed directive: what is wrong

    def active(self, today: _dt.date) -> bool:
        return self.expires is None or today <= self.expires


def intents_in(directives: list[tuple[int, str]]) -> list[IntentItem]:
    items: list[IntentItem] = []
    for line, text in directives:
        if not text.startswith("iac-ims:intent"):
            continue
        body = text[len("iac-ims:intent"):].strip().lstrip(":=").strip()
        for raw in body.split(",")[:MAX_ITEMS]:
            item = raw.strip().strip("\"'`").strip()
            if item:
                items.append(IntentItem(item, line))
    return items


def suppressions_in(directives: list[tuple[int, str]]) -> list[Suppression]:
    found: list[Suppression] = []
    for line, text in directives:
        if not text.startswith("iac-ims:skip"):
            continue
        body = text[len("iac-ims:skip"):].lstrip()
        if not body.startswith("="):
            found.append(Suppression((), "", None, line, "expected iac-ims:skip=IMSnnn[,IMSnnn][:reason]"))
            continue
        parts = body[1:].split(":")
        ids = tuple(i.strip().upper() for i in parts[0].split(",")[:MAX_ITEMS] if i.strip())
        bad = [i for i in ids if not _RULE_ID.match(i)]
        expires: _dt.date | None = None
        problem = f"not a rule ID: {', '.join(bad)}" if bad else None
        rest = parts[1:]
        if rest and rest[0].strip().startswith("exp="):
            try:
                expires = _dt.date.fromisoformat(rest[0].strip()[4:].strip())
            except ValueError:
                problem = f"expiry date is not YYYY-MM-DD: {rest[0].strip()[4:]!r}"
            rest = rest[1:]
        reason = ":".join(rest).strip()
        found.append(Suppression(tuple(i for i in ids if _RULE_ID.match(i)), reason, expires, line, problem))
    return found


def split_method_path(text: str) -> tuple[str, str] | None:
    """`"GET /v2/images"` -> ("GET", "/v2/images"); None when the text is not of that form."""
    match = _METHOD_PATH.match(text.strip())
    if not match:
        return None
    return match.group(1).upper(), match.group(2)
