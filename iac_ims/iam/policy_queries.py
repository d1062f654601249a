"""Questions the rest of the scanner asks of a parsed policy: which known actions it allows for
certain, which it names explicitly, its IMS entries, its Allow entries by service level.

No IMS action names or table facts live here: known actions, operations and service levels come
from the `Catalog`.
"""

from __future__ import annotations

from typing import Iterable

from iac_ims.catalog import Catalog
from iac_ims.iam.actions import canonical_index, is_wildcard, primary_service, split_action
from iac_ims.iam.policy_decide import ALLOWED, decide
from iac_ims.iam.policy_model import ALLOW, ActionEntry, PolicyDocument


def allowed_actions(doc: PolicyDocument, known_actions: Iterable[str]) -> set[str]:
    """The known actions this policy allows for certain: matched by an unconditional Allow
    (wildcards expanded) and not denied or possibly denied by the policy's own Deny statements
    (i.e. `decide(...)` is "allowed")."""
    if doc.unknown is not None:
        return set()
    return {action for action in dict.fromkeys(known_actions) if decide(action, doc.statements).state == ALLOWED}


def explicit_actions(doc: PolicyDocument, known_actions: Iterable[str] | None = None) -> set[str]:
    """Actions named without a wildcard in the Allow statements (conditional ones included).

    With `known_actions`, an action the catalogue knows is returned in the catalogue's spelling
    (`ims:serverimages:create` -> `ims:serverImages:create`); others are returned as written.
    Malformed entries are left out.
    """
    index = canonical_index(known_actions) if known_actions is not None else {}
    out: set[str] = set()
    for statement in doc.statements:
        if statement.effect != ALLOW:
            continue
        for entry in statement.actions:
            if is_wildcard(entry.text) or split_action(entry.text) is None:
                continue
            out.add(index.get(entry.text.lower(), entry.text))
    return out


def ims_service(catalog: Catalog) -> str | None:
    """The catalogue's own service prefix (lowercase), taken from its known actions."""
    return primary_service(catalog.actions)


def ims_actions_named(doc: PolicyDocument, catalog: Catalog, effect: str | None = None) -> list[ActionEntry]:
    """Every action entry whose service is the catalogue's (IMS), wildcards such as `ims:*:*`
    included, `*:*:*` not; in document order. `effect` ("Allow"/"Deny") restricts to those statements."""
    service = ims_service(catalog)
    if service is None:
        return []
    out: list[ActionEntry] = []
    for statement in doc.statements:
        if effect is not None and statement.effect != effect:
            continue
        for entry in statement.actions:
            parts = split_action(entry.text)
            if parts and parts[0].lower() == service:
                out.append(entry)
    return out


def allowed_by_level(doc: PolicyDocument, catalog: Catalog) -> dict[str, list[ActionEntry]]:
    """The Allow entries of a policy by the level of their service ("global" / "project"), in
    document order; wildcard services and services the catalogue does not know count for neither."""
    by_level: dict[str, list[ActionEntry]] = {"global": [], "project": []}
    for statement in doc.statements:
        if statement.effect != ALLOW:
            continue
        for entry in statement.actions:
            parts = split_action(entry.text)
            if parts is None or "*" in parts[0]:
                continue
            level = catalog.service_level(parts[0])
            if level in by_level:
                by_level[level].append(entry)
    return by_level
