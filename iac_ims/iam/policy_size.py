"""How long a policy is as the provider sends it: IAM limits a custom policy's length, counted on
the compact JSON the provider re-encodes from the fields it decoded, not on what the configuration
wrote. The parser checks a role's policy with it; the least-privilege policy is sized with it.
"""

from __future__ import annotations

import json
from typing import Any

from iac_ims.terraform.values import PartialJson, Unknown

# IAM's limit on a custom policy (its "Notes and Constraints"), counted on the compact JSON the
# provider sends; statements and actions per statement are not limited.
MAX_POLICY_CHARACTERS = 6144

# The fields the provider decodes a statement into, in the order it encodes them again; other keys
# (Sid, NotAction) are dropped, empty Condition and Resource omitted.
_SENT_STATEMENT_FIELDS = ("Action", "Effect", "Condition", "Resource")
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _field(obj: dict, name: str) -> Any:
    """A key as Go's decoder finds a struct field: exact match first, else case-insensitive, last wins."""
    if name in obj:
        return obj[name]
    found = None
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == name.lower():
            found = value
    return found


def _known_part(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """The value with each unknown part as an empty string (the shortest it can be), and whether
    nothing was unknown."""
    if isinstance(value, PartialJson):
        value = value.value
    if isinstance(value, Unknown) or depth > 100:
        return "", False
    if isinstance(value, dict):
        out, exact = {}, True
        for key, item in value.items():
            out[str(key)], item_exact = _known_part(item, depth + 1)
            exact = exact and item_exact
        return out, exact
    if isinstance(value, (list, tuple)):
        parts = [_known_part(item, depth + 1) for item in value]
        return [p for p, _ in parts], all(e for _, e in parts)
    return value, True


def sent_length(version: Any, statements: list) -> tuple[int, bool]:
    """(characters of the compact JSON the provider sends, whether that is exact rather than a
    lower bound). Go's encoder writes no whitespace and escapes <, > and & in strings."""
    sent_statements = []
    for raw in statements:
        if not isinstance(raw, dict):
            sent_statements.append(raw)
            continue
        sent = {}
        for name in _SENT_STATEMENT_FIELDS:
            value = _field(raw, name)
            if name in ("Condition", "Resource") and not value:
                continue
            sent[name] = value
        sent_statements.append(sent)
    document, exact = _known_part({"Version": version if version is not None else "", "Statement": sent_statements})
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return 0, False
    length = len(text) + sum((len(escaped) - 1) * text.count(char) for char, escaped in _GO_ESCAPES.items())
    return length, exact
