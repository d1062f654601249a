"""Where a broken construct starts, for IMS900.

A parser reports where it gave up, which for an unclosed string, bracket, heredoc or comment is
usually far from the mistake: python-hcl2 lets a quoted string run over line breaks, so one
missing quote shifts every later string and the parse ends at the end of the file, and an
unclosed `{` is only noticed there.  `locate` scans the text once, the way Terraform reads it
(a quoted string ends at its line; heredocs, comments and brackets nest as in HCL), finds the
first construct that is broken, and names it when the parser's failure is explained by it:

* the parser reached the end of the file: the first broken construct, whatever it is;
* the parser stopped earlier: a string, interpolation, heredoc or comment that is broken and
  starts at or before the failure (everything after such a construct is read out of phase), or
  a bracket left open by a closer of another kind, with the failure between the two.

Otherwise (a misplaced token, a closer one too many) the parser's own position stands.  JSON
text (`.tf.json`, `.tfvars.json`) is scanned the same way, without HCL's comments, heredocs and
templates.

The scan is linear (at most three passes): it jumps between the characters that matter with
regular expressions, and gives up (None) past `MAX_DEPTH` open constructs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iac_ims.terraform.fastlex import LARK_TERMINALS, SIMPLE_STRING

MAX_DEPTH = 1000  # beyond this the parser fails on nesting, not on a construct left open

_CLOSER_OF = {"{": "}", "[": "]", "(": ")"}
_OPENER_OF = {"}": "{", "]": "[", ")": "("}
_INTERPOLATIONS = ("$", "%")  # stack kinds of `${` and `%{`, which `}` closes
# Text up to the next character that matters: a lone `/` or `<` does not (it cannot start a
# comment or a heredoc), nor does an escape or a `$`/`%` that starts no template sequence in a
# string.  Inside an interpolation whose own frame is on top, a line break matters too
# (python-hcl2 does not take one there, and it is where such a `${` is broken).
_CODE_TEXT = r'[^"{}\[\]()#/<\n]|/(?![/*])|<(?!<-?[a-zA-Z])'
_HCL_CODE_SKIP = re.compile(rf"(?:{_CODE_TEXT}|\n)*+")
_HCL_CODE_SKIP_IN_INTERPOLATION = re.compile(rf"(?:{_CODE_TEXT})*+")
_HCL_STRING_SKIP = re.compile(r'(?:[^"\\$%\n]|\\[^\n]|[$%](?![$%]?\{))*+')
_JSON_CODE_SKIP = re.compile(r'[^"{}\[\]]*+')
_JSON_STRING_SKIP = re.compile(r'[^"\\\n]*+')
# A whole string or heredoc as the parser takes it, and the opening line of a heredoc whose
# end marker never comes.
_SIMPLE_STRING = re.compile(SIMPLE_STRING)
_HEREDOC = re.compile(f"{LARK_TERMINALS['HEREDOC_TEMPLATE_TRIM']}|{LARK_TERMINALS['HEREDOC_TEMPLATE']}")
_HEREDOC_OPENING = re.compile(r"<<-?([a-zA-Z][a-zA-Z0-9._-]*)\r?\n")

_NAMES = {
    '"': ("unterminated string", "the quote"),
    "$": ("unclosed interpolation", 'the "${"'),
    "%": ("unclosed template directive", 'the "%{"'),
    "{": ("unclosed brace", 'the "{"'),
    "[": ("unclosed bracket", 'the "["'),
    "(": ("unclosed parenthesis", 'the "("'),
    "/": ("unterminated comment", 'the "/*"'),
    "<": ("unterminated heredoc", None),
}


@dataclass(frozen=True)
class Broken:
    """A construct left open: its kind (the key of `_NAMES`), where it starts, where the scan
    found it broken (the end of its line, the closer that does not match it, or the end of the
    text) and, for a bracket open at the end of the text, the outermost construct also open there."""

    kind: str
    start: int
    found_at: int
    closer: str | None = None  # the closer that does not match it
    marker: str | None = None  # a heredoc's marker
    outermost: tuple[str, int] | None = None  # (kind, start) of the first construct around it also left open

    @property
    def lexical(self) -> bool:
        """Whether everything after its start is read out of phase (not so for a bracket)."""
        return self.kind not in _CLOSER_OF


def first_broken(text: str, json: bool = False) -> Broken | None:
    """The first construct the text leaves broken, or None: none, a closer that is one too many
    (the parser names that one itself), or nesting deeper than MAX_DEPTH."""
    if not text.endswith("\n"):  # as the parser reads it; a line break then ends every string
        text += "\n"
    broken = _scan(text, json, 0, [], trial=False)
    return None if broken is _TOO_DEEP else broken


_MISMATCH = Broken("!", 0, 0)  # what a trial scan answers at a closer that does not match
_TOO_DEEP = Broken("?", 0, 0)


def _scan(text: str, json: bool, pos: int, stack: list[tuple[str, int]], trial: bool) -> Broken | None:
    """`first_broken` from `pos` with the constructs `stack` (kind, offset of its opening) open.
    A `trial` scan only tells whether the rest is well-formed (None) or not."""
    code_skip = _JSON_CODE_SKIP if json else _HCL_CODE_SKIP
    string_skip = _JSON_STRING_SKIP if json else _HCL_STRING_SKIP
    n = len(text)
    while pos < n:  # every turn moves pos forward
        top = stack[-1][0] if stack else ""
        if top == '"':
            pos = string_skip.match(text, pos).end()
            ch = text[pos]
            if ch == '"':
                stack.pop()
                pos += 1
            elif ch == "\n":  # Terraform ends a quoted string at its line
                below = stack[-2] if len(stack) > 1 else None
                if below is not None and below[0] in _INTERPOLATIONS:  # `"${var.a"`: the `${` lacks its `}`
                    return Broken(below[0], below[1], pos)
                return Broken('"', stack[-1][1], pos)
            elif ch == "\\":  # an escape, unless it would take the line break
                pos += 1 if text[pos + 1] == "\n" else 2
            elif text.startswith("{", pos + 1):  # a template sequence, which may hold strings of its own
                if len(stack) >= MAX_DEPTH:
                    return _TOO_DEEP
                stack.append((ch, pos))
                pos += 2
            elif text.startswith(ch + "{", pos + 1):  # `$${` and `%%{` are literal text
                pos += 3
            else:
                pos += 1
            continue
        skip = _HCL_CODE_SKIP_IN_INTERPOLATION if top in _INTERPOLATIONS else code_skip
        pos = skip.match(text, pos).end()
        if pos >= n:
            break
        ch = text[pos]
        if ch == '"':
            simple = None if json else _SIMPLE_STRING.match(text, pos)  # most strings, in one step
            if simple is not None:
                pos = simple.end()
                continue
            if len(stack) >= MAX_DEPTH:
                return _TOO_DEEP
            stack.append(('"', pos))
            pos += 1
        elif ch in _CLOSER_OF:
            if len(stack) >= MAX_DEPTH:
                return _TOO_DEEP
            stack.append((ch, pos))
            pos += 1
        elif ch in _OPENER_OF:
            if top == _OPENER_OF[ch] or (ch == "}" and top in _INTERPOLATIONS):
                stack.pop()
                pos += 1
                continue
            return _MISMATCH if trial else _mismatch(text, json, stack, ch, pos)
        elif ch == "\n":  # only stopped at on top of an interpolation
            return Broken(top, stack[-1][1], pos)
        elif ch == "#" or text.startswith("//", pos):
            pos = text.index("\n", pos) + 1
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                return Broken("/", pos, n)
            pos = end + 2
        elif text.startswith("<<", pos):
            heredoc = _HEREDOC.match(text, pos)
            if heredoc is not None:
                pos = heredoc.end()
                continue
            opening = _HEREDOC_OPENING.match(text, pos)
            if opening is not None:
                return Broken("<", pos, n, marker=opening.group(1))
            pos += 2
        else:
            pos += 1
    if not stack:
        return None
    kind, start = stack[-1]
    outermost = stack[0] if len(stack) > 1 else None
    return Broken(kind, start, n, outermost=outermost)


def _mismatch(text: str, json: bool, stack: list[tuple[str, int]], closer: str, pos: int) -> Broken | None:
    """The bracket that `closer` (at pos, not the one the innermost open bracket needs) shows
    unclosed, or None when the closer is rather one too many: it closes nothing open in the same
    string interpolation, or the rest of the text is well-formed without it and not with the
    brackets it would close.  (Two trial scans, each linear: they stop at the next mismatch.)"""
    opener = _OPENER_OF[closer]
    for depth in range(len(stack) - 1, -1, -1):
        kind = stack[depth][0]
        if kind == '"':
            return None
        if kind == opener or (closer == "}" and kind in _INTERPOLATIONS):
            break
    else:
        return None
    one_too_many = _scan(text, json, pos + 1, list(stack), trial=True) is None
    if one_too_many and _scan(text, json, pos + 1, stack[:depth], trial=True) is not None:
        return None
    top_kind, top_start = stack[-1]
    return Broken(top_kind, top_start, pos, closer=closer)


def locate(text: str, failure: int | None, at_end: bool, json: bool = False) -> Broken | None:
    """The broken construct that explains a parse failure at offset `failure` (`at_end`: the
    parser reached the end of the text), or None when the parser's position should stand."""
    broken = first_broken(text, json)
    if broken is None:
        return None
    if at_end:
        return broken
    if failure is None or broken.start > failure:
        return None
    if broken.lexical:
        return broken
    return broken if broken.closer is not None and failure <= broken.found_at else None


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of an offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def offset_of(text: str, line: int, column: int) -> int | None:
    """The offset of a 1-based line and column, or None when the text has no such line."""
    if line < 1 or column < 1:
        return None
    start = 0
    for _ in range(line - 1):  # bounded by the number of lines of the text
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    return start + column - 1


def describe(text: str, broken: Broken, parser_note: str) -> tuple[str, int, int]:
    """The IMS900 message for a broken construct, and the line and column where it starts.
    `parser_note` says where the parser gave up (kept in parentheses)."""
    line, column = line_and_column(text, broken.start)
    headline, what = _NAMES[broken.kind]
    where = f"at line {line}, column {column}"
    if broken.kind == "<":
        marker = broken.marker or ""
        opening = "<<-" if text.startswith("<<-", broken.start) else "<<"
        sentence = f'the "{opening}{marker}" {where} has no closing "{marker}" line'
    elif broken.closer is not None:
        closer_line, closer_column = line_and_column(text, broken.found_at)
        sentence = (f'{what} {where} is not closed before the "{broken.closer}" '
                    f"at line {closer_line}, column {closer_column}")
    else:
        sentence = f"{what} {where} is never closed"
    notes = []
    if broken.outermost is not None:
        outer_kind, outer_start = broken.outermost
        outer_line, outer_column = line_and_column(text, outer_start)
        notes.append(f"nor is {_NAMES[outer_kind][1]} at line {outer_line}, column {outer_column} around it")
    notes.append(parser_note)
    return f"{headline}: {sentence} ({'; '.join(notes)})", line, column
