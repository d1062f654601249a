"""The files of a module directory and what they declare (`ModuleSource`), read lazily through their
block headers, with override files merged; and a module call's `source`: whether it is a local
path, and whether a resolved path stays within a root the scan may read."""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path
from sys import intern
from typing import Any, Callable, Union

from iac_ims.terraform.attribute_eval import NO_CONTEXT, eval_expr
from iac_ims.terraform.overrides import from_override, is_override_file, merge_all, slot_of
from iac_ims.terraform.parse import Attribute, Block, JsonExpr, ParsedFile
from iac_ims.terraform.values import Diagnostic


# Both match from the newline before a line (the text is given a leading one): a literal first
# character lets the regex engine skip ahead, where `^` with re.M tries every position.
_HEADER = re.compile(
    r'\n[ \t]*(resource|data|variable|output|module|locals|provider)\b[ \t]*'
    r'(?:"([^"\n]*)"|([A-Za-z_][\w-]*))?[ \t]*(?:"([^"\n]*)"|([A-Za-z_][\w-]*))?[ \t]*\{')


_KINDS = {kind: kind for kind in ("resource", "data", "variable", "output", "module", "locals", "provider")}
_LOOSE_HEADER = re.compile(r"\n[ \t]*(?:resource|data|variable|output|module|locals|provider)\b")
UNCERTAIN = ("?",)  # a header-like line the scan could not read: look inside when in doubt
Headers = Union[tuple[tuple[str, ...], ...], frozenset[tuple[str, ...]]]  # what a file declares
_SMALL = 32  # up to this many headers, a tuple (see lexical_headers)


def lexical_headers(text: str) -> Headers:
    """What a file declares, read from its block headers without parsing it."""
    found: set[tuple[str, ...]] = set()
    text = "\n" + text
    strict = 0
    for match in _HEADER.finditer(text):
        strict += 1
        kind, quoted, bare, quoted2, bare2 = match.groups()
        kind = _KINDS[kind]
        first = quoted if quoted is not None else bare
        second = quoted2 if quoted2 is not None else bare2
        if first is None:
            found.add((kind,))
        elif second is None:
            found.add((kind, first))
        else:  # the headers of every unparsed file stay in memory: one string per resource type
            found.add((kind, intern(first), second))
    if len(_LOOSE_HEADER.findall(text)) != strict:
        found.add(UNCERTAIN)
    # kept for every unparsed file: a small set takes several times the memory of a tuple, and
    # looking through a few entries is as quick as hashing
    return tuple(found) if len(found) <= _SMALL else frozenset(found)


class SourceFile:
    """One Terraform file of a module: read at once, parsed only when something needs it.

    Most files of a large repository are never parsed (nothing an IAM block depends on is in
    them): their text is kept compressed (`set_aside`) until it is parsed or syntax-checked,
    so that what the scan holds grows with the Terraform it reads, not with the repository."""

    __slots__ = ("path", "rel", "error", "parsed", "digest", "_text", "_packed", "_headers")

    def __init__(self, path: Path, rel: str, text: str | None, error: Diagnostic | None,
                 parsed: ParsedFile | None = None, digest: str | None = None):
        self.path = path
        self.rel = rel
        self.error = error
        self.parsed = parsed
        self.digest = digest  # content hash of the bytes read, when the scan cache wants it
        self._text = text
        self._packed: bytes | None = None
        self._headers: Headers | None = None

    @property
    def text(self) -> str | None:
        if self._packed is not None:
            return zlib.decompress(self._packed).decode("utf-8")
        return self._text

    @text.setter
    def text(self, value: str | None) -> None:
        self._text = value
        self._packed = None

    def set_aside(self) -> None:
        """Keep the text compressed: the file is not parsed now, and may never be."""
        if self._text is not None and self.parsed is None:
            self._packed = zlib.compress(self._text.encode("utf-8"), 1)
            self._text = None

    @property
    def headers(self) -> Headers:
        """What the file declares, from its block headers; asked only of files not parsed (yet),
        so a file parsed at once is never scanned for them."""
        if self._headers is None:
            if self.rel.endswith(".json"):  # JSON syntax has no block headers to scan: look inside when in doubt
                self._headers = (UNCERTAIN,)
            else:
                text = self.text
                self._headers = lexical_headers(text) if text is not None else ()
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
        for source_file in files:
            source_file.set_aside()

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
        (`loader.Loader.withdraw_uncertain_rejections`)."""
        if self._complete is None:
            self._complete = self.whole and not has_tofu_files(self.directory)
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


def has_tofu_files(directory: Path) -> bool:
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
    value = eval_expr(attribute.expr, NO_CONTEXT)
    return value if isinstance(value, str) else None


def within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../")) or source in (".", "..")
