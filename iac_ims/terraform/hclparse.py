"""Parsing of standalone expressions with python-hcl2's (cached) Lark parser.

Terraform templates (heredoc bodies, `templatefile` files) are not parsed by python-hcl2:
their `${...}` / `%{...}` sequences reach us as text.  `parse_expression` turns such a piece
of text into the same kind of Lark tree that python-hcl2 produces for an attribute value,
so the evaluator has only one tree shape to deal with.
"""

from __future__ import annotations

from functools import lru_cache

from lark import Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

_PREFIX = "__x = "


def _describe(e: UnexpectedInput) -> str:
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
def parse_expression(text: str) -> Tree:
    """Parse one HCL expression and return its subtree.

    Raises ValueError (with the line and column inside `text`) on a syntax error, or when
    `text` is not exactly one expression.  Results are cached by text; treat the returned
    tree as immutable.
    """
    if not isinstance(text, str):
        raise ValueError("expression text must be a string")
    src = f"{_PREFIX}{text}\n"
    try:
        tree = _parser().parse(src)
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

    body = None
    for child in tree.children:
        if isinstance(child, Tree) and child.data == "body":
            body = child
            break
    attrs = []
    if body is not None:
        for child in body.children:
            if isinstance(child, Tree):
                if child.data == "attribute":
                    attrs.append(child)
                elif child.data != "new_line_or_comment":
                    raise ValueError("syntax error: not a single expression")
    if len(attrs) != 1:
        raise ValueError("syntax error: not a single expression")
    attr = attrs[0]
    expr = attr.children[-1]
    if not isinstance(expr, Tree):
        raise ValueError("syntax error: not an expression")
    return expr
