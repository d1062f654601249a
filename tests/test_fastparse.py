"""The oracle: `fastparse.parse_body(text)` must equal `lark_to_ir.file_body` of Lark's tree
(python-hcl2's grammar and post-lexer, see parse.hcl_parser) exactly, ranges included, or raise
FastParseError; it must raise it wherever Lark rejects the text."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REALWORLD, REALWORLD_ABSENT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iac_ims.terraform import ir
from iac_ims.terraform.fastparse import LARK_TERMINALS, FastParseError, parse_body
from iac_ims.terraform.lark_to_ir import file_body
from iac_ims.terraform.parse import hcl_parser

REPO = Path(__file__).resolve().parents[1]
GENERATOR = FIXTURES / "gen_corpus.py"


def lark_parse(text: str):
    """Lark's tree for text, or None when Lark rejects it."""
    try:
        return hcl_parser().parse(text + "\n")
    except Exception:
        return None


def lark_ir(text: str) -> ir.Body | None:
    """What the scanner reads when Lark parses the text (None: Lark rejects it)."""
    tree = lark_parse(text)
    return None if tree is None else file_body(tree, text + "\n")


def compare(text: str) -> str:
    """'fast' when parse_body returned Lark's IR, 'fallback' when it raised FastParseError;
    fails the test when it returned anything else (or accepted what Lark rejects)."""
    want = lark_ir(text)
    try:
        got = parse_body(text)
    except FastParseError:
        return "fallback"
    assert want is not None, f"parse_body accepted what Lark rejects: {text!r}"
    assert got == want, f"IR differs for {text!r}:\n{got}\n!=\n{want}"
    return "fast"


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


# --- the terminals are still Lark's ---------------------------------------------------------------


def test_terminal_regexes_are_larks():
    terminals = {t.name: t.pattern.to_regexp() for t in hcl_parser().terminals}
    for name, regexp in LARK_TERMINALS.items():
        assert terminals.get(name) == regexp, name


# --- real files -------------------------------------------------------------------------------------


def _check_files(paths: list[Path], min_fast_share: float = 0.9) -> None:
    assert paths
    outcomes = {path: compare(_read(path)) for path in paths}
    valid = [p for p in paths if lark_parse(_read(p)) is not None]
    fast = [p for p in valid if outcomes[p] == "fast"]
    assert len(fast) >= min_fast_share * len(valid), [str(p) for p in valid if outcomes[p] != "fast"]


def test_sample_configs():
    _check_files(sorted((REPO / "sample_configs").rglob("*.tf")), min_fast_share=1.0)


def test_hostile_files():
    paths = sorted((REPO / "tests" / "hostile").rglob("*.tf"))
    if not paths:
        pytest.skip("no hostile .tf files")
    for path in paths:
        compare(_read(path))


@pytest.mark.skipif(not REALWORLD.is_dir(), reason=REALWORLD_ABSENT)
def test_realworld_corpus():
    _check_files(sorted(REALWORLD.rglob("*.tf")), min_fast_share=0.99)


def test_generated_corpus(tmp_path):
    subprocess.run([sys.executable, str(GENERATOR), str(tmp_path), "120"], check=True, capture_output=True)
    _check_files(sorted(tmp_path.rglob("*.tf")), min_fast_share=1.0)


# --- tricky snippets ----------------------------------------------------------------------------------

SNIPPETS = [
    # layout, blanks, comments, CRLF
    "",
    "\n",
    "\n\n\n",
    "a = 1",
    "a=1",
    "a =1\nb= 2\nc\t=\t3\n",
    "a \t = 1",
    "a \r= 1",
    "a\r = 1",
    "a = 1\r\nb = 2\r\n",
    "a = 1 b = 2",
    "a = 1 # c\nb = 2 // d\n/* e */ c = 3 /* f\n g */ d = 4",
    "# only a comment",
    "// only a comment",
    "/* only a comment */",
    "/* multi\nline\ncomment */\n",
    "\ta = 1",
    "  a = 1  ",
    "a = 1\n  ",
    "a = 1\r",
    "a = 1\r\n\r\n",
    "a = [\r\n  1,\r\n  2\r\n]\r\n",
    "a = {\r\n  b = 1\r\n}\r\n",
    "a = x # c\r\n + y",
    "a = x /* c */\n + y",
    "a = 1 /* c */ b = 2",
    "a /* c */ = 1",
    "a = /* c */ 1",
    "a = [/* c */ 1]",
    "a = [ /* c */\n 1]",
    "a = f(/* c */)",
    "a = { /* c */ }",
    "a = \"x\" /* c */",
    "a = 1 /* unterminated",
    "a = 1 / 2 // c\nb = 3",
    "a = 1 / /* c */ 2",
    "a = 1 //c",
    "a = 1 #c",
    "locals {\n  a = 1\n\n  # comment\n  b = 2 # trailing\n}\n",
    "locals {\r\n  # c\r\n  a = \"x\" # d\r\n}\r\n",
    # strings and templates
    'a = "x"\n',
    'a = ""\n',
    'a = "héllo wörld ✓ 日本"',
    'a = "esc \\" \\\\ \\n \\t \\u00e9"',
    'a = "a $ b % c $$ d %% e"',
    'a = "$${not} %%{not}"',
    'a = "${var.x}"',
    'a = "pre-${var.x}-post"',
    'a = "${"a${b}"}"',
    'a = "${"a${"${c}"}"}"',
    'a = "${ {a = 1}.a }"',
    'a = "${ {a = {b = 1}}.a.b }"',
    'a = "%{ if x }yes%{ else }no%{ endif }"',
    'a = "%{~ if x ~}yes%{~ else ~}no%{~ endif ~}"',
    'a = "%{ for k, v in m }${k}=${v}%{ endfor }"',
    'a = "%{for x in xs}${x}%{endfor}"',
    'a = "%{ if a == \\"b\\" }c%{ endif }"',
    'a = "${a == \\"b\\"}"',
    'a = "${a ? \\"x\\" : \\"y\\"}"',
    'a = "${a}${b}"',
    'a = "x\ny"',
    'a = "x\r\ny"',
    'a = "$"',
    'a = "%"',
    'a = "$$"',
    'a = "a$${b}c"',
    'a = "$${"',
    'a = "${a + b\n}"',
    'a = "${foo(\n a)}"',
    'a = "${}"',
    'a = "%{}"',
    'a = "%{ iff x }y%{ endif }"',
    'a = "%{\nif x}y%{endif}"',
    'a = "${~ x ~}"',
    'a = "\\\n"',
    'a = "unterminated',
    'a = "${"',
    'a = \\"x\\"',
    'a = "${ {a = "}"}.a }"',
    'a = "${<<EOF\nx\nEOF\n}"',
    'a = "%{ if x == "a" }b%{ endif }"',
    'a = "$${a" }',
    'a = "x" "y"',
    'resource "a" /* c */ "b" {}',
    # numbers and unary operators
    "a = 1.5\nb = 1e5\nc = 1.5e-3\nd = 2E+10\ne = 0\n",
    "a = -1",
    "a = -12",
    "a = -1.5",
    "a = -1-2.5",
    "a = 1-2",
    "a = 1 - 2",
    "a = 1 -2",
    "a = 1 -23",
    "a = b -1",
    "a = b -12",
    "a = b-1",
    "a = - 12",
    "a = --1",
    "a = - -12",
    "a = !true",
    "a = !!true",
    "a = 1.foo",
    # binary operators, newlines around them, conditionals
    "a = 1 + 2 * 3 - 4 / 5 % 6",
    "a = x || y && z == w != v < u > t <= s >= r",
    "a = (1 + 2) * 3",
    "a = a + b\n",
    "a = a +\n b",
    "a = a\n + b",
    "a = a\n - b",
    "a = a\n\n + b",
    "a = a + b\n\n + c",
    "a = a * b\n\n + c",
    "a = a + b\n\n * c",
    "a = a + b\n\n - c",
    "a = a + b # c\n + d",
    "a = a # c\n + d",
    "a = a /* c */ + d",
    "a = a + b\nb = 2",
    "a = a + b * c\nb = 2",
    "a = a * b + c\n\n\nb = 2",
    "a = (a\n + b)",
    "a = (a\n - b)",
    "a = (a +\n b\n)",
    "a = (\n a\n)",
    "a = a == b\n ? c\n : d",
    "a = a ? b : c",
    "a = a ?\n b :\n c",
    "a = a\n ? b\n : c\n",
    "a = a ? b ? c : d : e",
    "a = a ? b : c ? d : e",
    "a = a ? b + c\n : d",
    "a = a || b ? c : d",
    "a = a<b",
    "a = a <b",
    "a = a<=b",
    "a = a >= b",
    "a = a > b",
    "a = !a",
    "a = -a.b[0]",
    "a = !a && !b",
    "a = a && \n b",
    "a = a\n&& b",
    "a = a\n|| b",
    "a = a\n== b",
    "a = a\n!= b",
    "a = a\n< b",
    "a = a\n<= b",
    "a = a\n/ b",
    "a = a\n% b",
    "a = a\n* b",
    # tuples and objects
    "a = []",
    "a = [1]",
    "a = [1,]",
    "a = [1, 2, 3]",
    "a = [\n  1,\n  2,\n]\n",
    "a = [\n  1\n  ,\n  2\n]\n",
    "a = [\n  1\n]",
    "a = [\n]",
    "a = [,]",
    "a = [1 2]",
    "a = [\n  # c\n  1, # d\n  2 // e\n]",
    "a = {}",
    "a = {\n}",
    "a = { a = 1 }",
    "a = { a = 1, b = 2 }",
    "a = { a = 1, b = 2, }",
    "a = { a = 1 b = 2 }",
    "a = {\n  a = 1\n  b = 2\n}",
    "a = {\n  a = 1,\n  b = 2,\n}",
    "a = {\n  a = 1\n  ,\n  b = 2\n}",
    'a = { a: 1, "b": 2 }',
    "a = { a : 1 }",
    "a = { (a) = 1 }",
    "a = { a.b = 1 }",
    'a = { "${a}" = 1 }',
    "a = { a = b -12 = 1 }",
    "a = { a = b -c = 1 }",
    "a = { a = b [1] = 2 }",
    "a = { a = b\n [1] = 2 }",
    "a = { a = b (c) = 1 }",
    "a = { a + b\n = 1 }",
    "a = { a = 1 # c\n b = 2 }",
    "a = {\n  # only comment\n}",
    # keywords as names, keys, labels
    "in = 1\nfor = 2\nif = 3\nfor_each = 4\nelse = 5\nendif = 6\nendfor = 7\n",
    "true = 1\nfalse = 2\nnull = 3",
    "resource in for {\n}",
    'resource "a" if {\n  for_each = x\n}',
    "for_each {\n}",
    "a = { in = 1 }",
    "a = { for = 1 }",
    "a = { for: 1 }",
    "a = { if = 1, else = 2, endif = 3, endfor = 4, for_each = 5 }",
    "a = { true = 1 }",
    "a = { null = 1, false = 2 }",
    "a = {\n  in = 1\n  for = 2\n}",
    "a = {\n\n  in = 1\n\n  for = 2\n}",
    "a = { a = 1, for = 2 }",
    "a = { in.x = 1 }",
    "a = { for\n = 1 }",
    "a = in",
    "a = for_each",
    "a = [in]",
    "a = [\n in\n]",
    "a = f(in)",
    "a = x.in",
    "a = x.for.if.true.null",
    "a = x.true",
    "a = true.x",
    "a = null",
    "a = [true, false, null]",
    "a = [\n\n  true\n]",
    "a = [\n  # c\n  true\n]",
    "a = [\n  # c\n  for_each\n]",
    "a = each.value",
    "a = index",
    "a = iffy",
    "a = true_value",
    # for expressions
    "a = [for x in xs : x]",
    "a = [for x in xs: x if x]",
    "a = [for i, x in xs : x]",
    "a = {for k, v in m : k => v}",
    "a = {for k, v in m : k => v...}",
    "a = {for k, v in m : k => v... if v}",
    "a = {for k, v in m : k => v if v}",
    "a = [\n  for x in xs :\n  x\n]",
    "a = [\n  for x in xs :\n\n  x\n  if x\n]",
    "a = [\n  for\n  x in xs : x\n]",
    "a = [for x\n in xs : x]",
    "a = [for x, y\n in xs : x]",
    "a = [for x in\n xs : x]",
    "a = [for x in xs\n : x]",
    "a = [for x in xs :\n x\n if\n x\n]",
    "a = [for x in xs : x + 1\n]",
    "a = [for x in xs : x if x + 1\n]",
    "a = {\n  for k, v in m :\n  k => v\n  ...\n  if v\n}",
    "a = {\n  for k, v in m :\n  k =>\n  v\n}",
    "a = {for k, v in m : k\n => v}",
    "a = [for x in xs : x ifx]",
    "a = {for k, v in m : k => v...ifx}",
    "a = [for in in xs : in]",
    "a = [for true in xs : 1]",
    "a = [for x inx : x]",
    "a = [for x in xs: {for k, v in x: k => v}]",
    "a = [for x in [for y in ys: y]: x]",
    # function calls
    "a = f()",
    "a = f(1)",
    "a = f(1, 2)",
    "a = f(1, 2,)",
    "a = f(xs...)",
    "a = f(1, xs...)",
    "a = f(1, ...)",
    "a = f(\n)",
    "a = f(\n  1,\n  2\n)",
    "a = f(\n  1,\n  2,\n)",
    "a = f(1\n, 2)",
    "a = f(1\n,)",
    "a = f(xs\n...)",
    "a = f(xs...\n)",
    "a = f (1)",
    "a = f\n(1)",
    "a = provider::aws::arn_parse(x)",
    "a = provider::aws::arn_parse()",
    "a = provider :: aws :: arn_parse(x)",
    "a = provider::aws(x)",
    "a = provider::true::x(1)",
    "a = f(g(h(1)))",
    'a = jsonencode({\n  Version = "1"\n  Statement = [{\n    Effect = "Allow"\n  }]\n})',
    "a = f(1)(2)",
    "a = (1)(2)",
    # traversals and splats
    "a = x.0",
    "a = x.0.1",
    "a = x.1.5",
    "a = x. 1",
    "a = x.-12",
    "a = x.-1",
    "a = x.1e5",
    "a = x[0][1]",
    "a = x[0]\n[1]",
    "a = x.*",
    "a = x.*.y",
    "a = x.*.y.z[0]",
    "a = x[*]",
    "a = x[*].y",
    "a = x[*].y[0].z",
    "a = x.*[*]",
    "a = x[*].*",
    "a = x.*.*",
    "a = x.*.0",
    "a = x[ * ]",
    "a = x[\n  0\n]",
    "a = -x[*].y",
    # heredocs
    "a = <<EOF\nhello\nEOF\n",
    "a = <<EOF\nhello\nEOF",
    "a = <<EOF\nhello ${var.x} %{ if y }z%{ endif }\nEOF\nb = 2\n",
    "a = <<-EOF\n    hello\n    EOF\n",
    "a = <<EOF\n  hello\n  EOF\n",
    "a = <<EOF\nEOF\n",
    "a = <<EOF\n\n\nEOF\n",
    "a = <<E\nx\nE\n",
    "a = <<EOF\r\nhello\r\nEOF\r\nb = 1\r\n",
    "a = <<EOF\nhello\nEOFX\nEOF\n",
    "a = <<EOF\nhello\n",
    "a = [<<EOF\nx\nEOF\n, 1]",
    "a = f(<<EOF\nx\nEOF\n)",
    "a = <<EOF\nx\nEOF\n\n\nb = 1",
    "a = <<EOF\nx\nEOF\n# c\nb = 1",
    "a = <<EOF\nx\nEOF\n+ 1",
    "a = 1 <<EOF\nx\nEOF\n",
    'policy = <<-JSON\n  {\n    "a": "${var.b}"\n  }\n  JSON\n',
    # blocks
    'resource "a" "b" {\n  x = 1\n}\n',
    'resource "a" "b" {}',
    'resource "a" "b" { x = 1 }',
    'resource "a" "b"\n{\n}',
    'resource "a" "b" # c\n{\n}',
    "resource a b {\n}",
    'resource "${a}" {\n}',
    "a {\n  b {\n    c {\n      d = 1\n    }\n  }\n}",
    "a {\n}\nb {\n}",
    "a {} b {}",
    "a {\n} c = 1",
    "a {\n  b = 1 }",
    'a "b" c "d" {}',
    # syntax errors and oddities
    "a = 1\n}",
    "a {",
    "a = ",
    "a",
    '"a" = 1',
    "a.b = 1",
    "a = 1,",
    "a = b c",
    "a = $x",
    "a = 'x'",
    "a = @",
    "a = x &",
    "a = x | y",
    "a = x & y",
    "a = ~",
    "a = x.",
    "a = x..y",
    "a = x...",
    "a = 1 ==",
    "a = =",
    "a == 1",
    "a => 1",
    "a : 1",
    "a = {a = 1 :: 2}",
    "a = b::c",
]

SNIPPETS += [
    # keywords as plain names: NAME when lexed after the previous token (at most one newline
    # between), a keyword (so a syntax error) when lexed after a newline, i.e. after two
    "a = [a, in]", "a = f(a, in)", "a = [a,\n in]", "a = f(a,\n in)", "a = f(a\n, in)", "a = [a,\n\n in]",
    "a = f(\n\n in)", "a = f(\n in)", "a = in(1)", "a = for_each.a", "a = a ? in : for", "a = a ?\n in : b",
    "a = a ?\n\n in : b", "a = a +\n in", "a = a +\n\n in", 'a = "${in}"', 'a = "%{ if in }x%{endif}"',
    "a = [for x in in : in]", "a = {for k, v in in : in => for}", "a = -in", "a = !for", "a = (in)",
    "a = (\n in)", "a = (\n\n in)", "a = [for\n in in xs: 1]", "a = [for\n\n x in xs: 1]",
    "a = [for\n\n in in xs: 1]", 'a = "%{ for if, else in xs }%{ endfor }"', "a = provider::in::for(1)",
    "a = a[in]", "a = a[\n in]", "a = a[\n\n in]", "a = [for x in xs: x if in]", "a = [for x in xs: x if\n\n in]",
    "a = [for x in xs: x if\n in]", "a = [for x in xs:\n in]", "a = [for x in xs:\n\n in]",
    "a = {for k, v in m: k =>\n in}", "a = {for k, v in m: k =>\n\n in}", "a = [for x, for in xs: for]",
    "a = [for true, null in xs: true]", "a = x.for_each", "a = {a = 1\n in = 2}", "a = {a = in\n in = 2}",
    "a = {a = in, for = for}", "a = {\n\n for = 1}", "a = [\n\n for x in xs: x]", "a = {\n\n for k, v in m: k => v}",
    "a = f(a, b\n\n, in)", "in {\n}", "a = true\n\nin = 1", "a = 1\nin = 2",
]

# Valid for Lark, deliberately left to it: where the state has no NAME, Lark matches a keyword
# as the prefix of a longer word (`...ifx` is `...` `if` `x`).
LEFT_TO_LARK = {
    "a = {for k, v in m : k => v...ifx}",
}


@pytest.mark.parametrize("text", SNIPPETS, ids=[repr(s)[:60] for s in SNIPPETS])
def test_snippet(text):
    outcome = compare(text)
    if lark_parse(text) is not None and text not in LEFT_TO_LARK:
        assert outcome == "fast", f"valid input left to Lark: {text!r}"


def test_merged_operator_and_eq_ranges():
    """EQ takes the blanks before `=`, an operator the newline before it: neither starts or ends a node."""
    (attribute,) = parse_body("a   = x\n  + y").items
    assert attribute == ir.AttributeDef(1, 1, 2, 6, "a", ir.BinaryOp(
        1, 7, 2, 6, "+", ir.Variable(1, 7, 1, 8, "x"), ir.Variable(2, 5, 2, 6, "y")))
    assert compare("a   = x\n  + y") == "fast"


def test_keyword_names_are_names():
    (attribute,) = parse_body("for_each = { in = true }\n").items
    assert attribute.name == "for_each"
    (item,) = attribute.expr.items
    assert item.key == ir.Variable(1, 14, 1, 16, "in") and item.value == ir.Literal(1, 19, 1, 23, True)


def test_block_label_with_a_template_sequence():
    text = 'a "x${ b }y" "$${c}" {}'
    (block,) = parse_body(text).items
    assert block.labels == ("x${ b }y", "$${c}")
    assert compare(text) == "fast"


def test_no_lark_on_the_fast_path():
    """Reading a file that needs no fallback loads neither Lark nor python-hcl2."""
    code = ("import sys\nfrom iac_ims.terraform.fastparse import parse_body\n"
            "parse_body('resource \"a\" \"b\" {\\n  x = [for v in var.y : v.id if v != null]\\n}\\n')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lark', 'hcl2')))\n")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "[]"


# --- limits -------------------------------------------------------------------------------------------


def test_deep_nesting_is_left_to_lark():
    deep = "a = " + "[" * 400 + "]" * 400
    with pytest.raises(FastParseError):
        parse_body(deep)
    blocks = "a {\n" * 200 + "}\n" * 200
    with pytest.raises(FastParseError):
        parse_body(blocks)
    assert compare("a = " + "[" * 60 + "]" * 60) == "fast"
    assert compare("a = " + "(" * 60 + "1" + ")" * 60) == "fast"
    assert compare("a = " + "-x + " * 300 + "1") == "fast"  # long operator chains are loops


def test_gc_state_is_restored():
    assert gc.isenabled()
    parse_body("a = 1")
    assert gc.isenabled()
    with pytest.raises(FastParseError):
        parse_body("a = ")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_body("a = 1")
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- random HCL -------------------------------------------------------------------------------------

_SEP = st.sampled_from(
    [" "] * 12 + ["", "", "", "\n", "\n  ", "\t", " # c\n", " // c\n", "/* c */", "\n\n", "\r\n", " \r "]
)
_NAMES = st.sampled_from(
    ["a", "b_c", "x-y", "_z", "each", "index", "iffy", "inx"] * 4
    + ["in", "for", "if", "for_each", "else", "endif", "endfor", "true", "false", "null"]
)
_NUMBERS = st.sampled_from(["0", "1", "42", "-1", "-12", "1.5", "-1.5", "1e3", "2E-2", "-1-2.5"])
_STRING_TEXT = st.sampled_from(["abc", " ", "$", "%", "$${x}", "%%{x}", '\\"', "\\n", "é✓", "$$", "a\nb"])
_BINARY = st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||"])


def _cat(*parts: str) -> str:
    return "".join(parts)


def _expressions():
    def string(children):
        part = st.one_of(
            _STRING_TEXT,
            st.builds(lambda e: "${" + e + "}", children),
            st.builds(lambda e, s: "%{" + s + "if " + e + s + "}", children, st.sampled_from(["", " ", "~"])),
            st.sampled_from(["%{ else }", "%{endif}", "%{~ endif ~}", "%{ endfor }"]),
            st.builds(lambda n, e: "%{ for " + n + " in " + e + " }", _NAMES, children),
        )
        return st.builds(lambda parts: '"' + "".join(parts) + '"', st.lists(part, max_size=4))

    base = st.one_of(
        _NAMES,
        _NUMBERS,
        string(_NAMES),
        st.sampled_from(["<<EOF\nx ${a}\nEOF\n", "<<-EOT\n  y\n  EOT\n", '\\"q\\"']),
    )

    def extend(children):
        return st.one_of(
            st.builds(_cat, children, _SEP, _BINARY, _SEP, children),
            st.builds(_cat, st.sampled_from(["-", "!"]), children),
            st.builds(
                lambda c, s1, a, s2, b: _cat(c, s1, "?", s2, a, s1, ":", s2, b), children, _SEP, children, _SEP, children
            ),
            st.builds(lambda s, e: _cat("(", s, e, s, ")"), _SEP, children),
            st.builds(lambda s, es, t: "[" + s + ("," + s).join(es) + t + "]", _SEP, st.lists(children, max_size=3),
                      st.sampled_from(["", ",", "\n"])),
            st.builds(
                lambda s, items: "{" + s + "".join(k + s + sep + s + v + end for k, sep, v, end in items) + "}",
                _SEP,
                st.lists(st.tuples(st.one_of(_NAMES, children), st.sampled_from(["=", ":"]), children,
                                   st.sampled_from(["", ",", "\n", ", ", " "])), max_size=3),
            ),
            st.builds(lambda f, s, args, tail: f + "(" + s + ("," + s).join(args) + tail + ")",
                      st.sampled_from(["f", "provider::p::f", "in"]), _SEP, st.lists(children, max_size=3),
                      st.sampled_from(["", ",", "...", "\n"])),
            st.builds(lambda e, suffix: e + suffix, children,
                      st.sampled_from(
                          [".b", ".0", ".in", ".true", "[0]", "[ i ]", ".*", ".*.b", "[*]", "[*].b[0]", ".0.1"]
                      )),
            st.builds(lambda s, n, e, v, cond: _cat("[", s, "for ", n, " in ", e, " :", s, v, cond, s, "]"),
                      _SEP, _NAMES, children, children, st.sampled_from(["", " if x", "\nif x"])),
            st.builds(lambda s, e, k, v, dots: _cat("{", s, "for k, v in ", e, " : ", k, " => ", s, v, dots, s, "}"),
                      _SEP, children, children, children, st.sampled_from(["", "...", " ... if v"])),
            string(children),
        )

    return st.recursive(base, extend, max_leaves=8)


_EXPR = _expressions()


def _bodies():
    attribute = st.builds(lambda n, s, e, end: _cat(n, s, "=", s, e, end), _NAMES, _SEP, _EXPR,
                          st.sampled_from(["\n", "\n\n", " # c\n", " ", "\r\n"]))

    def extend(children):
        label = st.one_of(_NAMES, st.sampled_from(['"l"', '"${x}"']))
        return st.builds(lambda n, labels, s, items: _cat(n, " ", " ".join(labels), s, "{\n", "".join(items), "}\n"),
                         _NAMES, st.lists(label, max_size=2), st.sampled_from([" ", "", "\n"]),
                         st.lists(children, max_size=3))

    return st.lists(st.recursive(attribute, extend, max_leaves=4), max_size=4).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies())
def test_random_hcl(text):
    compare(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EXPR)
def test_random_expressions(expr):
    compare("x = " + expr + "\n")


# --- node construction and pickling -------------------------------------------------------------------


def test_fast_constructors_build_what_the_dataclasses_build():
    import dataclasses

    from iac_ims.terraform import fastnodes

    for cls in fastnodes.NODE_CLASSES:
        values = [object() for _ in dataclasses.fields(cls)]
        built = fastnodes.new[cls](*values)
        assert type(built) is cls and built == cls(*values)
    assert set(fastnodes.NODE_CLASSES) == {
        c for c in vars(ir).values() if isinstance(c, type) and dataclasses.is_dataclass(c) and c is not ir.Node}


def test_ir_pickles_through_the_reducers():
    import copyreg
    import io
    import pickle

    from iac_ims.terraform import fastnodes

    text = (REPO / "sample_configs").rglob("*.tf").__next__().read_text(encoding="utf-8")
    text += 'x = [for k, v in m : "%{ if v }${k}%{ endif }" if k != null]\ny = <<-EOT\n  a\n  EOT\nz = a.*.b[0]\n'
    body = parse_body(text)

    class Pickler(pickle.Pickler):
        dispatch_table = {**copyreg.dispatch_table, **fastnodes.reducers()}

    buffer = io.BytesIO()
    Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(body)
    assert b"fastnodes" in buffer.getvalue()  # the reducers were used
    assert pickle.loads(buffer.getvalue()) == body
