"""The lines parse.py gives blocks and attributes: findings and the input-origin chain show them,
so they stay what python-hcl2's grammar made of them (the values below are the ones the Lark tree
gave before the IR; they are not recomputed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iac_ims.terraform.parse import parse_source


def _lines(text: str) -> dict[str, tuple[int, int]]:
    parsed = parse_source(Path("x.tf"), "x.tf", text)
    assert parsed.error is None
    found = {name: (a.line, a.end_line) for name, a in parsed.top_attributes.items()}
    for block in parsed.blocks:
        found[block.type] = (block.line, block.end_line)
        found.update({name: (a.line, a.end_line) for name, a in block.attributes.items()})
    return found


def test_blocks_and_plain_attributes_span_their_tokens():
    text = 'locals {\n  a = [\n    1,\n  ]\n\n  b = "x"  # c\n}\n'
    assert _lines(text) == {"locals": (1, 7), "a": (2, 4), "b": (6, 6)}


def test_a_heredoc_ends_on_its_closing_marker():
    assert _lines('locals {\n  a = <<EOT\nhi\nEOT\n\n  b = 1\n}\n') == {"locals": (1, 7), "a": (2, 4), "b": (6, 6)}


@pytest.mark.parametrize(("text", "expected"), [
    # the newline token after a trailing binary operation takes the next line's indentation
    ('locals {\n  a = 1 + 2\n  b = 3\n}\n', (2, 3)),
    # each blank line is one more newline token
    ('locals {\n  a = 1 + 2\n\n  b = 3\n}\n', (2, 4)),
    # a comment token ends with its newline: on its own line
    ('locals {\n  a = 1 + 2 # c\n  # d\n\n  b = 3\n}\n', (2, 5)),
    # no indentation on the next line: the newline ends on the attribute's line
    ('locals {\n  a = 1 + 2\n}\n', (2, 2)),
    # through the false branch of a conditional, and after a heredoc operand
    ('locals {\n  a = x ? 1 : 2 + 3\n  b = 3\n}\n', (2, 3)),
    ('locals {\n  a = "x" == <<EOT\nhi\nEOT\n\n  b = 3\n}\n', (2, 6)),
    ('locals {\n  a = "x" == <<EOT\nhi\nEOT\n  b = 3\n}\n', (2, 4)),
    # the parser reads the text with a newline added: it counts as one more newline token
    ('a = 1 + 2\r\n\r\n  b = 1 +\r\n  2\r\n', (1, 3)),
    # a binary operation inside brackets ends before them: no newline token is its own
    ('locals {\n  a = f(1 + 2\n)\n  b = 3\n}\n', (2, 3)),
])
def test_an_attribute_ending_with_a_binary_operation_takes_the_newlines_after_it(text, expected):
    assert _lines(text)["a"] == expected
