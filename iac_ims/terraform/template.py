"""Terraform string templates: heredoc bodies, `templatefile` files and quoted strings.

A heredoc reaches us as its body text (`ir.Heredoc`) and `templatefile` files as text, so the
template language (literal text, `${expr}` interpolations, `%{if}`/`%{for}` directives with
`~` strip markers, `$${` / `%%{` escapes) is parsed here.  Each embedded expression is parsed
with `hclparse.parse_expression`.  The result is a small "compiled" tree that the evaluator
renders (render.py); a quoted string holding a template sequence is compiled here too.

The whitespace rules follow HashiCorp HCL (hclsyntax/parser_template.go): literal text is
split into per-line tokens, a `~` strips whitespace from the adjacent literal token only,
and `<<-` heredocs drop the smallest indentation among the lines (blank lines do not count).

Compiled template nodes (`expr` is an `ir.Expr`):
    str                                  literal text
    ("$", expr)                          interpolation
    ("if", expr, then_nodes, else_nodes) conditional directive
    ("for", key_name|None, value_name, expr, body_nodes)
A compiled template is `Compiled(nodes, passthrough)`: `passthrough` is True when the template
is exactly one interpolation, whose value Terraform returns unconverted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from iac_ims.terraform import ir
from iac_ims.terraform.hclparse import parse_expression
from iac_ims.terraform.semantics import EvalError, unescape


class Compiled(NamedTuple):
    nodes: tuple
    passthrough: bool


# Flat template tokens, before nesting:  (kind, payload, ltrim, rtrim)
#   kind: "L" literal (payload: text), "I" interpolation (expr), "IF" (expr), "ELSE", "ENDIF",
#         "FOR" ((key, value, expr)), "ENDFOR".
#   ltrim: the sequence opened with `${~` / `%{~` (strip whitespace before it)
#   rtrim: the sequence closed with `~}` (strip whitespace after it)

_MARKER_RE = re.compile(r"\$\$\{|%%\{|\$\{|%\{")
_FOR_RE = re.compile(
    r"for\s+([A-Za-z_][A-Za-z0-9_-]*)\s*(?:,\s*([A-Za-z_][A-Za-z0-9_-]*)\s*)?\s+in\s+(.+)\Z",
    re.DOTALL,
)
_KEYWORD_RE = re.compile(r"[A-Za-z_]+")


class TemplateSyntaxError(ValueError):
    pass


def _find_close(text: str, start: int) -> int:
    """Index of the `}` closing the sequence whose body starts at `start`.

    Aware of nested braces and quoted strings (which may contain their own `${...}`).
    """
    n = len(text)
    # stack entries: >=0 brace depth in expression mode, -1 in a quoted string
    stack = [0]
    i = start
    while i < n:
        c = text[i]
        top = stack[-1]
        if top >= 0:
            if c == '"':
                stack.append(-1)
            elif c == "{":
                stack[-1] = top + 1
            elif c == "}":
                if top == 0:
                    stack.pop()
                    if not stack:
                        return i
                else:
                    stack[-1] = top - 1
            elif c == "#" or (c == "/" and text.startswith("//", i)):
                # line comment inside an expression: skip to end of line
                j = text.find("\n", i)
                if j < 0:
                    break
                i = j
            elif c == "/" and text.startswith("/*", i):
                j = text.find("*/", i + 2)
                if j < 0:
                    break
                i = j + 1
        else:
            if c == "\\":
                i += 1
            elif c == '"':
                stack.pop()
            elif c == "$" or c == "%":
                if text.startswith("{", i + 1):
                    stack.append(0)
                    i += 1
                elif text.startswith(c + "{", i + 1):
                    i += 2  # escaped $${ / %%{
        i += 1
    raise TemplateSyntaxError(f"unclosed template sequence starting at offset {start - 2}")


def _split_lines(text: str) -> list[str]:
    """Split after each "\n" (only: str.splitlines also splits on \v, \f, \x1c...)."""
    if "\n" not in text:
        return [text]
    return _split_nl(text)


def _split_nl(text: str) -> list[str]:
    out = []
    start = 0
    while True:
        j = text.find("\n", start)
        if j < 0:
            if start < len(text):
                out.append(text[start:])
            return out
        out.append(text[start : j + 1])
        start = j + 1


def _parse_expr(text: str, what: str):
    try:
        return parse_expression(text)
    except ValueError as e:
        raise TemplateSyntaxError(f"in {what} {text.strip()[:60]!r}: {e}") from None


def tokenize(text: str) -> list[tuple]:
    """Flat tokens of a bare template (heredoc body / template file); literals per line."""
    toks: list[tuple] = []
    lit: list[str] = []
    pos = 0
    n = len(text)

    def flush_lit():
        if lit:
            s = "".join(lit)
            lit.clear()
            for line in _split_lines(s):
                toks.append(("L", line, False, False))

    while pos < n:
        m = _MARKER_RE.search(text, pos)
        if m is None:
            lit.append(text[pos:])
            break
        s = m.start()
        if s > pos:
            lit.append(text[pos:s])
        marker = m.group()
        if marker == "$${":
            lit.append("${")
            pos = m.end()
            continue
        if marker == "%%{":
            lit.append("%{")
            pos = m.end()
            continue
        body_start = m.end()
        close = _find_close(text, body_start)
        inner = text[body_start:close]
        pos = close + 1
        ltrim = inner.startswith("~")
        if ltrim:
            inner = inner[1:]
        stripped = inner.rstrip()
        rtrim = stripped.endswith("~")
        if rtrim:
            inner = stripped[:-1]
        flush_lit()
        if marker == "${":
            toks.append(("I", _parse_expr(inner, "interpolation"), ltrim, rtrim))
        else:
            toks.append(_directive(inner, ltrim, rtrim))
    flush_lit()
    return toks


def _directive(inner: str, ltrim: bool, rtrim: bool) -> tuple:
    body = inner.strip()
    m = _KEYWORD_RE.match(body)
    kw = m.group() if m else ""
    rest = body[len(kw) :]
    if kw == "if":
        if not rest.strip():
            raise TemplateSyntaxError("%{if} needs a condition")
        return ("IF", _parse_expr(rest, "%{if}"), ltrim, rtrim)
    if kw in ("else", "endif", "endfor"):
        if rest.strip():
            raise TemplateSyntaxError(f"extra characters in %{{{kw}}}")
        return (kw.upper(), None, ltrim, rtrim)
    if kw == "for":
        fm = _FOR_RE.match(body)
        if not fm:
            raise TemplateSyntaxError(f"invalid %{{for}} directive {body[:60]!r}")
        first, second, coll = fm.groups()
        key, val = (first, second) if second else (None, first)
        return ("FOR", (key, val, _parse_expr(coll, "%{for}")), ltrim, rtrim)
    raise TemplateSyntaxError(f"invalid template directive keyword {kw or body[:20]!r}")


def build(toks: list[tuple], flush: bool = False) -> Compiled:
    """Apply strip markers (and the `<<-` flush rule), meld literals and nest directives."""
    # 1. strip markers, exactly as hclsyntax.parseTemplateParts does on its token stream
    parts: list[list] = []
    ltrim_next = False
    can_trim_prev = False
    for kind, payload, ltrim, rtrim in toks:
        lt = ltrim_next
        ltrim_next = False
        ctp = can_trim_prev
        can_trim_prev = False
        if kind == "L":
            if lt:
                payload = payload.lstrip()
            parts.append(["L", payload])
            can_trim_prev = True
        else:
            if ltrim and ctp and parts and parts[-1][0] == "L":
                parts[-1][1] = parts[-1][1].rstrip()
            parts.append([kind, payload])
            ltrim_next = rtrim
    # 2. `<<-`: remove the smallest leading-space count of the lines
    if flush and parts:
        _flush(parts)
    # 3. meld consecutive literals
    melded: list[list] = []
    for p in parts:
        if p[0] == "L" and melded and melded[-1][0] == "L":
            melded[-1][1] += p[1]
        else:
            melded.append(p)
    passthrough = len(melded) == 1 and melded[0][0] == "I"
    if not melded:
        melded = [["L", ""]]
    # 4. nest directives (iteratively: hostile input may nest deeply)
    root: list = []
    cur = root
    stack: list[tuple] = []  # (kind, node, parent_list)
    for kind, payload in melded:
        if kind == "L":
            if payload:
                cur.append(payload)
        elif kind == "I":
            cur.append(("$", payload))
        elif kind == "IF":
            node = ["if", payload, [], [], False]
            cur.append(node)
            stack.append(("if", node, cur))
            cur = node[2]
        elif kind == "ELSE":
            if not stack or stack[-1][0] != "if" or stack[-1][1][4]:
                raise TemplateSyntaxError("%{else} without a matching %{if}")
            node = stack[-1][1]
            node[4] = True
            cur = node[3]
        elif kind == "ENDIF":
            if not stack or stack[-1][0] != "if":
                raise TemplateSyntaxError("%{endif} without a matching %{if}")
            _, node, cur = stack.pop()
        elif kind == "FOR":
            key, val, expr = payload
            node = ["for", key, val, expr, []]
            cur.append(node)
            stack.append(("for", node, cur))
            cur = node[4]
        elif kind == "ENDFOR":
            if not stack or stack[-1][0] != "for":
                raise TemplateSyntaxError("%{endfor} without a matching %{for}")
            _, node, cur = stack.pop()
    if stack:
        raise TemplateSyntaxError(f"unclosed %{{{stack[-1][0]}}} directive")
    return Compiled(tuple(_freeze(root)), passthrough)


def _freeze(nodes: list) -> list:
    out = []
    for n in nodes:
        if isinstance(n, list):
            if n[0] == "if":
                out.append(("if", n[1], tuple(_freeze(n[2])), tuple(_freeze(n[3]))))
            else:
                out.append(("for", n[1], n[2], n[3], tuple(_freeze(n[4]))))
        else:
            out.append(n)
    return out


def _flush(parts: list[list]) -> None:
    big = 1 << 62
    min_spaces = big
    newline = True
    adjust: list[list] = []
    for p in parts:
        if newline:
            newline = False
            spaces = 0
            if p[0] == "L":
                orig = p[1]
                trimmed = orig.lstrip()
                if not trimmed and orig.endswith("\n"):
                    spaces = big
                else:
                    spaces = len(orig) - len(trimmed)
                    adjust.append(p)
            if spaces < min_spaces:
                min_spaces = spaces
        if p[0] == "L" and p[1].endswith("\n"):
            newline = True
    if min_spaces == big or min_spaces == 0:
        return
    for p in adjust:
        p[1] = p[1][min_spaces:]


@lru_cache(maxsize=2048)
def compile_template(text: str, flush: bool = False) -> Compiled:
    """Parse a bare template (heredoc body / template file).  Raises TemplateSyntaxError."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    try:
        return build(tokenize(text), flush)
    except RecursionError:
        raise TemplateSyntaxError("template nested too deeply") from None


_DIRECTIVE_TOKENS = {"else": "ELSE", "endif": "ENDIF", "endfor": "ENDFOR"}


def compile_quoted(node: ir.Quoted) -> Compiled:
    """A quoted string that holds a template sequence, compiled.  Raises TemplateSyntaxError, and
    EvalError for a bad escape in its text (the string's value is then an error)."""
    return build(_quoted_tokens(node), False)


def _quoted_tokens(node: ir.Quoted) -> list:
    """The flat tokens of a quoted string (see `build`).  Each literal piece is decoded on its
    own, then runs of them are melded: a quoted literal run is one token in HCL, and strip
    markers trim the whole run."""
    melded: list = []
    for part in node.parts:
        if type(part) is str:
            text = unescape(part)
            if melded and melded[-1][0] == "L":
                melded[-1] = ("L", melded[-1][1] + text, False, False)
            else:
                melded.append(("L", text, False, False))
        elif type(part) is ir.Interpolation:
            melded.append(("I", part.expr, False, False))
        else:
            melded.append(_directive_token(part))
    return melded


def _directive_token(d: ir.Directive) -> tuple:
    kind = d.kind
    if kind == "if":
        return ("IF", d.expr, d.strip_left, d.strip_right)
    if kind == "for":
        return ("FOR", (d.key_var, d.value_var, d.expr), d.strip_left, d.strip_right)
    if kind in _DIRECTIVE_TOKENS:
        return (_DIRECTIVE_TOKENS[kind], None, d.strip_left, d.strip_right)
    raise EvalError(f"unsupported string part ({kind})")

