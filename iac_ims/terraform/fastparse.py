"""A hand-written HCL parser that gives, straight from the text, the IR that `lark_to_ir` makes of
python-hcl2's Lark tree.

`parse_body(text)` returns `lark_to_ir.file_body(hcl_parser().parse(text + "\\n"), text + "\\n")`
(see parse.py), node for node and range for range.  It replaces the slow LALR parse, never
second-guesses it: for anything it is not sure to reproduce (and for every syntax error) it
raises `FastParseError`, and the caller parses with Lark, which also words the error.

The tokens are Lark's (fastlex).  The parser is a recursive descent that follows hcl2.lark rule
by rule, and makes the decisions of Lark's LALR table where they decide what is accepted or how
the IR is shaped (tests/test_fastparse.py checks both against Lark on every corpus):

* Shift wins: `[` / `(` right after a term are an index / a call; `.x` and `[i]` after a splat
  belong to the splat; binary operators climb the grammar's precedence levels, and a newline
  after a binary operation belongs to it (so a following operator of a higher level cannot
  continue it: hcl2's PostLexer has merged the newlines before an operator into its token).
* Keywords.  Lark lexes a token in the parser state reached after the previous token, which
  after a single newline is the state *before* that newline (the PostLexer holds the newline
  back) and after two or more newlines the state after a newline, which takes every keyword.
  So a keyword used as a plain name is a NAME unless two newlines came before it (then it is a
  syntax error where an expression must start); see `_expr_term` and `_name_only`.
* The cyclic garbage collector is paused while a text is parsed: the IR holds no cycles, and
  collections triggered by the many small allocations would otherwise cost as much as the parse.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from iac_ims.terraform import ir
from iac_ims.terraform.fastlex import END, KEYWORDS, LARK_TERMINALS, NL, SIMPLE_STRING, FastParseError, tokenize
from iac_ims.terraform.fastnodes import new
from iac_ims.terraform.heredoc import heredoc_body

__all__ = ["FastParseError", "parse_body", "LARK_TERMINALS", "KEYWORDS", "SIMPLE_STRING", "MAX_DEPTH"]

MAX_DEPTH = 150  # nesting of blocks / expressions; deeper input is left to Lark

_LITERALS = {"true": True, "false": False, "null": None}
_DIRECTIVES = frozenset(("if", "else", "endif", "for", "endfor"))
# Precedence levels of hcl2.lark's binary operator ladder (or_expr ... mul_expr), and the operators.
_LEVEL = {
    "DOUBLE_PIPE": 0, "DOUBLE_AMP": 1, "DOUBLE_EQ": 2, "NEQ": 2, "LT": 3, "GT": 3, "LEQ": 3, "GEQ": 3,
    "PLUS": 4, "MINUS": 4, "ASTERISK": 5, "SLASH": 5, "PERCENT": 5,
}
_OPERATOR = {
    "DOUBLE_PIPE": "||", "DOUBLE_AMP": "&&", "DOUBLE_EQ": "==", "NEQ": "!=", "LT": "<", "GT": ">", "LEQ": "<=",
    "GEQ": ">=", "PLUS": "+", "MINUS": "-", "ASTERISK": "*", "SLASH": "/", "PERCENT": "%",
}
_UNARY_LEVEL = 6
# Names, numbers and the literal text of strings repeat across a repository's files (the IR of
# the files the scan reads is kept): one copy of each.
_intern = sys.intern

_Number, _Literal, _Variable, _Parens = (new[c] for c in (ir.Number, ir.Literal, ir.Variable, ir.Parens))
_GetAttr, _Index, _LegacyIndex, _Splat = (new[c] for c in (ir.GetAttr, ir.Index, ir.LegacyIndex, ir.Splat))
_Traversal, _FunctionCall, _Conditional = (new[c] for c in (ir.Traversal, ir.FunctionCall, ir.Conditional))
_BinaryOp, _UnaryOp, _Tuple, _Object = (new[c] for c in (ir.BinaryOp, ir.UnaryOp, ir.Tuple, ir.Object))
_ObjectItem, _ForExpr, _Quoted, _Heredoc = (new[c] for c in (ir.ObjectItem, ir.ForExpr, ir.Quoted, ir.Heredoc))
_Interpolation, _Directive = (new[c] for c in (ir.Interpolation, ir.Directive))
_AttributeDef, _BlockDef, _Body = (new[c] for c in (ir.AttributeDef, ir.BlockDef, ir.Body))


def parse_body(text: str) -> ir.Body:
    """The IR of an HCL file, as Lark's parse and lark_to_ir give it, or FastParseError."""
    gc_was_enabled = gc.isenabled()
    if gc_was_enabled:
        gc.disable()
    try:
        source = text + "\n"
        parser = _Parser(source, *tokenize(source))
        body, i = parser.body(0, 0)
        if parser.types[i] != END:
            parser.fail(i)
        return body
    except RecursionError:
        raise FastParseError("nesting too deep") from None
    except (IndexError, KeyError, AttributeError, TypeError, ValueError) as exc:  # defensive: never a wrong IR
        raise FastParseError(f"internal: {exc!r}") from None
    finally:
        if gc_was_enabled:
            gc.enable()


class _Parser:
    """One parse: the text and its tokens (fastlex's parallel lists).  Each rule is a method
    `rule(i, ...) -> (node, index after it)`; `d` is the nesting depth."""

    __slots__ = ("text", "types", "vals", "lines", "cols", "_line_starts")

    def __init__(self, text: str, types: list, vals: list, lines: list, cols: list) -> None:
        self.text = text
        self.types = types
        self.vals = vals
        self.lines = lines
        self.cols = cols
        self._line_starts: list[int] | None = None

    def fail(self, i: int, what: str = "unexpected token") -> None:
        raise FastParseError(f"{what} ({self.types[i]}) at token {i}")

    def skip_nl(self, i: int) -> int:
        types = self.types
        while types[i] == NL:
            i += 1
        return i

    def end(self, i: int) -> tuple[int, int]:
        """(end_line, end_column) of token i, as Lark counts them."""
        v = self.vals[i]
        if "\n" not in v:
            return self.lines[i], self.cols[i] + len(v)
        return self.lines[i] + v.count("\n"), len(v) - v.rindex("\n")

    def offset(self, line: int, column: int) -> int:
        starts = self._line_starts
        if starts is None:
            text = self.text
            starts = [0]
            at = text.find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = text.find("\n", at + 1)
            self._line_starts = starts
        return starts[line - 1] + column - 1

    # ---- bodies ---------------------------------------------------------------------------------

    def body(self, i: int, d: int) -> tuple[ir.Body, int]:
        if d > MAX_DEPTH:
            self.fail(i, "too deep")
        types = self.types
        items = []
        while True:
            t = types[i]
            if t == NL:
                i = self.skip_nl(i + 1)
                t = types[i]
            if t == "NAME" or t == "WORD":
                node, i = self.item(i, d)
                items.append(node)
            else:
                return _Body(tuple(items)), i

    def item(self, i: int, d: int) -> tuple[Any, int]:
        types, lines, cols = self.types, self.lines, self.cols
        first = i
        name = _intern(self.vals[i])
        i += 1
        t = types[i]
        if t == "EQ":
            e, i = self.expression(i + 1, d + 1)
            return _AttributeDef(lines[first], cols[first], e.end_line, e.end_column, name, e), i
        labels = []
        while True:
            if t == "NAME" or t == "WORD":
                labels.append(_intern(self.vals[i]))
                i += 1
            elif t == "DBLQUOTE":
                label, i = self.label(i, d)
                labels.append(label)
            else:
                break
            t = types[i]
        if t == NL:
            i = self.skip_nl(i + 1)
            t = types[i]
        if t != "LBRACE":
            self.fail(i)
        b, i = self.body(i + 1, d + 1)
        if types[i] != "RBRACE":
            self.fail(i)
        block = _BlockDef(lines[first], cols[first], lines[i], cols[i] + 1, name, tuple(labels), b)
        return block, i + 1

    def label(self, i: int, d: int) -> tuple[str, int]:
        """A quoted block label: the text between its quotes."""
        types = self.types
        if types[i + 1] == "DBLQUOTE":
            return "", i + 2
        if types[i + 2] == "DBLQUOTE" and types[i + 1] == "STRING_CHARS":
            return _intern(self.vals[i + 1]), i + 3
        # several parts: an escaped `$${`, or a template sequence (which Terraform rejects in a label)
        _, end = self.string(i, d)
        start = self.offset(self.lines[i], self.cols[i]) + 1
        return _intern(self.text[start:self.offset(self.lines[end - 1], self.cols[end - 1])]), end

    # ---- operators --------------------------------------------------------------------------------

    def expression(self, i: int, d: int) -> tuple[Any, int]:
        if d > MAX_DEPTH:
            self.fail(i, "too deep")
        types = self.types
        t = types[i]
        if t == "MINUS" or t == "NOT":
            left, i = self.unary(i, d)
        else:
            left, i = self.expr_term(i, d)
        if types[i] in _LEVEL:
            left, i, _ = self.climb(left, _UNARY_LEVEL, i, 0, d)
        if types[i] != "QMARK":
            return left, i
        # conditional: or_expr QMARK nlc? expression nlc? COLON nlc? expression
        a, i = self.expression(self.skip_nl(i + 1), d + 1)
        i = self.skip_nl(i)
        if types[i] != "COLON":
            self.fail(i)
        b, i = self.expression(self.skip_nl(i + 1), d + 1)
        return _Conditional(left.line, left.column, b.end_line, b.end_column, left, a, b), i

    def climb(self, left: Any, left_level: int, i: int, min_level: int, d: int) -> tuple[Any, int, int]:
        """Binary operators of level >= min_level after `left` (an expression of level left_level)."""
        types = self.types
        get_level = _LEVEL.get
        while True:
            t = types[i]
            lvl = get_level(t)
            if lvl is None or lvl < min_level or lvl > left_level:
                return left, i, left_level
            i += 1
            if types[i] == NL:
                i = self.skip_nl(i)
            u = types[i]
            if u == "MINUS" or u == "NOT":
                right, i = self.unary(i, d)
            else:
                right, i = self.expr_term(i, d)
            lvl2 = get_level(types[i])
            if lvl2 is not None and lvl2 > lvl:
                right, i, _ = self.climb(right, _UNARY_LEVEL, i, lvl + 1, d)
            left = _BinaryOp(left.line, left.column, right.end_line, right.end_column, _OPERATOR[t], left, right)
            left_level = lvl
            if types[i] == NL:
                i = self.skip_nl(i + 1)

    def unary(self, i: int, d: int) -> tuple[Any, int]:
        t = self.types[i]
        if t == "MINUS" or t == "NOT":
            e, j = self.expr_term(i + 1, d)
            op = "-" if t == "MINUS" else "!"
            return _UnaryOp(self.lines[i], self.cols[i], e.end_line, e.end_column, op, e), j
        return self.expr_term(i, d)

    # ---- terms --------------------------------------------------------------------------------------

    def expr_term(self, i: int, d: int) -> tuple[Any, int]:
        types, vals, lines, cols = self.types, self.vals, self.lines, self.cols
        t = types[i]
        if t == "WORD":
            if vals[i] in _LITERALS:
                t = "LITERAL"
            elif types[i - 1] == NL and types[i - 2] == NL:
                # Lark lexed it after the first of these newlines, in a state that takes every
                # keyword: a keyword token where an expression must start, a syntax error
                self.fail(i, "keyword after newlines")
            else:
                # lexed after the token before (at most one newline before it): at the start of
                # an expression (not an object key) that state accepts NAME and no other keyword
                t = "NAME"
        if t == "NAME":
            t2 = types[i + 1]
            if t2 == "LPAR" or t2 == "COLONS":
                node, i = self.function_call(i, d)
            else:
                v = vals[i]
                node = _Variable(lines[i], cols[i], lines[i], cols[i] + len(v), _intern(v))
                i += 1
        elif t == "DBLQUOTE":
            node, i = self.string(i, d)
        elif t == "INT_LITERAL" or t == "FLOAT_LITERAL":
            v = vals[i]
            node = _Number(lines[i], cols[i], lines[i], cols[i] + len(v), _intern(v))
            i += 1
        elif t == "LITERAL":
            v = vals[i]
            node = _Literal(lines[i], cols[i], lines[i], cols[i] + len(v), _LITERALS[v])
            i += 1
        elif t == "LSQB":
            node, i = self.tuple_(i, d)
        elif t == "LBRACE":
            node, i = self.object_(i, d)
        elif t == "LPAR":
            first = i
            e, i = self.expression(self.skip_nl(i + 1), d + 1)
            i = self.skip_nl(i)
            if types[i] != "RPAR":
                self.fail(i)
            node = _Parens(lines[first], cols[first], lines[i], cols[i] + 1, e)
            i += 1
        elif t == "HEREDOC_TEMPLATE" or t == "HEREDOC_TEMPLATE_TRIM":
            v = vals[i]
            body, strip = heredoc_body(v)
            node = _Heredoc(lines[i], cols[i], *ir.heredoc_end(v, lines[i]), body, strip)
            i += 1
        elif t == "TEMPLATE_STRING":
            node = _Quoted(lines[i], cols[i], *self.end(i), (vals[i][2:-2],))
            i += 1
        else:
            self.fail(i)
        t = types[i]
        if t == "DOT" or t == "LSQB" or t == "ATTR_SPLAT" or t == "FULL_SPLAT_START":
            return self.traversal(node, i, d)
        return node, i

    def traversal(self, node: Any, i: int, d: int) -> tuple[Any, int]:
        """The steps after a term (shift wins: they always bind to it), flattened."""
        types = self.types
        steps = []
        while True:
            t = types[i]
            if t == "DOT":
                step, i = self.dot(i)
            elif t == "LSQB":
                step, i = self.braces_index(i, d)
            elif t == "ATTR_SPLAT" or t == "FULL_SPLAT_START":
                step, i = self.splat(i, d)
            else:
                break
            steps.append(step)
        return _Traversal(node.line, node.column, step.end_line, step.end_column, node, tuple(steps)), i

    def splat(self, i: int, d: int) -> tuple[ir.Splat, int]:
        types = self.types
        first = i
        inner = []
        i += 1
        while True:
            t = types[i]
            if t == "DOT":
                step, i = self.dot(i)
            elif t == "LSQB":
                step, i = self.braces_index(i, d)
            else:
                break
            inner.append(step)
        full = types[first] == "FULL_SPLAT_START"
        if inner:
            end_line, end_column = inner[-1].end_line, inner[-1].end_column
        else:
            end_line, end_column = self.lines[first], self.cols[first] + (3 if full else 2)
        return _Splat(self.lines[first], self.cols[first], end_line, end_column, full, tuple(inner)), i

    def dot(self, i: int) -> tuple[Any, int]:
        """DOT (identifier | literal_value) -> GetAttr, or DOT INT_LITERAL -> LegacyIndex."""
        t = self.types[i + 1]
        v = self.vals[i + 1]
        j = i + 1
        if t == "NAME" or t == "WORD":  # after DOT a keyword is a name (the state accepts only NAME)
            step = _GetAttr(self.lines[i], self.cols[i], self.lines[j], self.cols[j] + len(v), _intern(v))
        elif t == "INT_LITERAL":
            step = _LegacyIndex(self.lines[i], self.cols[i], self.lines[j], self.cols[j] + len(v), int(v))
        else:
            self.fail(j)
        return step, i + 2

    def braces_index(self, i: int, d: int) -> tuple[ir.Index, int]:
        first = i
        e, i = self.expression(self.skip_nl(i + 1), d + 1)
        i = self.skip_nl(i)
        if self.types[i] != "RSQB":
            self.fail(i)
        return _Index(self.lines[first], self.cols[first], self.lines[i], self.cols[i] + 1, e), i + 1

    def name_only(self, i: int) -> str:
        """An identifier where the lexer state accepts NAME and no keyword (after FOR of a for
        expression or template, a COMMA between its variables, `::`): keywords are names too,
        unless two newlines came before (then Lark lexed in the state after a newline)."""
        types = self.types
        t = types[i]
        if t != "NAME" and (t != "WORD" or (types[i - 1] == NL and types[i - 2] == NL)):
            self.fail(i)
        return _intern(self.vals[i])

    # ---- calls and collections ------------------------------------------------------------------------

    def function_call(self, i: int, d: int) -> tuple[ir.FunctionCall, int]:
        types = self.types
        first = i
        name = self.vals[i]
        i += 1
        if types[i] == "COLONS":
            if types[i + 2] != "COLONS":
                self.fail(i + 2)
            name = f"{name}::{self.name_only(i + 1)}::{self.name_only(i + 3)}"
            i += 4
        if types[i] != "LPAR":
            self.fail(i)
        i = self.skip_nl(i + 1)
        args: tuple = ()
        expand = False
        if types[i] != "RPAR":
            args, expand, i = self.arguments(i, d)
            i = self.skip_nl(i)
        if types[i] != "RPAR":
            self.fail(i)
        call = _FunctionCall(self.lines[first], self.cols[first], self.lines[i], self.cols[i] + 1, _intern(name), args,
                             expand)
        return call, i + 1

    def arguments(self, i: int, d: int) -> tuple[tuple, bool, int]:
        # expression (nlc? COMMA nlc? expression)* (COMMA | ELLIPSIS)? nlc?
        types = self.types
        e, i = self.expression(i, d + 1)
        args = [e]
        while True:
            t = types[i]
            if t == NL:
                i = self.skip_nl(i + 1)
                if types[i] != "COMMA":
                    break
                e, i = self.expression(self.skip_nl(i + 1), d + 1)
                args.append(e)
            elif t == "COMMA":
                i = self.skip_nl(i + 1)
                if types[i] == "RPAR":
                    break
                e, i = self.expression(i, d + 1)
                args.append(e)
            elif t == "ELLIPSIS":
                return tuple(args), True, self.skip_nl(i + 1)
            else:
                break
        return tuple(args), False, i

    def tuple_(self, i: int, d: int) -> tuple[Any, int]:
        types = self.types
        first = i
        i = self.skip_nl(i + 1)
        if types[i] == "WORD" and self.vals[i] == "for":
            return self.for_tuple(first, i, d)
        items = []
        while types[i] != "RSQB":
            e, i = self.expression(i, d + 1)
            items.append(e)
            t = types[i]
            if t == NL:
                i = self.skip_nl(i)
                t = types[i]
            if t == "COMMA":
                i += 1
                if types[i] == NL:
                    i = self.skip_nl(i)
            elif t != "RSQB":
                self.fail(i)
        return _Tuple(self.lines[first], self.cols[first], self.lines[i], self.cols[i] + 1, tuple(items)), i + 1

    def object_(self, i: int, d: int) -> tuple[Any, int]:
        types, vals, lines, cols = self.types, self.vals, self.lines, self.cols
        first = i
        i = self.skip_nl(i + 1)
        if types[i] == "WORD" and vals[i] == "for" and types[i + 1] != "EQ" and types[i + 1] != "COLON":
            return self.for_object(first, i, d)
        items = []
        while types[i] != "RBRACE":
            # object_elem: object_elem_key (EQ | COLON) expression
            if types[i] == "WORD" and vals[i] not in _LITERALS:  # a keyword key is a name
                v = vals[i]
                key = _Variable(lines[i], cols[i], lines[i], cols[i] + len(v), _intern(v))
                i += 1
            else:
                key, i = self.expression(i, d + 1)
            t = types[i]
            if t != "EQ" and t != "COLON":
                self.fail(i)
            value, i = self.expression(i + 1, d + 1)
            items.append(_ObjectItem(key.line, key.column, value.end_line, value.end_column, key, value))
            if types[i] == NL:
                i = self.skip_nl(i)
            if types[i] == "COMMA":
                i += 1
                if types[i] == NL:
                    i = self.skip_nl(i)
        return _Object(lines[first], cols[first], lines[i], cols[i] + 1, tuple(items)), i + 1

    # ---- for expressions ---------------------------------------------------------------------------------

    def for_intro(self, i: int, d: int) -> tuple[str | None, str, Any, int]:
        # FOR nlc? identifier (COMMA identifier nlc?)? nlc? IN nlc? expression nlc? COLON nlc?
        types = self.types
        i = self.skip_nl(i + 1)
        key_var = None
        value_var = self.name_only(i)
        i += 1
        if types[i] == "COMMA":
            key_var, value_var = value_var, self.name_only(i + 1)
            i += 2
        i = self.skip_nl(i)
        if types[i] != "WORD" or self.vals[i] != "in":
            self.fail(i)
        collection, i = self.expression(self.skip_nl(i + 1), d + 1)
        i = self.skip_nl(i)
        if types[i] != "COLON":
            self.fail(i)
        return key_var, value_var, collection, self.skip_nl(i + 1)

    def for_cond(self, i: int, d: int) -> tuple[Any, int]:
        """An optional `if` condition at i (IF nlc? expression), and the position after it."""
        if self.types[i] != "WORD" or self.vals[i] != "if":
            return None, i
        condition, i = self.expression(self.skip_nl(i + 1), d + 1)
        return condition, self.skip_nl(i)

    def for_tuple(self, first: int, i: int, d: int) -> tuple[ir.ForExpr, int]:
        # LSQB nlc? for_intro nlc? expression nlc? for_cond? nlc? RSQB
        key_var, value_var, collection, i = self.for_intro(i, d)
        value, i = self.expression(self.skip_nl(i), d + 1)
        condition, i = self.for_cond(self.skip_nl(i), d)
        if self.types[i] != "RSQB":
            self.fail(i)
        node = _ForExpr(self.lines[first], self.cols[first], self.lines[i], self.cols[i] + 1, key_var, value_var,
                        collection, None, value, condition, False)
        return node, i + 1

    def for_object(self, first: int, i: int, d: int) -> tuple[ir.ForExpr, int]:
        # LBRACE nlc? for_intro nlc? expression FOR_OBJECT_ARROW nlc? expression nlc? ELLIPSIS? nlc?
        # for_cond? nlc? RBRACE
        types = self.types
        key_var, value_var, collection, i = self.for_intro(i, d)
        key, i = self.expression(self.skip_nl(i), d + 1)
        if types[i] != "FOR_OBJECT_ARROW":
            self.fail(i)
        value, i = self.expression(self.skip_nl(i + 1), d + 1)
        i = self.skip_nl(i)
        grouping = types[i] == "ELLIPSIS"
        if grouping:
            i = self.skip_nl(i + 1)
        condition, i = self.for_cond(i, d)
        if types[i] != "RBRACE":
            self.fail(i)
        node = _ForExpr(self.lines[first], self.cols[first], self.lines[i], self.cols[i] + 1, key_var, value_var,
                        collection, key, value, condition, grouping)
        return node, i + 1

    # ---- templates --------------------------------------------------------------------------------------

    def string(self, i: int, d: int) -> tuple[ir.Quoted, int]:
        types, vals = self.types, self.vals
        first = i
        parts: list = []
        i += 1
        while True:
            t = types[i]
            if t == "STRING_CHARS":
                parts.append(_intern(vals[i]))
                i += 1
            elif t == "DBLQUOTE":
                node = _Quoted(self.lines[first], self.cols[first], self.lines[i], self.cols[i] + 1, tuple(parts))
                return node, i + 1
            elif t == "INTERP_START":
                start = i
                e, i = self.expression(i + 1, d + 1)
                if types[i] != "RBRACE":
                    self.fail(i)
                parts.append(_Interpolation(self.lines[start], self.cols[start], self.lines[i], self.cols[i] + 1, e))
                i += 1
            elif t == "DIRECTIVE_START":
                node, i = self.directive(i, d)
                parts.append(node)
            elif t == "ESCAPED_INTERPOLATION":
                parts.append("${" + vals[i][3:])
                i += 1
            elif t == "ESCAPED_DIRECTIVE":
                parts.append("%{" + vals[i][3:])
                i += 1
            else:
                self.fail(i)

    def directive(self, i: int, d: int) -> tuple[ir.Directive, int]:
        types = self.types
        first = i
        i += 1
        strip_left = types[i] == "STRIP_MARKER"
        if strip_left:
            i += 1
        kind = self.vals[i]
        if types[i] != "WORD" or kind not in _DIRECTIVES:
            self.fail(i)  # Lark matches the keyword as a prefix here (no NAME in that state); rare
        i += 1
        expr = key_var = value_var = None
        if kind == "if":
            expr, i = self.expression(i, d + 1)
        elif kind == "for":
            value_var = self.name_only(i)
            i += 1
            if types[i] == "COMMA":
                key_var, value_var = value_var, self.name_only(i + 1)
                i += 2
            if types[i] != "WORD" or self.vals[i] != "in":
                self.fail(i)
            expr, i = self.expression(i + 1, d + 1)
        strip_right = types[i] == "STRIP_MARKER"
        if strip_right:
            i += 1
        if types[i] != "RBRACE":
            self.fail(i)
        node = _Directive(self.lines[first], self.cols[first], self.lines[i], self.cols[i] + 1, kind, strip_left,
                          strip_right, expr, key_var, value_var)
        return node, i + 1
