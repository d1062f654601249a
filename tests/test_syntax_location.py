"""IMS900 points at where a broken construct starts (syntax_location), not only where the parser
gave up: an unterminated string, heredoc or comment, an unclosed `{`, `[`, `(`, `${` or `%{`.
Errors that no open construct explains keep the parser's position and message."""

from __future__ import annotations

import json
import re
import string
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from conftest import REALWORLD, REALWORLD_ABSENT, REPO, findings_of, scan_tree
from hypothesis import given, settings
from hypothesis import strategies as st

from iac_ims.terraform.parse import parse_hcl_body, parse_source, syntax_error
from iac_ims.terraform.syntax_location import MAX_DEPTH, first_broken, locate

AT_END = r"\(the parser reached the end of the file at line \d+, column \d+\)$"


def ims900(text: str, name: str = "main.tf"):
    """The IMS900 of a file, after checking that both ways to get it (the syntax check of files
    nothing depends on, and the full parse) give the same one."""
    error = syntax_error(name, text)
    assert error is not None and error.rule_id == "IMS900"
    assert parse_source(Path(name), name, text).error == error
    return error


def assert_at(error, line: int, column: int, message: str) -> None:
    """`message`: a regular expression the whole message must match."""
    assert (error.line, error.end_line, error.column) == (line, line, column), error
    assert re.fullmatch(message, error.message), error.message


GROUP = '''resource "huaweicloud_identity_group" "ops" {
  name        = "ops"
  description = "image operators"
}
'''

ROLE = '''resource "huaweicloud_identity_role" "exporter" {
  name        = "ims-exporter"
  type        = "XA"
  description = "exports images"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:export", "ims:images:get"]
    }]
  })
}
'''

ASSIGNMENT = '''resource "huaweicloud_identity_group_role_assignment" "ops_exporter" {
  group_id   = huaweicloud_identity_group.ops.id
  role_id    = huaweicloud_identity_role.exporter.id
  project_id = "all"
}
'''


def test_the_files_used_here_are_valid_without_the_edits():
    for text in (GROUP, ROLE, ASSIGNMENT, GROUP + ROLE + ASSIGNMENT):
        assert syntax_error("main.tf", text) is None
        assert first_broken(text) is None


# ---- located where the broken construct starts ------------------------------------------

def test_unterminated_string_points_at_its_quote_not_at_the_end_of_the_file():
    text = GROUP.replace('= "ops"', '= "ops') + "\n" + ASSIGNMENT
    error = ims900(text)
    assert_at(error, 2, 17, r"unterminated string: the quote at line 2, column 17 is never closed " + AT_END)
    # where the parser gave up is kept: the end of the file, far below the quote
    parser_line = int(re.search(r"end of the file at line (\d+)", error.message).group(1))
    assert parser_line > 5


def test_unterminated_string_whose_parse_stops_in_the_middle_of_the_file():
    # python-hcl2 takes the string on to the next quote, the opening one of "XA": what follows is
    # read out of phase, and the parse fails lines below
    text = ROLE.replace('= "ims-exporter"', '= "ims-exporter')
    assert_at(ims900(text), 2, 17, r"unterminated string: the quote at line 2, column 17 is never closed "
                                   r"\(the parser stopped at line 6, column 16: unexpected FLOAT_LITERAL\)")


def test_a_string_closed_on_its_line_is_not_blamed():
    # `"ims:images:export, "` is a whole string to Terraform too: the parser's position stands
    text = ROLE.replace('"ims:images:export",', '"ims:images:export,')
    error = ims900(text)
    assert (error.line, error.column) == (9, 38)
    assert error.message == "syntax error: unexpected NAME at line 9, column 38"


def test_block_whose_closing_brace_is_missing():
    text = GROUP[: GROUP.rindex("}")] + "\n" + ASSIGNMENT
    error = ims900(text)
    assert_at(error, 1, 45, r'unclosed brace: the "\{" at line 1, column 45 is never closed ' + AT_END)


def _heredoc_policy(opening: str, closing: str) -> str:
    return ROLE.replace("jsonencode({", opening + "\n{").replace("  })\n}\n", "  }\n" + closing + "\n}\n")


# (the edited text, line, column, the whole message as a regular expression)
LOCATED = {
    "string in an action list": (
        ROLE.replace('"ims:images:get"]', '"ims:images:get]'), 9, 38,
        r"unterminated string: the quote at line 9, column 38 is never closed \(.*\)"),
    "string whose escaped quote does not close it": (
        GROUP.replace('"image operators"', '"image \\"operators\\"'), 3, 17,
        r"unterminated string: the quote at line 3, column 17 is never closed \(.*\)"),
    "list closed by a brace": (
        ROLE.replace('"ims:images:get"]', '"ims:images:get"'), 9, 16,
        (r'unclosed bracket: the "\[" at line 9, column 16 is not closed before the "\}" at line 10, column 5 '
         r"\(the parser stopped at line 10, column 5: unexpected RBRACE\)")),
    "parenthesis of jsonencode closed by a brace": (
        ROLE.replace("  })\n", "  }\n"), 5, 22,
        (r'unclosed parenthesis: the "\(" at line 5, column 22 is not closed before the "\}" at line 12, column 1 '
         r"\(the parser stopped at line 12, column 1: .*\)")),
    "truncated file: the innermost open bracket, and the outermost": (
        ROLE[: ROLE.index('"ims:images:get"')], 9, 16,
        (r'unclosed bracket: the "\[" at line 9, column 16 is never closed \(nor is the "\{" at line 1, column 49 '
         r"around it; the parser reached the end of the file at line \d+, column \d+\)")),
    "interpolation whose string closes first": (
        GROUP.replace('"image operators"', '"image operators of ${var.env"'), 3, 37,
        (r'unclosed interpolation: the "\$\{" at line 3, column 37 is never closed '
         r"\(the parser stopped at line 3, column 46: unexpected DBLQUOTE\)")),
    "interpolation at the end of its line": (
        GROUP.replace('"image operators"', '"image operators of ${var.env'), 3, 37,
        (r'unclosed interpolation: the "\$\{" at line 3, column 37 is never closed '
         r"\(the parser stopped at line 3, column 46: .*\)")),
    "template directive (the first is closed, the second not)": (
        GROUP.replace('"image operators"', '"%{ if var.prod }prod%{ endif "'), 3, 38,
        (r'unclosed template directive: the "%\{" at line 3, column 38 is never closed '
         r"\(the parser stopped at line 3, column 47: unexpected DBLQUOTE\)")),
    "heredoc whose end marker is misspelt": (
        _heredoc_policy("<<EOF", "EOT"), 5, 12,
        (r'unterminated heredoc: the "<<EOF" at line 5, column 12 has no closing "EOF" line '
         r"\(the parser stopped at line 5, column 12: .*\)")),
    "indented heredoc without its end marker": (
        GROUP.replace('"image operators"', "<<-EOT\n    image operators\n  EOF"), 3, 17,
        r'unterminated heredoc: the "<<-EOT" at line 3, column 17 has no closing "EOT" line \(.*\)'),
    "block comment": (
        GROUP + "\n/* the exporter role, kept for later\n\n" + ASSIGNMENT, 6, 1,
        r'unterminated comment: the "/\*" at line 6, column 1 is never closed \(.*\)'),
}


@pytest.mark.parametrize("case", LOCATED)
def test_broken_construct_is_reported_where_it_starts(case):
    text, line, column, message = LOCATED[case]
    assert_at(ims900(text), line, column, message)


# ---- what keeps the parser's position -----------------------------------------------------

@pytest.mark.parametrize("text, line, column, message", [
    # a misplaced token: nothing is left open
    (GROUP.replace('name        = "ops"', 'name        = = "ops"'), 2, 17, None),
    # a stray closer closes nothing: the parser names it
    (GROUP + "}\n", 5, 1, "syntax error: unexpected RBRACE at line 5, column 1"),
    # a closer one too many: the rest is well-formed without it, not without the brackets it would close
    (ROLE.replace('"ims:images:get"]', '"ims:images:get"])'), 9, 55,
     "syntax error: unexpected RPAR at line 9, column 55"),
    # the brace left open at the end of the file is not what stopped the parser, earlier
    (GROUP.replace('name        = "ops"', 'name        = = "ops"').rstrip("}\n") + "\n", 2, 17, None),
    # a string broken after the place the parser stopped at
    (GROUP.replace('name        = "ops"', 'name        = = "ops').rstrip("}\n") + "\n", 2, 17, None),
    # a bracket opened after the failure, closed by the wrong closer
    (ROLE.replace('Version = "1.1"', 'Version = = "1.1"').replace('"ims:images:get"]', '"ims:images:get"'),
     6, 15, None),
])
def test_errors_no_open_construct_explains_keep_the_parsers_position(text, line, column, message):
    error = ims900(text)
    assert (error.line, error.column) == (line, column), error
    assert error.message.startswith("syntax error: unexpected "), error.message
    if message is not None:
        assert error.message == message


@pytest.mark.parametrize("text", [
    GROUP.replace('"image operators"', '"costs $${var.env} and 100%%{x}"'),  # escapes, not template sequences
    GROUP.replace('"image operators"', '"a # b // c /* d"'),  # comment markers in a string
    GROUP.replace('"image operators"', '"a \\\\"'),  # an escaped backslash before the closing quote
    GROUP.replace('"image operators"', '"${jsonencode({ a = ["}", "]"] })}"'),  # brackets in nested strings
    GROUP + '# "unbalanced { in a comment\n// and [ here\n/* and ( "here */\n',
    ROLE.replace("jsonencode({", "<<-EOT\n    {\"Version\": \"1.1\", \"Statement\": [\n  EOT\n  x = ({").replace(
        "policy", "description2", 1),
    GROUP.replace('"image operators"', '<<EOF\n"unbalanced ${ and {\nEOF'),
    GROUP.replace('"image operators"', '"${var.a < 2 ? "x" : "y"}"'),
    GROUP.replace('"image operators"', '[for k, v in var.m : "${k}=${v}" if v != ""]'),
    GROUP.replace('"image operators"', '"%{ for a in var.l }${a}, %{ endfor }"'),
])
def test_valid_constructs_are_not_taken_for_broken_ones(text):
    assert syntax_error("main.tf", text) is None, text
    assert first_broken(text) is None


@pytest.mark.parametrize("root", [
    REPO / "sample_configs", REPO / "tests" / "hostile",
    pytest.param(REALWORLD, marks=pytest.mark.skipif(not REALWORLD.is_dir(), reason=REALWORLD_ABSENT)),
])
def test_no_valid_corpus_file_has_a_broken_construct(root):
    """The scan must read valid Terraform as well-formed, or it would blame a sound construct."""
    checked = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or not path.name.endswith((".tf", ".tfvars", ".tf.json", ".tfvars.json")):
            continue
        text = path.read_bytes().decode("utf-8-sig", "replace")
        if path.name.endswith(".json"):
            try:
                json.loads(text)
            except ValueError:
                continue
            assert first_broken(text, json=True) is None, path
        elif parse_hcl_body(text, path.name)[1] is None:
            assert first_broken(text) is None, path
        else:
            continue
        checked += 1
    assert checked


# ---- JSON syntax ------------------------------------------------------------------------

ROLE_JSON = '''{
  "resource": {
    "huaweicloud_identity_role": {
      "exporter": {
        "name": "ims-exporter",
        "type": "XA",
        "policy": "{\\"Version\\": \\"1.1\\"}"
      }
    }
  }
}
'''


def test_tf_json_unclosed_object_points_at_its_brace():
    text = ROLE_JSON.replace('      }\n    }\n  }\n}\n', '      }\n    }\n  }\n')
    error = ims900(text, "main.tf.json")
    assert_at(error, 1, 1, r'JSON syntax error: unclosed brace: the "\{" at line 1, column 1 is never closed '
                           r"\(the parser reached the end of the file at line 11, column 1: Expecting ',' delimiter\)")


def test_tf_json_string_broken_by_a_line_break_points_at_its_quote():
    text = ROLE_JSON.replace('"ims-exporter"', '"ims-exporter')
    error = ims900(text, "main.tf.json")
    assert_at(error, 5, 17, r"JSON syntax error: unterminated string: the quote at line 5, column 17 is never "
                            r"closed \(the parser stopped at line 5, column 31: Invalid control character\)")


def test_tf_json_list_closed_by_a_brace():
    text = '{"resource": {"huaweicloud_identity_group": {"ops": {"name": ["ops", "x"}}}}\n'
    error = ims900(text, "main.tf.json")
    assert_at(error, 1, 62, r'JSON syntax error: unclosed bracket: the "\[" at line 1, column 62 is not closed '
                            r'before the "\}" at line 1, column 73 \(the parser stopped at line 1, column 73: .*\)')


def test_tf_json_errors_no_open_construct_explains_keep_json_position():
    error = ims900('{"resource": {"huaweicloud_identity_group": {"ops": {"name": }}}}\n', "main.tf.json")
    assert (error.line, error.column) == (1, 62)
    assert error.message == "JSON syntax error: Expecting value at line 1, column 62"


def test_tfvars_json_syntax_error_is_located(tmp_path):
    report = scan_tree(tmp_path, {
        "main.tf": 'variable "env" {\n  type = string\n}\n\n' + GROUP,
        "terraform.tfvars.json": '{\n  "env": "prod\n}\n',
    })
    [error] = [f for f in findings_of(report, "IMS900") if f.file.endswith("tfvars.json")]
    assert error.line == 2
    assert error.message.startswith("cannot read variables file: JSON syntax error: unterminated string: "
                                    "the quote at line 2, column 10 is never closed")


# ---- in a scan, in the main process and in worker processes -------------------------------

BROKEN = {
    "group.tf": GROUP.replace('= "ops"', '= "ops'),
    "role.tf": ROLE.replace("  })\n", "  }\n"),
    "assignment.tf": ASSIGNMENT[: ASSIGNMENT.rindex("}")],
    "notes.tf": GROUP.replace("huaweicloud_identity_group", "huaweicloud_vpc") + "/* todo\n",
    "network.tf": GROUP.replace("huaweicloud_identity_group", "huaweicloud_vpc").replace(" = ", " = = ", 1),
}
EXPECTED_LINES = {"group.tf": 2, "role.tf": 5, "assignment.tf": 1, "notes.tf": 5, "network.tf": 2}


def _worker_answers(paths: list[tuple[str, str]]):
    from iac_ims.terraform import workers

    workers._main_progress = None  # no main process reading along: every file is answered here
    return workers._work(0, paths, lambda text: "huaweicloud_identity" in text)


def test_scan_reports_the_start_of_each_broken_construct(tmp_path):
    report = scan_tree(tmp_path, dict(BROKEN))
    found = {f.file: f.line for f in findings_of(report, "IMS900")}
    assert found == EXPECTED_LINES


def test_worker_processes_give_the_main_process_answers(tmp_path):
    for name, text in BROKEN.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = [(str(tmp_path / name), name) for name in BROKEN]
    with ProcessPoolExecutor(max_workers=1) as pool:
        answers = pool.submit(_worker_answers, paths).result()
    in_workers = {Path(path).name: error for path, error, _parsed in answers}
    in_main = {name: syntax_error(name, text) for name, text in BROKEN.items()}
    assert in_workers == in_main
    assert {name: error.line for name, error in in_main.items()} == EXPECTED_LINES


def test_scan_with_jobs_gives_the_same_findings(tmp_path):
    files = {f"m{i:03d}/{name}": text for i in range(40) for name, text in BROKEN.items()}
    one = scan_tree(tmp_path, files, jobs=1)
    two = scan_tree(tmp_path, jobs=2)
    def said(report):
        return sorted((f.file, f.line, f.message) for f in findings_of(report, "IMS900"))

    assert said(one) == said(two)
    assert len(findings_of(one, "IMS900")) == 5 * 40


# ---- hostile input ------------------------------------------------------------------------

def test_one_megabyte_line_with_a_quote_missing_at_its_end():
    actions = ", ".join(['"ims:images:list"'] * 56_000)
    text = ROLE.replace('"ims:images:export", "ims:images:get"', actions + ', "ims:images:get')
    error = ims900(text)
    assert (error.line, error.column) == (9, 16 + len(actions) + 3)
    assert error.message.startswith("unterminated string: the quote at line 9, column ")


def test_nesting_deeper_than_the_scan_follows_keeps_the_parsers_position():
    text = 'locals {\n  x = ' + "[" * (MAX_DEPTH + 1) + "\n"
    assert first_broken(text) is None
    assert locate(text, None, True) is None


_PIECES = list('{}[]()"=,.-+*/!<>:#$%\\ \n\r\tax01') + ["${", "%{", "$${", "//", "/*", "*/", "<<EOF\n", "\nEOF\n",
                                                           "<<-X\n", "\\\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join),
       st.integers(min_value=0, max_value=90), st.booleans(), st.booleans())
def test_the_scan_answers_on_any_text(text, failure, at_end, as_json):
    broken = locate(text, min(failure, len(text)), at_end, as_json)
    if broken is not None:
        assert 0 <= broken.start <= broken.found_at <= len(text) + 1
    error = syntax_error("x.tf.json" if as_json else "x.tf", text)
    if error is not None:
        assert 1 <= error.line <= text.count("\n") + 2


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=string.printable, max_size=200))
def test_the_scan_answers_on_printable_text(text):
    for as_json in (False, True):
        first_broken(text, as_json)
