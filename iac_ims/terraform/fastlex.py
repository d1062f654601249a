"""The token stream of python-hcl2's Lark lexer, for the fast parser (see fastparse).

`tokenize(text)` gives the tokens Lark's contextual lexer and hcl2's PostLexer give for the
same text (hcl2.lark of python-hcl2 8.1.4, Lark 1.3), as four parallel lists: types, values,
lines and columns (1-based, as Lark counts).  Lists of plain strings and ints rather than token
objects: nothing of a token outlives the parse but the pieces of text the IR keeps.

How Lark's tokens are reproduced:

* Lark's contextual lexer takes, among the terminals the current parser state accepts, the
  first in Lark's order (priority, maximal width, pattern length, name) that matches.  Here the
  first in that order among all terminals is taken (told apart by the first character, then
  Lark's own regexes), which is the same token whenever the token is grammatical at that point,
  since the state then accepts it.  The exceptions are handled explicitly: keywords come out
  typed "WORD" and the parser types them from the grammatical context (Lark's per-state
  "unless" callbacks); a number right after `.` can only be an INT_LITERAL; inside quoted
  strings only the string-state terminals exist (a mode stack tracks strings, `${ }` / `%{ }`
  and their braces); blanks before `=` and `:` belong to the EQ and COLON tokens (unless a
  `\\r` is among them).
* hcl2's PostLexer merges a newline/comment directly followed by a binary operator or `?` into
  that operator's token: here the newline's entry is dropped and the operator keeps its own
  position (its text is not kept: the parser knows an operator by its type).
"""

from __future__ import annotations

import re

__all__ = ["FastParseError", "tokenize", "LARK_TERMINALS", "KEYWORDS", "SIMPLE_STRING", "NL", "END"]


class FastParseError(Exception):
    """The fast parser cannot (or will not) give what Lark would for this text; use Lark."""


# The terminal regexes exactly as Lark compiles them from hcl2.lark (`TerminalDef.pattern.to_regexp()`);
# tests/test_fastparse.py checks that they still are.
LARK_TERMINALS = {
    "TEMPLATE_STRING": '\\\\\\"(?:[^"\\\\\\\\]|\\\\\\\\.)*\\\\\\"',
    "ESCAPED_INTERPOLATION": "\\$\\$\\{[^}]*\\}",
    "ESCAPED_DIRECTIVE": "%%\\{[^}]*\\}",
    "STRING_CHARS": '(?:(?!\\$\\$\\{)(?!\\$\\{)(?!%%\\{)(?!%\\{)[^"\\\\]|\\\\.|(?:\\$(?!\\$?\\{))|(?:%(?!%?\\{)))+',
    "FLOAT_LITERAL": (
        "(?:(?:(?:\\-[0-9])+|(?:\\-[0-9])?(?:[0-9])+)\\.(?:[0-9])+(?:(?:e|E)(?:(?:\\+|\\-))?(?:[0-9])+)?"
        "|(?:(?:\\-[0-9])+|(?:\\-[0-9])?(?:[0-9])+)(?:e|E)(?:(?:\\+|\\-))?(?:[0-9])+)"
    ),
    "HEREDOC_TEMPLATE_TRIM": (
        "<<-(?P<heredoc_trim>[a-zA-Z][a-zA-Z0-9._-]*)\r?\n(?:(?:.|\n)*?\r?\n)??[ \t]*(?P=heredoc_trim)\r?\n"
    ),
    "HEREDOC_TEMPLATE": "<<(?P<heredoc>[a-zA-Z][a-zA-Z0-9._-]*)\r?\n(?:(?:.|\n)*?\r?\n)??[ \t]*(?P=heredoc)\r?\n",
    "NL_OR_COMMENT": "(?:\\/\\*(.|\n)*?(\\*\\/)|\\/\\/.*\n|#.*\n|\n[ \t]*)",
    "NAME": "[a-zA-Z_][a-zA-Z0-9_-]*",
    "INT_LITERAL": "(?:\\-[0-9])?(?:[0-9])+",
    "EQ": "[ \t]*=(?!=|>)",
    "COLON": "[ \t]*:(?!:)",
    "__IGNORE_0": "[ \t\r]+",
    "ELLIPSIS": "\\.\\.\\.",
    "FULL_SPLAT_START": "\\[\\*\\]",
    "ATTR_SPLAT": "\\.\\*",
    "COLONS": "::",
    "DIRECTIVE_START": "%\\{",
    "DOUBLE_AMP": "\\&\\&",
    "DOUBLE_EQ": "==",
    "DOUBLE_PIPE": "\\|\\|",
    "FOR_OBJECT_ARROW": "=>",
    "GEQ": ">=",
    "INTERP_START": "\\$\\{",
    "LEQ": "<=",
    "NEQ": "!=",
    "ASTERISK": "\\*",
    "COMMA": ",",
    "DBLQUOTE": '"',
    "DOT": "\\.",
    "GT": ">",
    "LBRACE": "\\{",
    "LPAR": "\\(",
    "LSQB": "\\[",
    "LT": "<",
    "MINUS": "\\-",
    "NOT": "!",
    "PERCENT": "%",
    "PLUS": "\\+",
    "QMARK": "\\?",
    "RBRACE": "\\}",
    "RPAR": "\\)",
    "RSQB": "\\]",
    "SLASH": "/",
    "STRIP_MARKER": "\\~",
}

# Inside quoted strings: the terminals of the string states, in Lark's lexer order.
_STRING_ORDER = [
    "ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE", "STRING_CHARS", "DIRECTIVE_START", "INTERP_START", "DBLQUOTE",
]
_STRING = re.compile("|".join(f"(?P<{n}>{LARK_TERMINALS[n]})" for n in _STRING_ORDER))
# Outside strings, tokens are told apart by their first character; where several terminals
# start alike they are tried in Lark's order (FLOAT before INT before MINUS, heredocs before
# LEQ / LT, a comment before SLASH, ...).
_NUMBER = re.compile(
    f"(?P<FLOAT_LITERAL>{LARK_TERMINALS['FLOAT_LITERAL']})|(?P<INT_LITERAL>{LARK_TERMINALS['INT_LITERAL']})"
)
_HEREDOC_TRIM = re.compile(LARK_TERMINALS["HEREDOC_TEMPLATE_TRIM"])
_HEREDOC = re.compile(LARK_TERMINALS["HEREDOC_TEMPLATE"])
_TEMPLATE_STRING = re.compile(LARK_TERMINALS["TEMPLATE_STRING"])
_NAME_TAIL = re.compile("[a-zA-Z0-9_-]*")
_NEWLINE = re.compile("\n[ \t]*")
_AFTER_DOT_INT = re.compile("[ \t\r]*(" + LARK_TERMINALS["INT_LITERAL"] + ")")
# A whole quoted string without `$`, `%`, a newline or an invalid escape: DBLQUOTE
# [STRING_CHARS] DBLQUOTE (STRING_CHARS then takes all of its text, as in Lark).
SIMPLE_STRING = '"(?:[^"\\\\$%\\n]|\\\\.)*+"'
_SIMPLE_STRING = re.compile(SIMPLE_STRING)

(_C_WS, _C_NL, _C_NAME, _C_QUOTE, _C_EQ, _C_SINGLE, _C_DOT, _C_LSQB, _C_COLON, _C_NUM, _C_LT, _C_HASH,
 _C_SLASH, _C_BSLASH, _C_TWO) = range(15)
_CLASS: dict = {}
for _ch in " \t\r":
    _CLASS[_ch] = _C_WS
_CLASS["\n"] = _C_NL
for _ch in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_":
    _CLASS[_ch] = _C_NAME
for _ch in "0123456789-":
    _CLASS[_ch] = _C_NUM
_CLASS.update({'"': _C_QUOTE, "=": _C_EQ, ".": _C_DOT, "[": _C_LSQB, ":": _C_COLON, "<": _C_LT, "#": _C_HASH,
               "/": _C_SLASH, "\\": _C_BSLASH, "!": _C_TWO, ">": _C_TWO, "&": _C_TWO, "|": _C_TWO})
_SINGLE = {"{": "LBRACE", "}": "RBRACE", ",": "COMMA", "(": "LPAR", ")": "RPAR", "]": "RSQB", "?": "QMARK",
           "+": "PLUS", "*": "ASTERISK", "~": "STRIP_MARKER", "%": "PERCENT"}
for _ch in _SINGLE:
    _CLASS[_ch] = _C_SINGLE
# two-character operators, and the one-character operator when the second character differs
_TWO = {
    "!": ("=", "NEQ", "NOT"), ">": ("=", "GEQ", "GT"), "&": ("&", "DOUBLE_AMP", None), "|": ("|", "DOUBLE_PIPE", None),
}

KEYWORDS = {
    "in": "IN", "for": "FOR", "if": "IF", "for_each": "FOR_EACH", "else": "ELSE", "endif": "ENDIF",
    "endfor": "ENDFOR", "true": "TRUE", "false": "FALSE", "null": "NULL",
}
# hcl2's PostLexer merges a newline/comment token into a directly following one of these.
_MERGED_OPERATORS = frozenset(
    {"DOUBLE_EQ", "NEQ", "LT", "GT", "LEQ", "GEQ", "ASTERISK", "SLASH", "PERCENT", "DOUBLE_AMP", "DOUBLE_PIPE", "PLUS",
     "QMARK"}
)
NL = "NL_OR_COMMENT"
END = "$END"


def tokenize(text: str) -> tuple[list, list, list, list]:
    """(types, values, lines, columns) of Lark's tokens (after hcl2's PostLexer) for `text`.

    `text` must end with a newline.  A keyword is typed "WORD" (the parser gives it its type);
    a newline/comment has no value (None), nor has an operator that one was merged into; all
    lists end with two "$END" entries."""
    types: list = []
    vals: list = []
    lines: list = []
    cols: list = []
    add_type, add_val, add_line, add_col = types.append, vals.append, lines.append, cols.append
    strmatch = _STRING.match
    name_tail = _NAME_TAIL.match
    newline = _NEWLINE.match
    simple_string = _SIMPLE_STRING.match
    classes = _CLASS
    single = _SINGLE
    keywords = KEYWORDS
    merged = _MERGED_OPERATORS
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
            v = text[pos:e]
            add_type(kind)
            add_val(v)
            add_line(line)
            add_col(pos - ls + 1)
            if "\n" in v:  # STRING_CHARS, and the [^}]* of an escaped `$${...}` or `%%{...}`
                line += v.count("\n")
                ls = pos + v.rindex("\n") + 1
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
            add_type("WORD" if v in keywords else "NAME")
            add_val(v)
            add_line(line)
            add_col(pos - ls + 1)
            pos = e
            continue
        if cls == C_NL:
            add_type(NL)
            add_val(None)
            add_line(line)
            add_col(pos - ls + 1)
            line += 1
            ls = pos + 1
            pos = newline(text, pos).end()
            continue
        if cls == C_QUOTE:
            m = simple_string(text, pos)
            if m is None:
                kind = "DBLQUOTE"
                e = pos + 1
                stack.append((mode, depth))
                mode = 1
            else:  # DBLQUOTE [STRING_CHARS] DBLQUOTE on one line
                e = m.end()
                col = pos - ls + 1
                add_type("DBLQUOTE")
                add_val('"')
                add_line(line)
                add_col(col)
                if e - pos > 2:
                    add_type("STRING_CHARS")
                    add_val(text[pos + 1 : e - 1])
                    add_line(line)
                    add_col(col + 1)
                add_type("DBLQUOTE")
                add_val('"')
                add_line(line)
                add_col(col + e - pos - 1)
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
                add_type("DOT")
                add_val(".")
                add_line(line)
                add_col(pos - ls + 1)
                # the state after DOT accepts INT_LITERAL, not FLOAT_LITERAL: `a.0.1` is two indexes
                pos += 1
                m = _AFTER_DOT_INT.match(text, pos)
                if m is not None:
                    s, pos = m.span(1)
                    add_type("INT_LITERAL")
                    add_val(text[s:pos])
                    add_line(line)
                    add_col(s - ls + 1)
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
                add_type(NL)
                add_val(None)
                add_line(line)
                add_col(pos - ls + 1)
                c = text.count("\n", pos, e)
                if c:
                    line += c
                    ls = text.rindex("\n", pos, e) + 1
                pos = e
                continue
        elif cls == _C_LT:
            m = None
            if text.startswith("<<", pos):
                m = _HEREDOC_TRIM.match(text, pos) or _HEREDOC.match(text, pos)
            if m is not None:
                e = m.end()
                add_type("HEREDOC_TEMPLATE_TRIM" if text[pos + 2] == "-" else "HEREDOC_TEMPLATE")
                add_val(text[pos:e])
                add_line(line)
                add_col(pos - ls + 1)
                line += text.count("\n", pos, e)
                ls = e  # a heredoc ends with its newline
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
            e = m.end()
            v = text[pos:e]
            add_type("TEMPLATE_STRING")
            add_val(v)
            add_line(line)
            add_col(pos - ls + 1)
            if "\n" in v:
                line += v.count("\n")
                ls = pos + v.rindex("\n") + 1
            pos = e
            continue
        else:
            raise FastParseError(f"unexpected character {ch!r}")
        # a one-line token `kind` from pos to e
        if kind in merged and types and types[-1] == NL:
            # hcl2's PostLexer: the newline/comment right before the operator is merged into it;
            # the token keeps the operator's position
            types.pop()
            vals.pop()
            lines.pop()
            cols.pop()
            add_val(None)
        else:
            add_val(text[pos:e])
        add_type(kind)
        add_line(line)
        add_col(pos - ls + 1)
        pos = e
    if mode != 0:
        raise FastParseError("unterminated string")
    for _ in range(2):
        add_type(END)
        add_val(None)
        add_line(line)
        add_col(pos - ls + 1)
    return types, vals, lines, cols
