"""The quick syntax check: it may decline any file, but a file it calls valid must parse.

Oracle: python-hcl2's grammar, through `parse_hcl_body` (the fast parser, which
tests/test_fastparse.py holds equal to Lark, with Lark behind it) or Lark itself."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REALWORLD, REALWORLD_ABSENT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fastparse import _EXPR, _bodies, lark_parse

from iac_ims.terraform.parse import parse_hcl_body, syntax_error
from iac_ims.terraform.quickcheck import certainly_valid

REPO = Path(__file__).resolve().parents[1]
GENERATOR = FIXTURES / "gen_corpus.py"


def parses(text: str) -> bool:
    return parse_hcl_body(text, "x.tf")[1] is None


def assert_sound(text: str) -> bool:
    """The check's answer for `text`, after asserting that a True is right."""
    answer = certainly_valid(text)
    if answer:
        assert parses(text), f"called valid, but does not parse: {text!r}"
    return answer


PLAIN = '''# network
resource "huaweicloud_vpc" "main" {
  name = "${local.name_prefix}-vpc"
  cidr = var.vpc_cidr // the whole range
  tags = merge(local.common_tags, { Name = "vpc", "team" = "ops" })
}

resource "huaweicloud_vpc_subnet" "sn" {
  count      = 3
  name       = "${local.name_prefix}-subnet-${count.index}"
  gateway_ip = cidrhost(cidrsubnet(var.vpc_cidr, 8, count.index), 1)
  vpc_id     = huaweicloud_vpc.main.id
  enabled    = !var.disabled && var.count >= 2
  ratio      = -1.5 * var.scale + 10 / 2
  ids        = [huaweicloud_vpc.main.id, data.x.y[0].id, "a",]
  any        = huaweicloud_vpc_subnet.sn[*].id
  empty      = {}
  lifecycle {}
}

variable "azs" {
  type    = list(string)
  default = ["a", "b"]
}
'''


def test_plain_terraform_is_recognised():
    assert parses(PLAIN)
    assert certainly_valid(PLAIN)


@pytest.mark.parametrize("text", [
    "a = x -12\n",  # `-12` is one INT_LITERAL token: `x -12` is two terms
    "a = 5m\n",
    "a = a- b\n",  # NAME `a-`, then another NAME
    "a = 1.\n",
    "a = 1-23\n",  # `-23` is one INT_LITERAL token
    "a = f(,)\n",
    "a = [1 2]\n",
    "}\n",
    "a {\n",
    "a {\n}\n}\n",
    "a = 1 }\n",
    "a = b && # c\n",
    "a = !-1\n",  # `!` then a unary minus
    "a = [b +]\n",
    "a = \n",
    "a == 1\n",
    "a = b ==\n",
    'a "x" = 1\n',
    "a = { b = 1 c }\n",
    "a = b.\n",
    "a = (1\n",
])
def test_broken_lines_are_not_called_valid(text):
    assert not parses(text)
    assert not certainly_valid(text)


@pytest.mark.parametrize("text", [
    "a = <<EOF\nx\nEOF\n",  # heredocs, directives, conditionals, for expressions, CRLF: declined
    'a = "%{ if x }y%{ endif }"\n',
    "a = x ? 1 : 2\n",
    "a = [for v in x : v]\n",
    "a = 1\r\n",
    "a = {\n  b = 1\n}\n",  # multi-line expressions: declined
    "a = provider::p::f(1)\n",
    "a = in\n",  # a keyword where a name is taken
    'a = "x\ny"\n',  # a newline inside quotes
])
def test_valid_files_outside_the_subset_are_declined(text):
    assert parses(text)
    assert not certainly_valid(text)


def test_nesting_deeper_than_recognised_is_declined():
    deep = "a = f(g([1]))\n"
    assert parses(deep) and not certainly_valid(deep)
    assert certainly_valid("a = f(g(1), [2])\n")


def _corpus_files(root: Path) -> list[str]:
    return [p.read_bytes().decode("utf-8-sig", "replace") for p in sorted(root.rglob("*.tf"))]


def test_samples_and_hostile_files():
    for text in _corpus_files(REPO / "sample_configs") + _corpus_files(REPO / "tests" / "hostile"):
        assert_sound(text)


@pytest.mark.skipif(not REALWORLD.is_dir(), reason=REALWORLD_ABSENT)
def test_realworld_corpus():
    answers = [assert_sound(text) for text in _corpus_files(REALWORLD)]
    assert sum(answers) >= 0.3 * len(answers)


def test_generated_corpus(tmp_path):
    subprocess.run([sys.executable, str(GENERATOR), str(tmp_path), "120"], check=True, capture_output=True)
    answers = [assert_sound(text) for text in _corpus_files(tmp_path)]
    assert sum(answers) >= 0.5 * len(answers)


_EDITS = list('{}[]()"=,.-+*/!<>:#$% \n\tax01') + ["${", "//", "in", "for", "true", "-1", "1e", "\\"]


def test_mutated_files():
    """Every single-edit mutation of recognised files: a True must still parse."""
    rng = random.Random(20261127)
    texts = [PLAIN] + [t for t in _corpus_files(REPO / "tests") if certainly_valid(t)][:20]
    called_valid = 0
    for _ in range(3000):
        text = rng.choice(texts)
        at = rng.randrange(len(text) + 1)
        kind = rng.randrange(3)
        if kind == 0:
            mutated = text[:at] + rng.choice(_EDITS) + text[at:]
        elif kind == 1:
            mutated = text[:at] + text[at + rng.randint(1, 3):]
        else:
            mutated = text[:at] + rng.choice(_EDITS) + text[at + 1:]
        called_valid += assert_sound(mutated)
    assert called_valid > 100  # the mutations reach both answers


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies())
def test_random_hcl(text):
    if certainly_valid(text):
        assert lark_parse(text) is not None, text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EXPR)
def test_random_expressions(expr):
    text = "x = " + expr + "\n"
    if certainly_valid(text):
        assert lark_parse(text) is not None, text


def _near_subset_expressions():
    """Expressions built from the pieces the check recognises, glued with and without blanks, so
    that many are recognised and many are near misses."""
    gap = st.sampled_from(["", " ", " ", "  ", "\t"])
    atom = st.sampled_from([
        "a", "b_c", "x-y", "a-", "in", "for", "true", "null", "nullable", "each.value", "count.index",
        "var.azs[0]", "a.0", "a.0.1", "a[*].id", "a.*.b", "a[count.index]", 'a["k"]', "0", "7", "-1", "-12",
        "1.5", "-1.5", "1.", "1e3", '"s"', '"${var.x}-y"', '"a\\"b"', '"$x"', '"%"', '""',
    ])

    def extend(children):
        return st.one_of(
            st.builds(_cat, children, gap, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=",
                                                              ">=", "&&", "||", "!"]), gap, children),
            st.builds(_cat, st.sampled_from(["!", "-", "! ", "- "]), children),
            st.builds(lambda f, g, args, t: f + "(" + g + ("," + g).join(args) + t + ")",
                      st.sampled_from(["f", "merge", "in"]), gap, st.lists(children, max_size=3),
                      st.sampled_from(["", ",", " "])),
            st.builds(lambda g, items, t: "[" + g + ("," + g).join(items) + t + "]", gap,
                      st.lists(children, max_size=3), st.sampled_from(["", ",", " "])),
            st.builds(lambda g, items: "{" + g + ", ".join(f"{k}{g}{sep}{g}{v}" for k, sep, v in items) + g + "}",
                      gap, st.lists(st.tuples(st.sampled_from(["a", '"k"', "in", "b-c"]),
                                              st.sampled_from(["=", ":", "=="]), children), max_size=3)),
            st.builds(lambda g, e: "(" + g + e + g + ")", gap, children),
            st.builds(_cat, children, st.sampled_from([".b", "[0]", ".0", "[*]", ".*", "x", "-", "."])),
        )

    return st.recursive(atom, extend, max_leaves=6)


def _cat(*parts: str) -> str:
    return "".join(parts)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_near_subset_expressions(), st.sampled_from(["", " # c", " // c", ",", " }"]))
def test_near_subset_expressions(expr, tail):
    assert_sound("x = " + expr + tail + "\n")


def test_syntax_error_uses_it_and_still_reports_errors():
    assert syntax_error("ok.tf", PLAIN) is None
    error = syntax_error("bad.tf", PLAIN.replace('cidr = var.vpc_cidr', 'cidr = var.vpc_cidr -12'))
    assert error is not None and error.rule_id == "IMS900" and error.line == 4
