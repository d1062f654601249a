"""Parsing of standalone expressions: the fast parser, python-hcl2's Lark parser where it declines.

Terraform templates (heredoc bodies, `templatefile` files) are not parsed with the file: their
`${...}` / `%{...}` sequences reach us as text, and so do `--var` values.  `parse_expression`
turns such a piece of text into the same representation (`ir.py`) that the parsers produce for
an attribute value, so the evaluator has only one shape to deal with.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from iac_ims.terraform import ir

_NAME = "__x"
_PREFIX = f"{_NAME} = "


def _describe(e: Any) -> str:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(e, UnexpectedToken):
        tok = e.token
        if getattr(tok, "type", None) == "$END":
            return "unexpected end of expression"
        return f"unexpected {str(tok)[:40]!r}"
    if isinstance(e, UnexpectedCharacters):
        return f"unexpected character {getattr(e, 'char', '?')!r}"
    if isinstance(e, UnexpectedEOF):
        return "unexpected end of expression"
    return type(e).__name__


def _parser():
    """The process-wide Lark object of python-hcl2 (built, or loaded from its cache, once)."""
    from hcl2.parser import parser

    return parser()


@lru_cache(maxsize=8192)
def parse_expression(text: str) -> ir.Expr:
    """Parse one HCL expression.

    Raises ValueError (with the line and column inside `text`) on a syntax error, or when
    `text` is not exactly one expression.  Results are cached by text (the nodes are
    immutable).  Positions in the result are those of the line `__x = text`.
    """
    from iac_ims.terraform.fastparse import FastParseError, parse_body

    if not isinstance(text, str):
        raise ValueError("expression text must be a string")
    try:
        body = parse_body(_PREFIX + text)  # Lark's IR, ten times faster; it declines every error
    except FastParseError:
        body = _lark_body(f"{_PREFIX}{text}\n")
    items = body.items
    if len(items) != 1 or type(items[0]) is not ir.AttributeDef or items[0].name != _NAME:
        raise ValueError("syntax error: not a single expression")
    return items[0].expr


def _lark_body(src: str) -> ir.Body:
    """The body of `src` as python-hcl2's parser reads it; its syntax errors as ValueError."""
    from lark.exceptions import LarkError, UnexpectedInput

    from iac_ims.terraform.lark_to_ir import file_body

    try:
        return file_body(_parser().parse(src), src)
    except UnexpectedInput as e:
        line = getattr(e, "line", None)
        column = getattr(e, "column", None)
        if isinstance(line, int) and line == 1 and isinstance(column, int):
            column = max(1, column - len(_PREFIX))
        detail = _describe(e)
        raise ValueError(f"syntax error at line {line}, column {column}: {detail}") from None
    except LarkError as e:
        raise ValueError(f"syntax error: {type(e).__name__}: {e}") from None
    except RecursionError:
        raise ValueError("syntax error: expression nested too deeply") from None
    except (RuntimeError, IndexError, TypeError) as e:  # defensive: parser internals
        raise ValueError(f"syntax error: {type(e).__name__}: {e}") from None
