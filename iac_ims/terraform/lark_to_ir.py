"""python-hcl2's Lark tree -> the project's IR (`ir.py`).

The Lark parse is the fallback for what `fastparse` declines, and the parser of template
expressions and `--var` values; this module is where its trees end.  It accepts the full tree
(`hcl_parser().parse(text + "\\n")`, or python-hcl2's own parser), never a tree whose tokens
were shared between files: the positions of such tokens are not their own.

The conversion is a bottom-up fold with an explicit stack, so a nesting depth that Lark
accepted never ends in RecursionError here (the evaluator bounds its own depth).  Every rule of
hcl2.lark that can occur in an expression or a body has a builder; a tree the builders do not
know (another grammar) raises ValueError.

Mapping decisions that the evaluator relies on:
* a binary operator's text is taken from its token type, because hcl2's PostLexer merges a
  preceding newline or comment into the operator's token;
* a quoted string keeps one part per token (escapes stay undecoded: the evaluator decodes per
  part, and a bad escape is an error only where the string is used);
* `$${` / `%%{` parts already stand as `${` / `%{`;
* a keyword used as an object key, attribute name or label is a name like any other.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from lark import Token, Tree

from iac_ims.terraform import ir
from iac_ims.terraform.heredoc import heredoc_body

__all__ = ["expression", "file_body"]

_intern = sys.intern

# hcl2.lark's operator terminals -> the operator; the token's own text may start with a
# newline or comment that the PostLexer merged into it
_BINARY_OPS = {
    "DOUBLE_PIPE": "||", "DOUBLE_AMP": "&&", "DOUBLE_EQ": "==", "NEQ": "!=", "LT": "<", "GT": ">",
    "LEQ": "<=", "GEQ": ">=", "PLUS": "+", "MINUS": "-", "ASTERISK": "*", "SLASH": "/", "PERCENT": "%",
}
_LITERALS = {"true": True, "false": False, "null": None}
_LITERAL_TEXT = {True: "true", False: "false", None: "null"}
_DIRECTIVE_KINDS = {
    "template_if_start": "if", "template_else": "else", "template_endif": "endif",
    "template_for_start": "for", "template_endfor": "endfor",
}
_STEP_TYPES = (ir.GetAttr, ir.Index, ir.LegacyIndex, ir.Splat)
_EXPR_TYPES = (
    ir.Number, ir.Literal, ir.Variable, ir.Parens, ir.Traversal, ir.FunctionCall, ir.Conditional, ir.BinaryOp,
    ir.UnaryOp, ir.Tuple, ir.Object, ir.ForExpr, ir.Quoted, ir.Heredoc,
)


class _ForIntro(tuple):
    """(key_var, value_var, collection) of a `for_intro`: only its parent reads it."""


class _ForCond(tuple):
    """(condition,) of a `for_cond`."""


class _Arguments(tuple):
    """(args, expand_final) of `arguments`."""


class _BinaryTerm(tuple):
    """(op, right operand) of a `binary_term`."""


def expression(tree: Any) -> ir.Expr:
    """The IR of an expression subtree of a full Lark tree (an `attribute` stands for its
    expression).  ValueError when the tree is not one hcl2.lark builds."""
    if isinstance(tree, Tree) and tree.data == "attribute":
        tree = tree.children[-1]
    value = _fold(tree, None)
    if not isinstance(value, _EXPR_TYPES):
        raise ValueError(f"not an expression: {getattr(tree, 'data', type(tree).__name__)}")
    return value


def file_body(tree: Any, source: str | None = None) -> ir.Body:
    """The IR of a file from Lark's `start` tree (or its `body`).

    `source`, the text that was parsed, is only read for a quoted block label holding a template
    sequence (which Terraform rejects): the label is then the text between its quotes; without
    `source` the blanks inside such a sequence are rebuilt as spaces."""
    value = _fold(tree, source)
    if not isinstance(value, ir.Body):
        raise ValueError(f"not a file body: {getattr(tree, 'data', type(tree).__name__)}")
    return value


# ---- the fold ------------------------------------------------------------------------------------


def _fold(tree: Any, source: str | None) -> Any:
    """Builds each tree from its converted children (tokens as they are, new-line/comment
    subtrees dropped), children first, without recursion."""
    if not isinstance(tree, Tree):
        raise ValueError(f"not a tree: {type(tree).__name__}")
    builders = _BUILDERS
    stack: list = [(tree, iter(tree.children), [])]
    while True:
        node, children, out = stack[-1]
        for child in children:
            if isinstance(child, Tree):
                if child.data == "new_line_or_comment":
                    continue
                stack.append((child, iter(child.children), []))
                break
            out.append(child)
        else:
            stack.pop()
            builder = builders.get(node.data)
            if builder is None:
                raise ValueError(f"unexpected rule {node.data!r} in an HCL tree")
            try:
                value = builder(node, out, source)
            except (IndexError, TypeError, AttributeError, KeyError, StopIteration) as exc:
                raise ValueError(f"malformed {node.data!r} tree: {exc!r}") from None
            if not stack:
                return value
            stack[-1][2].append(value)


def _span(first: Any, last: Any) -> tuple[int, int, int, int]:
    """The range from the start of `first` to the end of `last` (tokens or IR nodes)."""
    return first.line, first.column, last.end_line, last.end_column


def _exprs(items: list) -> list:
    return [x for x in items if isinstance(x, _EXPR_TYPES)]


def _name(value: Any) -> str:
    """The name of a converted identifier / keyword / literal_value."""
    if type(value) is ir.Variable:
        return value.name
    if type(value) is ir.Literal:
        return _LITERAL_TEXT[value.value]
    raise ValueError(f"not a name: {value!r}")


# ---- terms --------------------------------------------------------------------------------------


def _b_name(node: Tree, items: list, source: Any) -> ir.Variable:
    (tok,) = items
    return ir.Variable(tok.line, tok.column, tok.end_line, tok.end_column, _intern(str(tok)))


def _b_literal(node: Tree, items: list, source: Any) -> ir.Literal:
    (tok,) = items
    return ir.Literal(tok.line, tok.column, tok.end_line, tok.end_column, _LITERALS[str(tok)])


def _b_number(node: Tree, items: list, source: Any) -> ir.Number:
    (tok,) = items
    return ir.Number(tok.line, tok.column, tok.end_line, tok.end_column, _intern(str(tok)))


def _b_expr_term(node: Tree, items: list, source: Any) -> Any:
    if len(items) == 1:
        return items[0]
    lpar, inner, rpar = items
    return ir.Parens(*_span(lpar, rpar), inner)


def _b_heredoc(node: Tree, items: list, source: Any) -> ir.Heredoc:
    (tok,) = items
    text = str(tok)
    body, strip = heredoc_body(text)
    return ir.Heredoc(tok.line, tok.column, *ir.heredoc_end(text, tok.line), body, strip)


def _b_template_string(node: Tree, items: list, source: Any) -> ir.Quoted:
    (tok,) = items
    return ir.Quoted(tok.line, tok.column, tok.end_line, tok.end_column, (str(tok)[2:-2],))


# ---- traversals -----------------------------------------------------------------------------------


def _b_get_attr(node: Tree, items: list, source: Any) -> ir.GetAttr:
    dot, name = items
    return ir.GetAttr(*_span(dot, name), _name(name))


def _b_short_index(node: Tree, items: list, source: Any) -> ir.LegacyIndex:
    dot, number = items
    return ir.LegacyIndex(*_span(dot, number), int(str(number)))


def _b_braces_index(node: Tree, items: list, source: Any) -> ir.Index:
    lsqb, key, rsqb = items
    return ir.Index(*_span(lsqb, rsqb), key)


def _b_splat(node: Tree, items: list, source: Any) -> ir.Splat:
    marker, *steps = items
    if not all(isinstance(s, _STEP_TYPES) for s in steps):
        raise ValueError("malformed splat")
    return ir.Splat(*_span(marker, steps[-1] if steps else marker), node.data == "full_splat", tuple(steps))


def _b_traversal(node: Tree, items: list, source: Any) -> ir.Traversal:
    source_expr, step = items
    if not isinstance(step, _STEP_TYPES):
        raise ValueError("malformed traversal")
    if type(source_expr) is ir.Traversal:  # `a.b` then `.c`: one flat traversal
        return ir.Traversal(*_span(source_expr, step), source_expr.source, source_expr.steps + (step,))
    return ir.Traversal(*_span(source_expr, step), source_expr, (step,))


# ---- operators ------------------------------------------------------------------------------------


def _b_binary_operator(node: Tree, items: list, source: Any) -> str:
    (tok,) = items
    return _BINARY_OPS[tok.type]


def _b_binary_term(node: Tree, items: list, source: Any) -> _BinaryTerm:
    op, right = items
    return _BinaryTerm((op, right))


def _b_binary_op(node: Tree, items: list, source: Any) -> ir.BinaryOp:
    left, term = items
    op, right = term
    return ir.BinaryOp(*_span(left, right), op, left, right)


def _b_unary_op(node: Tree, items: list, source: Any) -> ir.UnaryOp:
    tok, operand = items
    return ir.UnaryOp(*_span(tok, operand), str(tok).strip(), operand)


def _b_conditional(node: Tree, items: list, source: Any) -> ir.Conditional:
    condition, true_value, false_value = _exprs(items)
    return ir.Conditional(*_span(condition, false_value), condition, true_value, false_value)


# ---- collections ------------------------------------------------------------------------------------


def _b_tuple(node: Tree, items: list, source: Any) -> ir.Tuple:
    return ir.Tuple(*_span(items[0], items[-1]), tuple(_exprs(items)))


def _b_object_elem_key(node: Tree, items: list, source: Any) -> Any:
    (key,) = items
    return key


def _b_object_elem(node: Tree, items: list, source: Any) -> ir.ObjectItem:
    key, _sep, value = items
    return ir.ObjectItem(*_span(key, value), key, value)


def _b_object(node: Tree, items: list, source: Any) -> ir.Object:
    elems = tuple(x for x in items if type(x) is ir.ObjectItem)
    return ir.Object(*_span(items[0], items[-1]), elems)


def _b_arguments(node: Tree, items: list, source: Any) -> _Arguments:
    expand = any(isinstance(x, Token) and x.type == "ELLIPSIS" for x in items)
    return _Arguments((tuple(_exprs(items)), expand))


def _b_function_call(node: Tree, items: list, source: Any) -> ir.FunctionCall:
    names = [x.name for x in items if type(x) is ir.Variable]
    args: tuple = ()
    expand = False
    for x in items:
        if type(x) is _Arguments:
            args, expand = x
    return ir.FunctionCall(*_span(items[0], items[-1]), _intern("::".join(names)), args, expand)


def _loop_names(items: list) -> tuple[str | None, str, Any]:
    """(key_var, value_var, collection) of `for k, v in collection` (a `for_intro` or a `%{for}`):
    the names are the identifiers before IN, the collection the expression after it."""
    at = next(k for k, x in enumerate(items) if isinstance(x, Token) and x.type == "IN")
    names = [x.name for x in items[:at] if type(x) is ir.Variable]
    collection = items[at + 1]
    if not isinstance(collection, _EXPR_TYPES) or not 1 <= len(names) <= 2:
        raise ValueError("malformed for expression")
    if len(names) == 2:
        return names[0], names[1], collection
    return None, names[0], collection


def _b_for_intro(node: Tree, items: list, source: Any) -> _ForIntro:
    return _ForIntro(_loop_names(items))


def _b_for_cond(node: Tree, items: list, source: Any) -> _ForCond:
    (condition,) = _exprs(items)
    return _ForCond((condition,))


def _b_for_expr(node: Tree, items: list, source: Any) -> ir.ForExpr:
    intro = items[1]
    if type(intro) is not _ForIntro:
        raise ValueError("malformed for expression")
    key_var, value_var, collection = intro
    condition = None
    if type(items[-2]) is _ForCond:
        (condition,) = items[-2]
    body = _exprs(items)
    if node.data == "for_object_expr":
        key, value = body
        grouping = any(isinstance(x, Token) and x.type == "ELLIPSIS" for x in items)
    else:
        (value,) = body
        key, grouping = None, False
    return ir.ForExpr(*_span(items[0], items[-1]), key_var, value_var, collection, key, value, condition, grouping)


# ---- templates -----------------------------------------------------------------------------------


def _b_string_part(node: Tree, items: list, source: Any) -> Any:
    (part,) = items
    if not isinstance(part, Token):
        return part  # an Interpolation or a Directive
    text = str(part)
    kind = part.type
    if kind == "ESCAPED_INTERPOLATION":
        return "${" + text[3:]
    if kind == "ESCAPED_DIRECTIVE":
        return "%{" + text[3:]
    return _intern(text)


def _b_string(node: Tree, items: list, source: Any) -> ir.Quoted:
    return ir.Quoted(*_span(items[0], items[-1]), tuple(items[1:-1]))


def _b_interpolation(node: Tree, items: list, source: Any) -> ir.Interpolation:
    start, expr, end = items
    return ir.Interpolation(*_span(start, end), expr)


def _b_directive(node: Tree, items: list, source: Any) -> ir.Directive:
    kind = _DIRECTIVE_KINDS[node.data]
    strip_left = isinstance(items[1], Token) and items[1].type == "STRIP_MARKER"
    strip_right = isinstance(items[-2], Token) and items[-2].type == "STRIP_MARKER"
    span = _span(items[0], items[-1])
    if kind == "if":
        (expr,) = _exprs(items)
        return ir.Directive(*span, kind, strip_left, strip_right, expr)
    if kind == "for":
        key_var, value_var, collection = _loop_names(items)
        return ir.Directive(*span, kind, strip_left, strip_right, collection, key_var, value_var)
    return ir.Directive(*span, kind, strip_left, strip_right)


# ---- bodies -------------------------------------------------------------------------------------


def _label_text(node: Any, source: str | None) -> str:
    """An attribute name or block label as written (a quoted one between its quotes)."""
    if isinstance(node, Token):
        return str(node)
    if node.data != "string":
        return str(node.children[0])
    children = node.children
    pieces = []
    for part in children[1:-1]:
        inner = part.children[0]
        if isinstance(inner, Token):
            pieces.append(str(inner))
        elif source is not None:  # a template sequence: the text of all of it
            pieces.append(source[_first_token(inner).start_pos:_last_token(inner).end_pos])
        else:
            pieces.append(_rebuilt_text(inner))
    return "".join(pieces)


def _tokens(node: Tree) -> list:
    found = []
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, Tree):
            stack.extend(reversed(x.children))
        else:
            found.append(x)
    return found


def _first_token(node: Tree) -> Token:
    return _tokens(node)[0]


def _last_token(node: Tree) -> Token:
    return _tokens(node)[-1]


def _rebuilt_text(node: Tree) -> str:
    """The text of a subtree from its tokens, the blanks between them as spaces."""
    pieces = []
    end = None
    for tok in _tokens(node):
        if end is not None and tok.start_pos > end:
            pieces.append(" " * (tok.start_pos - end))
        pieces.append(str(tok))
        end = tok.end_pos
    return "".join(pieces)


def _b_attribute(node: Tree, items: list, source: Any) -> ir.AttributeDef:
    name, _eq, expr = items
    return ir.AttributeDef(*_span(name, expr), _intern(_name(name)), expr)


def _b_block(node: Tree, items: list, source: Any) -> ir.BlockDef:
    head = []
    for child in node.children:
        if isinstance(child, Tree):
            if child.data == "body":
                break
            if child.data != "new_line_or_comment":
                head.append(_intern(_label_text(child, source)))
    body = items[-2]
    if type(body) is not ir.Body or not head:
        raise ValueError("malformed block")
    return ir.BlockDef(*_span(items[0], items[-1]), head[0], tuple(head[1:]), body)


def _b_body(node: Tree, items: list, source: Any) -> ir.Body:
    return ir.Body(tuple(x for x in items if type(x) is ir.AttributeDef or type(x) is ir.BlockDef))


def _b_start(node: Tree, items: list, source: Any) -> ir.Body:
    (body,) = items
    return body


_Builder = Callable[[Tree, list, Any], Any]
_BUILDERS: dict[str, _Builder] = {
    "start": _b_start,
    "body": _b_body,
    "attribute": _b_attribute,
    "block": _b_block,
    "identifier": _b_name,
    "keyword": _b_name,
    "literal_value": _b_literal,
    "int_lit": _b_number,
    "float_lit": _b_number,
    "expr_term": _b_expr_term,
    "heredoc_template": _b_heredoc,
    "heredoc_template_trim": _b_heredoc,
    "template_string": _b_template_string,
    "get_attr": _b_get_attr,
    "short_index": _b_short_index,
    "braces_index": _b_braces_index,
    "attr_splat": _b_splat,
    "full_splat": _b_splat,
    "get_attr_expr_term": _b_traversal,
    "index_expr_term": _b_traversal,
    "attr_splat_expr_term": _b_traversal,
    "full_splat_expr_term": _b_traversal,
    "binary_operator": _b_binary_operator,
    "binary_term": _b_binary_term,
    "binary_op": _b_binary_op,
    "unary_op": _b_unary_op,
    "conditional": _b_conditional,
    "tuple": _b_tuple,
    "object_elem_key": _b_object_elem_key,
    "object_elem": _b_object_elem,
    "object": _b_object,
    "arguments": _b_arguments,
    "function_call": _b_function_call,
    "for_intro": _b_for_intro,
    "for_cond": _b_for_cond,
    "for_tuple_expr": _b_for_expr,
    "for_object_expr": _b_for_expr,
    "string_part": _b_string_part,
    "string": _b_string,
    "interpolation": _b_interpolation,
    "template_if_start": _b_directive,
    "template_else": _b_directive,
    "template_endif": _b_directive,
    "template_for_start": _b_directive,
    "template_endfor": _b_directive,
}
