"""LEGACY, to be deleted once nothing calls it: the fast parser's former output, python-hcl2's Lark tree.

The scanner now reads the IR (`fastparse.parse_body`); this module remains only for the
callers that still ask for Lark trees (`fastparse` forwards its old names here).

A hand-written HCL parser that builds exactly the tree python-hcl2's Lark parser builds.

`fast_parse(text)` returns what `hcl_parser().parse(text + "\\n")` returns (see parse.py): the
same `lark.Tree`s with the same rule names and child lists, and `lark.Token`s with the same
types, values and positions (start_pos, line, column, end_line, end_column, end_pos).  It is a
drop-in replacement for the slow LALR parse, never a second opinion: for anything it is not
sure to reproduce exactly (and for every syntax error) it raises `FastParseError`, and the
caller parses with Lark, which also produces the error messages.

How Lark's parse is reproduced (hcl2.lark of python-hcl2 8.1.4, Lark 1.3 LALR with a
contextual lexer and hcl2's PostLexer):

* Tokens.  Lark's contextual lexer takes, among the terminals the current parser state
  accepts, the first in Lark's order (priority, maximal width, pattern length, name) that
  matches.  The tokenizer here takes the first in that order among all terminals (told apart by
  the first character, then Lark's own regexes), which is the same token whenever the token is
  grammatical at that point, since the state then accepts it; the exceptions are handled
  explicitly: keywords come out as NAME and are typed by the parser from the grammatical
  context (Lark's per-state "unless" callbacks), a number right after `.` can only be an
  INT_LITERAL, inside quoted strings only the string-state terminals exist (a mode stack tracks
  strings, `${ }` / `%{ }` and their braces), and blanks before `=` and `:` belong to the EQ
  and COLON tokens (unless a `\r` is among them).  hcl2's PostLexer merge of a newline/comment
  into a directly following binary operator or `?` is done as tokens are produced.  Lark lexes
  a token in the state reached after the previous token, which after a single newline is the
  state *before* that newline (the PostLexer holds the newline back), and after two or more
  newlines in the state after a newline, which takes every keyword; that decides whether a
  keyword used as a plain name is a NAME (see expr_term and name_only).
* Trees.  Recursive descent that follows the grammar rule by rule, including the LALR
  conflict resolutions Lark applies (shift wins): a newline after a binary operation belongs
  to the innermost `binary_op` that ends there, `[`/`(` right after a term are an index /
  a call, `.x` and `[i]` after a splat belong to the splat, a `for_intro` keeps the newlines
  after its `:`.  Binary operators use precedence climbing with the grammar's levels.
* The cyclic garbage collector is paused while a text is parsed (the trees hold no cycles);
  collections triggered by the many small allocations otherwise cost as much as the parse.
"""

from __future__ import annotations

import gc
from typing import Any, Callable

from lark import Token, Tree

__all__ = ["FastParseError", "fast_parse", "parse_or_fallback", "lean_tree", "forget_shared_tokens", "LARK_TERMINALS"]

MAX_DEPTH = 150  # nesting of blocks / expressions; deeper input is left to Lark


from iac_ims.terraform.fastlex import (
    _AFTER_DOT_INT,
    _C_BSLASH,
    _C_COLON,
    _C_DOT,
    _C_EQ,
    _C_HASH,
    _C_LSQB,
    _C_LT,
    _C_NAME,
    _C_NL,
    _C_NUM,
    _C_QUOTE,
    _C_SINGLE,
    _C_SLASH,
    _C_TWO,
    _C_WS,
    _CLASS,
    _HEREDOC,
    _HEREDOC_TRIM,
    _MERGED_OPERATORS,
    _NAME_TAIL,
    _NEWLINE,
    _NUMBER,
    _SIMPLE_STRING,
    _SINGLE,
    _STRING,
    _TEMPLATE_STRING,
    _TWO,
    KEYWORDS,
    LARK_TERMINALS,
    FastParseError,
)

_LITERALS = {"true": "TRUE", "false": "FALSE", "null": "NULL"}
_DIRECTIVES = {
    "if": ("IF", "template_if_start"), "else": ("ELSE", "template_else"), "endif": ("ENDIF", "template_endif"),
    "for": ("FOR", "template_for_start"), "endfor": ("ENDFOR", "template_endfor"),
}
# hcl2's PostLexer merges a newline/comment token into a directly following one of these.
_MERGED_OPERATORS = frozenset(
    {"DOUBLE_EQ", "NEQ", "LT", "GT", "LEQ", "GEQ", "ASTERISK", "SLASH", "PERCENT", "DOUBLE_AMP", "DOUBLE_PIPE", "PLUS",
     "QMARK"}
)
# Precedence levels of hcl2.lark's binary operator ladder (or_expr ... mul_expr).
_LEVEL = {
    "DOUBLE_PIPE": 0, "DOUBLE_AMP": 1, "DOUBLE_EQ": 2, "NEQ": 2, "LT": 3, "GT": 3, "LEQ": 3, "GEQ": 3,
    "PLUS": 4, "MINUS": 4, "ASTERISK": 5, "SLASH": 5, "PERCENT": 5,
}
_UNARY_LEVEL = 6
_NL = "NL_OR_COMMENT"
_END = "$END"
_new_str = str.__new__


def _token(type_: str, value: str, start: int, line: int, column: int, end_line: int, end_column: int) -> Token:
    t = _new_str(Token, value)
    t.type = type_
    t.value = value
    t.start_pos = start
    t.line = line
    t.column = column
    t.end_line = end_line
    t.end_column = end_column
    t.end_pos = start + len(value)
    return t


def _spanning_token(kind: str, text: str, pos: int, e: int, line: int, ls: int) -> tuple[Token, int, int]:
    """The token text[pos:e], which may contain newlines, and the line and line start after it."""
    v = text[pos:e]
    c = v.count("\n")
    if not c:
        return _token(kind, v, pos, line, pos - ls + 1, line, e - ls + 1), line, ls
    els = pos + v.rindex("\n") + 1
    return _token(kind, v, pos, line, pos - ls + 1, line + c, e - els + 1), line + c, els


def _tokenize(text: str) -> tuple[list, list]:
    """Lark's token stream (after hcl2's PostLexer) for `text`, and the list of token types.

    `text` must end with a newline.  Keywords are NAME tokens whose entry in the type list is
    "WORD"; the parser gives them their type.  Both lists end with two "$END" entries."""
    toks: list = []
    types: list = []
    append_tok = toks.append
    append_type = types.append
    strmatch = _STRING.match
    name_tail = _NAME_TAIL.match
    newline = _NEWLINE.match
    simple_string = _SIMPLE_STRING.match
    classes = _CLASS
    single = _SINGLE
    new = _new_str
    Tok = Token
    keywords = KEYWORDS
    merged = _MERGED_OPERATORS
    NL = _NL
    C_WS, C_NL, C_NAME, C_QUOTE, C_EQ, C_SINGLE = _C_WS, _C_NL, _C_NAME, _C_QUOTE, _C_EQ, _C_SINGLE
    pos = 0
    n = len(text)
    line = 1
    ls = 0  # position where the current line starts
    mode = 0  # 0: outside strings, 1: in a quoted string, 2: inside ${ } or %{ } of a string
    depth = 0  # braces opened in mode 2
    stack: list = []
    while pos < n:
        if mode == 1:
            m = strmatch(text, pos)
            if m is None:
                raise FastParseError("string")
            kind = m.lastgroup
            e = m.end()
            t, line, ls = _spanning_token(kind, text, pos, e, line, ls)
            append_tok(t)
            append_type(kind)
            pos = e
            if kind == "DBLQUOTE":
                mode, depth = stack.pop()
            elif kind == "INTERP_START" or kind == "DIRECTIVE_START":
                stack.append((1, 0))
                mode = 2
                depth = 0
            continue
        ch = text[pos]
        cls = classes.get(ch)
        ws = pos
        if cls == C_WS:  # ignored blanks ([ \t\r]+); the text ends with "\n", so this stops
            pos += 1
            while text[pos] in " \t\r":
                pos += 1
            ch = text[pos]
            cls = classes.get(ch)
        if cls == C_NAME:
            e = name_tail(text, pos + 1).end()
            v = text[pos:e]
            append_type("WORD" if v in keywords else "NAME")
            t = new(Tok, v)
            t.type = "NAME"
            t.value = v
            t.start_pos = pos
            t.line = t.end_line = line
            t.column = pos - ls + 1
            t.end_column = e - ls + 1
            t.end_pos = e
            append_tok(t)
            pos = e
            continue
        if cls == C_NL:
            e = newline(text, pos).end()
            v = text[pos:e]
            t = new(Tok, v)
            t.type = NL
            t.value = v
            t.start_pos = pos
            t.line = line
            t.column = pos - ls + 1
            line += 1
            ls = pos + 1
            t.end_line = line
            t.end_column = e - pos
            t.end_pos = e
            append_tok(t)
            append_type(NL)
            pos = e
            continue
        if cls == C_QUOTE:
            m = simple_string(text, pos)
            if m is None:
                kind = "DBLQUOTE"
                e = pos + 1
                stack.append((mode, depth))
                mode = 1
            else:
                e = m.end()
                col = pos - ls + 1
                t = new(Tok, '"')
                t.type = "DBLQUOTE"
                t.value = '"'
                t.start_pos = pos
                t.line = t.end_line = line
                t.column = col
                t.end_column = col + 1
                t.end_pos = pos + 1
                append_tok(t)
                append_type("DBLQUOTE")
                if e - pos > 2:
                    v = text[pos + 1 : e - 1]
                    t = new(Tok, v)
                    t.type = "STRING_CHARS"
                    t.value = v
                    t.start_pos = pos + 1
                    t.line = t.end_line = line
                    t.column = col + 1
                    t.end_column = col + e - pos - 1
                    t.end_pos = e - 1
                    append_tok(t)
                    append_type("STRING_CHARS")
                t = new(Tok, '"')
                t.type = "DBLQUOTE"
                t.value = '"'
                t.start_pos = e - 1
                t.line = t.end_line = line
                t.column = col + e - pos - 1
                t.end_column = col + e - pos
                t.end_pos = e
                append_tok(t)
                append_type("DBLQUOTE")
                pos = e
                continue
        elif cls == C_EQ:
            nx = text[pos + 1]
            if nx == "=":
                kind = "DOUBLE_EQ"
                e = pos + 2
            elif nx == ">":
                kind = "FOR_OBJECT_ARROW"
                e = pos + 2
            else:  # EQ is /[ \t]*=(?!=|>)/: it takes the blanks before it unless a \r is among them
                kind = "EQ"
                e = pos + 1
                if ws != pos and "\r" not in text[ws:pos]:
                    pos = ws
        elif cls == C_SINGLE:
            kind = single[ch]
            e = pos + 1
            if mode == 2:
                if kind == "LBRACE":
                    depth += 1
                elif kind == "RBRACE":
                    if depth:
                        depth -= 1
                    else:
                        mode, depth = stack.pop()
        elif cls == _C_DOT:
            if text.startswith("...", pos):
                kind = "ELLIPSIS"
                e = pos + 3
            elif text.startswith(".*", pos):
                kind = "ATTR_SPLAT"
                e = pos + 2
            else:
                append_type("DOT")
                append_tok(_token("DOT", ".", pos, line, pos - ls + 1, line, pos - ls + 2))
                # the state after DOT accepts INT_LITERAL, not FLOAT_LITERAL: `a.0.1` is two indexes
                pos += 1
                m = _AFTER_DOT_INT.match(text, pos)
                if m is not None:
                    s, pos = m.span(1)
                    append_type("INT_LITERAL")
                    append_tok(_token("INT_LITERAL", text[s:pos], s, line, s - ls + 1, line, pos - ls + 1))
                continue
        elif cls == _C_LSQB:
            if text.startswith("[*]", pos):
                kind = "FULL_SPLAT_START"
                e = pos + 3
            else:
                kind = "LSQB"
                e = pos + 1
        elif cls == _C_COLON:
            if text[pos + 1] == ":":
                kind = "COLONS"
                e = pos + 2
            else:  # COLON is /[ \t]*:(?!:)/, like EQ
                kind = "COLON"
                e = pos + 1
                if ws != pos and "\r" not in text[ws:pos]:
                    pos = ws
        elif cls == _C_NUM:
            m = _NUMBER.match(text, pos)
            if m is not None:
                kind = m.lastgroup
                e = m.end()
            else:  # a "-" not followed by a digit
                kind = "MINUS"
                e = pos + 1
        elif cls == _C_TWO:
            second, kind, kind1 = _TWO[ch]
            if text[pos + 1] == second:
                e = pos + 2
            elif kind1 is not None:
                kind = kind1
                e = pos + 1
            else:
                raise FastParseError(f"unexpected character {ch!r}")
        elif cls == _C_HASH or cls == _C_SLASH:
            if ch == "#" or text.startswith("//", pos):
                e = text.index("\n", pos) + 1  # the text ends with "\n"
                kind = NL
            elif text.startswith("/*", pos):
                e = text.find("*/", pos + 2)
                if e < 0:
                    kind = "SLASH"
                    e = pos + 1
                else:
                    kind = NL
                    e += 2
            else:
                kind = "SLASH"
                e = pos + 1
            if kind == NL:
                t, line, ls = _spanning_token(NL, text, pos, e, line, ls)
                append_tok(t)
                append_type(NL)
                pos = e
                continue
        elif cls == _C_LT:
            m = None
            if text.startswith("<<", pos):
                m = _HEREDOC_TRIM.match(text, pos) or _HEREDOC.match(text, pos)
            if m is not None:
                kind = "HEREDOC_TEMPLATE_TRIM" if text[pos + 2] == "-" else "HEREDOC_TEMPLATE"
                e = m.end()
                t, line, ls = _spanning_token(kind, text, pos, e, line, ls)
                append_tok(t)
                append_type(kind)
                pos = e
                continue
            if text[pos + 1] == "=":
                kind = "LEQ"
                e = pos + 2
            else:
                kind = "LT"
                e = pos + 1
        elif cls == _C_BSLASH:
            m = _TEMPLATE_STRING.match(text, pos)
            if m is None:
                raise FastParseError("unexpected character '\\\\'")
            kind = "TEMPLATE_STRING"
            e = m.end()
            t, line, ls = _spanning_token(kind, text, pos, e, line, ls)
            append_tok(t)
            append_type(kind)
            pos = e
            continue
        else:
            raise FastParseError(f"unexpected character {ch!r}")
        # a one-line token `kind` from pos to e
        v = text[pos:e]
        if kind in merged and types and types[-1] == NL:
            # hcl2's PostLexer: a newline/comment right before a binary operator or `?` is merged
            # into it; the token keeps the operator's position
            types.pop()
            v = toks.pop() + v
        t = new(Tok, v)
        t.type = kind
        t.value = v
        t.start_pos = pos
        t.line = t.end_line = line
        t.column = pos - ls + 1
        t.end_column = e - ls + 1
        t.end_pos = e
        append_tok(t)
        append_type(kind)
        pos = e
    if mode != 0:
        raise FastParseError("unterminated string")
    toks.append(None)
    toks.append(None)
    types.append(_END)
    types.append(_END)
    return toks, types


def _parse(toks: list, types: list, lean: bool = False, share: bool = True) -> Tree:
    """Lark's tree; or, when `lean`, the tree the evaluator reads: without new_line_or_comment
    subtrees, with equal tokens shared unless not `share` (their positions are then not
    theirs), and each `attribute` and `block` tree holding (first line, last line) as its meta."""
    NL = _NL
    LEVEL = _LEVEL
    get_level = LEVEL.get
    T = Tree
    positions = toks  # the tokens with their own positions
    if lean and share:
        toks = _shared_tokens(toks, types)

    def fail(i, what="unexpected token"):
        raise FastParseError(f"{what} ({types[i]}) at token {i}")

    if lean:
        def opt_nl(ch, i):
            """Past an optional new_line_or_comment at i (not kept)."""
            while types[i] == NL:
                i += 1
            return i

        def lines(first, end):
            """(line of token `first`, last line of the token before `end`)."""
            return positions[first].line, token_end_line(positions[end - 1])
    else:
        def opt_nl(ch, i):
            """An optional new_line_or_comment at i, appended to ch; the position after it."""
            if types[i] == NL:
                j = i + 1
                while types[j] == NL:
                    j += 1
                ch.append(T("new_line_or_comment", toks[i:j]))
                return j
            return i

        def lines(first, end):
            return None

    def take(ch, i, kind):
        """The token `kind` at i, appended to ch; the position after it (else a syntax error)."""
        if types[i] != kind:
            fail(i)
        ch.append(toks[i])
        return i + 1

    def attr_name(i):
        tok = toks[i]
        if types[i] == "NAME":
            return T("identifier", [tok])
        tok.type = KEYWORDS[tok.value]
        return T("literal_value" if tok.value in _LITERALS else "keyword", [tok])

    def body(i, d):
        if d > MAX_DEPTH:
            fail(i, "too deep")
        ch = []
        while True:
            t = types[i]
            if t == NL:
                i = opt_nl(ch, i)
                t = types[i]
            if t == "NAME" or t == "WORD":
                node, i = item(i, d)
                ch.append(node)
            else:
                return T("body", ch), i

    def item(i, d):
        first = i
        name = attr_name(i)
        i += 1
        t = types[i]
        if t == "EQ":
            eq = toks[i]
            e, i = expression(i + 1, d + 1)
            return T("attribute", [name, eq, e], lines(first, i)), i
        ch = [name]
        while True:
            if t == "NAME" or t == "WORD":
                ch.append(attr_name(i))
                i += 1
            elif t == "DBLQUOTE":
                s, i = string(i, d)
                ch.append(s)
            else:
                break
            t = types[i]
        if t == NL:
            i = opt_nl(ch, i)
            t = types[i]
        if t != "LBRACE":
            fail(i)
        ch.append(toks[i])
        b, i = body(i + 1, d + 1)
        if types[i] != "RBRACE":
            fail(i)
        ch.append(b)
        ch.append(toks[i])
        return T("block", ch, lines(first, i + 1)), i + 1

    def expression(i, d):
        if d > MAX_DEPTH:
            fail(i, "too deep")
        left, i = unary(i, d)
        lvl = get_level(types[i])
        if lvl is not None:
            left, i, _ = climb(left, _UNARY_LEVEL, i, 0, d)
        if types[i] != "QMARK":
            return left, i
        # conditional: or_expr QMARK nlc? expression nlc? COLON nlc? expression
        ch = [left, toks[i]]
        i += 1
        i = opt_nl(ch, i)
        e, i = expression(i, d + 1)
        ch.append(e)
        i = opt_nl(ch, i)
        i = take(ch, i, "COLON")
        i = opt_nl(ch, i)
        e, i = expression(i, d + 1)
        ch.append(e)
        return T("conditional", ch), i

    def climb(left, left_level, i, min_level, d):
        """Binary operators of level >= min_level after `left` (an expression of level left_level)."""
        while True:
            lvl = get_level(types[i])
            if lvl is None or lvl < min_level or lvl > left_level:
                return left, i, left_level
            term = [T("binary_operator", [toks[i]])]
            i += 1
            i = opt_nl(term, i)
            right, i = unary(i, d)
            lvl2 = get_level(types[i])
            if lvl2 is not None and lvl2 > lvl:
                right, i, _ = climb(right, _UNARY_LEVEL, i, lvl + 1, d)
            term.append(right)
            left = T("binary_op", [left, T("binary_term", term)])
            left_level = lvl
            i = opt_nl(left.children, i)

    def unary(i, d):
        t = types[i]
        if t == "MINUS" or t == "NOT":
            op = toks[i]
            e, i = expr_term(i + 1, d)
            return T("unary_op", [op, e]), i
        return expr_term(i, d)

    def expr_term(i, d):
        t = types[i]
        tok = toks[i]
        if t == "WORD":
            lit = _LITERALS.get(tok.value)
            if lit is not None:
                tok.type = lit
                t = "LITERAL"
            elif types[i - 1] == NL and types[i - 2] == NL:
                # Lark lexed it after the first of these newlines, in a state that takes every
                # keyword: a keyword token where an expression must start, a syntax error
                fail(i, "keyword after newlines")
            else:
                # lexed after the token before (at most one newline before it): at the start of
                # an expression (not an object key) that state accepts NAME and no other keyword
                t = "NAME"
        if t == "NAME":
            t2 = types[i + 1]
            if t2 == "LPAR" or t2 == "COLONS":
                node, i = function_call(i, d)
                node = T("expr_term", [node])
            else:
                node = T("expr_term", [T("identifier", [tok])])
                i += 1
        elif t == "DBLQUOTE":
            node, i = string(i, d)
            node = T("expr_term", [node])
        elif t == "LITERAL":
            node = T("expr_term", [T("literal_value", [tok])])
            i += 1
        elif t == "INT_LITERAL":
            node = T("expr_term", [T("int_lit", [tok])])
            i += 1
        elif t == "LSQB":
            node, i = tuple_(i, d)
            node = T("expr_term", [node])
        elif t == "LBRACE":
            node, i = object_(i, d)
            node = T("expr_term", [node])
        elif t == "FLOAT_LITERAL":
            node = T("expr_term", [T("float_lit", [tok])])
            i += 1
        elif t == "LPAR":
            ch = [tok]
            i += 1
            i = opt_nl(ch, i)
            e, i = expression(i, d + 1)
            ch.append(e)
            i = opt_nl(ch, i)
            if types[i] != "RPAR":
                fail(i)
            ch.append(toks[i])
            node = T("expr_term", ch)
            i += 1
        elif t == "HEREDOC_TEMPLATE":
            node = T("expr_term", [T("heredoc_template", [tok])])
            i += 1
        elif t == "HEREDOC_TEMPLATE_TRIM":
            node = T("expr_term", [T("heredoc_template_trim", [tok])])
            i += 1
        elif t == "TEMPLATE_STRING":
            node = T("expr_term", [T("template_string", [tok])])
            i += 1
        else:
            fail(i)
        # postfix: get_attr / index / splats (shift wins: they always bind to the term)
        t = types[i]
        while True:
            if t == "DOT":
                g, i, kind = dot(i)
                node = T("expr_term", [T(kind, [node, g])])
            elif t == "LSQB":
                g, i = braces_index(i, d)
                node = T("expr_term", [T("index_expr_term", [node, g])])
            elif t == "ATTR_SPLAT" or t == "FULL_SPLAT_START":
                ch = [toks[i]]
                i += 1
                while True:
                    t = types[i]
                    if t == "DOT":
                        g, i, _ = dot(i)
                        ch.append(g)
                    elif t == "LSQB":
                        g, i = braces_index(i, d)
                        ch.append(g)
                    else:
                        break
                if ch[0].type == "ATTR_SPLAT":
                    node = T("expr_term", [T("attr_splat_expr_term", [node, T("attr_splat", ch)])])
                else:
                    node = T("expr_term", [T("full_splat_expr_term", [node, T("full_splat", ch)])])
            else:
                return node, i
            t = types[i]

    def dot(i):
        """DOT (identifier | literal_value) -> get_attr, or DOT INT_LITERAL -> short_index."""
        dt = toks[i]
        t = types[i + 1]
        tok = toks[i + 1]
        if t == "NAME":
            return T("get_attr", [dt, T("identifier", [tok])]), i + 2, "get_attr_expr_term"
        if t == "WORD":
            lit = _LITERALS.get(tok.value)
            if lit is None:  # `in`, `for`, ... after a dot: the state after DOT accepts only NAME
                return T("get_attr", [dt, T("identifier", [tok])]), i + 2, "get_attr_expr_term"
            tok.type = lit
            return T("get_attr", [dt, T("literal_value", [tok])]), i + 2, "get_attr_expr_term"
        if t == "INT_LITERAL":
            return T("short_index", [dt, tok]), i + 2, "index_expr_term"
        fail(i + 1)

    def braces_index(i, d):
        ch = [toks[i]]
        i += 1
        i = opt_nl(ch, i)
        e, i = expression(i, d + 1)
        ch.append(e)
        i = opt_nl(ch, i)
        i = take(ch, i, "RSQB")
        return T("braces_index", ch), i

    def name_only(i):
        """An identifier where the lexer state accepts NAME and no keyword (after FOR of a for
        expression or template, a COMMA between its variables, `::`): keywords are names too,
        unless two newlines came before (then Lark lexed in the state after a newline)."""
        t = types[i]
        if t != "NAME" and (t != "WORD" or (types[i - 1] == NL and types[i - 2] == NL)):
            fail(i)
        return T("identifier", [toks[i]])

    def function_call(i, d):
        ch = [T("identifier", [toks[i]])]
        i += 1
        if types[i] == "COLONS":
            ch.append(toks[i])
            ch.append(name_only(i + 1))
            if types[i + 2] != "COLONS":
                fail(i + 2)
            ch.append(toks[i + 2])
            ch.append(name_only(i + 3))
            i += 4
        i = take(ch, i, "LPAR")
        i = opt_nl(ch, i)
        if types[i] != "RPAR":
            a, i = arguments(i, d)
            ch.append(a)
            i = opt_nl(ch, i)
        i = take(ch, i, "RPAR")
        return T("function_call", ch), i

    def arguments(i, d):
        # expression (nlc? COMMA nlc? expression)* (COMMA | ELLIPSIS)? nlc?
        e, i = expression(i, d + 1)
        ch = [e]
        while True:
            t = types[i]
            if t == NL:
                i = opt_nl(ch, i)
                if types[i] != "COMMA":
                    break
                ch.append(toks[i])
                i += 1
                i = opt_nl(ch, i)
                e, i = expression(i, d + 1)
                ch.append(e)
            elif t == "COMMA":
                ch.append(toks[i])
                i += 1
                i = opt_nl(ch, i)
                if types[i] == "RPAR":
                    break
                e, i = expression(i, d + 1)
                ch.append(e)
            elif t == "ELLIPSIS":
                ch.append(toks[i])
                i += 1
                i = opt_nl(ch, i)
                break
            else:
                break
        return T("arguments", ch), i

    def tuple_(i, d):
        ch = [toks[i]]
        i += 1
        i = opt_nl(ch, i)
        if types[i] == "WORD" and toks[i].value == "for":
            return for_tuple(ch, i, d)
        while types[i] != "RSQB":
            e, i = expression(i, d + 1)
            ch.append(e)
            i = opt_nl(ch, i)
            if types[i] == "COMMA":
                ch.append(toks[i])
                i += 1
                i = opt_nl(ch, i)
            elif types[i] != "RSQB":
                fail(i)
        ch.append(toks[i])
        return T("tuple", ch), i + 1

    def object_(i, d):
        ch = [toks[i]]
        i += 1
        i = opt_nl(ch, i)
        if types[i] == "WORD" and toks[i].value == "for" and types[i + 1] not in ("EQ", "COLON"):
            return for_object(ch, i, d)
        while types[i] != "RBRACE":
            # object_elem: object_elem_key (EQ | COLON) expression
            t = types[i]
            if t == "WORD" and toks[i].value not in _LITERALS:
                tok = toks[i]
                tok.type = KEYWORDS[tok.value]
                key = T("object_elem_key", [T("keyword", [tok])])
                i += 1
            else:
                e, i = expression(i, d + 1)
                key = T("object_elem_key", [e])
            t = types[i]
            if t != "EQ" and t != "COLON":
                fail(i)
            sep = toks[i]
            e, i = expression(i + 1, d + 1)
            ch.append(T("object_elem", [key, sep, e]))
            i = opt_nl(ch, i)
            if types[i] == "COMMA":
                ch.append(toks[i])
                i += 1
                i = opt_nl(ch, i)
        ch.append(toks[i])
        return T("object", ch), i + 1

    def for_intro(i, d):
        # FOR nlc? identifier (COMMA identifier nlc?)? nlc? IN nlc? expression nlc? COLON nlc?
        tok = toks[i]
        tok.type = "FOR"
        ch = [tok]
        i += 1
        i = opt_nl(ch, i)
        ch.append(name_only(i))
        i += 1
        if types[i] == "COMMA":
            ch.append(toks[i])
            ch.append(name_only(i + 1))
            i += 2
        i = opt_nl(ch, i)
        if types[i] != "WORD" or toks[i].value != "in":
            fail(i)
        tok = toks[i]
        tok.type = "IN"
        ch.append(tok)
        i += 1
        i = opt_nl(ch, i)
        e, i = expression(i, d + 1)
        ch.append(e)
        i = opt_nl(ch, i)
        i = take(ch, i, "COLON")
        i = opt_nl(ch, i)
        return T("for_intro", ch), i

    def for_cond(i, d):
        # IF nlc? expression
        tok = toks[i]
        tok.type = "IF"
        ch = [tok]
        i += 1
        i = opt_nl(ch, i)
        e, i = expression(i, d + 1)
        ch.append(e)
        return T("for_cond", ch), i

    def is_if(i):
        return types[i] == "WORD" and toks[i].value == "if"

    def for_tuple(ch, i, d):
        # LSQB nlc? for_intro nlc? expression nlc? for_cond? nlc? RSQB
        node, i = for_intro(i, d)
        ch.append(node)
        i = opt_nl(ch, i)
        e, i = expression(i, d + 1)
        ch.append(e)
        i = opt_nl(ch, i)
        if is_if(i):
            node, i = for_cond(i, d)
            ch.append(node)
            i = opt_nl(ch, i)
        i = take(ch, i, "RSQB")
        return T("for_tuple_expr", ch), i

    def for_object(ch, i, d):
        # LBRACE nlc? for_intro nlc? expression FOR_OBJECT_ARROW nlc? expression nlc? ELLIPSIS? nlc?
        # for_cond? nlc? RBRACE
        node, i = for_intro(i, d)
        ch.append(node)
        i = opt_nl(ch, i)
        e, i = expression(i, d + 1)
        ch.append(e)
        i = take(ch, i, "FOR_OBJECT_ARROW")
        i = opt_nl(ch, i)
        e, i = expression(i, d + 1)
        ch.append(e)
        i = opt_nl(ch, i)
        if types[i] == "ELLIPSIS":
            ch.append(toks[i])
            i += 1
            i = opt_nl(ch, i)
        if is_if(i):
            node, i = for_cond(i, d)
            ch.append(node)
            i = opt_nl(ch, i)
        i = take(ch, i, "RBRACE")
        return T("for_object_expr", ch), i

    def string(i, d):
        ch = [toks[i]]
        i += 1
        while True:
            t = types[i]
            if t == "STRING_CHARS" or t == "ESCAPED_INTERPOLATION" or t == "ESCAPED_DIRECTIVE":
                ch.append(T("string_part", [toks[i]]))
                i += 1
            elif t == "DBLQUOTE":
                ch.append(toks[i])
                return T("string", ch), i + 1
            elif t == "INTERP_START":
                start = toks[i]
                e, i = expression(i + 1, d + 1)
                if types[i] != "RBRACE":
                    fail(i)
                ch.append(T("string_part", [T("interpolation", [start, e, toks[i]])]))
                i += 1
            elif t == "DIRECTIVE_START":
                node, i = directive(i, d)
                ch.append(T("string_part", [node]))
            else:
                fail(i)

    def directive(i, d):
        ch = [toks[i]]
        i += 1
        if types[i] == "STRIP_MARKER":
            ch.append(toks[i])
            i += 1
        if types[i] != "WORD" or toks[i].value not in _DIRECTIVES:
            fail(i)  # Lark matches the keyword as a prefix here (no NAME in that state); rare
        tok = toks[i]
        tok.type, rule = _DIRECTIVES[tok.value]
        ch.append(tok)
        i += 1
        if rule == "template_if_start":
            e, i = expression(i, d + 1)
            ch.append(e)
        elif rule == "template_for_start":
            ch.append(name_only(i))
            i += 1
            if types[i] == "COMMA":
                ch.append(toks[i])
                ch.append(name_only(i + 1))
                i += 2
            if types[i] != "WORD" or toks[i].value != "in":
                fail(i)
            tok = toks[i]
            tok.type = "IN"
            ch.append(tok)
            e, i = expression(i + 1, d + 1)
            ch.append(e)
        if types[i] == "STRIP_MARKER":
            ch.append(toks[i])
            i += 1
        i = take(ch, i, "RBRACE")
        return T(rule, ch), i

    try:
        b, i = body(0, 0)
        if types[i] != _END:
            fail(i)
        return T("start", [b])
    finally:
        if toks is not positions:
            toks.clear()  # the closures above hold it in a reference cycle (see fast_parse)


def fast_parse(text: str, lean: bool = False, share: bool = True) -> Tree:
    """The tree `hcl_parser().parse(text + "\\n")` returns, or FastParseError.  `lean`: the
    evaluator's tree instead (see `_parse`), which `lean_tree` makes of Lark's; `share=False`
    when the tree is only built to find syntax errors."""
    # The parse allocates many small acyclic objects; the cyclic garbage collector would
    # traverse them (and every live tree) over and over for nothing.
    gc_was_enabled = gc.isenabled()
    if gc_was_enabled:
        gc.disable()
    toks: list = []
    types: list = []
    try:
        toks, types = _tokenize(text + "\n")
        return _parse(toks, types, lean, share)
    except RecursionError:
        raise FastParseError("nesting too deep") from None
    except (IndexError, KeyError, AttributeError, TypeError, ValueError) as exc:  # defensive: never a wrong tree
        raise FastParseError(f"internal: {exc!r}") from None
    finally:
        # the parser's recursive closures form reference cycles that hold these lists: empty
        # them so the tokens the tree does not use are freed now, not at the next collection
        toks.clear()
        types.clear()
        if gc_was_enabled:
            gc.enable()


def parse_or_fallback(text: str, lark_parser: Callable[[], Any], lean: bool = False, share: bool = True) -> Tree:
    """`fast_parse(text, lean, share)`, or Lark's tree (`lean_tree` of it when `lean` and `share`)
    when the fast parser declines (Lark then raises its own syntax errors)."""
    try:
        return fast_parse(text, lean, share)
    except FastParseError:
        tree = lark_parser().parse(text + "\n")
        return lean_tree(tree) if lean and share else tree


# ---- the lean tree ---------------------------------------------------------------------------

_SHARED: dict[tuple[str, str], Token] = {}
MAX_SHARED_TOKENS = 500_000


def forget_shared_tokens() -> None:
    """Drop the table of shared tokens (the trees keep the tokens they use)."""
    _SHARED.clear()


def _sharing() -> Callable[[tuple[str, str], Token], Token]:
    """`(key, token)` -> the shared token for key (`token` when it is the first); the table is
    emptied when it has grown too large (trees keep the tokens they use)."""
    if len(_SHARED) > MAX_SHARED_TOKENS:
        _SHARED.clear()
    return _SHARED.setdefault


def _shared_tokens(toks: list, types: list) -> list:
    """The token list with equal tokens replaced by one shared token.  Keyword-spelled NAMEs
    ("WORD") are left alone: the parser gives them their type in place."""
    shared = _sharing()
    return [t if kind == "WORD" or t is None else shared((t.type, t.value), t) for t, kind in zip(toks, types)]


def shared_token(type_: str, value: str) -> Token:
    """The shared token of this type and text (one is made if there is none yet)."""
    token = _SHARED.get((type_, value))
    return _sharing()((type_, value), Token(type_, value)) if token is None else token


def token_end_line(token: Token) -> int:
    """The last line of a token, not counting the newline a heredoc token ends with."""
    end = token.end_line
    return end - 1 if token.endswith("\n") and end > token.line else end


def lean_tree(tree: Tree) -> Tree:
    """Lark's tree made lean in place (what `fast_parse(text, lean=True)` returns)."""
    shared = _sharing()
    stack = [tree]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node.data in ("attribute", "block"):
            node._meta = (_first_line(node), _last_line(node))
        children = node.children
        kept = []
        changed = False
        for child in children:
            kind = type(child)
            if kind is Tree:
                if child.data == "new_line_or_comment":
                    changed = True
                    continue
                push(child)
            elif kind is Token:
                one = shared((child.type, child.value), child)
                if one is not child:
                    child, changed = one, True
            kept.append(child)
        if changed:
            children[:] = kept
    return tree


def _first_line(node: Any) -> int:
    while isinstance(node, Tree):
        node = next((c for c in node.children if not isinstance(c, Tree) or c.children), None)
        if node is None:
            return 1
    return node.line


def _last_line(node: Any) -> int:
    while isinstance(node, Tree):
        node = next((c for c in reversed(node.children) if not isinstance(c, Tree) or c.children), None)
        if node is None:
            return 1
    return token_end_line(node)
