"""The lines parse.py gives blocks and attributes: findings and the input-origin chain show them.
A block or attribute ends on its last token: newlines and comments after it are not part of it
(python-hcl2's grammar gave an attribute ending with a binary operation the newline and comment
tokens after it, up to the next attribute's line; the lines below are Terraform's)."""

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
    ('locals {\n  a = 1 + 2\n  b = 3\n}\n', (2, 2)),
    ('locals {\n  a = 1 + 2\n\n  b = 3\n}\n', (2, 2)),
    ('locals {\n  a = 1 + 2 # c\n  # d\n\n  b = 3\n}\n', (2, 2)),
    ('locals {\n  a = 1 +\n    2\n  b = 3\n}\n', (2, 3)),
    ('locals {\n  a = x ? 1 : 2 + 3\n  b = 3\n}\n', (2, 2)),
    ('locals {\n  a = "x" == <<EOT\nhi\nEOT\n\n  b = 3\n}\n', (2, 4)),
    ('a = 1 + 2\r\n\r\n  b = 1 +\r\n  2\r\n', (1, 1)),
    ('locals {\n  a = f(1 + 2\n)\n  b = 3\n}\n', (2, 3)),
])
def test_an_attribute_ending_with_a_binary_operation_ends_on_its_last_token(text, expected):
    assert _lines(text)["a"] == expected
