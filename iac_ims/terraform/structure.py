"""A fast structural check of HCL text for the files no IAM block depends on, which are never
handed to the (slow) full parser: brackets balance and every string, interpolation, heredoc and
block comment is closed.  It finds the errors that make a file unusable (truncation, a lost
brace or quote); the full parser is run on a file only when this check finds a problem, so the
IMS900 reported is the same as with a full parse."""

from __future__ import annotations

import re

_CODE = re.compile(r'"|#|//|/\*|<<-?[A-Za-z][A-Za-z0-9._-]*[ \t]*\r?\n|[{}\[\]()]')
_STRING = re.compile(r'\\.|\$\$\{|%%\{|"|\$\{|%\{', re.S)
_PAIRS = {"}": "{", "]": "[", ")": "("}
MAX_TOKENS = 5_000_000  # bounds the loop on hostile input


def first_structural_problem(text: str) -> int | None:
    """The line of the first structural problem, or None when the structure is sound."""
    stack: list[tuple[str, int]] = []  # (opener, position); "$" = interpolation inside a string
    position = 0
    in_string = False
    for _ in range(MAX_TOKENS):
        if in_string:
            match = _STRING.search(text, position)
            if match is None:
                return _line(text, stack[-1][1] if stack else position)
            token = match.group()
            position = match.end()
            if token == '"':
                in_string = False
                stack.pop()
            elif token in ("${", "%{"):
                stack.append(("$", match.start()))
                in_string = False
            continue
        match = _CODE.search(text, position)
        if match is None:
            break
        token = match.group()
        position = match.end()
        if token == '"':
            stack.append(('"', match.start()))
            in_string = True
        elif token in ("#", "//"):
            newline = text.find("\n", position)
            position = len(text) if newline < 0 else newline + 1
        elif token == "/*":
            close = text.find("*/", position)
            if close < 0:
                return _line(text, match.start())
            position = close + 2
        elif token.startswith("<<"):
            marker = token.lstrip("<-").strip()
            closing = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*\r?$", re.M).search(text, position)
            if closing is None:
                return _line(text, match.start())
            position = closing.end()
        elif token in "{[(":
            stack.append((token, match.start()))
        else:  # a closer
            if not stack:
                return _line(text, match.start())
            opener, _start = stack.pop()
            if opener == "$" and token == "}":
                in_string = True  # back inside the string the interpolation belongs to
                continue
            if opener != _PAIRS[token]:
                return _line(text, match.start())
    else:
        return _line(text, position)
    if stack:
        return _line(text, stack[-1][1])
    return None


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1
