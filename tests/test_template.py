"""Templates: heredocs, quoted-string directives, template files."""

from __future__ import annotations

from conftest import attr_expr


from iac_ims.terraform.context import MAX_STRING_SIZE, SimpleContext
from iac_ims.terraform.evaluate import evaluate, evaluate_template
from iac_ims.terraform.heredoc import heredoc_body
from iac_ims.terraform.template import compile_template
from iac_ims.terraform.values import PartialJson, Unknown




def ev_src(src: str, name: str = "value", ctx: SimpleContext | None = None):
    return evaluate(attr_expr(src, name), ctx if ctx is not None else SimpleContext())


# --- heredocs -------------------------------------------------------------------------------


def test_heredoc_keeps_body_verbatim():
    src = '''
resource "huaweicloud_identity_role" "r" {
  policy = <<EOT
{
  "Version": "1.1",
  "Statement": [{"Effect": "Allow", "Action": ["ims:images:get"]}]
}
EOT
}
'''
    v = ev_src(src, "policy")
    assert v == (
        '{\n  "Version": "1.1",\n  "Statement": [{"Effect": "Allow", "Action": ["ims:images:get"]}]\n}\n'
    )


def test_heredoc_indented_marker_and_blank_lines():
    src = 'locals {\n  value = <<EOT\n    a\n\n      b\n  EOT\n}\n'
    assert ev_src(src) == "    a\n\n      b\n"
    src = 'locals {\n  value = <<EOT\nEOT\n}\n'
    assert ev_src(src) == ""


def test_heredoc_trim_removes_common_indentation():
    src = 'locals {\n  value = <<-EOT\n    {\n      "a": ${var.n}\n\n    }\n  EOT\n}\n'
    ctx = SimpleContext(variables={"n": 1})
    assert ev_src(src, ctx=ctx) == '{\n  "a": 1\n\n}\n'
    # the least indented line decides
    src = 'locals {\n  value = <<-EOT\n      deep\n  shallow\n  EOT\n}\n'
    assert ev_src(src) == "    deep\nshallow\n"


def test_heredoc_backslashes_are_literal_and_escapes_work():
    src = 'locals {\n  value = <<EOT\na\\nb $${not} %%{ not } ${"x"}\nEOT\n}\n'
    assert ev_src(src) == "a\\nb ${not} %{ not } x\n"


def test_heredoc_crlf_is_normalised():
    src = 'locals {\r\n  value = <<EOT\r\nline1\r\nline2 ${1}\r\nEOT\r\n}\r\n'
    assert ev_src(src) == "line1\nline2 1\n"
    src = 'locals {\r\n  value = <<-EOT\r\n    a\r\n      b\r\n  EOT\r\n}\r\n'
    assert ev_src(src) == "a\n  b\n"


def test_heredoc_with_directives_and_strip_markers():
    src = '''
locals {
  value = <<EOT
[
%{ for i, a in var.actions ~}
  "${a}"%{ if i < length(var.actions) - 1 },%{ endif }
%{ endfor ~}
]
EOT
}
'''
    ctx = SimpleContext(variables={"actions": ["ims:images:get", "ims:images:list"]})
    assert ev_src(src, ctx=ctx) == '[\n  "ims:images:get",\n  "ims:images:list"\n]\n'


def test_heredoc_flush_applies_after_strip_markers_like_hcl():
    # HCL trims `~}` first and then flushes: a line that follows a stripped newline is not
    # "line-leading" any more and keeps its indentation (hclsyntax.flushHeredocTemplateParts).
    src = '''
locals {
  value = <<-EOT
    %{ for a in var.actions ~}
    - ${a}
    %{ endfor ~}
    end
  EOT
}
'''
    ctx = SimpleContext(variables={"actions": ["a", "b"]})
    assert ev_src(src, ctx=ctx) == "    - a\n    - b\n    end\n"


def test_heredoc_with_jsonencode_interpolation():
    src = '''
locals {
  value = <<-EOT
    ${jsonencode({
      Version = "1.1"
      Statement = [{ Effect = "Allow", Action = ["ims:*:get"] }]
    })}
  EOT
}
'''
    assert ev_src(src) == '{"Statement":[{"Action":["ims:*:get"],"Effect":"Allow"}],"Version":"1.1"}\n'


def test_heredoc_body_helper():
    assert heredoc_body("<<EOT\nx\nEOT\n") == ("x\n", False)
    assert heredoc_body("<<-EOT\n  x\n  EOT\n") == ("  x\n", True)
    assert heredoc_body("<<EOT\nEOT\n") == ("", False)


def test_heredoc_unknown_and_syntax_error():
    src = 'locals {\n  value = <<EOT\nrole ${huaweicloud_identity_role.r.id}\nEOT\n}\n'
    v = ev_src(src)
    assert isinstance(v, Unknown) and v.depends_on == ("huaweicloud_identity_role.r",)
    src = 'locals {\n  value = <<EOT\n%{ if true }never closed\nEOT\n}\n'
    v = ev_src(src)
    assert isinstance(v, Unknown) and v.reason.startswith("error:")


# --- quoted strings with directives ---------------------------------------------------------


def test_quoted_string_directives():
    ctx = SimpleContext(variables={"admin": True, "names": ["a", "b"]})
    src = 'locals {\n  value = "role-%{ if var.admin }admin%{ else }ro%{ endif }"\n}\n'
    assert ev_src(src, ctx=ctx) == "role-admin"
    src = 'locals {\n  value = "%{ for n in var.names }${n};%{ endfor }"\n}\n'
    assert ev_src(src, ctx=ctx) == "a;b;"
    src = 'locals {\n  value = "x  %{~ if true ~}  y  %{~ endif ~}  z"\n}\n'
    assert ev_src(src, ctx=ctx) == "xyz"
    src = 'locals {\n  value = "%{ if var.unknown }a%{ endif }"\n}\n'
    v = ev_src(src, ctx=ctx)
    assert isinstance(v, Unknown) and v.depends_on == ("var.unknown",)


def test_single_interpolation_is_unconverted():
    ctx = SimpleContext(variables={"l": [1, 2], "n": 5})
    assert ev_src('locals {\n  value = "${var.l}"\n}\n', ctx=ctx) == [1, 2]
    assert ev_src('locals {\n  value = "${var.n}"\n}\n', ctx=ctx) == 5
    v = ev_src('locals {\n  value = "x${var.l}"\n}\n', ctx=ctx)
    assert isinstance(v, Unknown) and v.reason.startswith("error:")
    v = ev_src('locals {\n  value = "${jsonencode({a = var.u})}"\n}\n', ctx=ctx)
    assert isinstance(v, PartialJson)


# --- evaluate_template ------------------------------------------------------------------------


def test_template_basics():
    ctx = SimpleContext(variables={"x": "X"})
    assert evaluate_template("plain", ctx) == "plain"
    assert evaluate_template("a ${var.x} b", ctx) == "a X b"
    assert evaluate_template("${[1, 2]}", ctx) == [1, 2]
    assert evaluate_template("${var.x}\n", ctx) == "X\n"
    assert evaluate_template("", ctx) == ""
    assert evaluate_template("50% off $5 ${1 + 1}", ctx) == "50% off $5 2"


def test_template_brace_and_quote_aware_matching():
    ctx = SimpleContext()
    assert evaluate_template('${jsonencode({a = "}"})}!', ctx) == '{"a":"}"}!'
    assert evaluate_template('${"${"a"}-${"b"}"}', ctx) == "a-b"
    assert evaluate_template('${{a = {b = 1}}.a.b}', ctx) == 1
    assert evaluate_template('${"\\"}"}', ctx) == '"}'


def test_template_for_and_if():
    vars_ = {"m": {"b": 2, "a": 1}, "flag": False}
    text = "%{ for k, v in m ~}\n${k}=${v}\n%{ endfor ~}\n%{ if flag }yes%{ else }no%{ endif }"
    assert evaluate_template(text, SimpleContext(), variables=vars_) == "a=1\nb=2\nno"
    # `~}` strips only up to the end of its own line: the next line keeps its indentation
    text = "%{ for x in xs ~}\n    - ${x}\n%{ endfor ~}\n"
    assert evaluate_template(text, SimpleContext(), variables={"xs": ["a", "b"]}) == "    - a\n    - b\n"
    # `%{~` strips the whitespace of its own line only (literals are per-line tokens in HCL)
    text = "a   \n  %{~ if true ~}   \n  b%{ endif }"
    assert evaluate_template(text, SimpleContext(), variables={}) == "a   \n  b"
    text = "a   %{~ if true ~}   b%{ endif }"
    assert evaluate_template(text, SimpleContext(), variables={}) == "ab"


def test_templatefile_mode_sees_only_its_variables():
    ctx = SimpleContext(variables={"x": "outer"})
    assert evaluate_template("${x}", ctx, variables={"x": "inner"}) == "inner"
    v = evaluate_template("${var.x}", ctx, variables={"x": 1})
    assert isinstance(v, Unknown) and v.reason.startswith("error:")
    v = evaluate_template("${missing}", ctx, variables={})
    assert isinstance(v, Unknown) and "missing" in v.reason
    v = evaluate_template("${u}", ctx, variables={"u": Unknown("unknown", ("var.u",))})
    assert isinstance(v, Unknown) and v.depends_on == ("var.u",)


def test_template_syntax_errors_are_unknown():
    for text in ("${", "${1 +}", "%{ if x }", "%{ endif }", "%{ else }", "%{ for }x%{ endfor }",
                 "%{ bogus }", "%{ for x in [1] }%{ endif }"):
        v = evaluate_template(text, SimpleContext(), variables={"x": True})
        assert isinstance(v, Unknown) and v.reason.startswith("error:"), text


def test_template_limits():
    big = "x" * (MAX_STRING_SIZE // 4)
    v = evaluate_template("%{ for i in range(8) }${s}%{ endfor }", SimpleContext(), variables={"s": big})
    assert isinstance(v, Unknown) and "too large" in v.reason
    deep = "%{ if true }" * 3000 + "x" + "%{ endif }" * 3000
    assert isinstance(evaluate_template(deep, SimpleContext()), Unknown)


def test_compiled_templates_are_cached():
    assert compile_template("a ${b} c") is compile_template("a ${b} c")
