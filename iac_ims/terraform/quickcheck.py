"""A quick syntax check for the plain files most of a repository is made of.

`certainly_valid(text)` recognises, with regular expressions alone (no tokens, no tree), a
subset of HCL that python-hcl2's grammar certainly accepts: a file of lines, each of them
blank or a comment, a block header ending in `{`, an empty block `x {}`, a line holding only
`}`, or an attribute whose value is a one-line expression built from strings (with `${ref}`
interpolations), numbers, `true`/`false`/`null`, references, function calls, lists and objects,
joined by binary operators.  The block headers and closing lines must nest.

It answers True only for such files; anything else (a heredoc, a multi-line expression, a
conditional, a keyword in an odd place, a `\\r`, ...) gets False, and the caller parses the file
as usual.  True is never wrong: tests/test_quickcheck.py checks it against the parser on every
corpus and on generated input.  Only the question "is there a syntax error?" is answered here;
the files whose blocks are needed are always parsed.
"""

from __future__ import annotations

import functools
import re

from iac_ims.terraform.fastlex import KEYWORDS, LARK_TERMINALS, SIMPLE_STRING

NESTING = 2  # brackets nested deeper than this in one expression: not recognised

_NAME = LARK_TERMINALS["NAME"] + "+"  # possessive: a NAME token is as long as it can be
_PLAIN_NAME = rf"(?!(?:{'|'.join(KEYWORDS)})(?![A-Za-z0-9_-])){_NAME}"  # a NAME token that is not a keyword
_COMMENT = r"(?:#[^\n]*+|//[^\n]*+)"
_END_OF_LINE = rf"[ \t]*+{_COMMENT}?+\n"
_PLAIN_STRING = SIMPLE_STRING  # no interpolation, no directive
_NUMBER = r"-?+[0-9]++(?:\.[0-9]++)?+(?![A-Za-z0-9_.-])"
_LITERAL = r"(?:true|false|null)(?![A-Za-z0-9_.-])"
# a reference: a name, then attributes, numeric attributes, splats and simple indexes
_SIMPLE_REFERENCE = rf"{_PLAIN_NAME}(?:\.{_NAME}|\.[0-9]++(?![A-Za-z_-]))*+"
_INDEX = rf"\[[ \t]*+(?:[0-9]++|{_PLAIN_STRING}|{_SIMPLE_REFERENCE})[ \t]*+\]"
_TRAVERSAL = rf"(?:\.{_NAME}|\.[0-9]++(?![A-Za-z_-])|{_INDEX}|\[\*\]|\.\*)*+"
_INTERPOLATED_STRING = rf'"(?:[^"\\$%\n]|\\[^\n]|\$\{{[ \t]*+{_SIMPLE_REFERENCE}[ \t]*+\}})*+"'
_OPERATOR = r"(?:==|!=|<=|>=|&&|\|\||[<>+*%]|/(?![/*])|-)"
# what may follow a complete expression on its line
_EXPRESSION_END = rf"(?=[ \t]*+(?:[,)\]}}\n]|{_COMMENT}))"


def _expression(inner: str | None) -> str:
    """A one-line expression whose brackets hold `inner` expressions (None: no brackets)."""
    terms = [_LITERAL, _NUMBER, _INTERPOLATED_STRING, rf"{_PLAIN_NAME}{_TRAVERSAL}"]
    if inner is not None:
        element = rf"[ \t]*+{inner}[ \t]*+"
        key = rf"(?:{_PLAIN_NAME}|{_PLAIN_STRING})"
        terms = [
            rf"{_PLAIN_NAME}\((?:{element}(?:,|(?=\))))*+[ \t]*+\){_TRAVERSAL}",  # a call
            rf"\[(?:{element}(?:,|(?=\])))*+[ \t]*+\]{_TRAVERSAL}",  # a list
            rf"\{{(?:[ \t]*+{key}[ \t]*+[=:](?![=>]){element}(?:,|(?=\}})))*+[ \t]*+\}}",  # an object
            rf"\({element}\)",
            *terms,
        ]
    # `!` takes a term, and `-1` after it is two tokens (a unary minus): `!-1` is not HCL
    term = rf"(?:(?:!(?!-))?+(?:{'|'.join(terms)}))"
    # an operator must be followed by what can start a term: a dangling one is then never accepted
    # (nothing that may follow an expression starts like a term)
    return rf"(?:{term}(?:[ \t]++{_OPERATOR}[ \t]++(?=[A-Za-z0-9_\"(\[{{!-])|{_EXPRESSION_END}))++"


def _build_expression() -> str:
    expression = _expression(None)
    for _ in range(NESTING):
        expression = _expression(expression)
    return expression


_LABEL = rf"(?:{_PLAIN_NAME}|{_PLAIN_STRING})"
_HEADER = rf"{_PLAIN_NAME}(?:[ \t]++{_LABEL})*+[ \t]*+\{{"
_LINE = (
    rf"[ \t]*+(?:"
    rf"(?:{_PLAIN_NAME}|for_each)[ \t]*+=(?![=>])[ \t]*+{_build_expression()}"  # an attribute
    rf"|{_HEADER}(?:[ \t]*+\}})?+"  # a block header, or an empty block
    rf"|\}}"  # the end of a block
    rf")?+{_END_OF_LINE}"
)
# the lines that open or close a block body (every line already matched _LINE)
_BRACES = re.compile(rf"^[ \t]*+(?:(\}})|{_HEADER}(?=[ \t]*+{_COMMENT}?+$))", re.M)


@functools.cache
def _file_pattern() -> re.Pattern[str]:
    """Compiled on first use (about 30 ms): scans of a few files never need it."""
    return re.compile(rf"(?:{_LINE})*+")
_NOT_RECOGNISED = ("\r", "/*", "<<", "%{", "::")


def certainly_valid(text: str) -> bool:
    """True when `text` is certainly free of syntax errors; False when it may not be."""
    if any(marker in text for marker in _NOT_RECOGNISED):
        return False
    if not text.endswith("\n"):
        text += "\n"
    if _file_pattern().fullmatch(text) is None:
        return False
    depth = 0
    for closing in _BRACES.findall(text):
        depth += -1 if closing else 1
        if depth < 0:
            return False
    return depth == 0
