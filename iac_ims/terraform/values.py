"""Values produced by evaluating Terraform expressions.

Known values are plain Python: None, bool, int, float, str, list, dict (object/map).
Anything that cannot be known before `terraform apply` (or at all, statically) is an
`Unknown`, which remembers why and what it depends on, and propagates through every
operation that consumes it.  A `Reference` is an unknown value that still says *which*
resource (instance) and attribute it points at, so that the IAM layer can draw an edge
from an assignment to the role it names even though the role's ID is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, runtime_checkable


def instance_suffix(key: Any) -> str:
    """The instance key part of a resource address as Terraform writes it: `[0]`, `["ops"]`
    (strings quoted as JSON, non-ASCII characters as they are)."""
    if key is None:
        return ""
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return f"[{key}]"
    import json

    return "[" + json.dumps(key, ensure_ascii=False) + "]"


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value that cannot be resolved statically.

    `reason` is a short human sentence ("variable \"x\" has no value");
    `depends_on` names what it came from ("var.x", "data.huaweicloud_identity_role.r").
    """

    reason: str
    depends_on: tuple[str, ...] = ()

    @staticmethod
    def combine(values: Iterable[Any], reason: str | None = None) -> "Unknown":
        """The unknown result of an operation over `values`, at least one of which is unknown."""
        unknowns = [v for v in values if isinstance(v, Unknown)]
        deps: list[str] = []
        for u in unknowns:
            for d in u.depends_on:
                if d not in deps:
                    deps.append(d)
        if reason is None:
            reason = unknowns[0].reason if unknowns else "unknown value"
        return Unknown(reason, tuple(deps))


@dataclass(frozen=True, slots=True)
class Reference(Unknown):
    """An unknown attribute of a known resource instance, e.g. `huaweicloud_identity_role.x.id`.

    `address` is the resource address including any module path and instance key
    (`module.iam.huaweicloud_identity_role.r["ops"]`); `attribute` the attribute path
    after it (`("id",)`).  `instance_keys_known` is False when a splat or an unknown index
    was used, so the reference names the resource but not one instance of it.
    """

    address: str = ""
    attribute: tuple[str, ...] = ()
    instance_keys_known: bool = True


@dataclass(frozen=True, slots=True)
class PartialList(Unknown):
    """A list or set only partly known: every element of `known` is certainly a member (its value
    may itself be unknown, e.g. a `Reference`), and further elements may exist.

    `unknown_parts` are the values the unknown rest comes from, in order (a `var.extra` with no
    value, or a `Reference` with `instance_keys_known=False` naming the resource whose instances
    may add members); `reason`/`depends_on` sum them up.  Anything that does not look for a
    PartialList treats it as the Unknown it is: its length, order and indexes are unknown."""

    known: tuple = ()
    unknown_parts: tuple = ()


def partial_list(known: Iterable[Any], unknown_parts: Iterable[Unknown]) -> Any:
    """A plain list when nothing is unknown, else the PartialList of `known` and the rest."""
    known = tuple(known)
    parts = tuple(unknown_parts)
    if not parts:
        return list(known)
    combined = Unknown.combine(parts)
    return PartialList(combined.reason, combined.depends_on, known=known, unknown_parts=parts)


@dataclass(frozen=True, slots=True)
class Invalid(Unknown):
    """An expression Terraform certainly rejects (IMS903): a reference to something not declared
    (`static`: an error in the configuration itself, whatever the inputs) or an index a known
    collection lacks.  `reported` is set once the loader has reported it where it is, so that a
    value passed on from there (a local read elsewhere) is not reported again.

    A context returns an unreported `Invalid` from a lookup to say "this name is not declared";
    the evaluator raises it inside `try()`/`can()` (which catch it), and elsewhere has it
    reported and goes on with it, marked reported, in place of the name's value.  So a value
    (or a part of one) that is a reported `Invalid` has had its IMS903 already."""

    static: bool = False
    reported: bool = False


@runtime_checkable
class Traversable(Protocol):
    """An object value that computes attribute and index access itself.

    The evaluator calls these for `x.attr` and `x[key]` when `x` is such an object; it is how
    a resource or module reference yields known attributes (a role's `name`) and references
    for computed ones (its `id`).

    Optional methods: `collection()` (the object is a collection, e.g. a resource with count or
    for_each: the list or map of its element objects, a Reference naming it with
    `instance_keys_known=False` when its keys are unknown, or None when it is no collection),
    `some_instance()` (an element standing for any of them, when the keys are unknown) and
    `splat()` (what `x[*]` iterates).
    """

    def traverse_attr(self, name: str) -> Any: ...

    def traverse_index(self, key: Any) -> Any: ...


def is_known(value: Any) -> bool:
    """True when `value` contains no Unknown anywhere (deep)."""
    return first_unknown(value) is None


def first_unknown(value: Any, _depth: int = 0) -> Unknown | None:
    """The first Unknown found inside `value` (depth-first), or None."""
    if isinstance(value, Unknown):
        return value
    if _depth > 200:
        return Unknown("value nested too deeply")
    if isinstance(value, dict):
        for v in value.values():
            u = first_unknown(v, _depth + 1)
            if u is not None:
                return u
    elif isinstance(value, (list, tuple)):
        for v in value:
            u = first_unknown(v, _depth + 1)
            if u is not None:
                return u
    return None


@dataclass(slots=True)
class Diagnostic:
    """Something the reading layer wants reported (IMS900/IMS901/IMS902), with its location."""

    rule_id: str
    message: str
    file: str | None = None
    line: int | None = None
    end_line: int | None = None
    column: int | None = None
    address: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PartialJson(Unknown):
    """`jsonencode(v)` where `v` has unknown parts: the JSON text is unknown, but its structure
    is not.  The policy layer reads `value` (with Unknowns at the unknown leaves) instead of
    giving up on the whole policy; `jsondecode` of it gives `value` back."""

    value: Any = None


@dataclass(frozen=True, slots=True)
class PartialString(Unknown):
    """A template (heredoc, `templatefile`) whose text is known except for some interpolations:
    `parts` holds the known text and an `Unknown` for each unknown interpolation, in order.
    JSON written this way (a policy template with a bucket name from a variable) can still be
    read: see `decode_partial_json`."""

    parts: tuple = ()


_MARKER = "@@iac-ims-unknown-{}@@"


def decode_partial_json(value: PartialString) -> Any:
    """The JSON a partial template holds, with `Unknown` where its unknown parts are; or the
    template's own `Unknown` when it is not JSON whichever way the unknown parts are read."""
    import json
    import re

    unknowns = [p for p in value.parts if isinstance(p, Unknown)]
    for quoted in (False, True):  # an unknown part inside a JSON string, or standing for a value
        text = "".join(
            p if not isinstance(p, Unknown) else
            (json.dumps(_MARKER.format(unknowns.index(p))) if quoted else _MARKER.format(unknowns.index(p)))
            for p in value.parts)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            continue
        pattern = re.compile(r"@@iac-ims-unknown-(\d+)@@")

        def restore(node: Any, depth: int = 0) -> Any:
            if depth > 200:
                return value
            if isinstance(node, str):
                found = [unknowns[int(i)] for i in pattern.findall(node)]
                if not found:
                    return node
                return found[0] if node == _MARKER.format(unknowns.index(found[0])) else Unknown.combine(found)
            if isinstance(node, list):
                return [restore(v, depth + 1) for v in node]
            if isinstance(node, dict):
                return {k: restore(v, depth + 1) for k, v in node.items()}
            return node

        return PartialJson(value.reason, value.depends_on, value=restore(data))
    return Unknown(value.reason, value.depends_on)
