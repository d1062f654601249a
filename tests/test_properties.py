"""Properties that must hold for every input, checked on generated ones (hypothesis):

- generated policies (JSON-ish values, every shape of Statement / Action) never crash
  `parse_policy`, `check_policy` or `decide`;
- `action_matches` agrees with a plain reference implementation written here;
- evaluating generated Terraform expressions never raises and gives the same value twice;
- the JSON report of a scan is the same across runs, across file names and creation orders,
  and across hash seeds.

Settings are bounded (deadline off, a few dozen to 150 examples) so the file runs in seconds.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import REPO
from iac_ims.catalog import load_catalog
from iac_ims.iam.actions import ActionMatcher, action_matches, expand
from iac_ims.checks.policy_document import check_policy
from iac_ims.iam.policy_decide import ALLOWED, DENIED, UNKNOWN, decide
from iac_ims.iam.policy_model import PolicyProblem
from iac_ims.iam.policy_parse import parse_policy
from iac_ims.terraform.values import PartialJson, Unknown

CATALOG = load_catalog()
KNOWN_ACTIONS = list(CATALOG.actions)
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- policies --------------------------------------------------------------------------------

POLICY_KEYS = ["Version", "Statement", "Effect", "Action", "Resource", "Condition", "NotAction", "Sid",
               "version", "statement", "effect", "action", "ACTION"]
ACTION_TEXTS = st.one_of(
    st.sampled_from(KNOWN_ACTIONS),
    st.sampled_from(["*", "*:*", "*:*:*", "ims:*", "ims:*:*", "ims:images:*", "ims:*:get*", "IMS:images:list",
                     "ims:images:lsit", "ims:image:list", "obs:*:*", "obs:object:GetObject", "iam:users:list",
                     "ims::list", ":", "", " ims:images:list", "ims:images:list:extra", "ims:images", "**",
                     "ims:*:*:*", "ecs:cloudServers:list", "x" * 600]),
    st.text(alphabet="imsIMS:*abgetlIST ", max_size=16),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=12),
                    ACTION_TEXTS)
UNKNOWNS = st.builds(Unknown, st.text(max_size=8), st.lists(st.text(max_size=6), max_size=2).map(tuple))
JSONISH = st.recursive(
    st.one_of(SCALARS, UNKNOWNS),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.sampled_from(POLICY_KEYS), st.text(max_size=6)),
                                               children, max_size=4)),
    max_leaves=16,
)
EFFECTS = st.one_of(st.sampled_from(["Allow", "Deny", "allow", "DENY", "", "Permit"]), UNKNOWNS, JSONISH)
ACTIONS = st.one_of(st.lists(st.one_of(ACTION_TEXTS, UNKNOWNS), max_size=6), ACTION_TEXTS,
                    st.lists(st.one_of(ACTION_TEXTS, JSONISH), max_size=4), JSONISH,
                    st.lists(st.sampled_from(KNOWN_ACTIONS), min_size=101, max_size=105))
STATEMENTS = st.fixed_dictionaries({}, optional={
    "Effect": EFFECTS, "Action": ACTIONS, "Resource": JSONISH, "Condition": JSONISH, "Sid": JSONISH,
    "effect": EFFECTS, "action": ACTIONS,
})
POLICIES = st.fixed_dictionaries({}, optional={
    "Version": st.one_of(st.sampled_from(["1.1", "1.0", "2", 1.1]), JSONISH),
    "Statement": st.one_of(st.lists(st.one_of(STATEMENTS, JSONISH), max_size=10), STATEMENTS, JSONISH),
    "version": JSONISH,
})


def _has_unknown(value: object) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


@st.composite
def policy_values(draw: st.DrawFn) -> object:
    """A role's `policy` value in every form it reaches parse_policy: object, JSON text (also
    double-encoded), a partly unknown jsonencode() result, an Unknown, or any other value."""
    document = draw(st.one_of(POLICIES, JSONISH))
    form = draw(st.sampled_from(["object", "text", "double", "partial", "unknown", "garbage_text"]))
    if form in ("text", "double") and not _has_unknown(document):
        text = json.dumps(document)
        return json.dumps(text) if form == "double" else text
    if form == "partial":
        return PartialJson("jsonencode() of unknown parts", (), value=document)
    if form == "unknown":
        return draw(UNKNOWNS)
    if form == "garbage_text":
        return draw(st.text(alphabet='{}[]":,\\ 0123456789.eE-ntrufals', max_size=40))
    return document


@BOUNDED
@given(value=policy_values(), custom=st.booleans(),
       role_type=st.one_of(st.none(), st.sampled_from(["XA", "AX", "xa", "ax", "", "ZZ", 5]), UNKNOWNS),
       probes=st.lists(st.one_of(st.sampled_from(KNOWN_ACTIONS), ACTION_TEXTS), max_size=4))
def test_generated_policies_never_crash_the_policy_layer(value, custom, role_type, probes) -> None:
    doc = parse_policy(value, custom=custom, source="huaweicloud_identity_role.r")
    problems = check_policy(doc, CATALOG, role_type=role_type, custom=custom)
    assert all(isinstance(p, PolicyProblem) and re.fullmatch(r"IMS1\d\d", p.rule_id) for p in problems)
    assert all(isinstance(p.message, str) and p.message for p in problems)
    for action in [*KNOWN_ACTIONS[:3], *probes]:
        decision = decide(action, doc.statements)
        assert decision.state in (ALLOWED, DENIED, UNKNOWN)
        assert decision.reason is not None


@BOUNDED
@given(first=policy_values(), second=policy_values(), action=st.sampled_from(KNOWN_ACTIONS))
def test_decisions_over_several_roles_never_crash_and_deny_wins(first, second, action) -> None:
    statements = [*parse_policy(first, source="a").statements, *parse_policy(second, source="b").statements]
    decision = decide(action, statements)
    assert decision.state in (ALLOWED, DENIED, UNKNOWN)
    unconditional_deny = any(s.effect == "Deny" and not s.restricted and s.matches(action) for s in statements)
    if unconditional_deny:
        assert decision.state == DENIED


# ---- action wildcards: a reference implementation -----------------------------------------------

def _reference_segments(text: str) -> list[str] | None:
    """Segments of a well-formed action or pattern, or None (then it matches nothing)."""
    if not text or len(text) > 512 or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return None
    return text.split(":")


def _stars(segment: str) -> bool:
    return segment != "" and set(segment) == {"*"}


def _glob(pattern: str, text: str) -> bool:
    """One segment: `*` stands for any run of characters (none included), case-insensitive."""
    regex = ".*".join(re.escape(piece) for piece in pattern.lower().split("*"))
    return re.fullmatch(regex, text.lower(), re.DOTALL) is not None


def reference_action_matches(pattern: str, action: str) -> bool:
    pattern_parts = _reference_segments(pattern)
    action_parts = _reference_segments(action)
    if pattern_parts is None or action_parts is None:
        return False
    if len(action_parts) != 3 or not all(action_parts):
        return False  # only a complete service:resourceType:operation is an action
    if len(pattern_parts) == 1:  # `*` (or `**`): everything; anything else is no pattern
        return _stars(pattern_parts[0])
    if len(pattern_parts) == 2:  # `svc:*` and `*:*`: all of svc / everything
        service, rest = pattern_parts
        return bool(service) and _stars(rest) and _glob(service, action_parts[0])
    if len(pattern_parts) == 3 and all(pattern_parts):
        return all(_glob(p, a) for p, a in zip(pattern_parts, action_parts))
    return False


SEGMENT_CHARS = "imsIMSgetGETlistLIST_-.*"
SEGMENTS = st.text(alphabet=SEGMENT_CHARS, max_size=7)


@st.composite
def action_and_pattern(draw: st.DrawFn) -> tuple[str, str]:
    """An action and a pattern; half the time the pattern is derived from the action (case
    changed, pieces replaced by `*`) so that matches are frequent, else independent."""
    segments = draw(st.lists(st.text(alphabet="imsIMSgetlistLIST_-.", min_size=1, max_size=7), min_size=3,
                             max_size=3))
    action = ":".join(segments)
    if draw(st.booleans()):
        action = draw(st.one_of(st.just(action), st.sampled_from(KNOWN_ACTIONS),
                                st.lists(SEGMENTS, min_size=1, max_size=4).map(":".join)))
    if draw(st.booleans()):
        pieces = []
        for segment in action.split(":"):
            chars = [draw(st.sampled_from([c, c.upper(), c.lower(), "*", c + "*"])) if draw(st.booleans()) else c
                     for c in segment]
            if draw(st.integers(0, 5)) == 0:
                chars = ["*"]
            pieces.append("".join(chars))
        if draw(st.integers(0, 6)) == 0:
            pieces = pieces[:draw(st.integers(1, len(pieces)))]
        pattern = ":".join(pieces)
    else:
        pattern = draw(st.one_of(st.lists(SEGMENTS, min_size=1, max_size=4).map(":".join),
                                 st.sampled_from(["*", "*:*", "*:*:*", "**", "***:*", "ims:*", "ims:**", ":*",
                                                  "*:", "ims:images:*", "*:images:*", "ims:images:list "])))
    return pattern, action


@settings(max_examples=200, deadline=None)
@given(action_and_pattern())
def test_action_matches_agrees_with_the_reference(pair: tuple[str, str]) -> None:
    pattern, action = pair
    assert action_matches(pattern, action) == reference_action_matches(pattern, action), (pattern, action)


@pytest.mark.parametrize("pattern", ["*", "*:*", "*:*:*"])
@settings(max_examples=50, deadline=None)
@given(action=st.lists(st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=8),
                       min_size=3, max_size=3).map(":".join))
def test_full_wildcards_match_every_action(pattern: str, action: str) -> None:
    assert action_matches(pattern, action)


@settings(max_examples=100, deadline=None)
@given(patterns=st.lists(st.builds(lambda pair: pair[0], action_and_pattern()), max_size=5),
       actions=st.lists(st.sampled_from(KNOWN_ACTIONS), min_size=1, max_size=5))
def test_matcher_and_expand_agree_with_the_reference(patterns: list[str], actions: list[str]) -> None:
    matcher = ActionMatcher(patterns)
    for action in actions:
        assert matcher.matches(action) == any(reference_action_matches(p, action) for p in patterns)
    for pattern in patterns:
        assert expand(pattern, KNOWN_ACTIONS) == [a for a in KNOWN_ACTIONS if reference_action_matches(pattern, a)]


@settings(max_examples=100, deadline=None)
@given(pattern=st.lists(st.text(alphabet="imsgetlistIMSGETLIST*", min_size=1, max_size=6),
                        min_size=3, max_size=3).map(":".join))
def test_catalogue_pattern_lookup_agrees_for_complete_patterns(pattern: str) -> None:
    assert CATALOG.actions_matching(pattern) == [a for a in KNOWN_ACTIONS if action_matches(pattern, a)]


@pytest.mark.parametrize("pattern", ["ims:images", "ims", " ims:images:list"])
def test_catalogue_pattern_lookup_agrees_for_incomplete_patterns(pattern: str) -> None:
    assert CATALOG.actions_matching(pattern) == [a for a in KNOWN_ACTIONS if action_matches(pattern, a)]


# ---- Terraform expressions ------------------------------------------------------------------------

def _number(value: float) -> str:
    text = repr(abs(value))
    return text if "inf" not in text and "nan" not in text else "1"


EXPRESSION_LEAVES = st.one_of(
    st.integers(-1000, 10**12).map(lambda n: str(n) if n >= 0 else f"({n})"),
    st.floats(min_value=0, max_value=1e12, allow_nan=False).map(_number),
    st.text(alphabet=string.ascii_letters + string.digits + " -_:*.,/", max_size=8).map(lambda s: f'"{s}"'),
    st.sampled_from(["true", "false", "null", "var.x", "local.y", "each.key", "count.index", "path.module",
                     "data.huaweicloud_identity_role.r.id", "huaweicloud_identity_role.r.name", "module.m.out",
                     '"ims:images:list"', '"\\n"', '"\\"q\\""', '"${"x"}"', '"%{ if true }a%{ endif }"']),
)
BINARY_OPERATORS = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||"]
FUNCTIONS_1 = ["length", "upper", "lower", "tostring", "tonumber", "tobool", "tolist", "toset", "tomap", "keys",
               "values", "jsonencode", "jsondecode", "abs", "floor", "ceil", "reverse", "sort", "distinct",
               "flatten", "compact", "trimspace", "title", "strrev", "base64encode", "base64decode", "sum", "one",
               "alltrue", "anytrue", "chomp", "signum", "basename", "dirname", "setunion", "merge", "coalesce",
               "max", "min", "range", "type", "sensitive", "nonsensitive", "can", "try"]
FUNCTIONS_2 = ["element", "lookup", "contains", "split", "join", "concat", "setintersection", "setsubtract",
               "chunklist", "coalescelist", "index", "zipmap", "pow", "parseint", "format", "formatlist",
               "startswith", "endswith", "strcontains", "trimprefix", "trimsuffix", "trim", "indent", "range",
               "min", "max", "merge", "try", "setproduct"]
FUNCTIONS_3 = ["slice", "substr", "replace", "range", "lookup"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from(["a", "b", '"c d"', "Version", '"k"']), children), max_size=3)
        .map(lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}"),
        st.tuples(children, st.sampled_from(BINARY_OPERATORS), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "!"]), children).map(lambda t: f"({t[0]}{t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(st.sampled_from(FUNCTIONS_1), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(FUNCTIONS_2), children, children).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(st.sampled_from(FUNCTIONS_3), children, children, children)
        .map(lambda t: f"{t[0]}({t[1]}, {t[2]}, {t[3]})"),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: f"concat({', '.join(xs)})"),
        children.map(lambda c: f'"x-${{{c}}}-y"'),
        children.map(lambda c: f'"%{{ for v in {c} }}${{v}},%{{ endfor }}"'),
        st.tuples(children, children).map(lambda t: f"({t[0]})[{t[1]}]"),
        children.map(lambda c: f"({c}).a"),
        children.map(lambda c: f"({c})[*]"),
        children.map(lambda c: f"[for v in {c} : v]"),
        st.tuples(children, children).map(lambda t: f"[for i, v in {t[0]} : v if {t[1]}]"),
        children.map(lambda c: f"{{for k, v in {c} : k => v}}"),
        children.map(lambda c: f"{{for k, v in {c} : v => k...}}"),
    )


EXPRESSIONS = st.recursive(EXPRESSION_LEAVES, _extend, max_leaves=14)


def _canonical(value: object) -> str:
    """A comparable rendering of an evaluated value (NaN-safe, order-preserving)."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_canonical(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_canonical(v) for v in value) + "]"
    return repr(value)


@BOUNDED
@given(EXPRESSIONS)
def test_expression_evaluation_is_deterministic_and_never_raises(text: str) -> None:
    from iac_ims.terraform.context import SimpleContext
    from iac_ims.terraform.evaluate import evaluate
    from iac_ims.terraform.hclparse import parse_expression

    try:
        tree = parse_expression(text)
    except ValueError:
        assume(False)  # the grammar above writes valid HCL almost always; the rest is not this test's
        return
    first = evaluate(tree, SimpleContext())
    second = evaluate(tree, SimpleContext())
    assert _canonical(first) == _canonical(second), text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet='abc123 +-*/%()[]{}"$%~:?!=<>.,#\\\n', max_size=30))
def test_arbitrary_expression_text_parses_or_raises_value_error(text: str) -> None:
    from iac_ims.terraform.context import SimpleContext
    from iac_ims.terraform.evaluate import evaluate
    from iac_ims.terraform.hclparse import parse_expression

    try:
        tree = parse_expression(text)
    except ValueError:
        return
    evaluate(tree, SimpleContext())


@BOUNDED
@given(st.one_of(EXPRESSIONS, st.text(alphabet='abc123 +-*/%()[]{}"$%~:?!=<>.,#\\\n', max_size=30)))
def test_expression_parsed_fast_is_what_lark_gives(text: str) -> None:
    """parse_expression takes the fast parser's IR where it has one: Lark's, node for node."""
    from iac_ims.terraform import hclparse
    from iac_ims.terraform.fastparse import FastParseError, parse_body

    try:
        fast = parse_body(hclparse._PREFIX + text)
    except FastParseError:
        return
    assert fast == hclparse._lark_body(f"{hclparse._PREFIX}{text}\n"), text


# ---- reports: the same whatever the run, the file names and the order ---------------------------

@st.composite
def modules(draw: st.DrawFn) -> list[str]:
    """A module as a list of top-level blocks (distinct names, so no first-one-wins ordering)."""
    action = st.one_of(st.sampled_from(KNOWN_ACTIONS),
                       st.sampled_from(["ims:*:*", "ims:images:*", "ims:images:lsit", "obs:object:GetObject",
                                        "IMS:images:list", "*"]))
    roles = draw(st.integers(1, 4))
    blocks = ['data "huaweicloud_identity_role" "tenant_admin" {\n  display_name = "Tenant Administrator"\n}\n']
    for i in range(roles):
        statements = []
        for _ in range(draw(st.integers(1, 3))):
            effect = draw(st.sampled_from(["Allow", "Allow", "Deny"]))
            actions = ", ".join(json.dumps(a) for a in draw(st.lists(action, min_size=1, max_size=4)))
            condition = ', Condition = { "StringEquals" = { "g:ProjectName" = ["p"] } }' if draw(st.booleans()) \
                else ""
            statements.append(f'{{ Effect = "{effect}", Action = [{actions}]{condition} }}')
        intent = draw(st.sampled_from(["", "# iac-ims:intent export_image\n", "# iac-ims:intent list_images, GET /v2/images\n",
                                       "# iac-ims:intent exprot_image\n"]))
        role_type = draw(st.sampled_from(["XA", "AX"]))
        blocks.append(f'{intent}resource "huaweicloud_identity_role" "r{i}" {{\n  name = "role-{i}"\n'
                      f'  type = "{role_type}"\n  policy = jsonencode({{\n    Version = "1.1"\n'
                      f'    Statement = [{", ".join(statements)}]\n  }})\n}}\n')
    groups = draw(st.integers(1, 2))
    for j in range(groups):
        intent = draw(st.sampled_from(["", "# iac-ims:intent create_image_from_file\n"]))
        blocks.append(f'{intent}resource "huaweicloud_identity_group" "g{j}" {{\n  name = "group-{j}"\n}}\n')
    scopes = ['project_id = "0a1b2c3d"', 'domain_id = "d1"', 'enterprise_project_id = "ep1"', 'project_id = "all"',
              "", 'project_id = "p"\n  domain_id = "d"']
    # At most one assignment per group: with several, which one a finding names (its evidence and
    # scope) follows file order, the known bug of test_finding_path_does_not_depend_on_file_names.
    for k, j in enumerate(draw(st.lists(st.integers(0, groups - 1), max_size=groups, unique=True))):
        role = draw(st.sampled_from([f"huaweicloud_identity_role.r{i}.id" for i in range(roles)]
                                    + ["data.huaweicloud_identity_role.tenant_admin.id"]))
        group = f"huaweicloud_identity_group.g{j}.id"
        blocks.append(f'resource "huaweicloud_identity_group_role_assignment" "a{k}" {{\n  group_id = {group}\n'
                      f'  role_id  = {role}\n  {draw(st.sampled_from(scopes))}\n}}\n')
    if draw(st.booleans()):
        blocks.append('resource "huaweicloud_identity_role" "broken" {\n  name = "x"\n  policy = jsonencode({\n')
    return blocks


def _scan_json(directory: Path) -> dict:
    from iac_ims.report.json_report import report_to_json
    from iac_ims.pipeline import ScanOptions, scan

    document = report_to_json(scan([directory], ScanOptions()))
    document["summary"]["duration_s"] = 0
    return document


def _without_files(document: dict) -> list[str]:
    """The findings as a sorted list, without `file`."""
    return sorted(json.dumps({k: v for k, v in f.items() if k != "file"}, sort_keys=True)
                  for f in document["findings"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(blocks=modules(), files=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_report_is_the_same_across_runs_and_file_orders(tmp_path_factory: pytest.TempPathFactory,
                                                        blocks: list[str], files: int, seed: int) -> None:
    shuffle = random.Random(seed)
    contents = ["".join(blocks[i::files]) for i in range(files)]
    contents = [c for c in contents if c]
    first = tmp_path_factory.mktemp("order_a")
    for i, content in enumerate(contents):
        (first / f"{i:02d}_iam.tf").write_text(content)
    second = tmp_path_factory.mktemp("order_b")
    names = [f"{name}.tf" for name in shuffle.sample(["zeta", "alpha", "mid", "b", "Z9"], len(contents))]
    for i in reversed(range(len(contents))):  # created in the other order, under other names
        (second / names[i]).write_text(contents[i])
    once = _scan_json(first)
    assert json.dumps(once) == json.dumps(_scan_json(first)), "two scans of the same tree differ"
    other = _scan_json(second)
    assert _without_files(once) == _without_files(other)
    assert once["summary"] == other["summary"]
    keys = [(f["file"], f["line"], f["rule_id"]) for f in other["findings"]]
    assert keys == sorted(keys)


def test_report_is_the_same_across_processes_hash_seeds_and_file_names(tmp_path: Path) -> None:
    """Set and dict order can change with PYTHONHASHSEED: the report must not.  The sample
    configurations, each a root module, are written under other file names in the other order."""
    samples = sorted((REPO / "sample_configs").glob("*/main.tf"))
    assert samples
    trees = {"forward": tmp_path / "forward", "backward": tmp_path / "backward"}
    for index in range(len(samples)):
        (trees["forward"] / samples[index].parent.name).mkdir(parents=True)
        (trees["forward"] / samples[index].parent.name / "main.tf").write_text(samples[index].read_text())
    for index in reversed(range(len(samples))):
        (trees["backward"] / samples[index].parent.name).mkdir(parents=True)
        (trees["backward"] / samples[index].parent.name / f"{index:02d}-iam.tf").write_text(samples[index].read_text())
    outputs = []
    for label, seed in (("forward", "1"), ("forward", "2"), ("backward", "3")):
        env = dict(os.environ, PYTHONHASHSEED=seed, IAC_IMS_NO_CACHE="1",  # no stored report reused
                   PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        result = subprocess.run([sys.executable, "-m", "iac_ims", "scan", str(trees[label]), "--format", "json"],
                                capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
        assert result.returncode in (0, 1), result.stderr
        document = json.loads(result.stdout)
        document["summary"]["duration_s"] = 0
        outputs.append(document)
    assert outputs[0]["findings"], "the samples have findings"
    assert json.dumps(outputs[0]) == json.dumps(outputs[1]), "same tree, another hash seed: another report"
    assert _without_files(outputs[0]) == _without_files(outputs[2])
    assert outputs[0]["summary"] == outputs[2]["summary"]



TWO_PATHS = {
    "main.tf": '''
        resource "huaweicloud_identity_role" "r0" {
          name   = "role-0"
          type   = "XA"
          policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
        }
        # iac-ims:intent create_image_from_file
        resource "huaweicloud_identity_group" "g0" {
          name = "group-0"
        }
    ''',
    "a.tf": '''
        resource "huaweicloud_identity_group_role_assignment" "a0" {
          group_id   = huaweicloud_identity_group.g0.id
          role_id    = huaweicloud_identity_role.r0.id
          project_id = "0a1b2c3d"
        }
    ''',
    "b.tf": '''
        resource "huaweicloud_identity_group_role_assignment" "a1" {
          group_id   = huaweicloud_identity_group.g0.id
          role_id    = huaweicloud_identity_role.r0.id
          {scope}
        }
    ''',
}


@pytest.mark.parametrize("scope", ['project_id = "0a1b2c3d"', 'enterprise_project_id = "ep1"'],
                         ids=["same_scope", "other_scope"])
def test_finding_path_does_not_depend_on_file_names(tmp_path: Path, scope: str) -> None:
    from conftest import write_tree

    files = {name: text.replace("{scope}", scope) for name, text in TWO_PATHS.items()}
    first = write_tree(tmp_path / "first", files)
    renamed = {"main.tf": files["main.tf"], "a.tf": files["b.tf"], "b.tf": files["a.tf"]}
    second = write_tree(tmp_path / "second", renamed)
    assert _without_files(_scan_json(first)) == _without_files(_scan_json(second))
