"""Resource instances as the checks see them: blocks whose attributes are evaluated on first use in
the context they belong to, nested blocks with `dynamic` blocks expanded, the address findings
name, and the (key, value) pairs a for_each iterates in Terraform's order."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iac_ims.terraform.attribute_eval import eval_attribute, note_certainty
from iac_ims.terraform.expr_shapes import traversal_name
from iac_ims.terraform.parse import Block
from iac_ims.terraform.values import Unknown, first_unknown, instance_suffix

MAX_INSTANCES = 10_000  # one count/for_each beyond this is treated as unknown


class EvaluatedBlock:
    """A block whose attributes are evaluated on first use, in the context it belongs to."""

    __slots__ = ()

    block: Block
    ctx: Any
    _values: dict[str, tuple[Any, bool]]  # name -> (value, uncertain)

    def has(self, name: str) -> bool:
        return name in self.block.attributes

    def attr(self, name: str, default: Any = None) -> Any:
        """The attribute's value (`default` when the block does not set it).  An error Terraform
        certainly raises in it is reported (IMS903) and the value is an `Invalid` marked reported."""
        if name not in self._values:
            attribute = self.block.attributes.get(name)
            if attribute is None:
                return default
            self._values[name] = eval_attribute(attribute, self.ctx, self.block.file, self.report_address())
        else:
            note_certainty(self.ctx, self._values[name][1])
        return self._values[name][0]

    def attr_line(self, name: str) -> int:
        attribute = self.block.attributes.get(name)
        return attribute.line if attribute else self.block.line

    def attr_file(self, name: str) -> str:
        """The file an attribute is written in: the block's, or an override file's."""
        attribute = self.block.attributes.get(name)
        return (attribute.file if attribute else None) or self.block.file

    def report_address(self) -> str | None:
        """The address findings about this block name."""
        owner = getattr(self.ctx, "owner", None)
        return block_address(owner.address_prefix, getattr(self.ctx, "origin", None)) if owner else None

    @property
    def module_instance(self) -> Any:
        """The module instance the block belongs to (a modules.ModuleInstance; None outside a loaded
        module).  Not annotated as such: modules.py builds on this module, not the other way round."""
        return getattr(self.ctx, "owner", None)


@dataclass(slots=True)
class NestedBlock(EvaluatedBlock):
    """A nested block (`project_role { ... }`), static or produced by `dynamic`."""

    type: str
    block: Block
    ctx: Any
    _values: dict[str, tuple[Any, bool]] = field(default_factory=dict)


@dataclass(slots=True)
class ResourceInstance(EvaluatedBlock):
    mode: str  # "managed" or "data"
    type: str
    name: str
    module_path: str  # "module.a.module.b." or ""
    key: Any  # instance key (int / str) or None
    block: Block
    ctx: Any
    scan_root: Path
    module_calls: tuple[Block, ...]  # the module blocks from the root down to this resource
    count_unknown: Unknown | None = None
    _values: dict[str, tuple[Any, bool]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        base = f"{self.module_path}{'data.' if self.mode == 'data' else ''}{self.type}.{self.name}"
        return base + instance_suffix(self.key)

    def report_address(self) -> str | None:
        return self.address

    @property
    def file(self) -> str:
        return self.block.file

    @property
    def line(self) -> int:
        return self.block.line

    @property
    def end_line(self) -> int:
        return self.block.end_line

    @property
    def directives(self) -> list[tuple[int, str]]:
        return self.block.directives

    def nested(self, type_: str) -> list[NestedBlock]:
        """Nested blocks of a type, with `dynamic "type"` blocks expanded."""
        return expand_nested(self.block, type_, self.ctx)


def block_address(prefix: str, block: Block | None) -> str | None:
    """The address of a resource, data source or module call block (without instance key)."""
    if block is None:
        return None
    if block.type in ("resource", "data") and len(block.labels) >= 2:
        return prefix + ("data." if block.type == "data" else "") + ".".join(block.labels[:2])
    if block.type == "module" and block.labels:
        return f"{prefix}module.{block.labels[0]}"
    return None


def expand_nested(block: Block, type_: str, ctx: Any) -> list[NestedBlock]:
    result = [NestedBlock(type_, b, ctx) for b in block.blocks if b.type == type_]
    for dynamic in block.blocks:
        if dynamic.type != "dynamic" or not dynamic.labels or dynamic.labels[0] != type_:
            continue
        content = next((b for b in dynamic.blocks if b.type == "content"), None)
        if content is None or "for_each" not in dynamic.attributes:
            continue
        iterator_name = type_
        if "iterator" in dynamic.attributes:
            name = traversal_name(dynamic.attributes["iterator"].expr)
            iterator_name = name or type_
        for key, value, uncertain in _dynamic_items(dynamic, ctx):
            result.append(NestedBlock(type_, content, ctx.with_iterator(iterator_name, key, value, uncertain)))
    return result


def _dynamic_items(dynamic: Block, ctx: Any) -> list[tuple[Any, Any, bool]]:
    """(key, value, uncertain) of each block a `dynamic` block generates.  When its for_each is
    unknown: one block of unknown content, so that the IAM layer sees unknown values, not silence
    (its value still names the resource whose instances it iterates, where it does)."""
    owner = getattr(ctx, "owner", None)
    address = block_address(owner.address_prefix, ctx.origin) if owner else None
    collection, uncertain = eval_attribute(dynamic.attributes["for_each"], ctx, dynamic.file, address)
    items = iteration_items(collection)
    if isinstance(items, Unknown):
        return [(items, some_element(collection, items), True)]
    return [(key, value, uncertain) for key, value in items]


def some_element(collection: Any, unknown: Unknown) -> Any:
    """What each element of an unknown for_each collection is known to be."""
    from iac_ims.terraform.semantics import some_of

    some = some_of(collection)
    return some.element if some is not None else unknown



def iteration_items(collection: Any) -> list[tuple[Any, Any]] | Unknown:
    """(key, value) pairs of a for_each collection, Terraform's order; Unknown if not known.
    A resource with for_each is the map of its instances (see modules.ResourceHandle.collection)."""
    from iac_ims.terraform.semantics import as_collection

    collection = as_collection(collection)
    unknown = first_unknown(collection) if not isinstance(collection, dict) else (
        collection if isinstance(collection, Unknown) else None
    )
    if isinstance(collection, Unknown):
        return collection
    if isinstance(collection, dict):
        keys = list(collection.keys())
        if len(keys) > MAX_INSTANCES:
            return Unknown(f"for_each has {len(keys)} elements (more than {MAX_INSTANCES})")
        return [(k, collection[k]) for k in sorted(keys)]
    if isinstance(collection, list):
        if unknown is not None:
            return Unknown.combine([unknown], "for_each over a set with unknown elements")
        if len(collection) > MAX_INSTANCES:
            return Unknown(f"for_each has {len(collection)} elements (more than {MAX_INSTANCES})")
        if not all(isinstance(v, str) for v in collection):
            return Unknown("for_each over a list that is not a set of strings")
        return [(v, v) for v in sorted(set(collection))]
    if collection is None:
        return []
    return Unknown("for_each value is not a map or a set")
