"""The `iac-ims` command: parse options, call the pipeline, pick a reporter.  Nothing else."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

import click

from iac_ims import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMATS = ("text", "json", "sarif", "junit", "markdown", "github")


class UsageProblem(Exception):
    """A usage or configuration error: one line on stderr, exit 2."""


def _fail_usage(message: str) -> None:
    click.echo(f"iac-ims: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


class _OrderedOptions(click.Command):
    """A command that also keeps its options in the order they were given (`ctx.meta[ORDER]`:
    (parameter name, raw value) pairs): `--output` belongs to the `--format` right before it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        opts, _rest, order = self.make_parser(ctx).parse_args(args=list(args))
        remaining = {name: list(values) if isinstance(values, list) else [values] for name, values in opts.items()}
        ctx.meta[ORDER] = [(param.name, remaining[param.name].pop(0)) for param in order
                           if isinstance(param, click.Option) and remaining.get(param.name)]
        return super().parse_args(ctx, args)


ORDER = "iac_ims.option_order"


def pair_outputs(order: list[tuple[str, Any]]) -> list[tuple[str, str | None]]:
    """(format, output file or None for standard output) in the order given: each `--output`
    belongs to the `--format` right before it; with no `--format`, one `--output` takes the text
    report. Two reports on standard output cannot be told apart: a usage error."""
    pairs: list[list[Any]] = []
    for name, value in order:
        if name == "formats":
            pairs.append([value, None])
        elif name == "outputs":
            if not pairs and not any(n == "formats" for n, _ in order):
                pairs.append(["text", None])
            if not pairs:
                raise UsageProblem(f"--output {value} comes before any --format; put it right after the --format "
                                   "it is for")
            if pairs[-1][1] is not None:
                raise UsageProblem(f"--output {value}: the --format before it ({pairs[-1][0]}) already has an "
                                   f"--output ({pairs[-1][1]}); give each --output its own --format")
            pairs[-1][1] = value
    if not pairs:
        pairs.append(["text", None])
    on_stdout = [f for f, target in pairs if target is None]
    if len(on_stdout) > 1:
        raise UsageProblem(f"--format {' and --format '.join(on_stdout)} would both print to standard output; "
                           "give all but one an --output FILE right after it")
    return [(f, target) for f, target in pairs]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="iac-ims")
def cli() -> None:
    """Pre-plan checks of Huawei Cloud IAM in Terraform for Image Management Service permissions."""


def _parse_var(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise UsageProblem(f"--var expects NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    return name.strip(), _var_value(raw)


def _var_value(raw: str) -> Any:
    """`--var` values: HCL literals for lists/maps/numbers/bools, otherwise the raw string."""
    stripped = raw.strip()
    if stripped[:1] in ("[", "{") or stripped in ("true", "false", "null") or _is_number(stripped):
        from iac_ims.terraform.context import SimpleContext
        from iac_ims.terraform.evaluate import evaluate
        from iac_ims.terraform.hclparse import parse_expression

        try:
            return evaluate(parse_expression(stripped), SimpleContext())
        except ValueError:
            return raw
    return raw


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# the formats of `iac-ims requirements` (report/requirements_report.py renders each)
REQUIREMENTS_FORMATS = ("text", "json", "policy", "terraform")

SETTING_KEYS = ("fail_on", "skip_rules", "only_rules", "severity", "intents", "var_files", "vars", "catalog",
                "baseline", "role_ids", "exclude", "deployer")
DEFAULTS: dict[str, Any] = {"fail_on": "error", "skip_rules": [], "only_rules": [], "severity": {}, "intents": {},
                            "var_files": [], "vars": {}, "catalog": [], "baseline": None, "role_ids": {},
                            "exclude": [], "deployer": []}
# command-line option -> setting key; list options add to the config file's list
CLI_OPTIONS = {"fail_on": "fail_on", "skip_rule": "skip_rules", "only_rule": "only_rules", "var_file": "var_files",
               "var": "vars", "catalog": "catalog", "baseline": "baseline", "exclude": "exclude",
               "deployer": "deployer"}


def _settings(paths: tuple[str, ...], config_file: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """Effective settings: command-line options over the config file over defaults, and where
    each came from (`settings["sources"]`)."""
    from iac_ims.config import ConfigError, find_config, load_file

    try:
        config = load_file(Path(config_file)) if config_file else find_config(Path(paths[0] if paths else "."))
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    base = config.base or Path(".")
    settings: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in SETTING_KEYS:
        if key in config.values:
            value = config.values[key]
            if key in ("var_files", "catalog"):
                value = [str(base / p) if not Path(p).is_absolute() else p for p in value]
            elif key == "baseline":
                value = str(base / value) if not Path(value).is_absolute() else value
            elif key == "deployer" and isinstance(value, str):
                value = [value]
            settings[key], sources[key] = value, str(config.source)
        else:
            settings[key], sources[key] = DEFAULTS[key], "default"
    for option, key in CLI_OPTIONS.items():
        given = options.get(option)
        if not given:
            continue
        if key == "vars":
            given = dict(_parse_var(v) for v in given)
            settings[key] = {**settings[key], **given}
        elif isinstance(settings[key], list):
            settings[key] = [*settings[key], *given]
        else:
            settings[key] = given
        sources[key] = "command line" if sources[key] == "default" else f"{sources[key]} + command line"
    if config.source:
        sources["config_file"] = str(config.source)
    settings["sources"] = sources
    return settings


SCANNABLE_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")


def _check_paths(paths: tuple[str, ...]) -> list[str]:
    chosen = list(paths) or ["."]
    for path in chosen:
        if not Path(path).exists():
            raise UsageProblem(f"path does not exist: {path}")
        if Path(path).is_file() and not path.endswith(SCANNABLE_SUFFIXES):
            raise UsageProblem(f"{path} is not a Terraform file (.tf, .tf.json or .tfvars); give a directory "
                               "or Terraform files")
    return chosen


def _scan_options(settings: dict[str, Any], **extra: Any) -> Any:
    from iac_ims.pipeline import ScanOptions

    return ScanOptions(variables=settings["vars"], var_files=settings["var_files"], catalog_files=settings["catalog"],
                       skip_rules=settings["skip_rules"], only_rules=settings["only_rules"],
                       severity=settings["severity"], intents=settings["intents"], baseline=settings["baseline"],
                       role_ids=settings["role_ids"], exclude=settings["exclude"], deployers=settings["deployer"],
                       config_file=settings["sources"].get("config_file"), **extra)


def _guarded(run: Any) -> None:
    """Usage/config errors -> exit 2 with one line; anything unexpected -> exit 3."""
    from iac_ims.catalog import CatalogError
    from iac_ims.checks import RuleError, UnknownRuleError
    from iac_ims.suppress import BaselineError

    try:
        run()
    except (UsageProblem, CatalogError, BaselineError, UnknownRuleError, RuleError) as exc:
        _fail_usage(str(exc))
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: say so, ask for a report
        click.echo(f"iac-ims: internal error: {type(exc).__name__}: {exc}. This is a bug in iac-ims; "
                   "please report it with the command you ran.", err=True)
        sys.exit(EXIT_INTERNAL)


def reading_options(command: Any) -> Any:
    """The options that say how Terraform is read, shared by every command that reads it."""
    for option in reversed((
        click.option("--var", multiple=True, help="NAME=VALUE, as terraform -var."),
        click.option("--var-file", multiple=True, type=click.Path()),
        click.option("--config", "config_file", type=click.Path()),
        click.option("--catalog", multiple=True, type=click.Path(), help="Extra catalogue file (repeatable)."),
        click.option("--exclude", multiple=True, metavar="GLOB",
                     help="Leave out files and directories matching GLOB, relative to the scanned path (repeatable)."),
    )):
        command = option(command)
    return command


@cli.command(cls=_OrderedOptions)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS), help="Output format (repeatable).")
@click.option("--output", "outputs", multiple=True, type=click.Path(),
              help="File for the --format right before it (without one, that format prints to standard output).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default=None)
@reading_options
@click.option("--baseline", type=click.Path())
@click.option("--create-baseline", type=click.Path())
@click.option("--skip-rule", multiple=True)
@click.option("--only-rule", multiple=True)
@click.option("--no-color", is_flag=True)
@click.option("--quiet", "-q", is_flag=True, help="Findings only, no summary.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes (default: the cores available); 1 reads everything in this process.")
@click.option("--show-config", is_flag=True, help="Print the effective settings and where they came from.")
@click.option("--no-cache", is_flag=True, help="Do not reuse the stored report of an identical earlier scan.")
@click.option("--full-parse", is_flag=True, help="Parse every file fully, not only those IAM blocks depend on.")
@click.option("--allow-empty", is_flag=True, help="Exit 0 when no Terraform file is found (else 2).")
@click.option("--show-suppressed", is_flag=True, help="List suppressed findings in text, github and markdown.")
@click.option("--deployer", multiple=True, metavar="ADDRESS",
              help="The user, group or agency that runs terraform: check it has what the image resources need.")
def scan(paths: tuple[str, ...], formats: tuple[str, ...], outputs: tuple[str, ...], fail_on: str | None,
         config_file: str | None, create_baseline: str | None, no_color: bool, quiet: bool, jobs: int | None,
         show_config: bool, no_cache: bool, full_parse: bool, allow_empty: bool, show_suppressed: bool,
         **options: Any) -> None:
    """Scan Terraform directories or files (default: the current directory)."""

    def run() -> None:
        chosen = _check_paths(paths)
        settings = _settings(tuple(chosen), config_file, {**options, "fail_on": fail_on})
        if show_config:
            for key in SETTING_KEYS:
                click.echo(f"{key}: {settings[key]!r}  ({settings['sources'][key]})")
            return
        targets = pair_outputs(click.get_current_context().meta.get(ORDER, []))
        from iac_ims.pipeline import scan as run_scan

        from iac_ims.progress import Progress
        from iac_ims.terraform.workers import default_jobs

        with Progress(enabled=not quiet) as progress:
            report = run_scan(chosen, _scan_options(settings, progress=progress.tick, use_cache=not no_cache,
                                                         full_parse=full_parse, jobs=jobs or default_jobs()))
        if report.files_scanned == 0 and not allow_empty and not report.internal_errors:
            raise UsageProblem(f"no Terraform files under {', '.join(chosen)} (--allow-empty to accept that)")
        if create_baseline:
            from iac_ims.suppress import write_baseline

            count = write_baseline(create_baseline, [f for f in report.findings if not f.suppressed])
            click.echo(f"iac-ims: wrote {count} baseline entr{'y' if count == 1 else 'ies'} to {create_baseline} "
                       f"({len(report.findings)} findings, {report.suppressed} already suppressed)")
            sys.exit(EXIT_INTERNAL if report.internal_errors else EXIT_OK)
        _emit(report, targets, no_color=no_color, quiet=quiet, fail_on=settings["fail_on"],
              show_suppressed=show_suppressed)
        if report.internal_errors:
            sys.exit(EXIT_INTERNAL)
        sys.exit(EXIT_FINDINGS if report.failing(settings["fail_on"]) else EXIT_OK)

    _guarded(run)


def _emit(report: Any, targets: list[tuple[str, str | None]], *, no_color: bool, quiet: bool,
          fail_on: str, show_suppressed: bool = False) -> None:
    from iac_ims.report import render_chunks

    # The collector is off for the scan (see main); the reporters' encoders leave reference
    # cycles, so it is back on for them, over what they allocate only (the scan's objects frozen).
    gc.freeze()
    gc.enable()
    for name, target in targets:
        colour = False
        if name == "text" and target is None:
            from iac_ims.report.text import use_colour

            colour = use_colour(sys.stdout, no_color)
        chunks = render_chunks(name, report, colour=colour, quiet=quiet, fail_on=fail_on,
                               show_suppressed=show_suppressed)
        if target:
            try:
                with open(target, "w", encoding="utf-8") as stream:
                    stream.writelines(chunks)
            except OSError as exc:
                raise UsageProblem(f"cannot write {target}: {exc.strerror or exc}") from None
        else:
            for chunk in chunks:
                click.echo(chunk, nl=False)


@cli.command()
@click.argument("path", type=click.Path())
@click.argument("address")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text")
@reading_options
def explain(path: str, address: str, format_: str, config_file: str | None, **options: Any) -> None:
    """Every IMS operation of one role or principal, at each scope it holds, and why."""

    def run() -> None:
        from iac_ims.explain import explain_address, render_explanation
        from iac_ims.pipeline import analyse

        chosen = _check_paths((path,))
        settings = _settings(tuple(chosen), config_file, options)
        analysis = analyse(chosen, _scan_options(settings))
        explanation = explain_address(analysis, address)
        if explanation is None:
            from iac_ims.explain import matching_keys

            several = matching_keys(analysis.model, address)
            if several:
                raise UsageProblem(f"{address!r} is in several root modules: {'; '.join(several)}; "
                                   "explain one directory at a time")
            raise UsageProblem(f"no role or principal at address {address!r} in {path}")
        click.echo(render_explanation(explanation, format_), nl=False)

    _guarded(run)


@cli.command()
@click.argument("path", type=click.Path())
@click.option("--format", "format_", type=click.Choice(["dot", "mermaid", "graphml", "json"]), default="dot")
@click.option("--focus", metavar="ADDRESS", default=None,
              help="Only this role or principal and what it reaches (memberships, assignments, roles, operations).")
@reading_options
def graph(path: str, format_: str, focus: str | None, config_file: str | None, **options: Any) -> None:
    """Principals -> assignments -> roles -> the operations that matter, with decisions as edges."""

    def run() -> None:
        from iac_ims.pipeline import scan as run_scan
        from iac_ims.report.graph_export import FocusError, export_graph, focus_key, what_matters

        chosen = _check_paths((path,))
        settings = _settings(tuple(chosen), config_file, options)
        report = run_scan(chosen, _scan_options(settings))  # the findings name operations that matter
        try:
            key = focus_key(report.graph.model, focus, path) if focus is not None else None
        except FocusError as exc:
            raise UsageProblem(str(exc)) from None
        matters = what_matters(report.graph, report.findings, settings["intents"])
        click.echo(export_graph(report.graph, format_, matters, key), nl=False)

    _guarded(run)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "format_", type=click.Choice(REQUIREMENTS_FORMATS), default="text")
@click.option("--phase", "phases", multiple=True, type=click.Choice(["plan", "apply", "destroy"]),
              help="Only what this Terraform phase needs (repeatable; default: all three).")
@reading_options
def requirements(paths: tuple[str, ...], format_: str, phases: tuple[str, ...], config_file: str | None,
                 **options: Any) -> None:
    """What applying the scanned configuration needs: per image resource and data source, the API
    calls of each phase, their IAM actions and prerequisites; or the least-privilege roles."""

    def run() -> None:
        from iac_ims.least_privilege import deployer_policy
        from iac_ims.pipeline import analyse
        from iac_ims.report.requirements_report import render_requirements
        from iac_ims.requirements import TERRAFORM_PHASES, by_resource, needs

        chosen = _check_paths(paths)
        settings = _settings(tuple(chosen), config_file, options)
        analysis = analyse(chosen, _scan_options(settings), provider_calls=True)
        analysis.load.complete_syntax_checks()
        wanted = [p for p in TERRAFORM_PHASES if p in phases] or list(TERRAFORM_PHASES)
        groups = by_resource(needs(analysis.load.instances, analysis.catalog, wanted), analysis.catalog)
        policy = deployer_policy(groups, analysis.catalog)
        unreadable = [d for d in analysis.load.diagnostics if d.rule_id == "IMS900"]
        for diagnostic in unreadable:
            click.echo(f"iac-ims: {diagnostic.file}:{diagnostic.line}: not read ({diagnostic.message}); "
                       "what it declares is missing from the requirements", err=True)
        click.echo(render_requirements(format_, groups, policy, wanted), nl=False)

    _guarded(run)


@cli.command()
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text")
@click.option("--catalog", multiple=True, type=click.Path(), help="Extra catalogue file (repeatable).")
@click.option("--system-roles", is_flag=True, help="The system roles and policies the checks know, instead.")
def catalog(format_: str, catalog: tuple[str, ...], system_roles: bool) -> None:
    """The IMS operation catalogue the checks use (or, with --system-roles, the system roles)."""

    def run() -> None:
        import json

        from iac_ims.catalog import load_catalog
        from iac_ims.report import catalog as shown

        loaded = load_catalog(tuple(catalog))
        if format_ == "json":
            document = shown.system_roles_to_json(loaded) if system_roles else shown.catalog_to_json(loaded)
            click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            text = shown.render_system_roles_text(loaded) if system_roles else shown.render_catalog_text(loaded)
            click.echo(text.rstrip("\n"))

    _guarded(run)


@cli.command()
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text")
def rules(format_: str) -> None:
    """Every rule: ID, default severity, title, rationale."""

    def run() -> None:
        import json

        from iac_ims.catalog import load_catalog
        from iac_ims.report.catalog import render_rules_text, rules_to_json

        loaded = load_catalog()
        if format_ == "json":
            click.echo(json.dumps(rules_to_json(loaded), indent=2, ensure_ascii=False))
        else:
            click.echo(render_rules_text(loaded).rstrip("\n"))

    _guarded(run)


@cli.command()
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Address to listen on (0.0.0.0:8080 in a container; port 0 picks a free one).")
@click.option("--hmac-key-file", type=click.Path(dir_okay=False), default=None,
              help="File holding the run task's HMAC key (else $IAC_IMS_HMAC_KEY).")
@click.option("--insecure-no-hmac", is_flag=True, help="Accept unsigned requests (no HMAC key): for trials only.")
@click.option("--allowed-origin", "allowed_origins", multiple=True, metavar="ORIGIN",
              help="scheme://host[:port] the download and callback URLs must be on (repeatable; "
                   "default https://app.terraform.io).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default=None)
@click.option("--config", "config_file", type=click.Path())
@click.option("--catalog", multiple=True, type=click.Path(), help="Extra catalogue file (repeatable).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Scan processes (default: the cores).")
@click.option("--max-queue", type=click.IntRange(min=1), default=64, show_default=True,
              help="Accepted runs waiting to start; beyond it requests get 503 and HCP Terraform retries.")
@click.option("--work-dir", type=click.Path(file_okay=False), default=None,
              help="Where job directories go (default: the system's temporary directory).")
@click.option("--tls-cert", type=click.Path(dir_okay=False), default=None, help="Serve HTTPS with this certificate.")
@click.option("--tls-key", type=click.Path(dir_okay=False), default=None)
def serve(listen: str, hmac_key_file: str | None, insecure_no_hmac: bool, allowed_origins: tuple[str, ...],
          fail_on: str | None, config_file: str | None, catalog: tuple[str, ...], workers: int | None,
          max_queue: int, work_dir: str | None, tls_cert: str | None, tls_key: str | None) -> None:
    """Serve HCP Terraform / Terraform Enterprise run tasks (pre_plan): scan each run's configuration."""

    def run() -> None:
        try:
            import aiohttp  # noqa: F401  (the optional extra)
        except ImportError:
            raise UsageProblem("iac-ims serve needs aiohttp: install iac-ims[server] "
                               "(pip install 'iac-ims[server]')") from None
        from iac_ims.pipeline import selected_rules
        from iac_ims.server import app, config as server_config
        from iac_ims.server.signature import ENV_KEY, load_key

        settings = _settings((".",), config_file, {"fail_on": fail_on, "catalog": catalog})
        options = _scan_options(settings)
        selected_rules(options)  # an unknown rule ID or a broken catalogue stops it here, not in a job
        try:
            key = load_key(hmac_key_file)
            if key is None and not insecure_no_hmac:
                raise server_config.SetupError(f"no HMAC key: give --hmac-key-file FILE or set {ENV_KEY} "
                                               "(or --insecure-no-hmac to accept unsigned requests)")
            host, port = server_config.parse_listen(listen)
            chosen = server_config.ServerConfig(
                host=host, port=port, hmac_key=key, allowed_origins=server_config.parse_origins(allowed_origins),
                scan_options=options, fail_on=settings["fail_on"], queue_size=max_queue, work_dir=work_dir,
                tls=server_config.load_tls(tls_cert, tls_key), **({"workers": workers} if workers else {}))
            # main() switched the collector off for a one-shot command; a server runs for days
            gc.enable()
            app.serve(chosen)
        except server_config.SetupError as exc:
            raise UsageProblem(str(exc)) from None

    _guarded(run)


def main() -> None:
    # A short-lived process whose garbage is acyclic parse trees: the cyclic collector only
    # costs time here (a full collection over a large repository's trees takes about a second).
    gc.disable()
    try:
        _main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            click.echo(exc.code, err=True)
    else:
        code = 0
    # Everything is written: skip freeing millions of parse-tree objects one by one at exit
    # (it took as long as the scan itself on a large repository).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _main() -> None:
    try:
        cli.main(prog_name="iac-ims", standalone_mode=False)
    except click.exceptions.NoSuchOption as exc:
        _fail_usage(exc.format_message())
    except click.UsageError as exc:
        _fail_usage(exc.format_message())
    except click.exceptions.Abort:
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
