"""Broken and hostile inputs: the scan never crashes (exit 3), never hangs, never prints what a
file outside the scanned tree holds, and says what is wrong (IMS900 with file and line, IMS100,
IMS901, IMS902, or a one-line configuration error).

Every case is a small tree: committed under `tests/hostile/<name>/`, or, for what is big or
cannot be committed (50 MB, invalid UTF-8, NUL bytes, symlinks, permissions, inputs that make
the current code hang), generated here into `tmp_path`.  Each case is copied to
`<tmp>/work/<name>/` and scanned with `python -m iac_ims scan DIR --format json` in a subprocess;
`<tmp>/outside` holds a marker that must never appear in the output (`file("../../outside")`
from a case directory points at it).  The subprocesses run two at a time (this is a 2-core
machine).  Nothing here times the scan: that the limits worked is shown by what the report says
(IMS901 "nested", "for_each", "count"; IMS900 "too large"), which only a scan that stopped at its
limit can say.  Each subprocess has a timeout (conftest's HANG_GUARD_S) only so that a hang
fails the case that hung instead of stopping the test run; it is minutes beyond what the
slowest case needs on a busy machine.

The table `CASES` says, for each case, what it is, the findings that must be present and the exit
code (0 or 1, never 3; 2 for configuration errors).  Cases marked `bug=` are real bugs, kept as
strict xfails so that the fix turns them into failures to be unmarked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from conftest import HANG_GUARD_S, REPO

CORPUS = Path(__file__).resolve().parent / "hostile"
OUTSIDE_MARKER = "IAC_IMS_OUTSIDE_MARKER"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _passwd_first_line() -> str | None:
    try:
        return Path("/etc/passwd").read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None


# Strings that only a read of a file outside the tree could put in the output.
LEAK_MARKERS = tuple(m for m in (OUTSIDE_MARKER, "root:x:0:0", _passwd_first_line()) if m)


# ---- the table ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """A finding that must be present: rule, file, acceptable lines (empty: any), message part."""

    rule_id: str
    file: str | None = None
    lines: tuple[int, ...] = ()
    says: str | None = None

    def matches(self, finding: dict) -> bool:
        return (finding["rule_id"] == self.rule_id
                and (self.file is None or finding["file"] == self.file)
                and (not self.lines or finding["line"] in self.lines)
                and (self.says is None or self.says.lower() in finding["message"].lower()))

    def __str__(self) -> str:
        where = f" {self.file}" if self.file else ""
        where += f":{'/'.join(map(str, self.lines))}" if self.lines else ""
        return f"{self.rule_id}{where}" + (f" ~{self.says!r}" if self.says else "")


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    expect: tuple[Expect, ...]
    exit_code: int
    build: Callable[[Path], None] | None = None  # writes the tree (generated cases)
    scan: str = ""  # the sub-directory scanned, "" for the case directory itself
    stderr_says: str | None = None  # for configuration errors: a part of the one-line message
    bug: str | None = None  # a known bug: strict xfail with this reason
    expect_unless_root: tuple[Expect, ...] = ()  # asserted only when not running as root


ROLE = '''resource "huaweicloud_identity_role" "{name}" {{
  name   = "{name}"
  type   = "XA"
  policy = {policy}
}}
'''
GOOD_TF = '''# A well-formed role in the same module: it must still be scanned (IMS101: "lsit" is a typo).
resource "huaweicloud_identity_role" "good" {
  name   = "good"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:lsit"] }] })
}
'''
GOOD_SCANNED = Expect("IMS101", "good.tf", says="ims:images:lsit")


def _role(policy: str, name: str = "r") -> str:
    return ROLE.format(name=name, policy=policy)


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


# -- generated trees

def _build_50mb(root: Path) -> None:
    _write(root, {"good.tf": GOOD_TF})
    chunk = ("# " + "x" * 1021 + "\n") * 1024  # 1 MiB of comment lines
    with open(root / "main.tf", "w", encoding="utf-8") as handle:
        handle.write(_role('"{}"'))
        for _ in range(50):
            handle.write(chunk)


def _build_1mb_line(root: Path) -> None:
    actions = ", ".join(['"ims:images:list"'] * 56_000)  # one line of 1.06 MB
    policy = f'jsonencode({{ Version = "1.1", Statement = [{{ Effect = "Allow", Action = [{actions}] }}] }})'
    _write(root, {"main.tf": _role(policy)})


def _build_nesting_expression(root: Path) -> None:
    n = 10_000
    _write(root, {"main.tf": _role("jsonencode(" + "[" * n + "]" * n + ")", "lists")
                  + _role("jsonencode(" + "{ a = " * n + "1" + " }" * n + ")", "objects")
                  + _role("true ? " * n + '"x"' + ' : "y"' * n, "conditionals")})


def _build_nesting_blocks(root: Path) -> None:
    n = 10_000
    _write(root, {"main.tf": 'resource "huaweicloud_identity_role" "r" {\n' + "x {\n" * n + "}\n" * (n + 1),
                  "good.tf": GOOD_TF})


def _build_nesting_tf_json(root: Path) -> None:
    n = 10_000
    _write(root, {"main.tf.json": '{"resource": {"huaweicloud_identity_role": {"r": {"name": "r", "policy": '
                                  + "[" * n + "]" * n + "}}}}\n",
                  "good.tf": GOOD_TF})


def _build_nesting_policy_json(root: Path) -> None:
    n = 10_000
    _write(root, {"main.tf": _role("<<EOF\n" + "[" * n + "]" * n + "\nEOF")})


def _build_invalid_utf8(root: Path) -> None:
    text = _role('"caf\u00e9"').encode("utf-8").replace("\u00e9".encode("utf-8"), b"\xe9")  # Latin-1 é, line 4
    _write(root, {"main.tf": text, "good.tf": GOOD_TF})


def _build_nul_byte(root: Path) -> None:
    _write(root, {"main.tf": _role('"{}"').encode("utf-8").replace(b'name   = "r"', b'name   = "r\x00"'),
                  "good.tf": GOOD_TF})


def _build_symlink_loops(root: Path) -> None:
    _write(root, {"good.tf": GOOD_TF, "mod.tf": 'module "loop" {\n  source = "./sub"\n}\n'})
    os.symlink("loop.tf", root / "loop.tf")  # a link to itself
    os.symlink("b.tf", root / "a.tf")  # two links to each other
    os.symlink("a.tf", root / "b.tf")
    os.symlink(".", root / "sub")  # a directory link back to its parent
    os.symlink("..", root / "up")


def _build_tf_directory(root: Path) -> None:
    _write(root, {"good.tf": GOOD_TF, "dir.tf/readme.txt": "a directory whose name ends in .tf\n"})


def _build_unreadable(root: Path) -> None:
    _write(root, {"good.tf": GOOD_TF, "secret.tf": _role('"{}"', "secret")})
    os.chmod(root / "secret.tf", 0)


def _build_symlinks_to_etc_passwd(root: Path) -> None:
    _write(root, {"good.tf": GOOD_TF, "main.tf": _role('file("${path.module}/policy.json")')})
    os.symlink("/etc/passwd", root / "policy.json")  # file() of a link leading out of the tree
    os.symlink("/etc/passwd", root / "passwd.tf")  # a .tf that is a link to a file outside


def _build_special_files(root: Path) -> None:
    # Named pipes: opening one for reading blocks until a writer comes, i.e. forever.  (Links to
    # /dev/zero or /dev/urandom would be worth the same test, but a reader that does not check
    # for regular files then eats all memory: not something to run on CI's machine.)
    _write(root, {"good.tf": GOOD_TF, "main.tf": _role('file("${path.module}/policy.json")')})
    for name in ("pipe.tf", "pipe.tf.json", "policy.json", "terraform.tfvars", ".iac-ims.yml"):
        os.mkfifo(root / name)


def _build_unclosed_heredoc_blank_lines(root: Path) -> None:
    # python-hcl2's heredoc terminal (`(.|\n)*?` then `\s*` before the marker) is quadratic in
    # the blank lines of an unclosed heredoc: 30,000 lines take seconds; the parser's time limit
    # must keep the scan bounded whatever the size.
    _write(root, {"main.tf": _role("<<EOF\n" + "\n" * 30_000), "good.tf": GOOD_TF})


def _build_tfvars_json_nesting(root: Path) -> None:
    n = 100_000
    _write(root, {"main.tf": 'variable "p" {\n  type = string\n}\n\n' + _role("var.p"),
                  "terraform.tfvars.json": '{"p": ' + "[" * n + "]" * n + "}\n"})


def _build_config(name: str, content: bytes) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        _write(root, {"good.tf": GOOD_TF, name: content})

    return build


def _build_config_naming(name: str, content: str) -> Callable[[Path], None]:
    """A config in the tree that names another file of the tree (baseline, catalogue)."""
    key = "baseline: " + name if name.endswith(".json") else f"catalog: [{name}]"

    def build(root: Path) -> None:
        _write(root, {"good.tf": GOOD_TF, ".iac-ims.yml": key + "\n", name: content})

    return build


def _build_regex_backtracking(root: Path) -> None:
    # Terraform's regex functions are RE2 (linear time); Python's `re` backtracks exponentially.
    subject = '"' + "a" * 40 + '!"'
    _write(root, {"main.tf": _role(f'regex("(a*)*b", {subject})', "by_regex")
                  + _role(f'jsonencode(regexall("(a|aa)+$", {subject}))', "by_regexall")
                  + _role(f'replace({subject}, "/(a+)+b/", "x")', "by_replace")})


def _build_module_instances_multiply(root: Path) -> None:
    # Each count is within the per-block limit (10,000); together they make 1,000,000 instances.
    role = _role('jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })')
    _write(root, {"main.tf": 'module "m" {\n  count  = 1000\n  source = "./m"\n}\n',
                  "m/main.tf": role.replace("{\n", "{\n  count  = 1000\n", 1)})


CASES: list[Case] = [
    # -- syntax: unclosed and stray delimiters (the rest of the module is still scanned)
    Case("unclosed_brace", "a block and a jsonencode({ never closed",
         (Expect("IMS900", "main.tf", (3,), 'unclosed brace: the "{" at line 3, column 23'), GOOD_SCANNED), 1),
    Case("unclosed_string", 'name = "x  with no closing quote',
         (Expect("IMS900", "main.tf", (2,), "unterminated string: the quote at line 2, column 10"), GOOD_SCANNED), 1),
    Case("unclosed_heredoc", "policy = <<EOF with no EOF line",
         (Expect("IMS900", "main.tf", (3,), 'unterminated heredoc: the "<<EOF" at line 3, column 12'), GOOD_SCANNED), 1),
    Case("unclosed_interpolation", '"x-${var.env"  (interpolation never closed)',
         (Expect("IMS900", "main.tf", (2,), 'unclosed interpolation: the "${" at line 2, column 15'), GOOD_SCANNED), 1),
    Case("unclosed_block_comment", "/* never closed",
         (Expect("IMS900", "main.tf", (3,), 'unterminated comment: the "/*" at line 3, column 3'), GOOD_SCANNED), 1),
    Case("unclosed_everything", '"${"${"${[{( and an unterminated string in an Action list',
         (Expect("IMS900", "main.tf", (2, 3)), GOOD_SCANNED), 1),
    Case("stray_closers", "}}} ]]] ))) around a block",
         (Expect("IMS900", "main.tf", (1,)), GOOD_SCANNED), 1),
    Case("unclosed_heredoc_blank_lines", "an unclosed heredoc followed by 30,000 blank lines "
         "(python-hcl2 is quadratic on it)", (Expect("IMS900", "main.tf", (4,), "unterminated heredoc"), GOOD_SCANNED), 1,
         build=_build_unclosed_heredoc_blank_lines),
    # -- bytes
    Case("invalid_utf8", "a Latin-1 byte (0xE9) in a string on line 4",
         (Expect("IMS900", "main.tf", (4,), "UTF-8"), GOOD_SCANNED), 1, build=_build_invalid_utf8),
    Case("nul_byte", "a NUL byte on line 2", (Expect("IMS900", "main.tf", (2,), "NUL"), GOOD_SCANNED), 1,
         build=_build_nul_byte),
    # -- size
    Case("file_50mb", "a 50 MB .tf (a role, then comment lines)",
         (Expect("IMS900", "main.tf", (1,), "too large"), GOOD_SCANNED), 1, build=_build_50mb),
    Case("single_line_1mb", "a policy of 56,000 actions on one 1 MB line",
         (Expect("IMS100", "main.tf", says="IAM allows at most 6,144"),), 1, build=_build_1mb_line),
    # -- nesting 10,000 levels deep
    Case("nesting_10000_expressions", "jsonencode([[[...]]]), { a = { a = ...}}, true ? true ? ... 10,000 deep",
         (Expect("IMS901", "main.tf", (4,), "nested"), Expect("IMS901", "main.tf", (9,), "nested"),
          Expect("IMS901", "main.tf", (14,), "nested")), 0, build=_build_nesting_expression),
    Case("nesting_10000_blocks", "10,000 nested blocks in a role", (Expect("IMS900", "main.tf"), GOOD_SCANNED), 1,
         build=_build_nesting_blocks),
    Case("nesting_10000_tf_json", ".tf.json whose policy is [[[...]]] 10,000 deep",
         (Expect("IMS900", "main.tf.json", (1,), "nest"), GOOD_SCANNED), 1, build=_build_nesting_tf_json),
    Case("nesting_10000_policy_json", "a heredoc policy [[[...]]] 10,000 deep",
         (Expect("IMS100", "main.tf", (1,), "nested"),), 1, build=_build_nesting_policy_json),
    # -- policies that are not what IAM wants
    Case("policy_not_json", 'policy = "{ this is not JSON"', (Expect("IMS100", "main.tf", (1,), "not valid JSON"),), 1),
    Case("policy_json_list", "policy = jsonencode([...]): a list", (Expect("IMS100", "main.tf", (1,), "list"),), 1),
    Case("policy_json_number", 'policy = "42" and jsonencode(3.5)',
         (Expect("IMS100", "main.tf", (1,), "number"), Expect("IMS100", "main.tf", (6,), "number")), 1),
    Case("action_string", 'Action = "ims:images:list" (a string, not a list)',
         (Expect("IMS100", "main.tf", (1,), "string"),), 1),
    Case("action_numbers", "Action = [..., 42, 1.5, true, null, [..], {..}]",
         (Expect("IMS100", "main.tf", (1,), "number (42)"), Expect("IMS100", "main.tf", (1,), "boolean"),
          Expect("IMS100", "main.tf", (1,), "null"), Expect("IMS100", "main.tf", (1,), "object")), 1),
    Case("duplicate_keys", 'JSON with "Version" twice, "Effect" twice, "Action" and "action"',
         (Expect("IMS100", "main.tf", (1,), 'duplicate key "Version"'),
          Expect("IMS100", "main.tf", (1,), 'duplicate key "Effect"')), 1),
    # -- expansion
    Case("for_each_million", "for_each = toset([for i in range(1000000) : tostring(i)])",
         (Expect("IMS901", "main.tf", (2,), "for_each"),), 0),
    Case("count_million", "count = 1000000", (Expect("IMS901", "main.tf", (2,), "count"),), 0),
    Case("dynamic_block_hostile", "dynamic blocks over range(1000000), over themselves, iterator = 42",
         (Expect("IMS901", "main.tf"),), 0),
    Case("module_instances_multiply", "module count = 1000 whose role has count = 1000 (10^6 instances)",
         (Expect("IMS901"),), 0, build=_build_module_instances_multiply),
    # -- references that never end
    Case("local_refers_to_itself", "locals { policy = local.policy }",
         (Expect("IMS901", "main.tf", (8,), "refers to itself"),), 0),
    Case("locals_refer_to_each_other", "locals { a = local.b, b = local.a }; policy = local.a",
         (Expect("IMS901", "main.tf", (9,), "refers to itself"),), 0),
    Case("locals_cycle_inside_action", "Action = [local.a] with a = local.b, b = local.a",
         (Expect("IMS901", "main.tf", says="local.a"),), 0),
    Case("modules_call_each_other", 'a/ calls source = "../b", b/ calls "../a"',
         (Expect("IMS901", says="calls itself"), Expect("IMS101", "a/main.tf"), Expect("IMS101", "b/main.tf")), 1),
    Case("module_calls_itself", 'source = "./" and source = "../<itself>"',
         (Expect("IMS901", "main.tf", (1,), "calls itself"), Expect("IMS901", "main.tf", (5,), "calls itself"),
          Expect("IMS101", "main.tf")), 1),
    Case("templatefile_of_itself", 'templatefile("${path.module}/main.tf", {}) and file("main.tf")',
         (Expect("IMS901", "main.tf", (4,)), Expect("IMS100", "main.tf", (6,), "not valid JSON")), 1),
    Case("templatefile_recursive", "a template that calls templatefile() and file() of itself",
         (Expect("IMS901", "main.tf", (4,), "nested"),), 0),
    # -- reading outside the tree
    Case("file_etc_passwd", 'file("/etc/passwd"), templatefile("/etc/passwd"), file("${path.module}/../../..")',
         (Expect("IMS902", "main.tf", (1,), "outside"), Expect("IMS902", "main.tf", (6,), "outside"),
          Expect("IMS902", "main.tf", (11,), "outside")), 0),
    Case("file_outside_the_tree", 'file("../../outside"), templatefile("${path.root}/../../outside")',
         (Expect("IMS902", "main.tf", (1,), "outside"), Expect("IMS902", "main.tf", (6,), "outside")), 0),
    Case("symlinks_to_etc_passwd", "policy.json and passwd.tf are links to /etc/passwd",
         (Expect("IMS902", "main.tf", says="outside"), GOOD_SCANNED), 1, build=_build_symlinks_to_etc_passwd),
    Case("module_source_escapes_the_tree", 'module source = "../" (a parent holding a .tf) widens what file() '
         'may read: file("../outside-secret.json")', (Expect("IMS902", "main.tf", says="outside"),), 0,
         scan="scanned"),
    Case("tf_json_hostile_values", ".tf.json: file(/etc/passwd) in a template, wrong types, a self-referring "
         "local, a list of bodies, source = 42",
         (Expect("IMS902", "main.tf.json", says="outside"), Expect("IMS901", "main.tf.json", says="refers to itself")),
         1),
    Case("tfvars_hostile", 'terraform.tfvars: p = file("/etc/passwd"); a broken *.auto.tfvars; a JSON list tfvars',
         (Expect("IMS900", "bad.auto.tfvars", (1,)), Expect("IMS901", "main.tf")), 1),
    # -- the file system
    Case("symlink_loops", "loop.tf -> loop.tf, a.tf <-> b.tf, sub -> ., up -> .., a module sourcing ./sub",
         (Expect("IMS900", "loop.tf"), Expect("IMS900", "a.tf"), Expect("IMS900", "b.tf"),
          Expect("IMS901", "mod.tf", (1,), "calls itself"), GOOD_SCANNED), 1, build=_build_symlink_loops),
    Case("special_files", "named pipes as pipe.tf, pipe.tf.json, terraform.tfvars, .iac-ims.yml and as the "
         "target of file()", (Expect("IMS900", "pipe.tf", (1,)), Expect("IMS900", "pipe.tf.json", (1,)),
                              Expect("IMS902", "main.tf"), GOOD_SCANNED), 1,
         build=_build_special_files),
    Case("tf_is_a_directory", "dir.tf/ is a directory", (Expect("IMS900", "dir.tf", (1,)), GOOD_SCANNED), 1,
         build=_build_tf_directory),
    Case("unreadable_file", "secret.tf with mode 000 (as root, CI's user, it stays readable: the IMS900 "
         "assertion is skipped then)", (GOOD_SCANNED,), 1, build=_build_unreadable,
         expect_unless_root=(Expect("IMS900", "secret.tf", (1,), "cannot read"),)),
    # -- lazily parsed files (no IAM resource in them) must still be reported when broken
    Case("syntax_error_in_a_non_iam_file", 'name = = "vpc" in a file with no IAM resource',
         (Expect("IMS900", "network.tf", (2,)), GOOD_SCANNED), 1),
    Case("garbage_in_a_non_iam_file", "a .tf holding a sentence of prose",
         (Expect("IMS900", "notes.tf", (1,)), GOOD_SCANNED), 1),
    Case("json_syntax_error_in_a_non_iam_file", '.tf.json with "name": } and no IAM resource',
         (Expect("IMS900", "network.tf.json", (1,)), GOOD_SCANNED), 1),
    Case("tf_json_not_an_object", ".tf.json holding [1, 2, 3] and 42",
         (Expect("IMS900", "main.tf.json", (1,)), Expect("IMS900", "number.tf.json", (1,)), GOOD_SCANNED), 1),
    Case("tfvars_json_nesting_10000", "terraform.tfvars.json nested 100,000 deep",
         (Expect("IMS900", "terraform.tfvars.json"),), 1, build=_build_tfvars_json_nesting),
    Case("regex_catastrophic_backtracking", 'regex("(a*)*b", "aaa...!"), regexall("(a|aa)+$", ...), '
         'replace(..., "/(a+)+b/", ...) on 40 characters: a time limit per match, IMS901 when it runs out; '
         "the replace() result is not JSON (IMS100)", (Expect("IMS901", "main.tf"), Expect("IMS100", "main.tf")), 1,
         build=_build_regex_backtracking),
    # -- configuration files in the scanned tree (exit 2, one line, never 3)
    Case("config_invalid_utf8", ".iac-ims.yml with the bytes 0xFF 0xFE", (), 2,
         build=_build_config(".iac-ims.yml", b"fail_on: \xff\xfe\n"), stderr_says=".iac-ims.yml"),
    Case("pyproject_invalid_utf8", "pyproject.toml with a 0xFF byte in [tool.iac-ims]", (), 2,
         build=_build_config("pyproject.toml", b'[tool.iac-ims]\nfail_on = "\xff"\n'),
         stderr_says="pyproject.toml"),
    Case("baseline_nesting_100000", ".iac-ims.yml names a baseline that is [[[...]]] 100,000 deep", (), 2,
         build=_build_config_naming("baseline.json", "[" * 100_000 + "]" * 100_000), stderr_says="baseline.json"),
    Case("catalog_nesting_10000", ".iac-ims.yml names an extra catalogue whose operations are [[[...]]] "
         "10,000 deep", (), 2,
         build=_build_config_naming("extra.yaml", "operations: " + "[" * 10_000 + "]" * 10_000 + "\n"),
         stderr_says="extra.yaml"),
    Case("config_nesting_10000", ".iac-ims.yml whose vars value is [[[...]]] 10,000 deep", (), 2,
         build=_build_config(".iac-ims.yml", ("vars: {x: " + "[" * 10_000 + "]" * 10_000 + "}\n").encode()),
         stderr_says=".iac-ims.yml"),
]

CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"


# ---- running the cases -------------------------------------------------------------------

@dataclass
class Outcome:
    returncode: int | None  # None: no result within HANG_GUARD_S (a hang)
    stdout: str
    stderr: str
    elapsed_s: float  # for the failure message only
    document: dict | None = None
    findings: list[dict] = field(default_factory=list)


def _materialise(case: Case, work: Path) -> Path:
    target = work / case.name
    if case.build is not None:
        target.mkdir(parents=True)
        case.build(target)
    else:
        shutil.copytree(CORPUS / case.name, target, symlinks=True)
    return target / case.scan if case.scan else target


def _run(directory: Path, cache: Path) -> Outcome:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["XDG_CACHE_HOME"] = str(cache)
    env.pop("NO_COLOR", None)
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-m", "iac_ims", "scan", str(directory), "--format", "json"],
                                cwd=directory, env=env, capture_output=True, text=True, errors="replace",
                                timeout=HANG_GUARD_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        def text(data: bytes | str | None) -> str:
            return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")

        return Outcome(None, text(exc.stdout), text(exc.stderr), time.monotonic() - started)
    outcome = Outcome(result.returncode, result.stdout, result.stderr, time.monotonic() - started)
    try:
        outcome.document = json.loads(result.stdout)
        outcome.findings = outcome.document["findings"]
    except (ValueError, KeyError, TypeError):
        pass
    return outcome


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Runs the selected cases two at a time, the generated (big) ones first; each test waits for
    its own."""
    selected = [item.callspec.params["case"].name for item in request.session.items
                if getattr(item, "originalname", None) == "test_hostile_case" and hasattr(item, "callspec")]
    base = tmp_path_factory.mktemp("hostile")
    work = base / "work"
    work.mkdir()
    (base / "outside").write_text(f'{{"Version": "1.1", "Statement": [{{"Effect": "Allow", '
                                  f'"Action": ["{OUTSIDE_MARKER}"]}}]}}\n')
    cache = tmp_path_factory.getbasetemp() / "cache"
    order = sorted(dict.fromkeys(selected), key=lambda n: CASES_BY_NAME[n].build is None)
    futures: dict[str, Future] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name in order:
            case = CASES_BY_NAME[name]
            futures[name] = pool.submit(_run, _materialise(case, work), cache)
        yield futures
        for name in order:  # leave nothing unreadable behind for tmp_path's clean-up
            for path in (work / name).rglob("*"):
                if not path.is_symlink():
                    try:
                        path.chmod(0o755)
                    except OSError:
                        pass


def _case_param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_hostile_case(case: Case, outcomes: dict[str, Future]) -> None:
    outcome: Outcome = outcomes[case.name].result()
    shown = f"exit {outcome.returncode} after {outcome.elapsed_s:.1f}s\nstderr: {outcome.stderr[-2000:]}"
    assert outcome.returncode is not None, f"{case.name}: no result within {HANG_GUARD_S:g} s (a hang)\n{shown}"
    assert outcome.returncode != 3, f"{case.name}: internal error\n{shown}"
    assert "Traceback" not in outcome.stderr, shown
    everything = outcome.stdout + outcome.stderr
    for marker in LEAK_MARKERS:
        assert marker not in everything, f"{case.name}: content of a file outside the tree was printed: {marker!r}"
    if case.exit_code == 2:  # a configuration error: one clear line naming the file
        assert outcome.returncode == 2, shown
        lines = outcome.stderr.strip().splitlines()
        assert len(lines) == 1 and case.stderr_says in lines[0], shown
        return
    assert outcome.document is not None, f"{case.name}: stdout is not a JSON report\n{shown}"
    for finding in outcome.findings:
        assert finding["rule_id"] and finding["file"], finding
    found = [f"{f['rule_id']} {f['file']}:{f['line']} {f['message'][:100]}" for f in outcome.findings]
    expected = (*case.expect, *(() if IS_ROOT else case.expect_unless_root))
    missing = [str(e) for e in expected if not any(e.matches(f) for f in outcome.findings)]
    assert not missing, f"{case.name}: missing {missing}; found:\n" + "\n".join(found)
    assert outcome.returncode == case.exit_code, f"{case.name}: {shown}\nfound:\n" + "\n".join(found)


def test_every_committed_case_is_in_the_table() -> None:
    committed = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    generated = {c.name for c in CASES if c.build is not None}
    assert committed == {c.name for c in CASES} - generated


# ---- what the code contains reaches every output format escaped -------------------------------

FORMATS = ("json", "sarif", "junit", "text", "github", "markdown")
CONTROL_TF = r'''resource "huaweicloud_identity_role" "controls" {
  name   = "controls"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{
    Effect = "Allow\n::error file=evil.tf,line=1::injected by an Effect",
    Action = ["ims:images:lsit\u001b[2J\u001b]0;terminal title\u0007", "ims:images:get\r\n::add-mask::x"] }] })
}
'''
NEWLINE_FILE_NAME = "evil\n::warning file=x.tf,line=1::injected by a file name\x1b]0;t\x07.tf"
LATIN1_FILE_NAME = os.fsdecode(b"caf\xe9.tf")  # a name that is not UTF-8


def _scan_format(directory: Path, format_: str, cache: Path) -> tuple[int, bytes, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               XDG_CACHE_HOME=str(cache))
    env.pop("NO_COLOR", None)
    try:
        result = subprocess.run([sys.executable, "-m", "iac_ims", "scan", str(directory), "--format", format_],
                                cwd=directory, env=env, capture_output=True, timeout=HANG_GUARD_S,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"scan --format {format_} of {sorted(p.name for p in directory.iterdir())}: no result "
                    f"within {HANG_GUARD_S:g} s (a hang)")
    return result.returncode, result.stdout, result.stderr.decode("utf-8", "replace")


def _well_formed(format_: str, text: str) -> None:
    if format_ in ("json", "sarif"):
        json.loads(text)
    elif format_ == "junit":
        import xml.dom.minidom

        xml.dom.minidom.parseString(text.encode("utf-8"))


def _raw_controls(text: str) -> list[str]:
    return sorted({hex(ord(c)) for c in text if (ord(c) < 32 and c not in "\n\t") or 127 <= ord(c) < 160})


@pytest.mark.parametrize("format_", FORMATS)
def test_file_name_that_is_not_utf8(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, format_: str) -> None:
    _write(tmp_path, {LATIN1_FILE_NAME: _role('"{}"', "latin"), "good.tf": GOOD_TF})
    returncode, stdout, stderr = _scan_format(tmp_path, format_, tmp_path_factory.getbasetemp() / "cache")
    assert returncode == 1 and "Traceback" not in stderr, stderr
    text = stdout.decode("utf-8")  # strictly: the report is UTF-8
    _well_formed(format_, text)
    assert "caf" in text


@pytest.mark.parametrize("format_", FORMATS)
def test_control_characters_from_the_code_are_escaped(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                                      format_: str) -> None:
    _write(tmp_path, {"controls.tf": CONTROL_TF, NEWLINE_FILE_NAME: _role('"{}"', "named")})
    returncode, stdout, stderr = _scan_format(tmp_path, format_, tmp_path_factory.getbasetemp() / "cache")
    assert returncode == 1 and "Traceback" not in stderr, stderr
    text = stdout.decode("utf-8")
    _well_formed(format_, text)
    assert "IMS100" in text
    allowed_raw = {"0xd"} if format_ == "junit" else set()  # a CR inside XML text is XML, not a terminal
    assert not set(_raw_controls(text)) - allowed_raw, _raw_controls(text)
    lines = text.splitlines()
    if format_ == "github":
        assert all(re.match(r"::(error|warning|notice) ", line) for line in lines if line.strip()), text
    elif format_ in ("text", "markdown"):
        assert not [line for line in lines if line.startswith("::")], text
