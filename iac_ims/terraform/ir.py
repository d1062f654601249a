"""The project's own representation of HCL native syntax: what the parsers produce and the
evaluator walks.

Both parsers build it: `fastparse` directly, and `lark_to_ir` from python-hcl2's Lark tree (the
fallback for what the fast parser declines, and for the expressions of templates and `--var`).
Nothing outside `lark_to_ir` sees a Lark tree.

Every node is immutable and carries its source range: `line`/`column` of its first token,
`end_line`/`end_column` just past its last token (1-based, as Lark reports token positions;
newlines and comments around a node are not part of it, nor the newline that ends a heredoc's
closing marker: see `heredoc_end`). Positions are relative to the text
that was parsed (a template's expression: the template text).

What the nodes keep is what evaluation needs, not the token stream: a quoted string keeps its
literal pieces as written (escapes are decoded when it is evaluated, so a bad escape is an error
only where the value is used), a heredoc keeps its body text (compiled as a template when it
is evaluated), a number keeps its digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, slots=True)
class Node:
    line: int
    column: int
    end_line: int
    end_column: int


# ---- terms -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number(Node):
    text: str  # as written: an INT_LITERAL or FLOAT_LITERAL (`-` of a literal included)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: bool | None  # true, false, null


@dataclass(frozen=True, slots=True)
class Variable(Node):
    """A bare name: a reference root (`var`, `local`, a resource type, a for-expression's name),
    or, as an object key, the key itself."""

    name: str


@dataclass(frozen=True, slots=True)
class Parens(Node):
    """`( expression )`: evaluates as its inner expression, but is no longer a bare name (an
    object key in parentheses is evaluated; `(var).x` is not a reference to `var.x`)."""

    inner: Expr


@dataclass(frozen=True, slots=True)
class GetAttr(Node):
    name: str  # `.name`, also `.true` / `.null`


@dataclass(frozen=True, slots=True)
class Index(Node):
    key: Expr  # `[key]`


@dataclass(frozen=True, slots=True)
class LegacyIndex(Node):
    index: int  # `.0`


@dataclass(frozen=True, slots=True)
class Splat(Node):
    """`.*` (`full=False`) or `[*]` (`full=True`) with the steps written after it. Which of them
    apply to each element is the evaluator's business (Terraform's legacy splat rules)."""

    full: bool
    steps: tuple[Step, ...]


Step = Union[GetAttr, Index, LegacyIndex, Splat]


@dataclass(frozen=True, slots=True)
class Traversal(Node):
    """`source` followed by at least one step, flattened: `a.b[0].c` is one Traversal of
    Variable("a") with three steps."""

    source: Expr
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class FunctionCall(Node):
    name: str  # `provider::ns::f` keeps its colons
    args: tuple[Expr, ...]
    expand_final: bool  # `f(xs...)`


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    condition: Expr
    true_value: Expr
    false_value: Expr


@dataclass(frozen=True, slots=True)
class BinaryOp(Node):
    op: str  # "||" "&&" "==" "!=" "<" ">" "<=" ">=" "+" "-" "*" "/" "%"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp(Node):
    op: str  # "-" or "!"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Tuple(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectItem(Node):
    key: Expr  # a Variable is a bare key (its name); a keyword key (`in`, `for`...) is one too
    value: Expr


@dataclass(frozen=True, slots=True)
class Object(Node):
    items: tuple[ObjectItem, ...]


@dataclass(frozen=True, slots=True)
class ForExpr(Node):
    """`[for k, v in c : value if cond]` (key is None) or `{for k, v in c : key => value... if
    cond}`; key_var is None with one name."""

    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None
    value: Expr
    condition: Expr | None
    grouping: bool  # `...` after the value of an object for-expression


# ---- templates ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interpolation(Node):
    expr: Expr  # `${ expr }`


@dataclass(frozen=True, slots=True)
class Directive(Node):
    """One `%{ ... }` of a quoted template, as written; the template module pairs them up.
    kind: "if" (expr), "else", "endif", "for" (key_var, value_var, expr: the collection),
    "endfor"."""

    kind: str
    strip_left: bool
    strip_right: bool
    expr: Expr | None = None
    key_var: str | None = None
    value_var: str | None = None


# A literal piece of a quoted string is a plain `str` as written, escapes undecoded; `$${` and
# `%%{` already stand as `${` and `%{` (their escape is the doubled sign, not a backslash).
TemplatePart = Union[str, Interpolation, Directive]


@dataclass(frozen=True, slots=True)
class Quoted(Node):
    """A quoted string: `"..."`, or python-hcl2's backslash-quoted string inside a directive."""

    parts: tuple[TemplatePart, ...]


@dataclass(frozen=True, slots=True)
class Heredoc(Node):
    body: str  # what `template.heredoc_body` makes of the token: the lines between the markers
    strip_indent: bool  # `<<-`


Expr = Union[
    Number, Literal, Variable, Parens, Traversal, FunctionCall, Conditional, BinaryOp, UnaryOp,
    Tuple, Object, ForExpr, Quoted, Heredoc,
]


def heredoc_end(token_text: str, line: int) -> tuple[int, int]:
    """(end_line, end_column) of a heredoc token that starts on `line`: just past its closing
    marker, the newline after the marker not counted (so an attribute ends on the marker's line)."""
    text = token_text.removesuffix("\n").removesuffix("\r")
    newlines = text.count("\n")
    return line + newlines, len(text) - text.rfind("\n")


# ---- bodies ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttributeDef(Node):
    name: str
    expr: Expr


@dataclass(frozen=True, slots=True)
class BlockDef(Node):
    type: str
    labels: tuple[str, ...]  # a quoted label as written between its quotes
    body: Body


@dataclass(frozen=True, slots=True)
class Body:
    items: tuple[AttributeDef | BlockDef, ...]
