"""How each kind of expression (`ir.py`) evaluates: `HANDLERS` maps a node class to a function
of (evaluation, node).  The evaluator dispatches on it; parentheses it unwraps itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iac_ims.terraform import ir
from iac_ims.terraform.evaluation import Evaluation
from iac_ims.terraform.for_expressions import evaluate_for
from iac_ims.terraform.functions import call as call_function
from iac_ims.terraform.render import render
from iac_ims.terraform.semantics import (
    EvalError,
    bool_or_unknown,
    equal,
    has_unknown,
    map_key,
    norm_num,
    number_op,
    plain_unknown,
    to_bool,
    to_num,
    unescape,
    unknowns_in,
)
from iac_ims.terraform.template import TemplateSyntaxError, compile_quoted, compile_template
from iac_ims.terraform.values import Unknown


def _h_number(ev: Evaluation, node: ir.Number) -> Any:
    text = node.text
    if "." in text or "e" in text or "E" in text:
        try:
            return norm_num(float(text))
        except OverflowError:
            raise EvalError("number literal out of range") from None
    return int(text)


def _h_literal(ev: Evaluation, node: ir.Literal) -> Any:
    return node.value


def _h_variable(ev: Evaluation, node: ir.Variable) -> Any:
    return ev.resolve_root(node.name, ())[0]


def _h_traversal(ev: Evaluation, node: ir.Traversal) -> Any:
    steps = node.steps
    source = node.source
    if type(source) is ir.Variable:
        value, i = ev.resolve_root(source.name, steps)
    else:
        value = ev.eval(source)
        i = 0
    if i:
        steps = steps[i:]
    for s in steps:
        ev.spend()
        value = ev.step(value, s)
    return value


def _h_conditional(ev: Evaluation, node: ir.Conditional) -> Any:
    cond_t, a_t, b_t = node.condition, node.true_value, node.false_value
    c = ev.eval(cond_t)
    if isinstance(c, Unknown):
        a = ev.eval_soft(a_t)
        b = ev.eval_soft(b_t)
        if not has_unknown(a) and not has_unknown(b) and equal(a, b) is True:
            return a
        return Unknown.combine([c, *unknowns_in(a), *unknowns_in(b)], reason=c.reason)
    if c is None:
        raise EvalError("the condition value is null")
    if to_bool(c):
        return ev.eval(a_t)
    return ev.eval(b_t)


def _h_binary_op(ev: Evaluation, node: ir.BinaryOp) -> Any:
    # a left-nested chain (`a + b + c`, any precedence) is walked in a loop, not recursively:
    # a long chain of operators costs one level of depth
    chain = []
    n: Any = node
    while type(n) is ir.BinaryOp:
        chain.append(n)
        n = n.left
    value = ev.eval(n)
    for op_node in reversed(chain):
        ev.spend()
        value = _binop(ev, op_node.op, value, op_node.right)
    return value


def _binop(ev: Evaluation, op: str, left: Any, rhs: ir.Expr) -> Any:
    if op == "&&" or op == "||":
        decide = op == "||"  # the value that decides the result on its own
        lb = bool_or_unknown(left)
        if lb is decide:
            return decide
        rb = bool_or_unknown(ev.eval(rhs))
        if rb is decide:
            return decide
        if lb is (not decide) and rb is (not decide):
            return not decide
        return Unknown.combine([lb, rb])
    right = ev.eval(rhs)
    if op == "==":
        return equal(left, right)
    if op == "!=":
        r = equal(left, right)
        return r if isinstance(r, Unknown) else not r
    return number_op(op, left, right)


def _h_unary(ev: Evaluation, node: ir.UnaryOp) -> Any:
    op = node.op
    v = ev.eval(node.operand)
    if op == "!":
        b = bool_or_unknown(v)
        return b if isinstance(b, Unknown) else not b
    if isinstance(v, Unknown):
        return plain_unknown(v)
    return norm_num(-to_num(v))


def _h_tuple(ev: Evaluation, node: ir.Tuple) -> Any:
    return [ev.eval(c) for c in node.items]


def _object_key(ev: Evaluation, key: ir.Expr) -> Any:
    if type(key) is ir.Variable:  # a bare name is the key itself; `(name)` is evaluated
        return key.name
    k = ev.eval(key)
    if isinstance(k, Unknown):
        return plain_unknown(k)
    return map_key(k)


def _h_object(ev: Evaluation, node: ir.Object) -> Any:
    result: dict = {}
    unknown_keys = []
    for item in node.items:
        k = _object_key(ev, item.key)
        v = ev.eval(item.value)
        if isinstance(k, Unknown):
            unknown_keys.append(k)
            unknown_keys.extend(unknowns_in(v))
            continue
        result[k] = v
    if unknown_keys:
        return Unknown.combine(unknown_keys, reason=unknown_keys[0].reason)
    return result


def _h_function_call(ev: Evaluation, node: ir.FunctionCall) -> Any:
    name = node.name
    if "::" in name:  # a provider-defined function
        return Unknown(f"function {name} is not supported", (f"{name}()",))
    return call_function(ev, name, node.args, node.expand_final)


def _h_quoted(ev: Evaluation, node: ir.Quoted) -> Any:
    parts = node.parts
    if all(type(p) is str for p in parts):
        return "".join([unescape(p) for p in parts])
    try:
        compiled = compile_quoted(node)
    except TemplateSyntaxError as e:
        raise EvalError(f"template syntax error: {e}") from None
    return render(ev, compiled)


def _h_heredoc(ev: Evaluation, node: ir.Heredoc) -> Any:
    try:
        compiled = compile_template(node.body, node.strip_indent)
    except TemplateSyntaxError as e:
        raise EvalError(f"heredoc template syntax error: {e}") from None
    return render(ev, compiled)


HANDLERS: dict[type, Callable[[Any, Any], Any]] = {
    ir.Number: _h_number,
    ir.Literal: _h_literal,
    ir.Variable: _h_variable,
    ir.Traversal: _h_traversal,
    ir.Conditional: _h_conditional,
    ir.BinaryOp: _h_binary_op,
    ir.UnaryOp: _h_unary,
    ir.Tuple: _h_tuple,
    ir.Object: _h_object,
    ir.FunctionCall: _h_function_call,
    ir.ForExpr: evaluate_for,
    ir.Quoted: _h_quoted,
    ir.Heredoc: _h_heredoc,
}
