"""Built-in functions, evaluated from realistic Terraform snippets."""

from __future__ import annotations

from conftest import attr_expr, ev, is_error

import json

import pytest

from iac_ims.terraform.context import Budget, SimpleContext
from iac_ims.terraform.evaluate import evaluate
from iac_ims.terraform.functions import FUNCTIONS
from iac_ims.terraform.functions_encoding import json_encode
from iac_ims.terraform.values import PartialJson, Reference, Unknown








POLICY_JSON = """{
  "Version": "1.1",
  "Statement": [
    {"Effect": "Allow", "Action": ["ims:images:get", "ims:images:list"], "Resource": ["*"]}
  ]
}
"""


# --- JSON -----------------------------------------------------------------------------------


def test_jsonencode_policy_with_quoted_keys():
    src = '''
resource "huaweicloud_identity_role" "ims_reader" {
  name        = "ims-reader"
  type        = "XA"
  policy = jsonencode({
    "Version" : "1.1",
    "Statement" : [
      {
        "Effect" : "Allow",
        "Action" : ["ims:images:get", "ims:images:list"],
        Condition = { "StringEquals" : { "g:ResourceTag/env" : "prod" } }
      }
    ]
  })
}
'''
    v = evaluate(attr_expr(src, "policy"), SimpleContext())
    assert v == (
        '{"Statement":[{"Action":["ims:images:get","ims:images:list"],'
        '"Condition":{"StringEquals":{"g:ResourceTag/env":"prod"}},"Effect":"Allow"}],"Version":"1.1"}'
    )
    assert json.loads(v)["Version"] == "1.1"


def test_jsonencode_values():
    assert ev('jsonencode("a<b>&c")') == '"a\\u003cb\\u003e\\u0026c"'
    assert ev("jsonencode([1, 1.5, true, null])") == "[1,1.5,true,null]"
    assert ev('jsonencode({b = 1, a = "é"})') == '{"a":"é","b":1}'
    assert json_encode({"z": [], "a": {}}) == '{"a":{},"z":[]}'


def test_jsonencode_partial():
    v = ev('jsonencode({Statement = [{Action = ["ims:*:get"], Resource = [huaweicloud_ims_image.i.id]}]})')
    assert isinstance(v, PartialJson)
    assert v.depends_on == ("huaweicloud_ims_image.i",)
    res = v.value["Statement"][0]["Resource"][0]
    assert isinstance(res, Reference) and res.address == "huaweicloud_ims_image.i"
    # jsondecode gives the structure back
    back = ev('jsondecode(jsonencode({a = var.x, b = 1}))')
    assert back["b"] == 1 and isinstance(back["a"], Unknown)


def test_jsondecode_file_roundtrip():
    ctx = SimpleContext(files={"policies/ims.json": POLICY_JSON})
    v = ev('jsonencode(jsondecode(file("policies/ims.json")))', ctx)
    assert v == ('{"Statement":[{"Action":["ims:images:get","ims:images:list"],"Effect":"Allow",'
                 '"Resource":["*"]}],"Version":"1.1"}')
    d = ev('jsondecode(file("policies/ims.json")).Statement[0].Action', ctx)
    assert d == ["ims:images:get", "ims:images:list"]
    v = ev('jsondecode("{\\"a\\": 1.0, \\"b\\": 2.5}")')
    assert v == {"a": 1, "b": 2.5} and type(v["a"]) is int


def test_jsondecode_errors():
    assert is_error(ev('jsondecode("{bad")'))
    assert is_error(ev('jsondecode("NaN")'))
    assert ev('try(jsondecode("{bad"), {})') == {}
    deep = "[" * 5000 + "]" * 5000
    assert isinstance(ev(f'jsondecode("{deep}")'), Unknown)


# --- files and templatefile ---------------------------------------------------------------


def test_file():
    ctx = SimpleContext(files={"./p.json": "{}"}, path_module=".")
    assert ev('file("${path.module}/p.json")', ctx) == "{}"
    v = ev('file("missing.json")', ctx)
    assert isinstance(v, Unknown) and v.depends_on == ("file(missing.json)",)
    assert ev('filebase64("./p.json")', ctx) == "e30="


def test_templatefile():
    tpl = """{
  "Version": "1.1",
  "Statement": [
%{ for i, a in actions ~}
    {"Effect": "Allow", "Action": ["${a}"]}%{ if i < length(actions) - 1 },%{ endif }
%{ endfor ~}
  ]
}
"""
    ctx = SimpleContext(files={"policy.json.tpl": tpl})
    v = ev('templatefile("policy.json.tpl", { actions = ["ims:images:get", "ims:images:list"] })', ctx)
    doc = json.loads(v)
    assert [s["Action"][0] for s in doc["Statement"]] == ["ims:images:get", "ims:images:list"]
    ctx = SimpleContext(files={"one.tpl": "${jsonencode({Action = acts})}"})
    assert ev('templatefile("one.tpl", {acts = ["x"]})', ctx) == '{"Action":["x"]}'
    v = ev('templatefile("one.tpl", {acts = [var.a]})', ctx)
    assert isinstance(v, PartialJson) and v.depends_on == ("var.a",)


def test_templatefile_sees_only_vars():
    ctx = SimpleContext(variables={"x": 1}, files={"t.tpl": "${var.x}", "u.tpl": "${y}"})
    assert is_error(ev('templatefile("t.tpl", {})', ctx))
    assert is_error(ev('templatefile("u.tpl", {x = 1})', ctx))
    assert ev('try(templatefile("u.tpl", {}), "fallback")', ctx) == "fallback"
    v = ev('templatefile("missing.tpl", {})', ctx)
    assert isinstance(v, Unknown) and not is_error(v)


class CountingContext(SimpleContext):
    """Counts the file reads: one per templatefile() call that got as far as reading."""

    reads = 0

    def read_file(self, path):
        self.reads += 1
        return super().read_file(path)


@pytest.mark.parametrize("template,most_reads", [
    ('${templatefile("r.tpl", {})}', 16),
    ('${templatefile("r.tpl", {})}${templatefile("r.tpl", {})}', 1024),  # doubles at each level
])
def test_templatefile_recursion_is_bounded(template, most_reads):
    # Work counted, not timed: the reads are the templates rendered, the budget's steps the rest.
    # Nesting stops after a few levels (8 today: 9 reads, and 511 when each level calls itself
    # twice); without that limit the reads would go on until the step budget or the stack ran out.
    ctx = CountingContext(files={"r.tpl": template})
    budget = Budget()
    v = evaluate(attr_expr('locals {\n  value = templatefile("r.tpl", {})\n}\n', "value"), ctx, budget)
    assert isinstance(v, Unknown) and "nested" in v.reason
    spent = Budget().steps - budget.steps
    assert 1 < ctx.reads <= most_reads and spent <= 10 * most_reads, (ctx.reads, spent)


# --- try / can --------------------------------------------------------------------------------


def test_try_and_can():
    ctx = SimpleContext(variables={"cfg": {"name": "n"}})
    assert ev('try(var.cfg.role, var.cfg.name, "d")', ctx) == "n"
    assert ev('try(var.cfg.role, "d")', ctx) == "d"
    assert is_error(ev("try(var.cfg.a, var.cfg.b)", ctx))
    assert ev("can(var.cfg.name)", ctx) is True
    assert ev("can(var.cfg.role)", ctx) is False
    assert ev('can(regex("^ims:", "ims:images:get"))') is True
    assert ev('can(regex("^ims:", "ecs:x"))') is False
    v = ev("try(var.unknown.x, 1)", ctx)
    assert isinstance(v, Unknown) and v.depends_on == ("var.unknown",)
    v = ev("can(var.unknown)", ctx)
    assert isinstance(v, Unknown)
    v = ev("try(huaweicloud_identity_role.r.id, null)")
    assert isinstance(v, Reference)
    # limits are not swallowed by try()
    v = ev('try([for i in range(1000) : [for j in range(1000) : i]], "x")')
    assert isinstance(v, Unknown) and "budget" in v.reason


# --- collections ------------------------------------------------------------------------------


def test_collection_functions():
    assert ev('concat(["a"], [], ["b", "c"])') == ["a", "b", "c"]
    assert ev('merge({a = 1, b = 2}, null, {b = 3})') == {"a": 1, "b": 3}
    assert ev('flatten([["a", ["b"]], [], "c"])') == ["a", "b", "c"]
    assert ev("distinct([1, 2, 1, 1.0, \"1\"])") == [1, 2, "1"]
    assert ev('compact(["a", "", null, "b"])') == ["a", "b"]
    assert ev('lookup({a = 1}, "a")') == 1
    assert ev('lookup({a = 1}, "b", "d")') == "d"
    assert is_error(ev('lookup({a = 1}, "b")'))
    assert ev('element(["a", "b", "c"], 4)') == "b"
    assert ev('length("héllo")') == 5
    assert ev("length({a = 1, b = 2})") == 2
    assert ev('keys({b = 1, a = 2})') == ["a", "b"]
    assert ev('values({b = 1, a = 2})') == [2, 1]
    assert ev('toset(["b", "a", "b"])') == ["a", "b"]
    assert ev("toset([3, 1, 3])") == [1, 3]
    assert ev("tolist([1])") == [1] and ev("tomap({a = 1})") == {"a": 1}
    assert ev("one([])") is None and ev('one(["x"])') == "x"
    assert is_error(ev("one([1, 2])"))
    assert ev("range(3)") == [0, 1, 2]
    assert ev("range(1, 4)") == [1, 2, 3]
    assert ev("range(5, 1, -2)") == [5, 3]
    assert ev("range(0, 1, 0.25)") == [0, 0.25, 0.5, 0.75]
    assert is_error(ev("range(2000)"))  # Terraform's own limit is 1024 elements
    v = ev("range(1000000)")
    assert isinstance(v, Unknown) and "too large" in v.reason
    assert ev('slice(["a", "b", "c"], 1, 3)') == ["b", "c"]
    assert ev("reverse([1, 2, 3])") == [3, 2, 1]
    assert ev('sort(["b", "a", 10, 9])') == ["10", "9", "a", "b"]
    assert ev('zipmap(["a", "b"], [1, 2])') == {"a": 1, "b": 2}
    assert ev('setunion(["b"], ["a", "b"])') == ["a", "b"]
    assert ev('setintersection(["a", "b"], ["b", "c"])') == ["b"]
    assert ev('setsubtract(["a", "b"], ["a"])') == ["b"]
    assert ev('setproduct(["a"], [1, 2])') == [["a", 1], ["a", 2]]
    assert ev('contains(["a", "b"], "b")') is True
    assert ev('contains(["a"], "b")') is False
    assert ev('index(["a", "b"], "b")') == 1
    assert ev('chunklist([1, 2, 3], 2)') == [[1, 2], [3]]


def test_coalesce():
    assert ev('coalesce(null, "", "a", "b")') == "a"
    assert ev('coalescelist([], ["x"])') == ["x"]
    v = ev('coalesce(var.u, "a")')
    assert isinstance(v, Unknown) and v.depends_on == ("var.u",)
    assert ev('coalesce("a", var.u)') == "a"
    assert is_error(ev("coalesce(null, null)"))


def test_numeric_functions():
    assert ev("sum([1, 2, 3.5])") == 6.5
    assert ev("max(1, 7, 3)") == 7 and ev("min(4, 2)") == 2
    assert ev("abs(-2)") == 2 and ev("ceil(1.2)") == 2 and ev("floor(1.8)") == 1
    assert ev('tonumber("42")') == 42 and ev("tostring(42)") == "42"
    assert ev('tobool("true")') is True
    assert is_error(ev('tonumber("x")'))
    assert ev("alltrue([true, true])") is True and ev("anytrue([false, true])") is True
    assert ev("alltrue([var.u, false])") is False
    assert isinstance(ev("alltrue([var.u, true])"), Unknown)


# --- strings ---------------------------------------------------------------------------------


def test_format():
    assert ev('format("%s-%d", "role", 3)') == "role-3"
    assert ev('format("%5s|%-5s|%05d", "a", "b", 42)') == "    a|b    |00042"
    assert ev('format("%.2f %q %v %%", 3.14159, "x", [1, "a"])') == '3.14 "x" [1,"a"] %'
    assert ev('format("%v %v", true, 1.5)') == "true 1.5"
    assert is_error(ev('format("%d", 1.5)'))
    assert is_error(ev('format("%s %s", "a")'))
    assert is_error(ev('format("%s", "a", "b")'))
    assert ev('formatlist("%s-%s", ["a", "b"], "x")') == ["a-x", "b-x"]


def test_string_functions():
    assert ev('join(",", ["a", "b"], ["c"])') == "a,b,c"
    assert ev('split(",", "a,b,,c")') == ["a", "b", "", "c"]
    assert ev('replace("ims:images:get", ":", "/")') == "ims/images/get"
    assert ev('replace("role-admin-01", "/-(\\\\d+)$/", "_$1")') == "role-admin_01"
    assert ev('replace("a.b", "/\\\\./", "[$$]")') == "a[$]b"
    assert ev('replace("a.b", "/(?P<x>\\\\.)/", "[$${x}]")') == "a[.]b"  # Go-style ${x} group
    assert ev('lower("ImS")') == "ims" and ev('upper("ims")') == "IMS"
    assert ev('title("hello world-x")') == "Hello World-X"
    assert ev('trimspace("  a \\n")') == "a"
    assert ev('trim("?!a?!", "!?")') == "a"
    assert ev('trimprefix("ims:get", "ims:")') == "get"
    assert ev('trimsuffix("a.json", ".json")') == "a"
    assert ev('chomp("a\\n\\r\\n")') == "a"
    assert ev('substr("hello", 1, 3)') == "ell"
    assert ev('substr("hello", -3, -1)') == "llo"
    assert ev('startswith("ims:x", "ims:")') is True
    assert ev('endswith("a.json", ".json")') is True
    assert ev('strcontains("abc", "b")') is True
    assert ev('regex("^(\\\\w+):(\\\\w+)", "ims:images")') == ["ims", "images"]
    assert ev('regexall("\\\\d", "a1b2")') == ["1", "2"]
    assert ev('indent(2, "a\\nb")') == "a\n  b"


def test_regex_limits():
    long_pattern = "/" + "a" * 1001 + "/"
    v = ev(f'replace("aaa", "{long_pattern}", "b")')
    assert isinstance(v, Unknown) and not is_error(v)
    big = "x" * (1024 * 1024 + 1)
    v = ev('replace(var.big, "/x/", "y")', SimpleContext(variables={"big": big}))
    assert isinstance(v, Unknown)
    assert is_error(ev('replace("a", "/(/", "b")'))


def test_paths_encodings_hashes():
    assert ev('basename("policies/ims.json")') == "ims.json"
    assert ev('dirname("policies/ims.json")') == "policies"
    assert ev('dirname("ims.json")') == "."
    assert ev('abspath("a/../b.json")') == "b.json"
    assert ev('base64encode("hi")') == "aGk="
    assert ev('base64decode("aGk=")') == "hi"
    assert is_error(ev('base64decode("!!")'))
    assert ev('md5("a")') == "0cc175b9c0f1b6a831c399e269772661"
    assert ev('sha1("a")') == "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
    assert ev('sha256("a")') == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def test_non_deterministic_and_unsupported_functions():
    for name in ("uuid()", "timestamp()", 'bcrypt("x")'):
        v = ev(name)
        assert isinstance(v, Unknown) and not is_error(v), name
    v = ev('cidrsubnet("10.0.0.0/8", 8, 1)')
    assert v == Unknown("function cidrsubnet is not supported", ("cidrsubnet()",))
    v = ev('provider::huaweicloud::parse_id("x")')
    assert v == Unknown("function provider::huaweicloud::parse_id is not supported",
                        ("provider::huaweicloud::parse_id()",))


def test_unknown_arguments_propagate():
    v = ev('upper(var.name)')
    assert isinstance(v, Unknown) and v.depends_on == ("var.name",)
    v = ev('join(",", ["a", var.b, local.c])')
    assert v.depends_on == ("var.b", "local.c")
    v = ev('concat(var.a, ["x"])')
    assert isinstance(v, Unknown) and v.depends_on == ("var.a",)
    v = ev('concat([var.a], ["x"])')
    assert isinstance(v, list) and v[1] == "x"
    v = ev('lookup({a = var.x}, "a")')
    assert isinstance(v, Unknown) and v.depends_on == ("var.x",)
    assert ev("sensitive(1)") == 1


def test_wrong_arguments_are_errors():
    assert is_error(ev("upper()"))
    assert is_error(ev('upper("a", "b")'))
    assert is_error(ev('concat("a")'))
    assert is_error(ev('merge(["a"])'))
    assert is_error(ev("length(null)"))


@pytest.mark.parametrize("name", ["jsonencode", "jsondecode", "file", "templatefile", "concat", "merge",
                                  "flatten", "distinct", "compact", "lookup", "element", "length", "keys",
                                  "values", "toset", "tolist", "tomap", "tostring", "tonumber", "tobool",
                                  "format", "formatlist", "join", "split", "replace", "lower", "upper",
                                  "title", "trimspace", "trim", "trimprefix", "trimsuffix", "chomp",
                                  "substr", "startswith", "endswith", "strcontains", "contains", "index",
                                  "coalesce", "coalescelist", "try", "can", "one", "range", "slice",
                                  "reverse", "sort", "zipmap", "setunion", "setintersection",
                                  "setsubtract", "sum", "max", "min", "abs", "ceil", "floor", "alltrue",
                                  "anytrue", "abspath", "basename", "dirname", "base64encode",
                                  "base64decode", "md5", "sha1", "sha256", "uuid", "timestamp", "bcrypt"])
def test_registry_has(name):
    assert name in FUNCTIONS
