"""Load Terraform modules as Terraform does: root modules, local module calls with their inputs
bound, variables from tfvars, locals, outputs, and count/for_each instances.

The result is provider-agnostic: `ResourceInstance`s (address, type, lazily evaluated
attributes and nested blocks, location, directives) and the diagnostics met on the way.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

from iac_ims.terraform.certainty import Certainty
from iac_ims.terraform.context import MISSING, Budget
from iac_ims.terraform.discover import Exclusions, module_files, tfvars_files, walk_module_dirs
from iac_ims.terraform.expr_shapes import json_interpolation, traversal_name, variable_name
from iac_ims.cache import content_digest
from iac_ims.terraform.parse import (Attribute, Block, JsonExpr, ParsedFile, decode_source, json_syntax_error,
                                     parse_source, read_source_bytes, syntax_error)
from iac_ims.terraform.overrides import from_override, is_override_file, merge_all, slot_of
from iac_ims.terraform.values import Diagnostic, Invalid, Reference, Unknown, first_unknown, instance_suffix

MAX_MODULE_DEPTH = 16
MAX_INSTANCES = 10_000  # one count/for_each beyond this is treated as unknown
MAX_TOTAL_INSTANCES = 20_000  # all instances of a scan (nested module counts multiply)
MAX_READ_BYTES = 1024 * 1024  # file()/templatefile() limit
UNDECLARED_IN = "undeclared_in"  # Diagnostic.details key: the module directory a name was looked for in


# ---- evaluation entry point -------------------------------------------------------------


def eval_expr(expr: Any, ctx: Any) -> Any:
    """Evaluate an expression, whichever syntax it was written in.  What Terraform would certainly
    reject comes back as the plain Unknown it is: only `eval_attribute` knows where to report it."""
    return _settle_invalid(_eval_raw(expr, ctx), isinstance(expr, JsonExpr), _unreported)


def eval_attribute(attribute: Attribute, ctx: Any, file: str | None, address: str | None) -> tuple[Any, bool]:
    """The value of an attribute evaluated where it is written, and whether a real run could see
    another value (certainty.py).  What Terraform certainly rejects is reported there (IMS903): a
    reference to something undeclared (the value goes on with an unknown in its place), and an
    index or key a known collection lacks when nothing it depends on is uncertain (the value is
    then an `Invalid` marked reported, so that its readers do not report it again)."""
    owner = getattr(ctx, "owner", None)
    if owner is None:
        return eval_expr(attribute.expr, ctx), False
    loader = owner.loader
    value, frame = loader.certainty.measure(lambda: _eval_raw(attribute.expr, ctx), ctx.uncertain)
    for invalid in frame.rejected:
        loader.report_invalid(invalid, attribute, file, address, owner.source.directory)

    def settle(invalid: Invalid) -> Unknown:
        if frame.uncertain and not invalid.static:
            return _unreported(invalid)
        loader.report_invalid(invalid, attribute, file, address, owner.source.directory)
        return replace(invalid, reported=True)

    return _settle_invalid(value, isinstance(attribute.expr, JsonExpr), settle), frame.uncertain


def note_certainty(ctx: Any, uncertain: bool) -> None:
    """A value computed earlier is read again: the reader inherits its uncertainty."""
    owner = getattr(ctx, "owner", None)
    if owner is not None:
        owner.loader.certainty.note(uncertain)


def _eval_raw(expr: Any, ctx: Any) -> Any:
    if isinstance(expr, JsonExpr):
        return _eval_json_value(expr.value, ctx, 0)
    from iac_ims.terraform.evaluate import evaluate

    return evaluate(expr, ctx, Budget())


def _unreported(invalid: Invalid) -> Unknown:
    return Unknown(invalid.reason, invalid.depends_on)


def _settle_invalid(value: Any, nested: bool, settle: Callable[[Invalid], Unknown], depth: int = 0) -> Any:
    """`value` with each Invalid not yet reported replaced by `settle(it)`.  An HCL expression
    stops at its first error, so only the whole value can be one; in JSON syntax each string
    is evaluated on its own (`nested`)."""
    if isinstance(value, Invalid) and not value.reported:
        return settle(value)
    if not nested or depth > 100:
        return value
    if isinstance(value, list):
        return [_settle_invalid(v, True, settle, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _settle_invalid(v, True, settle, depth + 1) for k, v in value.items()}
    return value


def _eval_json_value(value: Any, ctx: Any, depth: int) -> Any:
    if depth > 100:
        return Unknown("JSON value nested too deeply")
    if isinstance(value, str):
        if "${" in value or "%{" in value:
            from iac_ims.terraform.template import evaluate_template

            return evaluate_template(value, ctx, Budget())
        return value
    if isinstance(value, list):
        return [_eval_json_value(v, ctx, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _eval_json_value(v, ctx, depth + 1) for k, v in value.items()}
    return value


def report_path(path: Path, base: Path) -> str:
    """`path` as findings name it: relative to `base` when inside it, else absolute; '/'-separated."""
    absolute = Path(os.path.realpath(path)) if not os.path.isabs(path) else Path(path)
    try:
        shown = absolute.relative_to(base).as_posix()
    except ValueError:
        shown = absolute.as_posix()
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# ---- module sources ---------------------------------------------------------------------


# Both match from the newline before a line (the text is given a leading one): a literal first
# character lets the regex engine skip ahead, where `^` with re.M tries every position.
_HEADER = re.compile(
    r'\n[ \t]*(resource|data|variable|output|module|locals|provider)\b[ \t]*'
    r'(?:"([^"\n]*)"|([A-Za-z_][\w-]*))?[ \t]*(?:"([^"\n]*)"|([A-Za-z_][\w-]*))?[ \t]*\{')


_LOOSE_HEADER = re.compile(r"\n[ \t]*(?:resource|data|variable|output|module|locals|provider)\b")
UNCERTAIN = ("?",)  # a header-like line the scan could not read: look inside when in doubt


def lexical_headers(text: str) -> set[tuple[str, ...]]:
    """What a file declares, read from its block headers without parsing it."""
    found: set[tuple[str, ...]] = set()
    text = "\n" + text
    strict = 0
    for match in _HEADER.finditer(text):
        strict += 1
        kind, quoted, bare, quoted2, bare2 = match.groups()
        first = quoted if quoted is not None else bare
        second = quoted2 if quoted2 is not None else bare2
        found.add((kind,) if first is None else (kind, first) if second is None else (kind, first, second))
    if len(_LOOSE_HEADER.findall(text)) != strict:
        found.add(UNCERTAIN)
    return found


@dataclass
class SourceFile:
    """One Terraform file of a module: read at once, parsed only when something needs it."""

    path: Path
    rel: str
    text: str | None
    error: Diagnostic | None
    parsed: ParsedFile | None = None
    digest: str | None = None  # content hash of the bytes read, when the scan cache wants it
    _headers: set[tuple[str, ...]] | None = field(default=None, repr=False)

    @property
    def headers(self) -> set[tuple[str, ...]]:
        """What the file declares, from its block headers; asked only of files not parsed (yet),
        so a file parsed at once is never scanned for them."""
        if self._headers is None:
            if self.rel.endswith(".json"):  # JSON syntax has no block headers to scan: look inside when in doubt
                self._headers = {UNCERTAIN}
            else:
                self._headers = lexical_headers(self.text) if self.text is not None else set()
        return self._headers


class ModuleSource:
    """The files of one module directory, indexed by what they declare.

    Files that can matter to the caller (`must_parse`) and files with module calls are parsed
    at once; the others only when an expression refers to something they declare (a variable,
    a local, an output, a resource), found through their block headers.  Override files are
    read at once, with the files declaring what they override, and merged into those blocks
    whenever they are parsed (overrides.py).  `whole`: the files are the whole directory (not
    one file scanned on its own), so that what none of them declares is certainly undeclared."""

    def __init__(self, directory: Path, files: list[SourceFile], parse: Callable[[SourceFile], ParsedFile],
                 must_parse: Callable[[SourceFile], bool], whole: bool = True):
        self.directory = directory
        self.files = files
        self.whole = whole
        self._parse = parse
        self.variables: dict[str, Block] = {}
        self.locals: dict[str, Attribute] = {}
        self.local_files: dict[str, str] = {}  # the file each local is written in
        self.outputs: dict[str, Block] = {}
        self.module_calls: dict[str, Block] = {}
        self.resources: dict[tuple[str, str], Block] = {}
        self.data: dict[tuple[str, str], Block] = {}
        self.duplicates: list[tuple[Block, Block]] = []  # (ignored duplicate, the block kept)
        self._base = [f for f in files if not is_override_file(f.path.name)]
        self._overrides: dict[tuple[str, ...], list[Block]] = {}
        self._local_overrides: dict[str, tuple[Attribute, str]] = {}
        self._orphans: set[tuple[str, ...]] = set()  # declared only by an override (Terraform rejects it)
        self._complete: bool | None = None  # whether every declaration can be seen (None: not asked yet)
        self._absent: dict[tuple[str, ...], bool] = {}  # header -> every file that may declare it read cleanly
        self._read_overrides(sorted((f for f in files if is_override_file(f.path.name)), key=lambda f: f.path.name))
        self._ensure(lambda f: must_parse(f) or any(h[0] == "module" for h in f.headers))

    def _ensure(self, wanted: Callable[[SourceFile], bool]) -> None:
        for source_file in self._base:
            if source_file.parsed is None and wanted(source_file):
                source_file.parsed = self._parse(source_file)
                for block in source_file.parsed.blocks:
                    self._index(block)

    def provider_blocks(self, name: str) -> list[Block]:
        """The `provider "name"` blocks of this module (the files declaring one are parsed now)."""
        self._ensure(lambda f: ("provider", name) in f.headers or UNCERTAIN in f.headers)
        return [block for source_file in self._base if source_file.parsed is not None
                for block in source_file.parsed.blocks if block.type == "provider" and block.labels[:1] == (name,)]

    def _lookup(self, table: dict, key: Any, header: tuple[str, ...]) -> Any:
        if key not in table:
            self._ensure(lambda f: header in f.headers)
        if key not in table:  # a header the lexical scan could not read
            self._ensure(lambda f: UNCERTAIN in f.headers)
        return table.get(key)

    def variable(self, name: str) -> Block | None:
        return self._lookup(self.variables, name, ("variable", name))

    def local(self, name: str) -> Attribute | None:
        if name not in self.locals:
            self._ensure(lambda f: ("locals",) in f.headers)
        return self._lookup(self.locals, name, ("locals",))

    def output(self, name: str) -> Block | None:
        return self._lookup(self.outputs, name, ("output", name))

    def resource(self, mode: str, type_: str, name: str) -> Block | None:
        table = self.data if mode == "data" else self.resources
        return self._lookup(table, (type_, name), ("data" if mode == "data" else "resource", type_, name))

    def _table(self, slot: tuple[str, ...]) -> tuple[dict, Any]:
        """The index and key of a block header (see overrides.slot_of)."""
        kind = slot[0]
        if kind in ("resource", "data"):
            return (self.resources if kind == "resource" else self.data), (slot[1], slot[2])
        return {"variable": self.variables, "output": self.outputs, "module": self.module_calls}[kind], slot[1]

    def _index(self, block: Block) -> None:
        if block.type == "locals":
            for name, attribute in block.attributes.items():
                self._index_local(name, attribute, block.file)
            return
        slot = slot_of(block)
        if slot is None:
            return
        if slot in self._overrides:
            block = merge_all(block, self._overrides[slot])
        table, key = self._table(slot)
        if key in table and slot not in self._orphans:
            self.duplicates.append((block, table[key]))
            return
        self._orphans.discard(slot)
        table[key] = block

    def _index_local(self, name: str, attribute: Attribute, file: str) -> None:
        if name not in self.locals:
            self.locals[name], self.local_files[name] = self._local_overrides.get(name, (attribute, file))

    # ---- override files

    def _read_overrides(self, files: list[SourceFile]) -> None:
        """Parse the override files, and the files declaring what they override, so that the
        merge is done whichever order the other files are parsed in."""
        for source_file in files:
            if source_file.parsed is None:
                source_file.parsed = self._parse(source_file)
            for block in source_file.parsed.blocks:
                self._add_override(block)
        for slot in list(self._overrides):
            table, key = self._table(slot)
            self._lookup(table, key, slot)
            if key not in table:  # Terraform rejects an override of nothing: read it as a declaration
                self._orphans.add(slot)
                table[key] = merge_all(self._overrides[slot][0], self._overrides[slot][1:])
        for name, (attribute, file) in self._local_overrides.items():
            self.local(name)  # the original, parsed now, takes the override's value
            self.locals[name], self.local_files[name] = attribute, file

    def _add_override(self, block: Block) -> None:
        if block.type == "locals":
            for name, attribute in block.attributes.items():
                self._local_overrides[name] = (from_override(attribute, block), block.file)
            return
        slot = slot_of(block)
        if slot is not None:
            self._overrides.setdefault(slot, []).append(block)

    # ---- certainty of absence

    def certainly_lacks(self, kind: str, key: Any) -> bool:
        """Whether Terraform finds no declaration of `key` (a variable, local, module call,
        resource or data source) in this module, for certain: no OpenTofu file (`.tofu`) that
        might declare it, and none of the files does, by their block headers (a file whose headers
        name it, or cannot all be read, is parsed and looked into). That the files are free of
        syntax errors is settled when the syntax checks end, often in other processes: an IMS903
        for a name this says is undeclared is withdrawn then if a file of the directory has one
        (`Loader.withdraw_uncertain_rejections`)."""
        if self._complete is None:
            self._complete = self.whole and not _has_tofu_files(self.directory)
        if not self._complete:
            return False
        header = _DECLARATION_HEADERS[kind](key)
        if header not in self._absent:  # once known absent, it stays so: every file that may declare it is read
            self._ensure(lambda f: header in f.headers or UNCERTAIN in f.headers)
            self._absent[header] = not any(
                f.error is not None or (f.parsed is not None and f.parsed.error is not None) for f in self.files)
        table = {"variable": self.variables, "local": self.locals, "module": self.module_calls,
                 "resource": self.resources, "data": self.data}[kind]
        return self._absent[header] and key not in table


_DECLARATION_HEADERS: dict[str, Callable[[Any], tuple[str, ...]]] = {
    "variable": lambda name: ("variable", name),
    "local": lambda name: ("locals",),
    "module": lambda name: ("module", name),
    "resource": lambda key: ("resource", *key),
    "data": lambda key: ("data", *key),
}


_TOFU_SUFFIXES = (".tofu", ".tofu.json")


def _has_tofu_files(directory: Path) -> bool:
    """OpenTofu also reads `.tofu` files, which this scan does not."""
    try:
        with os.scandir(directory) as entries:
            return any(e.name.endswith(_TOFU_SUFFIXES) for e in entries)
    except OSError:
        return True


def literal_source(block: Block) -> str | None:
    """A module call's `source` when written as a plain string (Terraform requires that)."""
    attribute = block.attributes.get("source")
    if attribute is None:
        return None
    if isinstance(attribute.expr, JsonExpr):
        return attribute.expr.value if isinstance(attribute.expr.value, str) else None
    value = eval_expr(attribute.expr, _NO_CONTEXT)
    return value if isinstance(value, str) else None


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../")) or source in (".", "..")


# ---- resource instances -----------------------------------------------------------------


class EvaluatedBlock:
    """A block whose attributes are evaluated on first use, in the context it belongs to."""

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
    def module_instance(self) -> "ModuleInstance | None":
        """The module instance the block belongs to (None outside a loaded module)."""
        return getattr(self.ctx, "owner", None)


@dataclass
class NestedBlock(EvaluatedBlock):
    """A nested block (`project_role { ... }`), static or produced by `dynamic`."""

    type: str
    block: Block
    ctx: Any
    _values: dict[str, tuple[Any, bool]] = field(default_factory=dict)


@dataclass
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
        return [(items, _some_element(collection, items), True)]
    return [(key, value, uncertain) for key, value in items]


def _some_element(collection: Any, unknown: Unknown) -> Any:
    """What each element of an unknown for_each collection is known to be."""
    from iac_ims.terraform.evaluate import some_of

    some = some_of(collection)
    return some.element if some is not None else unknown


def direct_variable(instance_or_block: "EvaluatedBlock | Block", attribute_name: str) -> str | None:
    """NAME when the attribute's expression is exactly `var.NAME` (also `(var.NAME)` and
    `"${var.NAME}"`, which Terraform reads as the same value), else None (no such attribute,
    or any other expression: `var.a.b`, `try(var.a, x)`, `coalesce(var.a)` ...).  Works on
    python-hcl2's Lark trees, the lean trees of fastparse and Terraform's JSON syntax alike."""
    block = instance_or_block if isinstance(instance_or_block, Block) else instance_or_block.block
    attribute = block.attributes.get(attribute_name)
    if attribute is None:
        return None
    expr = attribute.expr
    if isinstance(expr, JsonExpr):
        expr = json_interpolation(expr.value)
    return variable_name(expr) if expr is not None else None


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    end_line: int


def input_origin(block: Block, attribute_name: str, calls: tuple[Block, ...]) -> list[Location]:
    """Where the value of an attribute that is exactly a module input (`var.X`) is written: the
    caller's argument, and on up while that argument is itself an input of its module; outermost
    first, the attribute itself last. Empty when the attribute is not such an input (or the block
    is in a root module). `calls`: the module blocks from the root down to the block's module."""
    attribute = block.attributes.get(attribute_name)
    name = direct_variable(block, attribute_name)
    if attribute is None or name is None or not calls:
        return []
    chain = [Location(attribute.file or block.file, attribute.line, attribute.end_line)]
    for call in reversed(calls):  # at most MAX_MODULE_DEPTH: deeper calls are not followed
        argument = call.attributes.get(name)
        if argument is None:
            return []  # the input takes its default: decided in the module itself
        chain.append(Location(argument.file or call.file, argument.line, argument.end_line))
        name = direct_variable(call, name)
        if name is None:
            break
    return list(reversed(chain))


def iteration_items(collection: Any) -> list[tuple[Any, Any]] | Unknown:
    """(key, value) pairs of a for_each collection, Terraform's order; Unknown if not known.
    A resource with for_each is the map of its instances (see ResourceHandle.collection)."""
    from iac_ims.terraform.evaluate import as_collection

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


# ---- the evaluation context of one module instance ------------------------------------


class ModuleContext:
    """EvalContext for the blocks of one module instance (and one count/for_each instance).
    `uncertain`: the instance may not exist in a real run, or its each/count values may differ
    (its count/for_each is unknown or read something uncertain; see certainty.py)."""

    def __init__(self, module: "ModuleInstance", each_key: Any = MISSING, each_value: Any = MISSING,
                 count_index: Any = MISSING, origin: Block | None = None,
                 iterators: dict[str, dict[str, Any]] | None = None, uncertain: bool = False):
        self.owner = module
        self.each_key = each_key
        self.each_value = each_value
        self.count_index = count_index
        self.origin = origin
        self.iterators = iterators or {}
        self._uncertain = uncertain
        self.path_module = module.path_module
        # Terraform runs in the root module's directory: both name it (relative, as path.root renders)
        self.path_root = "."
        self.path_cwd = "."

    @property
    def uncertain(self) -> bool:
        return self._uncertain or self.owner.uncertain

    def derive(self, **changes: Any) -> "ModuleContext":
        values = dict(each_key=self.each_key, each_value=self.each_value, count_index=self.count_index,
                      origin=self.origin, iterators=self.iterators, uncertain=self._uncertain)
        values.update(changes)
        return ModuleContext(self.owner, **values)

    def with_iterator(self, name: str, key: Any, value: Any, uncertain: bool = False) -> "ModuleContext":
        iterators = dict(self.iterators)
        iterators[name] = {"key": key, "value": value}
        return self.derive(iterators=iterators, uncertain=self._uncertain or uncertain)

    def note_uncertain(self) -> None:
        self.owner.loader.certainty.note()

    def reject(self, invalid: Invalid) -> None:
        self.owner.loader.certainty.reject(invalid)

    # EvalContext
    def variable(self, name: str) -> Any:
        return self.owner.variable(name)

    def local(self, name: str) -> Any:
        return self.owner.local(name)

    def module(self, name: str) -> Any:
        return self.owner.child_reference(name)

    def resource(self, type_: str, name: str) -> Any:
        if type_ in self.iterators:
            iterator = self.iterators[type_]
            if name in iterator:
                return iterator[name]
            return Unknown(f"{type_}.{name}: a dynamic iterator has only key and value")
        return self.owner.resource_reference("managed", type_, name)

    def data(self, type_: str, name: str) -> Any:
        return self.owner.resource_reference("data", type_, name)

    def read_file(self, path: str) -> Any:
        self.note_uncertain()  # the file may be generated or changed before a real run
        return self.owner.loader.read_file(path, self.owner, self.origin)


class _NoContext:
    """Context for values that may refer to nothing (module `source`, tfvars)."""

    each_key = each_value = count_index = MISSING
    path_module = path_root = path_cwd = "."

    def _nothing(self, what: str) -> Unknown:
        return Unknown(f"{what} cannot be referred to here", (what,))

    def variable(self, name: str) -> Any:
        return self._nothing(f"var.{name}")

    def local(self, name: str) -> Any:
        return self._nothing(f"local.{name}")

    def module(self, name: str) -> Any:
        return self._nothing(f"module.{name}")

    def resource(self, type_: str, name: str) -> Any:
        return self._nothing(f"{type_}.{name}")

    def data(self, type_: str, name: str) -> Any:
        return self._nothing(f"data.{type_}.{name}")

    def read_file(self, path: str) -> Any:
        return self._nothing(f"file({path})")


_NO_CONTEXT = _NoContext()


# ---- references to resources and modules --------------------------------------------------


class ResourceHandle:
    """`type.name` seen from an expression: known arguments are values, the rest references.

    A resource with count/for_each (`expanded`) is a collection: `collection()` gives its
    instances' handles as Terraform sees them (a list for count, a map for for_each), or, when its
    keys are unknown, a Reference naming it, and `some_instance()` a handle standing for any one
    of its instances (`some`): what every instance has in common, references for the rest."""

    def __init__(self, module: "ModuleInstance", mode: str, type_: str, name: str, block: Block, key: Any = None,
                 expanded: bool = False, some: bool = False):
        self.module = module
        self.mode = mode
        self.type = type_
        self.name = name
        self.block = block
        self.key = key
        self.expanded = expanded  # has count/for_each and no instance chosen yet
        self.some = some  # any one instance of a resource whose instance keys are unknown

    @property
    def address(self) -> str:
        prefix = "data." if self.mode == "data" else ""
        return f"{self.module.address_prefix}{prefix}{self.type}.{self.name}{instance_suffix(self.key)}"

    def _reference(self, attribute: tuple[str, ...]) -> Reference:
        what = "read at plan time" if self.mode == "data" else "known only after apply"
        dotted = ".".join((self.address, *attribute))
        return Reference(f"{dotted} is {what}", (self.address,), address=self.address, attribute=attribute,
                         instance_keys_known=not (self.expanded or self.some))

    def traverse_attr(self, name: str) -> Any:
        if self.expanded:
            return self._reference((name,))
        if name in self.block.attributes and name not in ("count", "for_each", "depends_on", "provider"):
            instance = self.module.instance_of(self.mode, self.type, self.name, self.block, self.key)
            if instance is not None:
                value = instance.attr(name)
                if not isinstance(value, Unknown):
                    return value
        return self._reference((name,))

    def traverse_index(self, key: Any) -> Any:
        if not self.expanded:
            return Unknown(f"{self.address} has no count or for_each to index")
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        return ResourceHandle(self.module, self.mode, self.type, self.name, self.block, key, expanded=False)

    def collection(self) -> Any:
        """The instances as a list (count) or map (for_each) of handles; a Reference to the
        resource (`instance_keys_known=False`) when its keys are unknown; None when the
        resource has neither count nor for_each (it is one object, not a collection).  Built
        once per resource: a hostile file may ask for it in nested loops."""
        if not self.expanded:
            return None
        return self.module.resource_collection(self.mode, self.type, self.name, self._new_collection)

    def _new_collection(self) -> Any:
        unknown, instances = self.module.instance_keys(self.mode, self.type, self.name, self.block)
        if unknown is not None:
            return Reference(f"the instances of {self.address} are not known: {unknown.reason}",
                             (self.address, *(d for d in unknown.depends_on if d != self.address)),
                             address=self.address, instance_keys_known=False)
        handles = [(key, ResourceHandle(self.module, self.mode, self.type, self.name, self.block, key))
                   for key in instances]
        if "count" in self.block.attributes:
            return [handle for _, handle in handles]
        return dict(handles)

    def some_instance(self) -> "ResourceHandle":
        return ResourceHandle(self.module, self.mode, self.type, self.name, self.block, None, some=True)

    def splat(self) -> Any:
        """`r[*]`: the instances of a resource with count; anything else is wrapped, as Terraform
        wraps a value that is not a list."""
        collection = self.collection()
        return collection if isinstance(collection, (list, Unknown)) else [self]


class ModuleHandle:
    """`module.name` seen from an expression: its outputs, evaluated in the child instance.
    A call with count/for_each is a collection of its instances (`collection()`)."""

    def __init__(self, parent: "ModuleInstance", name: str, instances: dict[Any, "ModuleInstance"], expanded: bool):
        self.parent = parent
        self.name = name
        self.instances = instances
        self.expanded = expanded

    def traverse_attr(self, name: str) -> Any:
        if self.expanded:
            return Unknown(f"module.{self.name} has count/for_each: index it first", (f"module.{self.name}",))
        child = self.instances.get(None)
        if child is None:
            return Unknown(f"module.{self.name} was not loaded", (f"module.{self.name}",))
        return child.output(name)

    def traverse_index(self, key: Any) -> Any:
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        child = self.instances.get(key)
        if child is None:
            return Unknown(f"module.{self.name}[{key!r}] does not exist", (f"module.{self.name}",))
        return ModuleHandle(self.parent, self.name, {None: child}, expanded=False)

    def collection(self) -> Any:
        """The instances of a call with count (a list) or for_each (a map); None otherwise."""
        if not self.expanded:
            return None
        self.parent.loader.certainty.note(self.parent.children_uncertain.get(self.name, True))
        return self.parent.child_collection(self.name, self._new_collection)

    def _new_collection(self) -> Any:
        handles = {key: ModuleHandle(self.parent, self.name, {None: child}, expanded=False)
                   for key, child in self.instances.items()}
        block = self.parent.source.module_calls.get(self.name)
        if block is not None and "count" in block.attributes:
            return [handles[key] for key in sorted(handles)]
        return {key: handles[key] for key in sorted(handles)}


# ---- module instances ----------------------------------------------------------------


class ModuleInstance:
    """One instance of a module: a root module (`is_root`: no caller; its variables come from
    defaults, tfvars and --var/--var-file) or a module call's instance (variables from the
    call's arguments).  `uncertain`: the instance may not exist in a real run (see certainty.py)."""

    def __init__(self, loader: "Loader", source: ModuleSource, scan_root: Path, root_dir: Path,
                 address_prefix: str, inputs: dict[str, Callable[[], Any]], calls: tuple[Block, ...],
                 ancestors: tuple[Path, ...], uncertain: bool = False):
        self.loader = loader
        self.source = source
        self.scan_root = scan_root
        self.root_dir = root_dir
        self.address_prefix = address_prefix
        self.inputs = inputs
        self.calls = calls
        self.ancestors = ancestors
        self.is_root = not calls
        self.uncertain = uncertain
        rel = os.path.relpath(source.directory, root_dir)
        self.path_module = "." if rel == "." else rel.replace(os.sep, "/")
        self.base_ctx = ModuleContext(self)
        self._variables: dict[str, tuple[Any, bool]] = {}
        self._locals: dict[str, tuple[Any, bool]] = {}
        self._outputs: dict[str, tuple[Any, bool]] = {}
        self._in_progress: set[str] = set()
        self.children: dict[str, dict[Any, ModuleInstance]] = {}
        self.children_uncertain: dict[str, bool] = {}  # module call -> whether its instances may differ
        self.child_unknown: dict[str, Unknown] = {}
        self.instances: dict[tuple[str, str, str], list[ResourceInstance]] = {}
        self._expansions_uncertain: dict[tuple[str, str, str], bool] = {}
        self._collections: dict[tuple[str, str, str], Any] = {}
        self._expanding: set[tuple[str, str, str]] = set()

    # values
    def _guarded(self, key: str, cache: dict[str, tuple[Any, bool]], compute: Callable[[], Any]) -> Any:
        if key in cache:
            value, uncertain = cache[key]
            self.loader.certainty.note(uncertain)
            return value
        if key in self._in_progress:
            return Unknown(f"{key} refers to itself", (key,))
        if len(self._in_progress) > 200:
            return Unknown(f"{key}: references nested too deeply", (key,))
        self._in_progress.add(key)
        try:
            value, frame = self.loader.certainty.measure(compute)
            cache[key] = (value, frame.uncertain)
        finally:
            self._in_progress.discard(key)
        return cache[key][0]

    def variable(self, name: str) -> Any:
        value = self._guarded(f"var.{name}", self._variables, lambda: self._variable_value(name))
        if self.is_root:  # -var, -var-file, TF_VAR_ or an unseen tfvars file may set it
            self.loader.certainty.note()
        return value

    def _variable_value(self, name: str) -> Any:
        block = self.source.variable(name)
        dependency = f"{self.address_prefix}var.{name}"
        if block is None and self.source.certainly_lacks("variable", name):
            return Invalid(f'reference to undeclared input variable "{name}"', (dependency,), static=True)
        if name in self.inputs:
            value = self.inputs[name]()
            if block is None:
                return value
            if value is not None:
                return _typed(value, block)
        if block is None:
            return Unknown(f"variable \"{name}\" is not declared", (dependency,))
        default = block.attributes.get("default")
        if default is not None:
            return _typed(eval_expr(default.expr, _NO_CONTEXT), block)
        return Unknown(f"variable \"{name}\" has no value", (dependency,))

    def local(self, name: str) -> Any:
        def compute() -> Any:
            attribute = self.source.local(name)
            dependency = f"{self.address_prefix}local.{name}"
            if attribute is None:
                if self.source.certainly_lacks("local", name):
                    return Invalid(f'reference to undeclared local value "{name}"', (dependency,), static=True)
                return Unknown(f"local.{name} is not declared", (dependency,))
            return eval_attribute(attribute, self.base_ctx, self.source.local_files.get(name), None)[0]

        return self._guarded(f"local.{name}", self._locals, compute)

    def output(self, name: str) -> Any:
        def compute() -> Any:
            block = self.source.output(name)
            if block is None or "value" not in block.attributes:
                return Unknown(f"{self.address_prefix}output {name} is not declared",
                               (f"{self.address_prefix.rstrip('.')}.{name}",))
            return eval_attribute(block.attributes["value"], self.base_ctx.derive(origin=block), block.file, None)[0]

        return self._guarded(f"output.{name}", self._outputs, compute)

    def child_reference(self, name: str) -> Any:
        if name in self.child_unknown:
            return self.child_unknown[name]
        instances = self.children.get(name)
        if instances is None:
            dependency = f"{self.address_prefix}module.{name}"
            if name not in self.source.module_calls and self.source.certainly_lacks("module", name):
                return Invalid(f'reference to undeclared module "{name}"', (dependency,), static=True)
            return Unknown(f"module.{name} is not declared or not loaded yet", (dependency,))
        expanded = not (len(instances) == 1 and None in instances)
        return ModuleHandle(self, name, instances, expanded)

    def child_collection(self, name: str, build: Callable[[], Any]) -> Any:
        """A module call's instances as a collection (see ModuleHandle.collection), built once."""
        key = ("module", "", name)
        if key not in self._collections:
            self._collections[key] = build()
        return self._collections[key]

    def resource_reference(self, mode: str, type_: str, name: str) -> Any:
        block = self.source.resource(mode, type_, name)
        prefix = "data." if mode == "data" else ""
        if block is None:
            dependency = f"{self.address_prefix}{prefix}{type_}.{name}"
            if self.source.certainly_lacks("data" if mode == "data" else "resource", (type_, name)):
                what = "data source" if mode == "data" else "resource"
                return Invalid(f'reference to undeclared {what} "{prefix}{type_}.{name}"', (dependency,), static=True)
            return Unknown(f"{dependency} is not declared", (dependency,))
        expanded = "count" in block.attributes or "for_each" in block.attributes
        return ResourceHandle(self, mode, type_, name, block, expanded=expanded)

    # root-module inputs, for the IAM layer
    def unset_variable(self, name: str) -> Block | None:
        """The `variable` block of a root-module variable that has no value from anywhere: no
        default, and not set by a tfvars file Terraform loads, --var-file or --var.  None for a
        variable with a value, an undeclared one, or in a called module (its caller sets it)."""
        block = self._root_variable_block(name)
        return block if block is not None and "default" not in block.attributes else None

    def nullable_unset_variable(self, name: str) -> Block | None:
        """The `variable` block of a root-module variable whose only value is `default = null`
        (nothing sets it); None otherwise (see `unset_variable`)."""
        block = self._root_variable_block(name)
        if block is None or "default" not in block.attributes:
            return None
        return block if eval_expr(block.attributes["default"].expr, _NO_CONTEXT) is None else None

    def _root_variable_block(self, name: str) -> Block | None:
        """A variable of this root module that no tfvars file, --var-file or --var sets."""
        if not self.is_root or name in self.inputs:
            return None
        return self.source.variable(name)

    # instances
    def provider_argument(self, provider: str, name: str, aliased: bool) -> Any:
        """An argument of the root module's `provider` block its resources use (the one without
        `alias`; `aliased`: a resource that names another configuration, which is not resolved:
        unknown when some block sets the argument). None when no block sets it."""
        root = next((m for m in self.loader.root_modules if m.source.directory == self.root_dir), None)
        if root is None:
            return None
        blocks = [b for b in root.source.provider_blocks(provider) if name in b.attributes]
        if aliased:
            return Unknown(f"the {name} of the provider configuration it names", ()) if blocks else None
        for block in blocks:
            if "alias" not in block.attributes:
                return NestedBlock("provider", block, root.base_ctx.derive(origin=block)).attr(name)
        return None

    def instances_of(self, mode: str, type_: str, name: str, block: Block) -> list[ResourceInstance]:
        """The instances of a resource block, expanded once (when first needed)."""
        key = (mode, type_, name)
        if key not in self.instances:
            if key in self._expanding:  # count/for_each that refers to the resource itself
                return []
            self._expanding.add(key)
            try:
                self.instances[key] = self.expand(block, mode)
            finally:
                self._expanding.discard(key)
        return self.instances[key]

    def instance_of(self, mode: str, type_: str, name: str, block: Block, key: Any) -> ResourceInstance | None:
        for instance in self.instances_of(mode, type_, name, block):
            if instance.key == key or instance.count_unknown is not None:
                return instance
        return None

    def instance_keys(self, mode: str, type_: str, name: str, block: Block) -> tuple[Unknown | None, list[Any]]:
        """(why the keys are unknown, or None; the instance keys, in Terraform's order)."""
        key = (mode, type_, name)
        if key in self._expanding:
            return Unknown(f"the count or for_each of {type_}.{name} refers to itself"), []
        instances = self.instances_of(mode, type_, name, block)
        unknown = next((i.count_unknown for i in instances if i.count_unknown is not None), None)
        return unknown, [i.key for i in instances]

    def resource_collection(self, mode: str, type_: str, name: str, build: Callable[[], Any]) -> Any:
        """A resource's instances as a collection (see ResourceHandle.collection), built once;
        the reader inherits the uncertainty of its count/for_each."""
        key = (mode, type_, name)
        collection = self._collections.get(key)
        if collection is None:
            collection = build()
            if key not in self._expanding:  # while it expands, its instances are not known yet
                self._collections[key] = collection
        self.loader.certainty.note(self._expansions_uncertain.get(key, True))
        return collection

    def expand(self, block: Block, mode: str) -> list[ResourceInstance]:
        type_, name = block.labels[0], block.labels[1]
        result = expansion(block, self.base_ctx.derive(origin=block))
        self._expansions_uncertain[(mode, type_, name)] = result.uncertain
        return [ResourceInstance(mode, type_, name, self.address_prefix, key, block, key_ctx, self.scan_root,
                                 self.calls, result.unknown) for key, key_ctx in result.keys]


class Expansion(NamedTuple):
    keys: list[tuple[Any, ModuleContext]]  # (instance key, its context)
    unknown: Unknown | None  # why the count/for_each cannot be resolved (one instance, no key)
    uncertain: bool  # the instances could differ in a real run (certainty.py)


def expansion(block: Block, ctx: ModuleContext) -> Expansion:
    """The instances of a resource or module block.  When the count / for_each cannot be resolved,
    or would exceed the scan's instance budget, the block is one instance without a key, and the
    Unknown says why; a for_each over a resource whose keys are unknown still gives `each.value`
    the handle of its instances."""
    address = block_address(ctx.owner.address_prefix, block)
    if "count" in block.attributes:
        return _count_expansion(block, ctx, address)
    if "for_each" in block.attributes:
        return _for_each_expansion(block, ctx, address)
    return Expansion([(None, ctx)], None, False)


def _count_expansion(block: Block, ctx: ModuleContext, address: str | None) -> Expansion:
    count, uncertain = eval_attribute(block.attributes["count"], ctx, block.file, address)
    if isinstance(count, Unknown):
        unknown = count
    elif isinstance(count, bool) or not isinstance(count, (int, float)) or count < 0 or count != int(count):
        unknown = Unknown(f"count is not a whole number: {count!r}")
    elif count > MAX_INSTANCES or not ctx.owner.loader.take_instances(int(count)):
        unknown = Unknown(f"count {int(count)} is more than the scan can expand")
    else:
        return Expansion([(i, ctx.derive(count_index=i, uncertain=uncertain)) for i in range(int(count))], None,
                         uncertain)
    index = Unknown("count.index of an unknown count", unknown.depends_on)
    return Expansion([(None, ctx.derive(count_index=index, uncertain=True))], unknown, True)


def _for_each_expansion(block: Block, ctx: ModuleContext, address: str | None) -> Expansion:
    collection, uncertain = eval_attribute(block.attributes["for_each"], ctx, block.file, address)
    items = iteration_items(collection)
    if not isinstance(items, Unknown) and not ctx.owner.loader.take_instances(len(items)):
        items = Unknown(f"for_each has {len(items)} elements, more than the scan can expand")
    if isinstance(items, Unknown):
        each = Unknown("each of an unknown for_each", items.depends_on)
        key_ctx = ctx.derive(each_key=each, each_value=_some_element(collection, each), uncertain=True)
        return Expansion([(None, key_ctx)], items, True)
    return Expansion([(k, ctx.derive(each_key=k, each_value=v, uncertain=uncertain)) for k, v in items], None,
                     uncertain)


def _typed(value: Any, block: Block) -> Any:
    """A variable's value converted to its declared type (optional attributes filled in)."""
    type_attribute = block.attributes.get("type")
    if type_attribute is None or isinstance(type_attribute.expr, JsonExpr):
        return value
    from iac_ims.terraform.types import conform

    return conform(value, type_attribute.expr, lambda expr: eval_expr(expr, _NO_CONTEXT))


# ---- the loader --------------------------------------------------------------------------


@dataclass
class LoadResult:
    instances: list[ResourceInstance]
    diagnostics: list[Diagnostic]
    files: list[SourceFile]  # every file read, each once
    remote_modules: list[tuple[str, str, str]]  # (address, source, file)
    other_reads: dict[Path, Any] = field(default_factory=dict)  # file()/templatefile() targets (grows while
    # values are evaluated lazily, after loading)
    module_dirs: list[Path] = field(default_factory=list)  # every module directory loaded
    pending_syntax_checks: Callable[[], None] | None = None  # see Loader.load(defer_syntax_checks=True)
    root_modules: list["ModuleInstance"] = field(default_factory=list)  # each module loaded as a root
    withdrawn: list[Diagnostic] = field(default_factory=list)  # taken out of `diagnostics` by the syntax checks

    def complete_syntax_checks(self) -> None:
        """Wait for the deferred syntax checks; their IMS900s are appended to `diagnostics`, and
        what they make uncertain is moved from `diagnostics` to `withdrawn`."""
        if self.pending_syntax_checks is not None:
            pending, self.pending_syntax_checks = self.pending_syntax_checks, None
            pending()


class Loader:
    """Loads every root module under the scanned paths."""

    def __init__(self, variables: dict[str, Any] | None = None, var_files: Iterable[Path] = (),
                 must_parse: Callable[[str], bool] | None = None, progress: Callable[[int, int], None] | None = None,
                 jobs: int = 1, content_digests: bool = False, report_base: Path | None = None,
                 exclude: Iterable[str] = (), confine_to: Path | None = None):
        """`must_parse(text)`: whether a file can matter to the caller and is parsed at once;
        None parses every file (a full syntax check of the whole tree).  `content_digests`: hash
        each file's bytes as it is read (for the scan cache).  `report_base`: the directory file
        paths are reported relative to (default: the working directory).  `exclude`: globs of
        files and directories under a scanned directory to leave out (discover.Exclusions).
        `confine_to`: read no module directory outside it (a service scanning configurations it
        is sent must not be made to read its own disk); such calls are unknown (IMS901)."""
        self.exclude = Exclusions(exclude)
        self.confine_to = Path(os.path.realpath(confine_to)) if confine_to is not None else None
        self.content_digests = content_digests
        self.report_base = Path(os.path.realpath(report_base if report_base is not None else os.getcwd()))
        self.cli_variables = variables or {}
        self.var_files = [Path(p) for p in var_files]
        self.must_parse = must_parse
        self.progress = progress
        self.jobs = jobs
        self.diagnostics: list[Diagnostic] = []
        self.withdrawn: list[Diagnostic] = []  # reported, then found uncertain (withdraw_uncertain_rejections)
        self._syntax_error_dirs: set[Path] = set()  # directories with a file Terraform cannot parse
        self._diagnostic_keys: set[tuple] = set()
        self.sources: dict[Path, ModuleSource] = {}
        self.source_files: dict[Path, SourceFile] = {}
        self.parsed: dict[Path, ParsedFile] = {}
        self.instances: list[ResourceInstance] = []
        self.remote_modules: list[tuple[str, str, str]] = []
        self.allowed_roots: list[Path] = []
        self._file_cache: dict[Path, Any] = {}
        self._instances_left = MAX_TOTAL_INSTANCES
        self._background: Any = None  # the worker processes of the current load, if any
        self.certainty = Certainty()
        self.root_modules: list[ModuleInstance] = []

    def take_instances(self, count: int) -> bool:
        """Reserve `count` instances from the scan's budget; False when it would run out."""
        if count > self._instances_left:
            return False
        self._instances_left -= count
        return True

    # diagnostics
    def report(self, diagnostic: Diagnostic) -> None:
        key = (diagnostic.rule_id, diagnostic.file, diagnostic.line, diagnostic.message)
        if key not in self._diagnostic_keys:
            self._diagnostic_keys.add(key)
            self.diagnostics.append(diagnostic)

    def report_invalid(self, invalid: Invalid, attribute: Attribute, file: str | None, address: str | None,
                       directory: Path | None = None) -> None:
        """IMS903 where Terraform certainly rejects an attribute (once per file, line and message).
        `directory`: the module whose declarations an undeclared name was looked for in."""
        detail = invalid.reason.removeprefix("error: ")
        details: dict[str, Any] = {"depends_on": list(invalid.depends_on)}
        if invalid.static and directory is not None:
            details[UNDECLARED_IN] = directory
        self.report(Diagnostic(
            "IMS903", f"Terraform rejects `{attribute.name}`: {detail}", file=attribute.file or file,
            line=attribute.line, end_line=attribute.end_line, address=address, details=details))

    def withdraw_uncertain_rejections(self) -> None:
        """An undeclared name is certain only if every file of its module parses: drop the IMS903
        of a name looked for in a directory where a file has a syntax error (IMS900 says so)."""
        self._syntax_error_dirs.update(f.path.parent for f in self.source_files.values() if f.error is not None)
        uncertain = [d for d in self.diagnostics
                     if d.rule_id == "IMS903" and d.details.get(UNDECLARED_IN) in self._syntax_error_dirs]
        if uncertain:
            self.withdrawn.extend(uncertain)
            gone = {id(d) for d in uncertain}
            self.diagnostics[:] = [d for d in self.diagnostics if id(d) not in gone]

    # files
    def rel(self, path: Path, scan_root: Path | None = None) -> str:
        """The path as reported: relative to the report base (the working directory) when inside
        it, else absolute; '/'-separated, always valid UTF-8.  What a CI annotation or a SARIF
        viewer opens from where the tool ran, whatever directory was scanned."""
        return report_path(path, self.report_base)

    def source_file(self, path: Path, scan_root: Path) -> SourceFile:
        if path not in self.source_files:
            rel = self.rel(path, scan_root)
            data, error = read_source_bytes(path, rel)
            text = None
            if data is not None:
                text, error = decode_source(data, rel)
            digest = content_digest(data) if data is not None and self.content_digests else None
            self.source_files[path] = SourceFile(path, rel, text, error, digest=digest)
            if self._background is not None:
                self._background.reached(path)
            if self.progress is not None:
                self.progress(len(self.source_files), len(self.parsed))
        return self.source_files[path]

    def parse(self, source_file: SourceFile) -> ParsedFile:
        if source_file.parsed is None:
            sent = None  # blocks a worker process already built from the same file
            if self._background is not None and source_file.error is None:
                sent = self._background.parsed(source_file.path)
            if sent is None:
                sent = parse_source(source_file.path, source_file.rel, source_file.text, source_file.error)
            source_file.parsed = sent
            source_file.text = None  # the blocks are what is needed from now on
            self.parsed[source_file.path] = source_file.parsed
            if self.progress is not None:
                self.progress(len(self.source_files), len(self.parsed))
            if source_file.parsed.error is not None:
                self.report(source_file.parsed.error)
                self._syntax_error_dirs.add(source_file.path.parent)
        return source_file.parsed

    def parsed_file(self, path: Path, scan_root: Path) -> ParsedFile:
        return self.parse(self.source_file(path, scan_root))

    def _must_parse(self, source_file: SourceFile) -> bool:
        return self.must_parse is None or source_file.error is not None or self.must_parse(source_file.text or "")

    def source(self, directory: Path, scan_root: Path, files: Iterable[Path] | None = None,
               whole: bool = True) -> ModuleSource:
        """The files of a module directory (`files`: all of them, already listed; `whole=False`:
        only the files given, not the whole directory)."""
        if directory not in self.sources:
            paths = module_files(directory) if files is None else tuple(files)
            source_files = [self.source_file(p, scan_root) for p in paths]
            self.sources[directory] = ModuleSource(directory, source_files, self.parse, self._must_parse, whole)
        return self.sources[directory]

    def check_unparsed(self, checked: dict[str, Diagnostic | None]) -> None:
        """Files nothing needed are parsed too, for their syntax errors (IMS900), but their
        blocks are not kept: the report is the same as with every file parsed and kept.
        `checked`: answers already computed in worker processes, by path."""
        for source_file in self.source_files.values():
            if source_file.parsed is None and source_file.error is None and source_file.text is not None:
                key = str(source_file.path)
                error = checked[key] if key in checked else syntax_error(source_file.rel, source_file.text)
                if error is not None:
                    self.report(error)
                    self._syntax_error_dirs.add(source_file.path.parent)

    def report_duplicates(self) -> None:
        """Terraform rejects a second declaration of the same name; only the first is read."""
        for source in self.sources.values():
            for duplicate, kept in source.duplicates:
                name = ".".join((duplicate.type, *duplicate.labels)) if duplicate.type in ("resource", "data") \
                    else f'{duplicate.type} "{duplicate.labels[0]}"'
                name = name.replace("resource.", "", 1)
                self.report(Diagnostic(
                    "IMS900", f"{name} is declared twice (also at {kept.file}:{kept.line}); Terraform rejects "
                    "the configuration, and only the first declaration is read",
                    file=duplicate.file, line=duplicate.line, end_line=duplicate.end_line))

    def _start_background_workers(self, roots: list[Path]) -> Any:
        """Worker processes that parse IAM files ahead of this process and check the syntax of
        the others (see workers.py); None with a single job or a full parse."""
        if self.jobs < 2 or self.must_parse is None:
            return None
        from iac_ims.terraform.workers import BackgroundWorkers

        files = [(path, self.rel(path, root)) for root in roots if root.is_dir()
                 for module_dir in walk_module_dirs(root, self.exclude) for path in module_dir.files]
        return BackgroundWorkers(files, self.jobs, self.must_parse)

    def read_file(self, path: str, module: ModuleInstance, origin: Block | None) -> Any:
        """`file()` and `templatefile()`: only inside the scanned tree; content never reported."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = module.root_dir / candidate
        resolved = Path(os.path.realpath(candidate))
        where = origin.file if origin else None
        line = origin.line if origin else None
        address = block_address(module.address_prefix, origin) if origin is not None and origin.type != "module" else None
        if not any(_within(resolved, root) for root in self.allowed_roots):
            self.report(Diagnostic("IMS902", f"file path {path!r} is outside the scanned tree: not read",
                                   file=where, line=line, end_line=origin.end_line if origin else None,
                                   address=address))
            return Unknown(f"file {path!r} is outside the scanned tree", (f"file({path})",))
        if resolved in self._file_cache:
            return self._file_cache[resolved]
        value: Any
        try:
            if not resolved.is_file():
                raise FileNotFoundError
            if resolved.stat().st_size > MAX_READ_BYTES:
                value = Unknown(f"file {path!r} is larger than {MAX_READ_BYTES} bytes", (f"file({path})",))
            else:
                value = resolved.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            self.report(Diagnostic("IMS902", f"file path {path!r} does not exist or cannot be read",
                                   file=where, line=line, end_line=origin.end_line if origin else None,
                                   address=address))
            value = Unknown(f"file {path!r} is missing or unreadable", (f"file({path})",))
        self._file_cache[resolved] = value
        return value

    # variables for a root module
    def root_variables(self, directory: Path, scan_root: Path) -> dict[str, Callable[[], Any]]:
        values: dict[str, Any] = {}
        for path in [*tfvars_files(directory), *self.var_files]:
            values.update(self._tfvars(path, scan_root))
        values.update(self.cli_variables)
        return {name: (lambda v=value: v) for name, value in values.items()}

    def _tfvars(self, path: Path, scan_root: Path) -> dict[str, Any]:
        if path.name.endswith(".json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except json.JSONDecodeError as exc:
                self.report(json_syntax_error(self.rel(path, scan_root), exc.doc, exc,
                                              "cannot read variables file: JSON syntax error"))
                return {}
            except (OSError, ValueError, RecursionError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                self.report(Diagnostic("IMS900", f"cannot read variables file: {reason}",
                                       file=self.rel(path, scan_root), line=1))
                return {}
            return data if isinstance(data, dict) else {}
        parsed = self.parsed_file(path, scan_root)
        # tfvars are attributes at the top level, which the block parser does not keep
        return {name: eval_expr(attr.expr, _NO_CONTEXT) for name, attr in _top_attributes(parsed).items()}

    # loading
    def load(self, scan_paths: Iterable[Path], defer_syntax_checks: bool = False) -> LoadResult:
        """Everything under the paths.  `defer_syntax_checks`: the syntax checks of files nothing
        depends on are left to `LoadResult.complete_syntax_checks`, so that worker processes
        go on with them while the caller works with the result."""
        roots = [Path(os.path.realpath(p)) for p in scan_paths]
        background = self._background = self._start_background_workers(roots)
        try:
            for scan_path in roots:
                if scan_path.is_file():
                    self._load_single_file(scan_path)
                else:
                    self._load_tree(scan_path)
            self.report_duplicates()
        except BaseException:
            if background:
                background.close()
            raise
        files = [self.source_files[p] for p in sorted(self.source_files)]
        result = LoadResult(self.instances, self.diagnostics, files, self.remote_modules, self._file_cache,
                            list(self.sources), pending_syntax_checks=lambda: self._finish_syntax_checks(background),
                            root_modules=self.root_modules, withdrawn=self.withdrawn)
        if not defer_syntax_checks:
            result.complete_syntax_checks()
        return result

    def _finish_syntax_checks(self, background: Any) -> None:
        try:
            self.check_unparsed(background.results() if background else {})
            self.withdraw_uncertain_rejections()
        finally:
            self._background = None
            if background:
                background.close()

    def _load_single_file(self, path: Path) -> None:
        scan_root = path.parent
        self.allowed_roots.append(scan_root)
        source = self.source(scan_root, scan_root, files=[path], whole=False)
        self._load_root(source, scan_root)

    def _load_tree(self, scan_root: Path) -> None:
        self.allowed_roots.append(scan_root)
        module_dirs = walk_module_dirs(scan_root, self.exclude)
        called: set[Path] = set()
        for module_dir in module_dirs:
            source = self.source(module_dir.path, scan_root, module_dir.files, whole=module_dir.whole)
            for block in source.module_calls.values():
                target = literal_source(block)
                if target and is_local_source(target):
                    resolved = Path(os.path.realpath(module_dir.path / target))
                    if resolved != module_dir.path:
                        called.add(resolved)
        loaded: set[Path] = set()
        for module_dir in module_dirs:
            if module_dir.path not in called:
                self._load_root(self.sources[module_dir.path], scan_root, loaded)
        # directories only reachable through a cycle of calls are loaded as roots too
        for module_dir in module_dirs:
            if module_dir.path not in loaded:
                self._load_root(self.sources[module_dir.path], scan_root, loaded)

    def _load_root(self, source: ModuleSource, scan_root: Path, loaded: set[Path] | None = None) -> None:
        root = ModuleInstance(self, source, scan_root, source.directory, "", self.root_variables(source.directory, scan_root),
                              (), (source.directory,))
        self.root_modules.append(root)
        self._instantiate(root, loaded if loaded is not None else set())

    def _instantiate(self, module: ModuleInstance, loaded: set[Path]) -> None:
        loaded.add(module.source.directory)
        for name in sorted(module.source.module_calls):
            self._call_module(module, name, module.source.module_calls[name], loaded)
        for table, mode in ((module.source.resources, "managed"), (module.source.data, "data")):
            for (type_, name), block in list(table.items()):
                self.instances.extend(module.instances_of(mode, type_, name, block))

    def _call_module(self, parent: ModuleInstance, name: str, block: Block, loaded: set[Path]) -> None:
        address = f"{parent.address_prefix}module.{name}"
        source_text = literal_source(block)
        if source_text is None:
            parent.child_unknown[name] = Unknown(f"{address}: source is not a literal string", (address,))
            return
        if not is_local_source(source_text):
            self.remote_modules.append((address, source_text, block.file))
            parent.child_unknown[name] = Unknown(f"{address} comes from {source_text!r}, which is not fetched", (address,))
            return
        directory = Path(os.path.realpath(parent.source.directory / source_text))
        if self.confine_to is not None and not _within(directory, self.confine_to):
            self.report(Diagnostic("IMS901", f"{address}: source {source_text!r} leads outside the configuration, "
                                   "which this scan does not read", file=block.file, line=block.line,
                                   end_line=block.end_line, address=address))
            parent.child_unknown[name] = Unknown(f"{address} is outside the configuration", (address,))
            return
        if directory in parent.ancestors or len(parent.ancestors) >= MAX_MODULE_DEPTH:
            why = ("module calls itself (directly or through others)" if directory in parent.ancestors
                   else f"modules are nested more than {MAX_MODULE_DEPTH} deep")
            self.report(Diagnostic("IMS901", f"{address}: {why}; not followed",
                                   file=block.file, line=block.line, end_line=block.end_line, address=address))
            parent.child_unknown[name] = Unknown(f"{address} is recursive", (address,))
            return
        if not module_files(directory):
            self._report_missing_module(block, address, source_text, directory)
            parent.child_unknown[name] = Unknown(f"{address} source {source_text!r} not found", (address,))
            return
        source = self.source(directory, parent.scan_root)
        self._report_unexpected_arguments(block, address, source_text, source)
        result = expansion(block, parent.base_ctx.derive(origin=block))
        self._report_unknown_module_keys(block, address, result.unknown)
        parent.children[name] = {}
        parent.children_uncertain[name] = result.uncertain
        for key, key_ctx in result.keys:
            instance_address = f"{address}{instance_suffix(key)}"
            inputs = {arg: (lambda a=attr, c=key_ctx, where=instance_address: eval_attribute(a, c, block.file, where)[0])
                      for arg, attr in _module_arguments(block).items()}
            child = ModuleInstance(self, source, parent.scan_root, parent.root_dir, f"{instance_address}.", inputs,
                                   (*parent.calls, block), (*parent.ancestors, directory), uncertain=key_ctx.uncertain)
            parent.children[name][key] = child
            self._instantiate(child, loaded)

    def _report_missing_module(self, block: Block, address: str, source_text: str, directory: Path) -> None:
        """A local module directory with no Terraform file.  Terraform rejects one that does not
        exist; one that exists is read as an empty module, which Terraform rejects only when the
        call passes it an argument (an empty module declares none)."""
        where = block.attributes.get("source")
        arguments = sorted(_module_arguments(block))
        rule = "IMS903"
        if not directory.exists():
            message = f"{address}: local module {source_text!r} does not exist"
        elif not directory.is_dir():
            message = f"{address}: local module {source_text!r} is not a directory"
        elif _has_tofu_files(directory):
            rule, message = "IMS901", (f"{address}: local module {source_text!r} holds only OpenTofu files (.tofu), "
                                       "which this scan does not read")
        elif arguments:
            message = (f"{address}: local module {source_text!r} holds no Terraform file (.tf or .tf.json); "
                       f"as an empty module it takes no argument {arguments[0]!r}")
        else:
            rule, message = "IMS901", f"{address}: local module {source_text!r} holds no Terraform file (.tf or .tf.json)"
        self.report(Diagnostic(rule, message, file=block.file, line=where.line if where else block.line,
                               end_line=where.end_line if where else block.end_line, address=address))

    def _report_unexpected_arguments(self, block: Block, address: str, source_text: str, source: ModuleSource) -> None:
        """Terraform rejects a module call argument that the module declares no variable for."""
        for argument, attribute in _module_arguments(block).items():
            if source.variable(argument) is None and source.certainly_lacks("variable", argument):
                self.report(Diagnostic(
                    "IMS903", f"{address}: module {source_text!r} declares no variable \"{argument}\", so Terraform "
                    "rejects the argument", file=attribute.file or block.file, line=attribute.line,
                    end_line=attribute.end_line, address=address, details={UNDECLARED_IN: source.directory}))

    def _report_unknown_module_keys(self, block: Block, address: str, unknown: Unknown | None) -> None:
        if unknown is not None:
            what = "count" if "count" in block.attributes else "for_each"
            self.report(Diagnostic("IMS901", f"{address}: {what} cannot be resolved ({unknown.reason}); "
                                   "the module is checked once", file=block.file, line=block.line,
                                   end_line=block.end_line, address=address))


MODULE_META_ARGUMENTS = frozenset(("source", "version", "count", "for_each", "providers", "depends_on"))


def _module_arguments(block: Block) -> dict[str, Attribute]:
    """The arguments of a module call that set the module's variables."""
    return {name: attribute for name, attribute in block.attributes.items() if name not in MODULE_META_ARGUMENTS}


def _top_attributes(parsed: ParsedFile) -> dict[str, Attribute]:
    """Top-level attributes of a tfvars file."""
    return parsed.top_attributes
