"""Load Terraform modules as Terraform does: root modules, local module calls with their inputs
bound, variables from tfvars, locals, outputs, and count/for_each instances.

The result is provider-agnostic: `ResourceInstance`s (address, type, lazily evaluated
attributes and nested blocks, location, directives) and the diagnostics met on the way.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from iac_ims.terraform.context import MISSING, Budget
from iac_ims.terraform.discover import module_files, tfvars_files, walk_module_dirs
from iac_ims.cache import content_digest
from iac_ims.terraform.parse import (Attribute, Block, JsonExpr, ParsedFile, decode_source, parse_source,
                                     read_source_bytes, syntax_error)
from iac_ims.terraform.values import Diagnostic, Reference, Unknown, first_unknown

MAX_MODULE_DEPTH = 16
MAX_INSTANCES = 10_000  # one count/for_each beyond this is treated as unknown
MAX_TOTAL_INSTANCES = 20_000  # all instances of a scan (nested module counts multiply)
MAX_READ_BYTES = 1024 * 1024  # file()/templatefile() limit


# ---- evaluation entry point -------------------------------------------------------------


def eval_expr(expr: Any, ctx: Any) -> Any:
    """Evaluate an attribute's expression, whichever syntax it was written in."""
    if isinstance(expr, JsonExpr):
        return _eval_json_value(expr.value, ctx, 0)
    from iac_ims.terraform.evaluate import evaluate

    return evaluate(expr, ctx, Budget())


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


# ---- module sources ---------------------------------------------------------------------


# Both match from the newline before a line (the text is given a leading one): a literal first
# character lets the regex engine skip ahead, where `^` with re.M tries every position.
_HEADER = re.compile(
    r'\n[ \t]*(resource|data|variable|output|module|locals)\b[ \t]*'
    r'(?:"([^"\n]*)"|([A-Za-z_][\w-]*))?[ \t]*(?:"([^"\n]*)"|([A-Za-z_][\w-]*))?[ \t]*\{')


_LOOSE_HEADER = re.compile(r"\n[ \t]*(?:resource|data|variable|output|module|locals)\b")
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
            self._headers = lexical_headers(self.text) if self.text is not None else set()
        return self._headers


class ModuleSource:
    """The files of one module directory, indexed by what they declare.

    Files that can matter to the caller (`must_parse`) and files with module calls are parsed
    at once; the others only when an expression refers to something they declare (a variable,
    a local, an output, a resource), found through their block headers."""

    def __init__(self, directory: Path, files: list[SourceFile], parse: Callable[[SourceFile], ParsedFile],
                 must_parse: Callable[[SourceFile], bool]):
        self.directory = directory
        self.files = files
        self._parse = parse
        self.variables: dict[str, Block] = {}
        self.locals: dict[str, Attribute] = {}
        self.outputs: dict[str, Block] = {}
        self.module_calls: dict[str, Block] = {}
        self.resources: dict[tuple[str, str], Block] = {}
        self.data: dict[tuple[str, str], Block] = {}
        self.duplicates: list[tuple[Block, Block]] = []  # (ignored duplicate, the block kept)
        self._ensure(lambda f: must_parse(f) or any(h[0] == "module" for h in f.headers))

    def _ensure(self, wanted: Callable[[SourceFile], bool]) -> None:
        for source_file in self.files:
            if source_file.parsed is None and wanted(source_file):
                source_file.parsed = self._parse(source_file)
                for block in source_file.parsed.blocks:
                    self._index(block)

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

    def _slot(self, block: Block) -> tuple[dict | None, Any]:
        """Where a block is indexed, for the blocks Terraform allows once per module."""
        labels = block.labels
        if block.type in ("variable", "output", "module") and labels:
            table = {"variable": self.variables, "output": self.outputs, "module": self.module_calls}[block.type]
            return table, labels[0]
        if block.type in ("resource", "data") and len(labels) >= 2:
            return (self.resources if block.type == "resource" else self.data), (labels[0], labels[1])
        return None, None

    def unparsed(self) -> list[SourceFile]:
        return [f for f in self.files if f.parsed is None]

    def _index(self, block: Block) -> None:
        table, key = self._slot(block)
        if table is not None and key in table:
            self.duplicates.append((block, table[key]))
        labels = block.labels
        if block.type == "variable" and labels:
            self.variables.setdefault(labels[0], block)
        elif block.type == "locals":
            for name, attribute in block.attributes.items():
                self.locals.setdefault(name, attribute)
        elif block.type == "output" and labels:
            self.outputs.setdefault(labels[0], block)
        elif block.type == "module" and labels:
            self.module_calls.setdefault(labels[0], block)
        elif block.type == "resource" and len(labels) >= 2:
            self.resources.setdefault((labels[0], labels[1]), block)
        elif block.type == "data" and len(labels) >= 2:
            self.data.setdefault((labels[0], labels[1]), block)


def literal_source(block: Block) -> str | None:
    """A module call's `source` when written as a plain string (Terraform requires that)."""
    attribute = block.attributes.get("source")
    if attribute is None:
        return None
    if isinstance(attribute.expr, JsonExpr):
        return attribute.expr.value if isinstance(attribute.expr.value, str) else None
    value = eval_expr(attribute.expr, _NO_CONTEXT)
    return value if isinstance(value, str) else None


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../")) or source in (".", "..")


# ---- resource instances -----------------------------------------------------------------


class EvaluatedBlock:
    """A block whose attributes are evaluated on first use, in the context it belongs to."""

    block: Block
    ctx: Any
    _values: dict[str, Any]

    def has(self, name: str) -> bool:
        return name in self.block.attributes

    def attr(self, name: str, default: Any = None) -> Any:
        if name not in self._values:
            attribute = self.block.attributes.get(name)
            self._values[name] = default if attribute is None else eval_expr(attribute.expr, self.ctx)
        return self._values[name]

    def attr_line(self, name: str) -> int:
        attribute = self.block.attributes.get(name)
        return attribute.line if attribute else self.block.line


@dataclass
class NestedBlock(EvaluatedBlock):
    """A nested block (`project_role { ... }`), static or produced by `dynamic`."""

    type: str
    block: Block
    ctx: Any
    _values: dict[str, Any] = field(default_factory=dict)


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
    _values: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        base = f"{self.module_path}{'data.' if self.mode == 'data' else ''}{self.type}.{self.name}"
        return base + instance_suffix(self.key)

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


def instance_suffix(key: Any) -> str:
    if key is None:
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    return f"[{json.dumps(key)}]"


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
            name = _traversal_name(dynamic.attributes["iterator"].expr)
            iterator_name = name or type_
        collection = eval_expr(dynamic.attributes["for_each"].expr, ctx)
        items = iteration_items(collection)
        if isinstance(items, Unknown):
            # One block of unknown content: the IAM layer sees unknown values, not silence.
            result.append(NestedBlock(type_, content, ctx.with_iterator(iterator_name, items, items)))
            continue
        for key, value in items:
            result.append(NestedBlock(type_, content, ctx.with_iterator(iterator_name, key, value)))
    return result


def _traversal_name(expr: Any) -> str | None:
    """`iterator = role` names an identifier, not a value."""
    from lark import Token, Tree

    node = expr
    while isinstance(node, Tree) and len(node.children) == 1:
        node = node.children[0]
    if isinstance(node, Token):
        return str(node)
    if isinstance(node, Tree) and node.data == "identifier":
        return str(node.children[0])
    return None


def iteration_items(collection: Any) -> list[tuple[Any, Any]] | Unknown:
    """(key, value) pairs of a for_each collection, Terraform's order; Unknown if not known."""
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
    """EvalContext for the blocks of one module instance (and one count/for_each instance)."""

    def __init__(self, module: "ModuleInstance", each_key: Any = MISSING, each_value: Any = MISSING,
                 count_index: Any = MISSING, origin: Block | None = None,
                 iterators: dict[str, dict[str, Any]] | None = None):
        self.owner = module
        self.each_key = each_key
        self.each_value = each_value
        self.count_index = count_index
        self.origin = origin
        self.iterators = iterators or {}
        self.path_module = module.path_module
        self.path_root = "."
        self.path_cwd = "."

    def derive(self, **changes: Any) -> "ModuleContext":
        values = dict(each_key=self.each_key, each_value=self.each_value, count_index=self.count_index,
                      origin=self.origin, iterators=self.iterators)
        values.update(changes)
        return ModuleContext(self.owner, **values)

    def with_iterator(self, name: str, key: Any, value: Any) -> "ModuleContext":
        iterators = dict(self.iterators)
        iterators[name] = {"key": key, "value": value}
        return self.derive(iterators=iterators)

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
    """`type.name` seen from an expression: known arguments are values, the rest references."""

    def __init__(self, module: "ModuleInstance", mode: str, type_: str, name: str, block: Block, key: Any = None,
                 expanded: bool = False):
        self.module = module
        self.mode = mode
        self.type = type_
        self.name = name
        self.block = block
        self.key = key
        self.expanded = expanded  # has count/for_each and no instance chosen yet

    @property
    def address(self) -> str:
        prefix = "data." if self.mode == "data" else ""
        return f"{self.module.address_prefix}{prefix}{self.type}.{self.name}{instance_suffix(self.key)}"

    def _reference(self, attribute: tuple[str, ...]) -> Reference:
        what = "read at plan time" if self.mode == "data" else "known only after apply"
        dotted = ".".join((self.address, *attribute))
        return Reference(f"{dotted} is {what}", (self.address,), address=self.address, attribute=attribute,
                         instance_keys_known=not self.expanded)

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


class ModuleHandle:
    """`module.name` seen from an expression: its outputs, evaluated in the child instance."""

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


# ---- module instances ----------------------------------------------------------------


class ModuleInstance:
    def __init__(self, loader: "Loader", source: ModuleSource, scan_root: Path, root_dir: Path,
                 address_prefix: str, inputs: dict[str, Callable[[], Any]], calls: tuple[Block, ...],
                 ancestors: tuple[Path, ...]):
        self.loader = loader
        self.source = source
        self.scan_root = scan_root
        self.root_dir = root_dir
        self.address_prefix = address_prefix
        self.inputs = inputs
        self.calls = calls
        self.ancestors = ancestors
        rel = os.path.relpath(source.directory, root_dir)
        self.path_module = "." if rel == "." else rel.replace(os.sep, "/")
        self.base_ctx = ModuleContext(self)
        self._variables: dict[str, Any] = {}
        self._locals: dict[str, Any] = {}
        self._outputs: dict[str, Any] = {}
        self._in_progress: set[str] = set()
        self.children: dict[str, dict[Any, ModuleInstance]] = {}
        self.child_unknown: dict[str, Unknown] = {}
        self.instances: dict[tuple[str, str, str], list[ResourceInstance]] = {}
        self._expanding: set[tuple[str, str, str]] = set()

    # values
    def _guarded(self, key: str, cache: dict[str, Any], compute: Callable[[], Any]) -> Any:
        if key in cache:
            return cache[key]
        if key in self._in_progress:
            return Unknown(f"{key} refers to itself", (key,))
        if len(self._in_progress) > 200:
            return Unknown(f"{key}: references nested too deeply", (key,))
        self._in_progress.add(key)
        try:
            value = compute()
        finally:
            self._in_progress.discard(key)
        cache[key] = value
        return value

    def variable(self, name: str) -> Any:
        return self._guarded(f"var.{name}", self._variables, lambda: self._variable_value(name))

    def _variable_value(self, name: str) -> Any:
        block = self.source.variable(name)
        if name in self.inputs:
            value = self.inputs[name]()
            if block is None:
                return value
            if value is not None:
                return _typed(value, block)
        if block is None:
            return Unknown(f"variable \"{name}\" is not declared", (f"{self.address_prefix}var.{name}",))
        default = block.attributes.get("default")
        if default is not None:
            return _typed(eval_expr(default.expr, _NO_CONTEXT), block)
        return Unknown(f"variable \"{name}\" has no value", (f"{self.address_prefix}var.{name}",))

    def local(self, name: str) -> Any:
        def compute() -> Any:
            attribute = self.source.local(name)
            if attribute is None:
                return Unknown(f"local.{name} is not declared", (f"{self.address_prefix}local.{name}",))
            return eval_expr(attribute.expr, self.base_ctx)

        return self._guarded(f"local.{name}", self._locals, compute)

    def output(self, name: str) -> Any:
        def compute() -> Any:
            block = self.source.output(name)
            if block is None or "value" not in block.attributes:
                return Unknown(f"{self.address_prefix}output {name} is not declared",
                               (f"{self.address_prefix.rstrip('.')}.{name}",))
            return eval_expr(block.attributes["value"].expr, self.base_ctx.derive(origin=block))

        return self._guarded(f"output.{name}", self._outputs, compute)

    def child_reference(self, name: str) -> Any:
        if name in self.child_unknown:
            return self.child_unknown[name]
        instances = self.children.get(name)
        if instances is None:
            return Unknown(f"module.{name} is not declared", (f"{self.address_prefix}module.{name}",))
        expanded = not (len(instances) == 1 and None in instances)
        return ModuleHandle(self, name, instances, expanded)

    def resource_reference(self, mode: str, type_: str, name: str) -> Any:
        block = self.source.resource(mode, type_, name)
        prefix = "data." if mode == "data" else ""
        if block is None:
            return Unknown(f"{self.address_prefix}{prefix}{type_}.{name} is not declared",
                           (f"{self.address_prefix}{prefix}{type_}.{name}",))
        expanded = "count" in block.attributes or "for_each" in block.attributes
        return ResourceHandle(self, mode, type_, name, block, expanded=expanded)

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

    # expansion
    def expand(self, block: Block, mode: str) -> list[ResourceInstance]:
        type_, name = block.labels[0], block.labels[1]
        keys, unknown = expansion(block, self.base_ctx.derive(origin=block), self.loader)
        return [ResourceInstance(mode, type_, name, self.address_prefix, key, block, key_ctx, self.scan_root,
                                 self.calls, unknown) for key, key_ctx in keys]


def expansion(block: Block, ctx: ModuleContext, loader: "Loader") -> tuple[list[tuple[Any, Any]], Unknown | None]:
    """(instance key, its context) for each instance of a resource or module block.  When the
    count / for_each cannot be resolved, or would exceed the scan's instance budget, the block is
    one instance without a key, and the Unknown says why."""
    unknown: Unknown | None = None
    if "count" in block.attributes:
        count = eval_expr(block.attributes["count"].expr, ctx)
        if isinstance(count, Unknown):
            unknown = count
        elif isinstance(count, bool) or not isinstance(count, (int, float)) or count < 0 or count != int(count):
            unknown = Unknown(f"count is not a whole number: {count!r}")
        elif count > MAX_INSTANCES or not loader.take_instances(int(count)):
            unknown = Unknown(f"count {int(count)} is more than the scan can expand")
        else:
            return [(i, ctx.derive(count_index=i)) for i in range(int(count))], None
        return [(None, ctx.derive(count_index=Unknown("count.index of an unknown count", unknown.depends_on)))], unknown
    if "for_each" in block.attributes:
        items = iteration_items(eval_expr(block.attributes["for_each"].expr, ctx))
        if not isinstance(items, Unknown) and not loader.take_instances(len(items)):
            items = Unknown(f"for_each has {len(items)} elements, more than the scan can expand")
        if isinstance(items, Unknown):
            each = Unknown("each of an unknown for_each", items.depends_on)
            return [(None, ctx.derive(each_key=each, each_value=each))], items
        return [(k, ctx.derive(each_key=k, each_value=v)) for k, v in items], None
    return [(None, ctx)], None


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

    def complete_syntax_checks(self) -> None:
        """Wait for the deferred syntax checks; their IMS900s are appended to `diagnostics`."""
        if self.pending_syntax_checks is not None:
            pending, self.pending_syntax_checks = self.pending_syntax_checks, None
            pending()


class Loader:
    """Loads every root module under the scanned paths."""

    def __init__(self, variables: dict[str, Any] | None = None, var_files: Iterable[Path] = (),
                 must_parse: Callable[[str], bool] | None = None, progress: Callable[[int, int], None] | None = None,
                 jobs: int = 1, content_digests: bool = False):
        """`must_parse(text)`: whether a file can matter to the caller and is parsed at once;
        None parses every file (a full syntax check of the whole tree).  `content_digests`: hash
        each file's bytes as it is read (for the scan cache)."""
        self.content_digests = content_digests
        self.cli_variables = variables or {}
        self.var_files = [Path(p) for p in var_files]
        self.must_parse = must_parse
        self.progress = progress
        self.jobs = jobs
        self.diagnostics: list[Diagnostic] = []
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

    # files
    def rel(self, path: Path, scan_root: Path) -> str:
        """The path as reported: relative to the scan root, '/'-separated, always valid UTF-8."""
        relative = os.path.relpath(path, scan_root).replace(os.sep, "/")
        return relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

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
        return source_file.parsed

    def parsed_file(self, path: Path, scan_root: Path) -> ParsedFile:
        return self.parse(self.source_file(path, scan_root))

    def _must_parse(self, source_file: SourceFile) -> bool:
        return self.must_parse is None or source_file.error is not None or self.must_parse(source_file.text or "")

    def source(self, directory: Path, scan_root: Path, files: Iterable[Path] | None = None) -> ModuleSource:
        if directory not in self.sources:
            paths = module_files(directory) if files is None else tuple(files)
            source_files = [self.source_file(p, scan_root) for p in paths]
            self.sources[directory] = ModuleSource(directory, source_files, self.parse, self._must_parse)
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
                 for module_dir in walk_module_dirs(root) for path in module_dir.files]
        return BackgroundWorkers(files, self.jobs, self.must_parse)

    def read_file(self, path: str, module: ModuleInstance, origin: Block | None) -> Any:
        """`file()` and `templatefile()`: only inside the scanned tree; content never reported."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = module.root_dir / candidate
        resolved = Path(os.path.realpath(candidate))
        where = origin.file if origin else None
        line = origin.line if origin else None
        address = None
        if origin is not None and origin.type in ("resource", "data") and len(origin.labels) >= 2:
            address = module.address_prefix + ("data." if origin.type == "data" else "") + ".".join(origin.labels[:2])
        if not any(resolved == root or root in resolved.parents for root in self.allowed_roots):
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
                            list(self.sources), pending_syntax_checks=lambda: self._finish_syntax_checks(background))
        if not defer_syntax_checks:
            result.complete_syntax_checks()
        return result

    def _finish_syntax_checks(self, background: Any) -> None:
        try:
            self.check_unparsed(background.results() if background else {})
        finally:
            self._background = None
            if background:
                background.close()

    def _load_single_file(self, path: Path) -> None:
        scan_root = path.parent
        self.allowed_roots.append(scan_root)
        source = self.source(scan_root, scan_root, files=[path])
        self._load_root(source, scan_root)

    def _load_tree(self, scan_root: Path) -> None:
        self.allowed_roots.append(scan_root)
        module_dirs = walk_module_dirs(scan_root)
        called: set[Path] = set()
        for module_dir in module_dirs:
            source = self.source(module_dir.path, scan_root, module_dir.files)
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
        if directory in parent.ancestors or len(parent.ancestors) >= MAX_MODULE_DEPTH:
            why = ("module calls itself (directly or through others)" if directory in parent.ancestors
                   else f"modules are nested more than {MAX_MODULE_DEPTH} deep")
            self.report(Diagnostic("IMS901", f"{address}: {why}; not followed",
                                   file=block.file, line=block.line, end_line=block.end_line, address=address))
            parent.child_unknown[name] = Unknown(f"{address} is recursive", (address,))
            return
        if not module_files(directory):
            self.report(Diagnostic("IMS901", f"{address}: local module {source_text!r} has no Terraform files",
                                   file=block.file, line=block.line, end_line=block.end_line, address=address))
            parent.child_unknown[name] = Unknown(f"{address} source {source_text!r} not found", (address,))
            return
        source = self.source(directory, parent.scan_root)
        ctx = parent.base_ctx.derive(origin=block)
        keys: list[tuple[Any, Any]] = [(None, ctx)]
        if "count" in block.attributes or "for_each" in block.attributes:
            keys = self._module_keys(block, ctx, address)
        parent.children[name] = {}
        for key, key_ctx in keys:
            inputs = {
                arg: (lambda a=attr, c=key_ctx: eval_expr(a.expr, c))
                for arg, attr in block.attributes.items()
                if arg not in ("source", "version", "count", "for_each", "providers", "depends_on")
            }
            child = ModuleInstance(self, source, parent.scan_root, parent.root_dir,
                                   f"{address}{instance_suffix(key)}.", inputs, (*parent.calls, block),
                                   (*parent.ancestors, directory))
            parent.children[name][key] = child
            self._instantiate(child, loaded)

    def _module_keys(self, block: Block, ctx: ModuleContext, address: str) -> list[tuple[Any, Any]]:
        keys, unknown = expansion(block, ctx, self)
        if unknown is not None:
            what = "count" if "count" in block.attributes else "for_each"
            self.report(Diagnostic("IMS901", f"{address}: {what} cannot be resolved ({unknown.reason}); "
                                   "the module is checked once", file=block.file, line=block.line,
                                   end_line=block.end_line, address=address))
        return keys


def _top_attributes(parsed: ParsedFile) -> dict[str, Attribute]:
    """Top-level attributes of a tfvars file."""
    return parsed.top_attributes
