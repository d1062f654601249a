"""The README's recipes for running iac-ims before plan outside a CI job: Atlantis and Terragrunt.

Each snippet is read from README.md ("In a pipeline", by the words that introduce it), never
copied here, and run the way the tool would run it:

- Atlantis: the server-side repo config parses, its repos use a workflow it defines, every step
  has a form Atlantis knows, the iac-ims `run` step comes before `init` and `plan`; the command
  runs as Atlantis runs a run step (`sh -c`, in the project's directory, with Atlantis's
  variables) in a temporary repository, and fails on a finding (a step that fails stops the plan).
- Terragrunt: the configuration parses with python-hcl2, the before hook runs for plan, and its
  `execute` list runs as Terragrunt runs it (no shell) in the directory Terragrunt runs terraform
  in: a unit's own directory, or the unit's copy under `.terragrunt-cache` when it has a source.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import hcl2
import pytest
import yaml
from actionlint_driver import output_of, run
from conftest import REPO
from test_action_yml import copy_tf
from test_readme_snippets import (
    PIPELINE,
    Snippet,
    require_installed_command,
    snippet,
    snippets,
    tool_env,
)

ERROR_TREE = REPO / "sample_configs" / "bad_ax_role"  # IMS104 error, IMS103 warning
CLEAN_TREE = REPO / "tests" / "rule_examples" / "IMS104" / "good"

# the steps of a workflow stage (runatlantis.io/docs/custom-workflows.html, Reference: Step)
ATLANTIS_BUILT_INS = {"init", "plan", "apply", "import", "state_rm", "show", "policy_check", "version"}
ATLANTIS_CUSTOM = {"run", "env", "multienv"}
TERRAFORM_COMMANDS = {"init", "validate", "plan", "apply", "destroy", "refresh", "import", "output", "show"}


# --- Atlantis ------------------------------------------------------------------------------------

def atlantis_config() -> tuple[Snippet, dict]:
    config = snippet(PIPELINE, "Atlantis")
    assert config.file_name() == "repos.yaml", config.file_name()
    document = yaml.safe_load(config.text)
    assert isinstance(document, dict) and set(document) <= {"repos", "workflows", "policies", "metrics"}, document
    return config, document


def atlantis_iac_ims_steps() -> tuple[list, list[str]]:
    """The plan steps of the workflow the README's repos use, and the iac-ims commands in them."""
    _, document = atlantis_config()
    repos = document["repos"]
    assert isinstance(repos, list) and repos, repos
    workflows = document["workflows"]
    for repo in repos:
        repo_id = str(repo["id"])
        if repo_id.startswith("/"):  # a regex: it starts and ends with a slash
            assert repo_id.endswith("/") and len(repo_id) > 1, repo_id
            assert re.search(repo_id[1:-1], "github.com/acme/infrastructure"), repo_id
        assert repo.get("workflow") in workflows, f"repo {repo_id} uses workflow {repo.get('workflow')!r}, not defined"
    (name,) = {repo["workflow"] for repo in repos}
    stage = workflows[name]["plan"]
    steps = stage["steps"]
    commands = []
    for step in steps:
        if isinstance(step, str):
            assert step in ATLANTIS_BUILT_INS, f"Atlantis has no built-in step {step!r}"
            continue
        assert isinstance(step, dict) and len(step) == 1, f"a step is one built-in or custom command: {step}"
        (kind, value), = step.items()
        assert kind in ATLANTIS_BUILT_INS | ATLANTIS_CUSTOM, f"Atlantis has no step {kind!r}"
        if kind == "run":
            command = value if isinstance(value, str) else value["command"]
            if command.split()[0] == "iac-ims":
                commands.append(command)
    return steps, commands


def _position(steps: list, name: str) -> int:
    for index, step in enumerate(steps):
        if step == name or (isinstance(step, dict) and name in step):
            return index
    raise AssertionError(f"no {name} step in {steps}")


def test_atlantis_workflow_runs_iac_ims_before_init_and_plan() -> None:
    steps, commands = atlantis_iac_ims_steps()
    assert len(commands) == 1, steps
    first = next(i for i, s in enumerate(steps) if isinstance(s, dict) and "run" in s and "iac-ims" in str(s["run"]))
    assert first < _position(steps, "init") < _position(steps, "plan"), steps
    assert shlex.split(commands[0])[:2] == ["iac-ims", "scan"], commands


def _atlantis_env(repository: Path, project: str) -> dict[str, str]:
    """What Atlantis gives a run step (runatlantis.io/docs/custom-workflows.html, Native
    Environment Variables)."""
    directory = repository / project
    return tool_env(WORKSPACE="default", ATLANTIS_TERRAFORM_VERSION="1.9.8", DIR=str(directory),
                    PLANFILE=str(directory / "default.tfplan"), SHOWFILE=str(directory / "default.json"),
                    BASE_REPO_NAME="infrastructure", BASE_REPO_OWNER="acme", HEAD_REPO_NAME="infrastructure",
                    HEAD_REPO_OWNER="acme", HEAD_BRANCH_NAME="roles", BASE_BRANCH_NAME="main",
                    HEAD_COMMIT="0" * 40, PROJECT_NAME="", PULL_NUM="7", PULL_AUTHOR="dev",
                    REPO_REL_DIR=project, USER_NAME="dev", COMMENT_ARGS="")


def test_atlantis_run_step_runs_in_the_project_directory_and_stops_the_plan_on_a_finding(tmp_path: Path) -> None:
    require_installed_command()
    _, commands = atlantis_iac_ims_steps()
    command = commands[0]
    assert shutil.which("sh"), "sh is needed: Atlantis runs a run step with sh -c"

    # a repository whose projects call a shared module, as Atlantis projects do
    repository = tmp_path / "infrastructure"
    copy_tf(ERROR_TREE, repository / "modules" / "iam")
    copy_tf(CLEAN_TREE, repository / "modules" / "clean")
    for project, module in (("prod", "iam"), ("staging", "clean")):
        (repository / project).mkdir(parents=True)
        (repository / project / "main.tf").write_text(f'module "roles" {{\n  source = "../modules/{module}"\n}}\n',
                                                     encoding="utf-8")

    failed = run(["sh", "-c", command], cwd=repository / "prod", env=_atlantis_env(repository, "prod"))
    assert failed.returncode == 1, f"a finding must stop the plan: {output_of(failed)}"
    assert "IMS104" in failed.stdout and "module.roles.huaweicloud_identity_role" in failed.stdout, output_of(failed)
    assert "modules/iam/main.tf" in failed.stdout, output_of(failed)

    passed = run(["sh", "-c", command], cwd=repository / "staging", env=_atlantis_env(repository, "staging"))
    assert passed.returncode == 0, output_of(passed)
    assert "0 errors" in passed.stdout, output_of(passed)


# --- Terragrunt ----------------------------------------------------------------------------------

def terragrunt_config() -> Snippet:
    found = [s for s in snippets(PIPELINE) if s.intro.startswith("Terragrunt")]
    assert len(found) == 1, f"expected one block introduced by 'Terragrunt', found {len(found)}"
    assert found[0].lang == "hcl", f"README.md:{found[0].line}: the block is not marked hcl"
    assert found[0].file_name() == "terragrunt.hcl", found[0].file_name()
    return found[0]


def _unquote(value: object) -> object:
    """python-hcl2 keeps a string literal's quotes."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        assert "${" not in value, f"an interpolation the test does not evaluate: {value}"
        return json.loads(value)
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    return value


def terragrunt_hook() -> dict:
    document = hcl2.loads(terragrunt_config().text)
    assert set(document) == {"terraform"} and len(document["terraform"]) == 1, document
    terraform = document["terraform"][0]
    hooks = [hook for entry in terraform.get("before_hook", []) for hook in entry.items()]
    assert len(hooks) == 1, terraform
    label, body = hooks[0]
    assert _unquote(label) == "iac_ims", label
    return {key: _unquote(value) for key, value in body.items() if not key.startswith("__")}


def test_terragrunt_before_hook_parses_and_runs_before_plan() -> None:
    hook = terragrunt_hook()
    assert set(hook) <= {"commands", "execute", "working_dir", "run_on_error", "suppress_stdout"}, hook
    assert "plan" in hook["commands"] and set(hook["commands"]) <= TERRAFORM_COMMANDS, hook
    assert hook["execute"][:2] == ["iac-ims", "scan"], hook
    assert hook.get("run_on_error") is not True, hook


@pytest.mark.parametrize("from_source", [False, True], ids=["unit-directory", "terragrunt-cache-copy"])
def test_terragrunt_hook_command_fails_terragrunt_on_a_finding(tmp_path: Path, from_source: bool) -> None:
    require_installed_command()
    execute = terragrunt_hook()["execute"]
    config = terragrunt_config().text
    repository = tmp_path / "live"

    def unit(name: str, tree: Path) -> Path:
        directory = repository / name
        directory.mkdir(parents=True)
        if not from_source:
            (directory / "terragrunt.hcl").write_text(config, encoding="utf-8")
            return copy_tf(tree, directory)
        # `source = "../modules/..."`: Terragrunt copies the module into the unit's cache and runs
        # terraform, and the hooks, there
        with_source = config.replace("terraform {\n", f'terraform {{\n  source = "../../modules/{name}"\n', 1)
        assert "source" in hcl2.loads(with_source)["terraform"][0], with_source
        (directory / "terragrunt.hcl").write_text(with_source, encoding="utf-8")
        copy_tf(tree, tmp_path / "modules" / name)
        work = copy_tf(tree, directory / ".terragrunt-cache" / "aB3dE" / "fG7hI")
        (work / "terragrunt.hcl").write_text((directory / "terragrunt.hcl").read_text(encoding="utf-8"),
                                             encoding="utf-8")
        return work

    failing, passing = unit("prod", ERROR_TREE), unit("staging", CLEAN_TREE)
    failed = run(execute, cwd=failing, env=tool_env())
    assert failed.returncode == 1, f"a failing before hook stops the terraform command: {output_of(failed)}"
    assert "main.tf" in failed.stdout and "IMS104" in failed.stdout, output_of(failed)
    assert "terragrunt.hcl" not in failed.stdout and ".terragrunt-cache" not in failed.stdout, output_of(failed)
    passed = run(execute, cwd=passing, env=tool_env())
    assert passed.returncode == 0, output_of(passed)
