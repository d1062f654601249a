"""Terraform files -> blocks with locations (`ir.py` for `.tf`, json for `.tf.json`).

A `.tf` file is parsed by the fast parser, or by python-hcl2's Lark parser where that one
declines (Lark then also reports every syntax error).  A file that cannot be read or parsed
yields one IMS900 diagnostic with its location and no blocks; it never stops the scan.
Expressions are kept as `ir.Expr` for the evaluator.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import stat
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from iac_ims.terraform import ir
from iac_ims.terraform.values import Diagnostic

MAX_FILE_BYTES = 4 * 1024 * 1024  # a larger .tf is reported, not parsed (python-hcl2: ~200 B RSS/byte)
PARSE_TIMEOUT_S = 10.0  # CPU seconds: python-hcl2 can be exponential on some malformed input

# a comment that starts with `iac-ims` then `:` or a space: a directive, or one written wrong (IMS904)
_DIRECTIVE_LINE = re.compile(r"(?:#|//|/\*)\s*(iac-ims(?=[\s:])[^\n]*?)\s*(?:\*/\s*)?$")


@dataclass(slots=True)
class JsonExpr:
    """An expression written in Terraform's JSON syntax: strings are templates."""

    value: Any


@dataclass(slots=True)
class Attribute:
    name: str
    expr: Any  # ir.Expr or JsonExpr
    line: int
    end_line: int
    file: str | None = None  # set when merged in from an override file (None: the block's file)


@dataclass(slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    attributes: dict[str, Attribute]
    blocks: list["Block"]
    file: str  # path relative to the scan root, '/'-separated
    line: int
    end_line: int
    directives: list[tuple[int, str]] = field(default_factory=list)  # (line, "iac-ims:...") of a top-level block

    def child_blocks(self, type_: str) -> list["Block"]:
        return [b for b in self.blocks if b.type == type_]


@dataclass
class ParsedFile:
    path: Path
    rel: str
    blocks: list[Block] = field(default_factory=list)
    directives: list[tuple[int, str]] = field(default_factory=list)  # (line, "iac-ims:...")
    comment_lines: frozenset[int] = frozenset()  # lines holding only a comment
    top_attributes: dict[str, Attribute] = field(default_factory=dict)  # tfvars files
    error: Diagnostic | None = None


class ParseTimeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a runaway parse after `seconds` of the process's CPU time (not wall-clock time,
    so that a busy machine does not turn a sound file into an IMS900).  Only the main thread can
    take signals; elsewhere no limit."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise ParseTimeout()

    previous = signal.signal(signal.SIGPROF, _raise)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _error(rel: str, message: str, line: int | None = None, column: int | None = None) -> Diagnostic:
    where = f" at line {line}" + (f", column {column}" if column else "") if line else ""
    return Diagnostic("IMS900", f"{message}{where}", file=rel, line=line or 1, end_line=line or 1, column=column)


def read_source(path: Path, rel: str) -> tuple[str | None, Diagnostic | None]:
    """The text of a Terraform file, or the IMS900 that says why it cannot be read."""
    data, error = read_source_bytes(path, rel)
    return (None, error) if data is None else decode_source(data, rel)


def read_source_bytes(path: Path, rel: str) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of a Terraform file, or the IMS900 that says why it is not read."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None, _error(rel, "not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            return None, _error(rel, f"file is too large to scan ({info.st_size} bytes; limit {MAX_FILE_BYTES})")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, _error(rel, f"cannot read file: {exc.strerror or exc}")
    if len(data) > MAX_FILE_BYTES:  # it grew after the stat
        return None, _error(rel, f"file is too large to scan (over {MAX_FILE_BYTES} bytes)")
    return data, None


def decode_source(data: bytes, rel: str) -> tuple[str | None, Diagnostic | None]:
    """The text of a Terraform file's bytes, or the IMS900 that says why they are not text."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, _error(rel, "file contains a NUL byte (binary?)", line)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, _error(rel, "file is not valid UTF-8", line, column)


def find_directives(text: str) -> tuple[list[tuple[int, str]], frozenset[int]]:
    """`iac-ims` comments with their lines, and the set of lines that hold only a comment
    (`#`, `//`, and every line of a `/* */` comment, continuation lines included)."""
    directives: list[tuple[int, str]] = []
    comment_only: set[int] = set()
    if "iac-ims" not in text:
        return directives, frozenset()
    in_block = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        starts_block = stripped.startswith("/*")
        if in_block or stripped.startswith(("#", "//")) or starts_block:
            comment_only.add(number)
        if "iac-ims" in line:
            if in_block:
                match = _BLOCK_COMMENT_LINE.search(line)
            else:
                match = _DIRECTIVE_LINE.search(line)
            if match:
                directives.append((number, match.group(1).strip()))
        if in_block or "/*" in line:
            in_block = _still_in_block_comment(line, in_block)
    return directives, frozenset(comment_only)


_BLOCK_COMMENT_LINE = re.compile(r"^\s*\*?\s*(iac-ims(?=[\s:])[^\n]*?)\s*(?:\*/\s*)?$")


def _still_in_block_comment(line: str, in_block: bool) -> bool:
    """Whether a `/* */` comment is open at the end of `line` (strings are not considered:
    this only decides which lines are comment lines for directives)."""
    position = 0
    while True:
        if in_block:
            close = line.find("*/", position)
            if close < 0:
                return True
            in_block, position = False, close + 2
        else:
            start = line.find("/*", position)
            if start < 0:
                return False
            in_block, position = True, start + 2


def parse_file(path: Path, rel: str) -> ParsedFile:
    text, error = read_source(path, rel)
    return parse_source(path, rel, text, error)


def syntax_error(rel: str, text: str) -> Diagnostic | None:
    """The IMS900 of a file, without building its blocks (for files nothing depends on)."""
    if rel.endswith(".json"):
        return _parse_json(text, rel)[1]
    from iac_ims.terraform.quickcheck import certainly_valid

    if certainly_valid(text):  # most files are plain: recognised without a parse
        return None
    return parse_hcl_body(text, rel)[1]


def parse_source(path: Path, rel: str, text: str | None, error: Diagnostic | None = None) -> ParsedFile:
    """Blocks of a file already read (`text`), or its read error."""
    parsed = ParsedFile(path=path, rel=rel)
    if error is not None or text is None:
        parsed.error = error
        return parsed
    parsed.directives, parsed.comment_lines = find_directives(text)
    if rel.endswith(".json"):
        parsed.blocks, parsed.error = _parse_json(text, rel)
    else:
        parsed.blocks, parsed.top_attributes, parsed.error = parse_hcl_text(text, rel)
    if parsed.directives:
        attach_directives(parsed)
    return parsed


def attach_directives(parsed: ParsedFile) -> None:
    """Give each top-level block the directives inside it or in the comment lines directly above."""
    for block in parsed.blocks:
        above: set[int] = set()
        line = block.line - 1
        while line in parsed.comment_lines:
            above.add(line)
            line -= 1
        block.directives = [
            (n, text) for n, text in parsed.directives if block.line <= n <= block.end_line or n in above
        ]


@functools.lru_cache(maxsize=1)
def hcl_parser() -> Any:
    """python-hcl2's grammar and post-lexer, without Lark's position propagation (half the parse
    time): lark_to_ir takes every range from the tokens instead."""
    import hcl2
    from hcl2.postlexer import PostLexer
    from lark import Lark

    from iac_ims.cache import cache_dir

    grammar = (Path(hcl2.__file__).parent / "hcl2.lark").read_text(encoding="utf-8")
    # `\s*` before a heredoc's closing marker re-scans every blank line of an unclosed heredoc
    # (quadratic); the body before it already takes blank lines, so `[ \t]*` is equivalent
    grammar = grammar.replace(r"??\s*(?P=heredoc)", r"??[ \t]*(?P=heredoc)").replace(
        r"??\s*(?P=heredoc_trim)", r"??[ \t]*(?P=heredoc_trim)")
    directory = cache_dir()
    cache: Any = False
    if directory is not None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            cache = str(directory / f"hcl2-grammar-{getattr(hcl2, '__version__', 'x')}.lark")
        except OSError:
            cache = False
    return Lark(grammar, parser="lalr", propagate_positions=False, postlex=PostLexer(), cache=cache,
                import_paths=[str(Path(hcl2.__file__).parent)])


def parse_hcl_text(text: str, rel: str) -> tuple[list[Block], dict[str, Attribute], Diagnostic | None]:
    body, error = parse_hcl_body(text, rel)
    if error is not None:
        return [], {}, error
    try:
        blocks, attributes = _body(body, rel)
    except RecursionError:
        return [], {}, _error(rel, "blocks nested too deeply to read")
    return blocks, attributes, None


def parse_hcl_body(text: str, rel: str) -> tuple[ir.Body | None, Diagnostic | None]:
    """The body of HCL text, or the IMS900 that says where it is broken."""
    try:
        return _hcl_body(text), None
    except ParseTimeout:
        return None, _error(rel, f"parsing took more than {PARSE_TIMEOUT_S:g} s of CPU time (malformed input?); file skipped")
    except RecursionError:
        return None, _error(rel, "syntax error: nesting too deep to parse")
    except Exception as exc:  # Lark's syntax errors; python-hcl2 raises VisitError/RuntimeError on some inputs
        return None, _parse_failure(rel, text, exc)


def _parse_failure(rel: str, text: str, exc: Exception) -> Diagnostic:
    """The IMS900 of a Lark parse that raised `exc` (lark is imported only once one has: most
    scans never run it)."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    if isinstance(exc, UnexpectedToken):
        at_end = exc.token.type == "$END"
        found = "end of file" if at_end else exc.token.type
        return _syntax_error(rel, text, f"unexpected {found}", exc.line, exc.column,
                             getattr(exc, "pos_in_stream", None), at_end)
    if isinstance(exc, (UnexpectedCharacters, UnexpectedEOF, UnexpectedInput)):
        line = getattr(exc, "line", None)
        column = getattr(exc, "column", None)
        if line is None or line < 0:
            line = text.count("\n") + 1
        failure = getattr(exc, "pos_in_stream", None)
        at_end = isinstance(exc, UnexpectedEOF) or (isinstance(failure, int) and failure >= len(text))
        return _syntax_error(rel, text, None, line, column if column and column > 0 else None, failure, at_end)
    return _error(rel, f"syntax error ({type(exc).__name__})")


def _hcl_body(text: str) -> ir.Body:
    """The fast parser's body, else Lark's (which raises the syntax errors).  Only the parse is
    under the time limit (Lark can be exponential on malformed input); converting its tree is
    linear."""
    from iac_ims.terraform.fastparse import FastParseError, parse_body

    source = text + "\n"  # the grammar wants a newline after the last line
    with _time_limit(PARSE_TIMEOUT_S):
        try:
            return parse_body(text)
        except FastParseError:
            tree = hcl_parser().parse(source)
    from iac_ims.terraform.lark_to_ir import file_body  # lark is imported only where it parses

    return file_body(tree, source)


def _syntax_error(rel: str, text: str, said: str | None, line: int, column: int | None, failure: Any,
                  at_end: bool) -> Diagnostic:
    """The IMS900 of a parse failure at `line`/`column` (offset `failure`, if known): located at
    the start of the construct left open when one explains it (see syntax_location), the
    parser's position then kept in the message; else at the parser's position."""
    from iac_ims.terraform.syntax_location import describe, locate, offset_of

    if not isinstance(failure, int) or failure < 0:
        failure = offset_of(text, line, column or 1)
    broken = locate(text, failure, at_end)
    if broken is None:
        return _error(rel, f"syntax error: {said}" if said else "syntax error", line, column)
    where = f"line {line}" + (f", column {column}" if column else "")
    if at_end:
        note = f"the parser reached the end of the file at {where}"
    else:
        note = f"the parser stopped at {where}" + (f": {said}" if said else "")
    message, start_line, start_column = describe(text, broken, note)
    return Diagnostic("IMS900", message, file=rel, line=start_line, end_line=start_line, column=start_column)


def json_syntax_error(rel: str, text: str, exc: json.JSONDecodeError, prefix: str = "JSON syntax error") -> Diagnostic:
    """The IMS900 of a JSON syntax error, located like an HCL one (see `_syntax_error`)."""
    from iac_ims.terraform.syntax_location import describe, locate

    at_end = not text[exc.pos:].strip()
    broken = locate(text, exc.pos, at_end, json=True)
    if broken is None:
        return _error(rel, f"{prefix}: {exc.msg}", exc.lineno, exc.colno)
    reason = exc.msg.removesuffix(" starting at").removesuffix(" at")  # json's messages end in its position
    where = f"line {exc.lineno}, column {exc.colno}"
    stopped = "reached the end of the file" if at_end else "stopped"
    message, line, column = describe(text, broken, f"the parser {stopped} at {where}: {reason}")
    return Diagnostic("IMS900", f"{prefix}: {message}", file=rel, line=line, end_line=line, column=column)


def _body(body: ir.Body, rel: str) -> tuple[list[Block], dict[str, Attribute]]:
    attributes: dict[str, Attribute] = {}
    blocks: list[Block] = []
    for item in body.items:
        if type(item) is ir.AttributeDef:
            attributes[item.name] = Attribute(item.name, item.expr, item.line, item.end_line)
        else:
            blocks.append(_block(item, rel))
    return blocks, attributes


def _block(node: ir.BlockDef, rel: str) -> Block:
    blocks, attributes = _body(node.body, rel)
    return Block(node.type, node.labels, attributes, blocks, rel, node.line, node.end_line)


# ---- Terraform JSON syntax -------------------------------------------------------------

_LABEL_DEPTH = {"resource": 2, "data": 2, "variable": 1, "module": 1, "output": 1, "provider": 1, "locals": 0, "terraform": 0}


def _parse_json(text: str, rel: str) -> tuple[list[Block], Diagnostic | None]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], json_syntax_error(rel, text, exc)
    except RecursionError:
        return [], _error(rel, "JSON nesting too deep to parse")
    if not isinstance(document, dict):
        return [], _error(rel, "a .tf.json file must hold a JSON object", 1)
    finder = _LineFinder(text)
    blocks: list[Block] = []
    for kind, content in document.items():
        depth = _LABEL_DEPTH.get(kind)
        if depth is None:
            continue
        for labels, body in _json_label_walk(content, depth):
            line = finder.line_of(labels[-1] if labels else kind)
            if kind == "locals" and isinstance(body, dict):
                attrs = {k: Attribute(k, JsonExpr(v), finder.line_of(k), finder.line_of(k)) for k, v in body.items()}
                blocks.append(Block(kind, (), attrs, [], rel, line, line))
                continue
            bodies = body if isinstance(body, list) else [body]
            for one in bodies:
                if isinstance(one, dict):
                    blocks.append(_json_block(kind, tuple(labels), one, rel, finder, line))
    return blocks, None


def _json_label_walk(content: Any, depth: int) -> Iterator[tuple[list[str], Any]]:
    if depth == 0:
        yield [], content
        return
    if not isinstance(content, dict):
        return
    for key, inner in content.items():
        for labels, body in _json_label_walk(inner, depth - 1):
            yield [key, *labels], body


_NESTED_BLOCK_TYPES = {"project_role", "enterprise_project_roles", "dynamic", "content", "lifecycle", "validation"}


def _json_block(kind: str, labels: tuple[str, ...], body: dict, rel: str, finder: "_LineFinder", line: int) -> Block:
    attributes: dict[str, Attribute] = {}
    blocks: list[Block] = []
    for key, value in body.items():
        if key in _NESTED_BLOCK_TYPES and isinstance(value, (dict, list)):
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):
                    blocks.append(_json_block(key, (), item, rel, finder, line))
            continue
        attributes[key] = Attribute(key, JsonExpr(value), line, line)
    return Block(kind, labels, attributes, blocks, rel, line, line)


class _LineFinder:
    """Approximate lines for JSON keys (the json module keeps no positions)."""

    def __init__(self, text: str):
        self.text = text
        self.cursor = 0

    def line_of(self, key: str) -> int:
        needle = json.dumps(key)
        index = self.text.find(needle, self.cursor)
        if index < 0:
            index = self.text.find(needle)
        if index < 0:
            return 1
        self.cursor = index + len(needle)
        return self.text.count("\n", 0, index) + 1
