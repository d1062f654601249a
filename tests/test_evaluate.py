"""Evaluator tests on realistic Terraform snippets, parsed as a scan parses them."""

from __future__ import annotations

from conftest import attr_expr, ev, is_error

import pytest

from iac_ims.terraform import ir
from iac_ims.terraform.context import MAX_COLLECTION_SIZE, Budget, SimpleContext
from iac_ims.terraform.evaluate import EvalError, Evaluator, evaluate
from iac_ims.terraform.hclparse import parse_expression
from iac_ims.terraform.values import PartialJson, Reference, Unknown








# --- literals and operators --------------------------------------------------------------


def test_literals():
    assert ev("1") == 1
    assert ev("-3") == -3
    assert ev("1.5") == 1.5
    v = ev("1.5e3")
    assert v == 1500 and type(v) is int
    assert ev("true") is True and ev("false") is False and ev("null") is None
    assert ev('"plain"') == "plain"
    assert ev('""') == ""


def test_string_escapes():
    assert ev(r'"a\"b\\c\nd\te"') == 'a"b\\c\nd\te'
    assert ev(r'"\u00e9\U0001F600"') == "\u00e9\U0001F600"
    assert ev('"$${var.x} and %%{ if }"') == "${var.x} and %{ if }"
    assert ev('"100% ${1}$"') == "100% 1$"


def test_arithmetic_and_precedence():
    assert ev("1 + 2 * 3") == 7
    assert ev("(1 + 2) * 3") == 9
    assert ev("10 / 4") == 2.5
    v = ev("8 / 4")
    assert v == 2 and type(v) is int
    assert ev("7 % 3") == 1
    assert ev("1 - -1") == 2
    assert ev('"5" + 1') == 6
    assert ev("0.1 + 0.2") == 0.3
    assert ev('"v=${0.1 + 0.2}"') == "v=0.3"
    assert ev("2 > 1 && 1 >= 1 && 1 < 2 && 2 <= 2") is True


def test_equality():
    assert ev("1 == 1.0") is True
    assert ev('1 == "1"') is False
    assert ev("true == 1") is False
    assert ev('[1, "a"] == [1.0, "a"]') is True
    assert ev("{a = 1} == {a = 1}") is True
    assert ev("{a = 1} != {a = 2}") is True
    assert ev("null == null") is True
    assert ev('var.u == null', variables={"u": None}) is True


def test_errors_become_unknown():
    for text in ("1 / 0", "[1][3]", "{a = 1}.b", '{a = 1}["b"]', '"x" + 1', "!1",
                 "null.attr", "[1].attr", '"abc"[0]', "null[0]"):
        v = ev(text)
        assert is_error(v), (text, v)


def test_multiline_operators():
    src = 'locals {\n  value = true\n    && false\n}\n'
    assert evaluate(attr_expr(src, "value"), SimpleContext()) is False


def test_logical_short_circuit():
    # the right side is never evaluated when the left side decides
    assert ev("false && [][0]") is False
    assert ev("true || [][0]") is True
    # an unknown on one side is decided by the other
    assert ev("var.nope && false") is False
    assert ev("var.nope || true") is True
    v = ev("var.nope && true")
    assert isinstance(v, Unknown) and v.depends_on == ("var.nope",)
    v = ev("var.a || var.b")
    assert isinstance(v, Unknown) and v.depends_on == ("var.a", "var.b")


def test_conditional():
    assert ev('true ? "a" : [][0]') == "a"
    assert ev('false ? [][0] : "b"') == "b"
    assert ev('var.env == "prod" ? 1 : 2', variables={"env": "prod"}) == 1
    v = ev('var.create ? huaweicloud_identity_role.r[0].id : var.role_id')
    assert isinstance(v, Unknown) and not isinstance(v, Reference)
    assert v.depends_on == ("var.create", "huaweicloud_identity_role.r", "var.role_id")
    assert ev('var.create ? "same" : "same"') == "same"
    assert is_error(ev("null ? 1 : 2"))


# --- references ---------------------------------------------------------------------------


def test_context_lookups():
    ctx = SimpleContext(
        variables={"name": "ops", "cfg": {"roles": ["a", "b"]}},
        locals={"prefix": "p"},
        modules={"iam": {"role_id": "r-1"}},
        path_module="modules/iam",
    )
    assert ev("var.name", ctx) == "ops"
    assert ev("var.cfg.roles[1]", ctx) == "b"
    assert ev('var.cfg["roles"][0]', ctx) == "a"
    assert ev("local.prefix", ctx) == "p"
    assert ev("module.iam.role_id", ctx) == "r-1"
    assert ev("path.module", ctx) == "modules/iam"
    assert ev("path.root", ctx) == "."
    assert ev("terraform.workspace", ctx) == "default"
    v = ev("var.missing", ctx)
    assert isinstance(v, Unknown) and v.depends_on == ("var.missing",)
    assert is_error(ev("var", ctx))
    assert is_error(ev("path.nope", ctx))


def test_count_and_each():
    v = ev("count.index")
    assert isinstance(v, Unknown) and "count.index" in v.reason and v.depends_on == ("count.index",)
    assert ev("count.index", SimpleContext(count_index=2)) == 2
    ctx = SimpleContext(each_key="ops", each_value={"policy": "ReadOnly"})
    assert ev('"${each.key}-${each.value.policy}"', ctx) == "ops-ReadOnly"
    v = ev("each.value.policy")
    assert isinstance(v, Unknown) and v.depends_on == ("each.value",)
    v = ev("self.id")
    assert isinstance(v, Unknown) and v.depends_on == ("self",)


def test_resource_references():
    v = ev("huaweicloud_identity_role.x.id")
    assert isinstance(v, Reference)
    assert v.address == "huaweicloud_identity_role.x" and v.attribute == ("id",)
    assert v.instance_keys_known and v.depends_on == ("huaweicloud_identity_role.x",)

    v = ev("huaweicloud_identity_role.x[0].id")
    assert v.address == "huaweicloud_identity_role.x[0]" and v.attribute == ("id",)

    v = ev('huaweicloud_identity_role.x["ops \\"team\\""].id')
    assert v.address == 'huaweicloud_identity_role.x["ops \\"team\\""]'

    v = ev("data.huaweicloud_identity_role.y.id")
    assert isinstance(v, Reference)
    assert v.address == "data.huaweicloud_identity_role.y" and v.attribute == ("id",)

    v = ev("huaweicloud_identity_role.x[*].id")
    assert isinstance(v, Reference) and not v.instance_keys_known and v.attribute == ("id",)
    v = ev("huaweicloud_identity_role.x.*.id")
    assert isinstance(v, Reference) and not v.instance_keys_known

    v = ev("huaweicloud_identity_role.x[var.k].id")
    assert isinstance(v, Reference) and not v.instance_keys_known
    assert v.address == "huaweicloud_identity_role.x"
    assert v.depends_on == ("huaweicloud_identity_role.x", "var.k")

    v = ev("huaweicloud_identity_role.x[each.key].id", SimpleContext(each_key="dev"))
    assert v.address == 'huaweicloud_identity_role.x["dev"]'

    v = ev("huaweicloud_identity_role.x.tags.env")
    assert v.attribute == ("tags", "env")


def test_resource_snippet_in_block():
    src = '''
resource "huaweicloud_identity_role_assignment" "a" {
  group_id   = huaweicloud_identity_group.ops.id
  role_id    = data.huaweicloud_identity_role.ims_admin.id
  project_id = var.project_id
}
'''
    ctx = SimpleContext(variables={"project_id": "p-1"})
    g = evaluate(attr_expr(src, "group_id"), ctx)
    r = evaluate(attr_expr(src, "role_id"), ctx)
    assert isinstance(g, Reference) and g.address == "huaweicloud_identity_group.ops"
    assert isinstance(r, Reference) and r.address == "data.huaweicloud_identity_role.ims_admin"
    assert evaluate(attr_expr(src, "project_id"), ctx) == "p-1"


class _Role:
    """A Traversable as a loader would hand out: known name, computed id."""

    def __init__(self, address):
        self.address = address

    def traverse_attr(self, name):
        if name == "name":
            return "ims_admin"
        return Reference("computed", (self.address,), address=self.address, attribute=(name,))

    def traverse_index(self, key):
        return _Role(f"{self.address}[{key}]")


def test_traversable():
    ctx = SimpleContext(resources={"huaweicloud_identity_role.r": _Role("huaweicloud_identity_role.r")})
    assert ev("huaweicloud_identity_role.r.name", ctx) == "ims_admin"
    assert ev('upper(huaweicloud_identity_role.r.name)', ctx) == "IMS_ADMIN"
    v = ev("huaweicloud_identity_role.r[1].id", ctx)
    assert isinstance(v, Reference) and v.address == "huaweicloud_identity_role.r[1]"
    v = ev("length(huaweicloud_identity_role.r)", ctx)
    assert isinstance(v, Unknown)
    # an unknown index keeps the handle: the result still names the resource
    v = ev("huaweicloud_identity_role.r[var.k].id", ctx)
    assert isinstance(v, Reference) and v.address == "huaweicloud_identity_role.r"


class _Roles(_Role):
    def splat(self):
        return [_Role(f"{self.address}[0]"), _Role(f"{self.address}[1]")]


def test_traversable_splat_hook():
    ctx = SimpleContext(resources={"huaweicloud_identity_role.r": _Roles("huaweicloud_identity_role.r")})
    v = ev("huaweicloud_identity_role.r[*].id", ctx)
    assert [r.address for r in v] == ["huaweicloud_identity_role.r[0]", "huaweicloud_identity_role.r[1]"]
    assert ev("huaweicloud_identity_role.r[*].name", ctx) == ["ims_admin", "ims_admin"]
    # without the hook a single object is wrapped, as Terraform does for non-lists
    ctx = SimpleContext(resources={"huaweicloud_identity_role.r": _Role("huaweicloud_identity_role.r")})
    assert ev("huaweicloud_identity_role.r[*].name", ctx) == ["ims_admin"]


# --- collections, for, splat ----------------------------------------------------------------


def test_tuple_and_object():
    assert ev('[1, "a", true, null, [2],]') == [1, "a", True, None, [2]]
    v = ev('{"Version" : "1.1", Statement = [], (local.k) = 3, "a-b" = 4}', SimpleContext(locals={"k": "kk"}))
    assert v == {"Version": "1.1", "Statement": [], "kk": 3, "a-b": 4}
    src = 'locals {\n  value = {\n    name = "n"\n    in = "h"\n    if = 1\n  }\n}\n'
    assert evaluate(attr_expr(src, "value"), SimpleContext()) == {"name": "n", "in": "h", "if": 1}
    v = ev("{(var.k) = 1}")
    assert isinstance(v, Unknown) and v.depends_on == ("var.k",)


def test_for_expressions():
    ctx = SimpleContext(variables={"roles": {"b": "ReadOnly", "a": "Admin"}, "names": ["x", "y", "z"]})
    assert ev("[for n in var.names : upper(n) if n != \"y\"]", ctx) == ["X", "Z"]
    assert ev("[for i, n in var.names : \"${i}:${n}\"]", ctx) == ["0:x", "1:y", "2:z"]
    # maps iterate in key order
    assert ev("[for k, v in var.roles : k]", ctx) == ["a", "b"]
    assert ev("{for k, v in var.roles : v => k}", ctx) == {"Admin": "a", "ReadOnly": "b"}
    assert ev('{for n in ["a", "b", "a"] : n => n...}') == {"a": ["a", "a"], "b": ["b"]}
    assert is_error(ev('{for n in ["a", "a"] : n => n}'))
    v = ev("[for n in var.unknown : n]")
    assert isinstance(v, Unknown) and v.depends_on == ("var.unknown",)
    v = ev("[for n in [1, 2] : n if var.flag]")
    assert isinstance(v, Unknown) and v.depends_on == ("var.flag",)
    # nested for with shadowing restored afterwards
    assert ev("[for x in [1, 2] : [for x in [x, 10] : x * 2]]") == [[2, 20], [4, 20]]
    src = '''
locals {
  value = {
    for name, cfg in var.groups : name => {
      roles = [for r in cfg.roles : "role-${r}"]
    } if length(cfg.roles) > 0
  }
}
'''
    ctx = SimpleContext(variables={"groups": {"ops": {"roles": ["a"]}, "none": {"roles": []}}})
    assert evaluate(attr_expr(src, "value"), ctx) == {"ops": {"roles": ["role-a"]}}


def steps_spent(text: str, ctx=None) -> tuple:
    """(value, evaluation steps it took) of `value = <text>`: the evaluator's own measure of work."""
    budget = Budget()
    value = evaluate(attr_expr(f"locals {{\n  value = {text}\n}}\n", "value"), ctx or SimpleContext(), budget)
    return value, Budget().steps - budget.steps


def test_for_over_huge_range_is_refused_without_iterating():
    # Each element a for expression visits costs the budget at least one step (two today), so a
    # for that began iterating before refusing would spend thousands; the refusal costs a handful.
    # A count, not a clock: it fails on any machine if the size check moves after the loop.
    bound = 100
    v, spent = steps_spent("[for i in range(1000000) : i]")
    assert isinstance(v, Unknown) and "too large" in v.reason and spent < bound, (v, spent)
    v, spent = steps_spent("{for i in range(1000000) : i => i}")
    assert isinstance(v, Unknown) and "too large" in v.reason and spent < bound, (v, spent)
    big = list(range(MAX_COLLECTION_SIZE + 1))
    v, spent = steps_spent("[for i in local.big : i]", SimpleContext(locals={"big": big}))
    assert isinstance(v, Unknown) and "too large" in v.reason and spent < bound, (v, spent)
    # the measure is live: a for within the limit spends steps in proportion to its elements
    v, spent = steps_spent("[for i in local.big : i]", SimpleContext(locals={"big": big[:bound]}))
    assert v == big[:bound] and spent >= bound


def test_splat():
    ctx = SimpleContext(variables={"users": [{"name": "a", "ids": [1]}, {"name": "b", "ids": [2]}]})
    assert ev("var.users[*].name", ctx) == ["a", "b"]
    assert ev("var.users.*.name", ctx) == ["a", "b"]
    assert ev("var.users[*].ids[0]", ctx) == [1, 2]
    assert ev("var.users.*.ids[0]", ctx) == [1]  # legacy splat: the index applies to the result
    assert ev("null[*]") == []
    assert ev('{a = 1}[*].a') == [1]
    v = ev("var.unknown[*].id")
    assert isinstance(v, Unknown) and not isinstance(v, Reference)


# --- functions from the evaluator's side --------------------------------------------------


def test_function_call_expansion():
    assert ev('max([1, 5, 3]...)') == 5
    assert ev('concat(["a"], [["b"], ["c"]]...)') == ["a", "b", "c"]
    v = ev("max(var.nums...)")
    assert isinstance(v, Unknown) and v.depends_on == ("var.nums",)


def test_unknown_propagation_with_deps():
    v = ev('"${var.a}-${local.b}"')
    assert isinstance(v, Unknown) and v.depends_on == ("var.a", "local.b")
    v = ev("var.n + 1")
    assert v.depends_on == ("var.n",)
    v = ev("-var.n")
    assert isinstance(v, Unknown) and v.depends_on == ("var.n",)
    v = ev("!var.flag")
    assert isinstance(v, Unknown)
    v = ev('upper("${huaweicloud_identity_role.r.name}-x")')
    assert isinstance(v, Unknown) and not isinstance(v, Reference)
    assert v.depends_on == ("huaweicloud_identity_role.r",)
    # a known list with an unknown element stays a list
    v = ev('["a", var.b]')
    assert v[0] == "a" and isinstance(v[1], Unknown)
    assert ev('length(["a", var.b])') == 2
    v = ev('jsonencode({Action = ["ims:*:get"], Resource = var.r})')
    assert isinstance(v, PartialJson) and v.depends_on == ("var.r",)
    assert v.value["Action"] == ["ims:*:get"]


# --- bounds ---------------------------------------------------------------------------------


def test_deep_nesting_returns_unknown():
    for o, c in (("[", "]"), ("{a = ", "}"), ("abs(", ")")):
        text = o * 10000 + "1" + c * 10000
        v = ev(text)
        assert isinstance(v, Unknown) and "deep" in v.reason
    assert ev("(" * 10000 + "1" + ")" * 10000) == 1


def test_deep_synthetic_tree_returns_unknown():
    at = (1, 1, 1, 2)
    node = ir.Number(*at, "1")
    for _ in range(100000):
        node = ir.Tuple(*at, (node,))
    v = evaluate(node, SimpleContext())
    assert isinstance(v, Unknown) and "deep" in v.reason
    node = ir.Number(*at, "1")
    for _ in range(50000):
        node = ir.UnaryOp(*at, "-", node)
    v = evaluate(node, SimpleContext())
    assert isinstance(v, Unknown) and "deep" in v.reason


def test_long_operator_chain_is_iterative():
    text = " + ".join(["1"] * 3000)
    assert ev(text) == 3000
    text = " && ".join(["true"] * 2000)
    assert ev(text) is True


def test_step_budget():
    v = evaluate(attr_expr("a = [for i in range(1000) : [for j in range(1000) : i]]\n", "a"), SimpleContext())
    assert isinstance(v, Unknown) and "budget" in v.reason
    b = Budget(steps=5)
    v = evaluate(attr_expr("a = [1, 2, 3, 4, 5, 6, 7]\n", "a"), SimpleContext(), b)
    assert isinstance(v, Unknown) and "budget" in v.reason
    # the budget is shared: once exhausted every later evaluation is Unknown
    assert isinstance(evaluate(attr_expr("a = 1\n", "a"), SimpleContext(), b), Unknown)


def test_recursion_error_never_escapes():
    import inspect
    import sys

    tree = parse_expression("[" * 100 + "1" + "]" * 100)  # within MAX_EVAL_DEPTH
    old = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(len(inspect.stack(0)) + 60)
        v = evaluate(tree, SimpleContext())
    finally:
        sys.setrecursionlimit(old)
    assert isinstance(v, Unknown) and "deep" in v.reason


def test_evaluate_never_raises_on_what_is_not_an_expression():
    assert isinstance(evaluate("x", SimpleContext()), Unknown)
    assert isinstance(evaluate(ir.Body(()), SimpleContext()), Unknown)


def test_evaluator_raises_evalerror_internally():
    with pytest.raises(EvalError):
        Evaluator(SimpleContext()).eval(parse_expression("1 / 0"))


def test_parse_expression_errors():
    with pytest.raises(ValueError) as e:
        parse_expression("1 +")
    assert "line" in str(e.value)
    with pytest.raises(ValueError):
        parse_expression("1\n__y = 2")
    assert parse_expression("a.b") is parse_expression("a.b")  # cached
