"""Rendering a compiled template (template.py) in an evaluation: interpolations evaluated and
converted to strings, `%{if}` and `%{for}` directives followed, unknown parts kept in place."""

from __future__ import annotations

from typing import Any

from iac_ims.terraform.context import MAX_EVAL_DEPTH, MAX_STRING_SIZE
from iac_ims.terraform.evaluation import Evaluation
from iac_ims.terraform.semantics import EvalError, LimitExceeded, bool_or_unknown, template_value_str
from iac_ims.terraform.template import Compiled
from iac_ims.terraform.values import PartialString, Unknown


def render(ev: Evaluation, compiled: Compiled) -> Any:
    """The value of a compiled template: the unconverted value of a template that is exactly
    one interpolation, else the rendered string, or (some of its parts unknown) a PartialString
    or an Unknown."""
    if compiled.passthrough:
        return ev.eval(compiled.nodes[0][1])
    out: list[str] = []
    unknowns: list[Unknown] = []
    size = [0]
    try:
        _render(ev, compiled.nodes, out, unknowns, size)
    except _TooLarge:
        return Unknown("rendered string is too large")
    if unknowns:
        combined = Unknown.combine(unknowns)
        if all(isinstance(part, (str, Unknown)) for part in out) and any(isinstance(p, Unknown) for p in out):
            return PartialString(combined.reason, combined.depends_on, parts=tuple(out))
        return combined
    return "".join(out)


def _render(ev: Evaluation, nodes: tuple, out: list, unknowns: list, size: list) -> None:
    ev.depth += 1
    try:
        if ev.depth > MAX_EVAL_DEPTH:
            raise LimitExceeded("template nested too deeply")
        for n in nodes:
            if type(n) is str:
                out.append(n)
                size[0] += len(n)
            elif n[0] == "$":
                v = ev.eval(n[1])
                if isinstance(v, Unknown):
                    unknowns.append(v)
                    out.append(v)  # a placeholder: the rest of the text is still known
                else:
                    s = template_value_str(v)
                    out.append(s)
                    size[0] += len(s)
            elif n[0] == "if":
                c = bool_or_unknown(ev.eval(n[1]))
                if isinstance(c, Unknown):
                    unknowns.append(c)
                    out.append(None)  # which text follows is unknown
                    # both branches are possible: collect what they depend on too
                    ev.guarded += 1
                    try:
                        for branch in (n[2], n[3]):
                            try:
                                _render(ev, branch, [], unknowns, [0])
                            except (EvalError, _TooLarge):
                                pass
                    finally:
                        ev.guarded -= 1
                else:
                    _render(ev, n[2] if c else n[3], out, unknowns, size)
            else:  # for
                _, kname, vname, collection, body = n
                items = ev.iter_items(ev.eval(collection), "template for directive")
                if isinstance(items, Unknown):
                    unknowns.append(items)
                    out.append(None)  # how much text follows is unknown
                    continue
                for _ in ev.each_bound((kname, vname), items):
                    _render(ev, body, out, unknowns, size)
                    if size[0] > MAX_STRING_SIZE:
                        raise _TooLarge()
            if size[0] > MAX_STRING_SIZE:
                raise _TooLarge()
    finally:
        ev.depth -= 1


class _TooLarge(Exception):
    pass
