"""lark_to_ir: python-hcl2's Lark tree -> the project's IR, node by node and with source ranges."""

from __future__ import annotations

import dataclasses

import pytest
from lark import Tree
from test_fastparse import SNIPPETS, lark_parse

from iac_ims.terraform import ir
from iac_ims.terraform.lark_to_ir import expression, file_body
from iac_ims.terraform.parse import hcl_parser

N, V, L = ir.Number, ir.Variable, ir.Literal


def body(text: str) -> ir.Body:
    return file_body(hcl_parser().parse(text + "\n"), text + "\n")


def expr(text: str) -> ir.Expr:
    """The IR of `a = <text>`'s expression (columns start at 5)."""
    (attribute,) = body("a = " + text).items
    assert isinstance(attribute, ir.AttributeDef)
    return attribute.expr


# ---- terms ---------------------------------------------------------------------------------------


def test_numbers_literals_names():
    assert expr("1.5e3") == N(1, 5, 1, 10, "1.5e3")
    assert expr("-12") == N(1, 5, 1, 8, "-12")  # the lexer makes `-` of a literal part of it
    assert expr("- 12") == ir.UnaryOp(1, 5, 1, 9, "-", N(1, 7, 1, 9, "12"))
    assert expr("true") == L(1, 5, 1, 9, True)
    assert expr("null") == L(1, 5, 1, 9, None)
    assert expr("for_each") == V(1, 5, 1, 13, "for_each")
    assert expr("!x") == ir.UnaryOp(1, 5, 1, 7, "!", V(1, 6, 1, 7, "x"))


def test_parens_are_kept():
    assert expr("( x\n)") == ir.Parens(1, 5, 2, 2, V(1, 7, 1, 8, "x"))
    got = expr("(x).y")
    assert got == ir.Traversal(1, 5, 1, 10, ir.Parens(1, 5, 1, 8, V(1, 6, 1, 7, "x")), (ir.GetAttr(1, 8, 1, 10, "y"),))


def test_traversal_is_flat():
    assert expr("a.b[0].1.true") == ir.Traversal(1, 5, 1, 18, V(1, 5, 1, 6, "a"), (
        ir.GetAttr(1, 6, 1, 8, "b"),
        ir.Index(1, 8, 1, 11, N(1, 9, 1, 10, "0")),
        ir.LegacyIndex(1, 11, 1, 13, 1),
        ir.GetAttr(1, 13, 1, 18, "true"),
    ))
    call = expr("f(x)[k]")
    assert isinstance(call, ir.Traversal) and isinstance(call.source, ir.FunctionCall)
    assert call.steps == (ir.Index(1, 9, 1, 12, V(1, 10, 1, 11, "k")),)


def test_splats_keep_their_trailing_steps():
    assert expr("x[*].y[0]") == ir.Traversal(1, 5, 1, 14, V(1, 5, 1, 6, "x"), (
        ir.Splat(1, 6, 1, 14, True, (ir.GetAttr(1, 9, 1, 11, "y"), ir.Index(1, 11, 1, 14, N(1, 12, 1, 13, "0")))),
    ))
    assert expr("x.*.y.0") == ir.Traversal(1, 5, 1, 12, V(1, 5, 1, 6, "x"), (
        ir.Splat(1, 6, 1, 12, False, (ir.GetAttr(1, 8, 1, 10, "y"), ir.LegacyIndex(1, 10, 1, 12, 0))),
    ))
    bare = expr("x.*")
    assert bare.steps == (ir.Splat(1, 6, 1, 8, False, ()),)
    twice = expr("x.*[*]")  # a splat after a splat is the traversal's next step
    assert [type(s) for s in twice.steps] == [ir.Splat, ir.Splat]
    assert [s.full for s in twice.steps] == [False, True]


# ---- operators -----------------------------------------------------------------------------------


def test_binary_precedence_and_spans():
    got = expr("1 + 2 * 3")
    assert got == ir.BinaryOp(1, 5, 1, 14, "+", N(1, 5, 1, 6, "1"),
                              ir.BinaryOp(1, 9, 1, 14, "*", N(1, 9, 1, 10, "2"), N(1, 13, 1, 14, "3")))


@pytest.mark.parametrize("layout", ["x # c\n  {op} y", "x /* c */ {op} y", "x // c\n  {op} y", "x\n  {op} y"])
@pytest.mark.parametrize("op", ["+", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||"])
def test_operator_with_a_merged_newline_or_comment(layout, op):
    """hcl2's PostLexer puts the newline or comment before an operator into its token."""
    text = layout.format(op=op)
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + (4 if line == 1 else 0)
    got = expr(text)
    assert got == ir.BinaryOp(1, 5, line, column + 1, op, V(1, 5, 1, 6, "x"), V(line, column, line, column + 1, "y"))


def test_conditional_over_lines():
    got = expr("a == b\n  ? c\n  : d")
    assert got == ir.Conditional(1, 5, 3, 6, ir.BinaryOp(1, 5, 1, 11, "==", V(1, 5, 1, 6, "a"), V(1, 10, 1, 11, "b")),
                                 V(2, 5, 2, 6, "c"), V(3, 5, 3, 6, "d"))


# ---- collections and calls -----------------------------------------------------------------------------


def test_tuple():
    assert expr("[\n  1, # one\n  x,\n]") == ir.Tuple(1, 5, 4, 2, (N(2, 3, 2, 4, "1"), V(3, 3, 3, 4, "x")))
    assert expr("[]") == ir.Tuple(1, 5, 1, 7, ())


def test_object_keys():
    got = expr('{ in = 1, b: 2, "c" = 3, (d) = 4, e.f = 5 }')
    keys = [item.key for item in got.items]
    assert keys[0] == V(1, 7, 1, 9, "in")  # a keyword key is a name
    assert keys[1] == V(1, 15, 1, 16, "b")
    assert keys[2] == ir.Quoted(1, 21, 1, 24, ("c",))
    assert keys[3] == ir.Parens(1, 30, 1, 33, V(1, 31, 1, 32, "d"))
    assert isinstance(keys[4], ir.Traversal)
    assert got.items[1] == ir.ObjectItem(1, 15, 1, 19, V(1, 15, 1, 16, "b"), N(1, 18, 1, 19, "2"))
    assert got.line == 1 and (got.end_line, got.end_column) == (1, 48)


def test_function_calls():
    assert expr("f(\n  x,\n  ys...\n)") == ir.FunctionCall(1, 5, 4, 2, "f", (V(2, 3, 2, 4, "x"), V(3, 3, 3, 5, "ys")), True)
    assert expr("f()") == ir.FunctionCall(1, 5, 1, 8, "f", (), False)
    assert expr("f(1,)").expand_final is False
    assert expr("provider::aws::arn_parse(x)") == ir.FunctionCall(
        1, 5, 1, 32, "provider::aws::arn_parse", (V(1, 30, 1, 31, "x"),), False)


def test_for_expressions():
    assert expr("[for x in xs : x]") == ir.ForExpr(
        1, 5, 1, 22, None, "x", V(1, 15, 1, 17, "xs"), None, V(1, 20, 1, 21, "x"), None, False)
    got = expr("[\n  for i, x in xs :\n  x\n  if i\n]")
    assert got == ir.ForExpr(1, 5, 5, 2, "i", "x", V(2, 15, 2, 17, "xs"), None, V(3, 3, 3, 4, "x"), V(4, 6, 4, 7, "i"), False)
    grouped = expr("{for k, v in m : v => k... if k}")
    assert grouped == ir.ForExpr(1, 5, 1, 37, "k", "v", V(1, 18, 1, 19, "m"), V(1, 22, 1, 23, "v"), V(1, 27, 1, 28, "k"),
                                 V(1, 35, 1, 36, "k"), True)
    assert expr("{for k, v in m : k => v}").grouping is False
    assert expr("[for in in in : in]").value_var == "in"


# ---- strings and templates -----------------------------------------------------------------------------


def test_quoted_parts_stay_as_written():
    assert expr('"a\\n\\u00e9"') == ir.Quoted(1, 5, 1, 16, ("a\\n\\u00e9",))
    assert expr('""') == ir.Quoted(1, 5, 1, 7, ())
    got = expr('"x$${y}%%{z}w${v}"')
    assert got.parts[:4] == ("x", "${y}", "%{z}", "w")  # one part per token, never merged
    assert got.parts[4] == ir.Interpolation(1, 18, 1, 22, V(1, 20, 1, 21, "v"))
    assert expr('"a\nb"') == ir.Quoted(1, 5, 2, 3, ("a\nb",))


def test_directives_and_strip_markers():
    got = expr('"%{~ if c ~}y%{ else ~}n%{~ endif }"')
    assert got.parts == (
        ir.Directive(1, 6, 1, 17, "if", True, True, V(1, 13, 1, 14, "c")),
        "y",
        ir.Directive(1, 18, 1, 28, "else", False, True),
        "n",
        ir.Directive(1, 29, 1, 40, "endif", True, False),
    )
    loop = expr('"%{ for k, v in m }${k}%{ endfor ~}"')
    assert loop.parts[0] == ir.Directive(1, 6, 1, 24, "for", False, False, V(1, 21, 1, 22, "m"), "k", "v")
    assert loop.parts[-1] == ir.Directive(1, 28, 1, 40, "endfor", False, True)
    single = expr('"%{for x in xs}${x}%{endfor}"')
    assert single.parts[0] == ir.Directive(1, 6, 1, 20, "for", False, False, V(1, 17, 1, 19, "xs"), None, "x")


def test_template_string_in_a_directive():
    got = expr('"%{ if a == \\"b\\" }c%{ endif }"')
    condition = got.parts[0].expr
    assert condition == ir.BinaryOp(1, 12, 1, 22, "==", V(1, 12, 1, 13, "a"), ir.Quoted(1, 17, 1, 22, ("b",)))


def test_heredocs():
    assert expr("<<EOF\nhello ${x}\nEOF\n") == ir.Heredoc(1, 5, 3, 4, "hello ${x}\n", False)
    assert expr("<<-EOT\n    a\n    EOT\n") == ir.Heredoc(1, 5, 3, 8, "    a\n", True)
    crlf = body("a = <<EOF\r\nx\r\nEOF\r\nb = 1\r\n").items
    assert crlf[0].expr.body == "x\n"
    assert (crlf[0].end_line, crlf[1].line) == (3, 4)
    assert (crlf[0].expr.end_line, crlf[0].expr.end_column) == (3, 4)  # just past EOF, not its \r
    assert body("a = [<<EOF\nx\nEOF\n, 1]").items[0].expr.items[0].end_line == 3


# ---- bodies -------------------------------------------------------------------------------------------


def test_attributes_and_blocks():
    got = body('resource "aws_iam_role" "r" {\n  name = "x" # c\n\n  in {\n    for = 1\n  }\n}\ntrue = 2\n')
    block, attribute = got.items
    assert attribute == ir.AttributeDef(8, 1, 8, 9, "true", N(8, 8, 8, 9, "2"))
    assert (block.type, block.labels) == ("resource", ("aws_iam_role", "r"))
    assert (block.line, block.column, block.end_line, block.end_column) == (1, 1, 7, 2)
    name, inner = block.body.items
    assert name == ir.AttributeDef(2, 3, 2, 13, "name", ir.Quoted(2, 10, 2, 13, ("x",)))
    assert inner == ir.BlockDef(4, 3, 6, 4, "in", (), ir.Body((ir.AttributeDef(5, 5, 5, 12, "for", N(5, 11, 5, 12, "1")),)))


def test_labels():
    got = body('a b "c$${d}\\n" "${e} f" {}').items[0]
    assert got.labels == ("b", "c$${d}\\n", "${e} f")  # between the quotes, as written
    without_source = file_body(hcl_parser().parse('a "${ e }" {}\n'))
    assert without_source.items[0].labels == ("${ e }",)


def test_empty_and_comment_only_files():
    assert body("") == ir.Body(())
    assert body("# c\n/* d */\n") == ir.Body(())


# ---- entry points and limits -------------------------------------------------------------------------


def test_expression_of_a_subtree():
    tree = hcl_parser().parse("a = x.y\n")
    attribute = tree.children[0].children[0]
    assert expression(attribute) == expression(attribute.children[-1]) == expr("x.y")


def test_expression_of_python_hcl2s_own_parser():
    from hcl2.parser import (
        parser,  # built with propagate_positions: its trees carry meta too
    )

    attribute = parser().parse("a = f(x) + 1\n").children[0].children[0]
    assert expression(attribute) == ir.BinaryOp(
        1, 5, 1, 13, "+", ir.FunctionCall(1, 5, 1, 9, "f", (V(1, 7, 1, 8, "x"),), False), N(1, 12, 1, 13, "1"))


def test_foreign_trees_are_refused():
    with pytest.raises(ValueError):
        expression(Tree("nonsense", []))
    with pytest.raises(ValueError):
        file_body(Tree("tuple", []))
    with pytest.raises(ValueError):
        expression(hcl_parser().parse("a = 1\n"))  # a file is not an expression


def test_deep_nesting_converts_without_recursion():
    depth = 3000
    got = expr("[" * depth + "]" * depth)
    for _ in range(depth - 1):
        (got,) = got.items
    assert got == ir.Tuple(1, 4 + depth, 1, 6 + depth, ())


# ---- every snippet the fast parser is tested on: ranges point at their text -----------------------------


def _nodes(value):
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
        elif dataclasses.is_dataclass(node):
            yield node
            stack.extend(getattr(node, f.name) for f in dataclasses.fields(node))


def _offset(text: str, line: int, column: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column - 1


@pytest.mark.parametrize("text", SNIPPETS, ids=[repr(s)[:60] for s in SNIPPETS])
def test_ranges_point_at_the_text(text):
    if lark_parse(text) is None:
        return
    source = text + "\n"
    for node in _nodes(body(text)):
        if isinstance(node, ir.Body):
            continue
        start = _offset(source, node.line, node.column)
        end = _offset(source, node.end_line, node.end_column)
        written = source[start:end]
        assert (node.line, node.column) <= (node.end_line, node.end_column)
        assert written and not written[0].isspace() and not written[-1].isspace(), (node, written)
        if isinstance(node, (ir.Variable, ir.GetAttr)):
            assert written.endswith(node.name)
        elif isinstance(node, ir.Number):
            assert written == node.text
        elif isinstance(node, ir.Quoted):
            assert written[0] in '"\\'
        elif isinstance(node, ir.Heredoc):
            assert written.startswith("<<") and "\n" not in source[end - 1:end]
        elif isinstance(node, (ir.Tuple, ir.ForExpr, ir.Object)):
            assert written[0] + written[-1] in ("[]", "{}")
        elif isinstance(node, ir.FunctionCall):
            assert written.startswith(node.name.split("::")[0]) and written.endswith(")")
