"""Override files (`override.tf`, `*_override.tf` and their `.tf.json` forms), merged into the
blocks they override as Terraform does
(https://developer.hashicorp.com/terraform/language/files/override):

* an override block merges into the block of the ordinary files with the same header (type and
  labels); several overrides of one block apply in turn, by file name and then position;
* each attribute of the override replaces the original's;
* the nested blocks of a type present in the override replace every nested block of that type
  (a `dynamic "x"` block counts as type `x`); in a resource or data block, `lifecycle` merges
  argument by argument;
* locals merge per name, whichever `locals` block holds them.
"""

from __future__ import annotations

from dataclasses import replace

from iac_ims.terraform.parse import Attribute, Block

_SUFFIXES = (".tf.json", ".tf")


def is_override_file(name: str) -> bool:
    """Whether Terraform reads a file of this name as an override file."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem == "override" or stem.endswith("_override")
    return False


def slot_of(block: Block) -> tuple[str, ...] | None:
    """The header an override is matched by, for the blocks Terraform declares once per module."""
    if block.type in ("variable", "output", "module") and block.labels:
        return (block.type, block.labels[0])
    if block.type in ("resource", "data") and len(block.labels) >= 2:
        return (block.type, block.labels[0], block.labels[1])
    return None


def from_override(attribute: Attribute, override: Block) -> Attribute:
    """An attribute of an override block, remembering the file it is written in."""
    return attribute if attribute.file else replace(attribute, file=override.file)


def merge(base: Block, override: Block) -> Block:
    """`base` with `override` merged into it; the result keeps the base block's location."""
    attributes = dict(base.attributes)
    for name, attribute in override.attributes.items():
        attributes[name] = from_override(attribute, override)
    replaced = {_nested_type(b) for b in override.blocks}
    blocks = [b for b in base.blocks if _nested_type(b) not in replaced]
    blocks.extend(override.blocks)
    if base.type in ("resource", "data"):
        blocks = _merged_lifecycle(base, override, blocks)
    return Block(base.type, base.labels, attributes, blocks, base.file, base.line, base.end_line,
                 directives=[*base.directives, *override.directives])


def merge_all(base: Block, overrides: list[Block]) -> Block:
    for override in overrides:
        base = merge(base, override)
    return base


def _nested_type(block: Block) -> str:
    if block.type == "dynamic" and block.labels:
        return block.labels[0]
    return block.type


def _merged_lifecycle(base: Block, override: Block, blocks: list[Block]) -> list[Block]:
    """`lifecycle` is the exception: its arguments merge one by one."""
    original = next((b for b in base.blocks if b.type == "lifecycle"), None)
    overriding = next((b for b in override.blocks if b.type == "lifecycle"), None)
    if original is None or overriding is None:
        return blocks
    attributes = {**original.attributes,
                  **{n: from_override(a, override) for n, a in overriding.attributes.items()}}
    merged = replace(overriding, attributes=attributes)
    return [merged if b is overriding else b for b in blocks]
