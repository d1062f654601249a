"""The pipeline: files -> blocks -> values -> IAM model -> graph -> findings.

`scan(paths, ...)` is what the CLI calls, and `iac_ims.scan` what other tools embed.
"""

from __future__ import annotations

import datetime as _dt
import gc
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from iac_ims import __version__
from iac_ims.findings import SEVERITY_RANK, Finding


@dataclass
class ScanOptions:
    variables: dict[str, Any] = field(default_factory=dict)
    var_files: list[str] = field(default_factory=list)
    catalog_files: list[str] = field(default_factory=list)
    skip_rules: list[str] = field(default_factory=list)
    only_rules: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)  # per-rule override
    intents: dict[str, list[str]] = field(default_factory=dict)  # address -> operation IDs
    role_ids: dict[str, str] = field(default_factory=dict)  # literal role ID -> system-role display name
    baseline: str | None = None
    today: _dt.date | None = None
    full_parse: bool = False  # parse every file, not only those IAM blocks can depend on
    progress: Any = None  # called with (files read, files parsed) while reading; for a progress display
    use_cache: bool = False  # reuse the stored report of an identical earlier scan (the CLI does)
    jobs: int = 1  # processes; more than 1 checks files nothing depends on in worker processes
    relative_to: str | Path | None = None  # file paths in findings are relative to it (default: the working directory)
    exclude: list[str] = field(default_factory=list)  # globs of files and directories left out (see discover.py)
    config_file: str | None = None  # where `intents` came from, to point at it (IMS904)
    deployers: list[str] = field(default_factory=list)  # addresses of who runs terraform (IMS308-IMS311)
    confine_to: str | Path | None = None  # follow no local module source out of it (the run-task server)


@dataclass
class InternalError:
    check: str
    message: str
    where: str  # the code location that failed
    file: str | None = None  # the Terraform file and resource the check was looking at
    resource: str | None = None

    def describe(self) -> str:
        subject = f" while checking {self.resource} ({self.file})" if self.resource else ""
        return f"check {self.check!r} failed{subject}: {self.message} [{self.where}]"


@dataclass
class Report:
    findings: list[Finding]
    files_scanned: int
    resources: int
    duration_s: float
    internal_errors: list[InternalError] = field(default_factory=list)
    graph: Any = None  # IamGraph, for explain/graph
    instances: list[Any] = field(default_factory=list)
    tool_version: str = __version__
    base: str | None = None  # the absolute directory the findings' relative file paths start from

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            if not finding.suppressed:
                counts[finding.severity] = counts.get(finding.severity, 0) + 1
        return counts

    @property
    def suppressed(self) -> int:
        return sum(1 for f in self.findings if f.suppressed)

    def failing(self, fail_on: str) -> list[Finding]:
        from iac_ims.findings import FAIL_ON_RANK

        threshold = FAIL_ON_RANK[fail_on]
        return [f for f in self.findings if not f.suppressed and SEVERITY_RANK[f.severity] >= threshold]


def report_base(options: ScanOptions) -> Path:
    """The directory findings name files relative to: `relative_to`, else the working directory."""
    return Path(os.path.realpath(options.relative_to if options.relative_to is not None else os.getcwd()))


@dataclass
class Analysis:
    """Everything the pipeline built, for commands that need more than findings."""

    load: Any
    model: Any
    graph: Any
    catalog: Any


def mentions_iam_resource(text: str) -> bool:
    """Whether a file names a resource type the IAM layer reads (it is then parsed at once)."""
    from iac_ims.iam.resources import relevant_type_fragments, relevant_types_pattern

    # most files name no IAM type: plain substring searches say so faster than the pattern
    return any(f in text for f in relevant_type_fragments()) and relevant_types_pattern().search(text) is not None


@dataclass(frozen=True)
class ParseAtOnce:
    """Whether a file is parsed at once: it names a type the IAM layer reads, or declares a block
    of one of `declared_types` (the image resources whose provider calls a deployer needs: only
    asked for when a deployer or the requirements are, for they cost a parse of every file that
    declares one). A value object, so that worker processes receive it."""

    declared_types: tuple[str, ...] = ()

    def __call__(self, text: str) -> bool:
        # a declaration names its type in quotes (`resource "T" "x"`, `"T": {` in JSON); a
        # reference (`data.T.x.id`) does not
        return mentions_iam_resource(text) or any(f'"{t}"' in text for t in self.declared_types if t in text)


def analyse(paths: Sequence[str | Path], options: ScanOptions, defer_syntax_checks: bool = False,
            content_digests: bool = False, provider_calls: bool = False) -> Analysis:
    """`defer_syntax_checks`: see Loader.load; the caller completes them (`load.complete_syntax_checks`).
    `content_digests`: the files' content hashes are wanted (for the scan cache). `provider_calls`:
    the blocks whose provider calls the catalogue knows are wanted too (the deployer's needs)."""
    from iac_ims.catalog import load_catalog
    from iac_ims.graph import IamGraph
    from iac_ims.iam.adapter import build_model
    from iac_ims.terraform.loader import Loader

    catalog = load_catalog(tuple(options.catalog_files))
    declared = tuple(sorted({c.type for c in catalog.provider_calls.values()})) if provider_calls else ()
    loader = Loader(variables=options.variables, var_files=[Path(p) for p in options.var_files],
                    must_parse=None if options.full_parse else ParseAtOnce(declared), progress=options.progress,
                    jobs=options.jobs, content_digests=content_digests,
                    report_base=report_base(options), exclude=options.exclude, confine_to=options.confine_to)
    loaded = loader.load([Path(p) for p in paths], defer_syntax_checks)
    try:
        model = build_model(loaded.instances, catalog, role_ids=options.role_ids)
        graph = IamGraph(model, catalog)
    except BaseException:
        loaded.complete_syntax_checks()  # the workers stop before the error goes up
        raise
    return Analysis(loaded, model, graph, catalog)


def scan(paths: Sequence[str | Path], options: ScanOptions | None = None) -> Report:
    options = options or ScanOptions()
    started = time.perf_counter()
    # The scan allocates millions of small acyclic objects (expression nodes); the cyclic
    # collector walking them again and again cost half the run.  Off during the scan, back on after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _scan(paths, options, started)
    finally:
        if collecting:
            gc.enable()


def selected_rules(options: ScanOptions) -> list[Any]:
    """The rules the options select, in running order; an unknown rule ID in `only_rules`,
    `skip_rules` or `severity` raises checks.UnknownRuleError before anything is read."""
    from iac_ims.catalog import load_catalog
    from iac_ims.checks import registry, selected

    return selected(registry(load_catalog(tuple(options.catalog_files))), options.only_rules, options.skip_rules,
                    options.severity)


def _scan(paths: Sequence[str | Path], options: ScanOptions, started: float) -> Report:
    rules = selected_rules(options)
    today = options.today or _dt.date.today()
    cache_key = _cache_key(paths, options, today) if options.use_cache else None
    if cache_key is not None:
        from iac_ims import scan_cache

        stored = scan_cache.load(cache_key, scan_cache.path_list(paths))
        if stored is not None:
            report = _report_from_json(stored, time.perf_counter() - started)
            report.base = str(report_base(options))
            return report
    analysis = _analyse_for(paths, options, rules, cache_key is not None)
    try:
        return _check(analysis, options, rules, today, cache_key, paths, started)
    except BaseException:
        analysis.load.complete_syntax_checks()  # the worker processes stop before the error goes up
        raise


def _check(analysis: Analysis, options: ScanOptions, rules: list[Any], today: _dt.date, cache_key: str | None,
           paths: Sequence[str | Path], started: float) -> Report:
    """The rules over an analysis, and the report."""
    from iac_ims.checks import registry
    from iac_ims.checks.context import CheckContext

    ctx = CheckContext(analysis.model, analysis.graph, analysis.catalog,
                       diagnostics=[*analysis.load.diagnostics, *analysis.model.diagnostics,
                                    *_directive_diagnostics(analysis, options)],
                       config_intents=options.intents, config_deployers=list(options.deployers),
                       instances=analysis.load.instances,
                       rules={rid: r.meta for rid, r in registry(analysis.catalog).items()})
    findings: list[Finding] = []
    errors: list[InternalError] = []
    # rules that never read diagnostics run first, while workers finish the syntax checks
    for selected_rule in rules:
        if selected_rule.reads_diagnostics:
            _complete_syntax_checks(analysis, ctx)
        ctx.current = None
        try:
            produced = list(selected_rule.check(ctx))
        except Exception as exc:  # a bug in one rule must not hide the others' findings
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            looking_at = ctx.current
            errors.append(InternalError(
                selected_rule.id, f"{type(exc).__name__}: {exc}", f"{Path(frame.filename).name}:{frame.lineno}",
                file=getattr(looking_at, "file", None), resource=getattr(looking_at, "address", None)))
            continue
        strays = [f.rule_id for f in produced if f.rule_id != selected_rule.id]
        if strays:
            errors.append(InternalError(selected_rule.id, f"it yielded findings of {', '.join(sorted(set(strays)))}",
                                        "rule registry"))
        findings.extend(f for f in produced if f.rule_id == selected_rule.id)
    _complete_syntax_checks(analysis, ctx)
    findings = _unique(findings)
    _apply_severities(findings, options)
    from iac_ims.suppress import apply_suppressions

    apply_suppressions(findings, analysis.load.instances, options.baseline, today)
    findings.sort(key=Finding.sort_key)
    from iac_ims.iam.resources import kind_of

    resources = len({(getattr(i.ctx, "owner", None) and i.ctx.owner.root_dir, i.address)
                     for i in analysis.load.instances if kind_of(i.mode, i.type)})
    report = Report(findings, len(analysis.load.files), resources, round(time.perf_counter() - started, 3),
                    errors, analysis.graph, analysis.load.instances, base=str(report_base(options)))
    if cache_key is not None and not errors:
        from iac_ims import scan_cache

        scan_cache.store(cache_key, scan_cache.path_list(paths),
                         [*(f.path for f in analysis.load.files), *list(analysis.load.other_reads)],
                         analysis.load.module_dirs, _report_to_json(report),
                         digests={f.path: f.digest for f in analysis.load.files if f.digest is not None})
    return report


DEPLOYER_RULES = ("IMS308", "IMS309", "IMS310", "IMS311")


def _analyse_for(paths: Sequence[str | Path], options: ScanOptions, rules: list[Any], digests: bool) -> Analysis:
    """The analysis the selected rules need: the image blocks are read too when a deployer is
    named (config, option, or an `iac-ims:deployer` comment, seen once the IAM blocks are read)."""
    deployer_rules = any(r.id in DEPLOYER_RULES for r in rules)
    wanted = deployer_rules and bool(options.deployers)
    analysis = analyse(paths, options, defer_syntax_checks=True, content_digests=digests, provider_calls=wanted)
    if deployer_rules and not wanted and any(p.deployer for p in analysis.model.principals.values()):
        analysis.load.complete_syntax_checks()
        analysis = analyse(paths, options, defer_syntax_checks=True, content_digests=digests, provider_calls=True)
    return analysis


def _directive_diagnostics(analysis: Analysis, options: ScanOptions) -> list[Any]:
    """IMS904: `iac-ims` comments not understood as written, and config intents for addresses
    the scanned code does not have."""
    from iac_ims.directives import parse_directives
    from iac_ims.terraform.values import Diagnostic

    found = []
    known_rules = set(analysis.catalog.rules)
    for source_file in analysis.load.files:
        parsed = source_file.parsed
        if parsed is None or not parsed.directives:
            continue
        for directive in parse_directives(parsed.directives, known_rules):
            for problem in directive.problems:
                found.append(Diagnostic("IMS904", f"iac-ims directive not understood: {problem}",
                                        file=source_file.rel, line=directive.line, end_line=directive.line))
    addresses = {i.address for i in analysis.load.instances}
    addresses |= {a.split("[", 1)[0] for a in addresses if a.endswith("]")}
    for address in options.intents:
        if address not in addresses:
            found.append(_absent_address(address, addresses, f"the config's intents name {address!r}, which the "
                                         "scanned code does not have", "its intents are checked nowhere", options))
    principals = {p.instance.address for p in analysis.model.principals.values()}
    principals |= {a.split("[", 1)[0] for a in principals if a.endswith("]")}
    for address in options.deployers:
        if address not in principals:
            what = "is not a user, group or agency" if address in addresses else "the scanned code does not have"
            found.append(_absent_address(address, principals, f"the deployer {address!r} (config or --deployer) "
                                         f"{what}", "what applying the configuration needs is checked for no one",
                                         options))
    found.extend(_misplaced_deployer_marks(analysis))
    return found


def _absent_address(address: str, known: set[str], what: str, consequence: str, options: ScanOptions) -> Any:
    """IMS904 for an address the config names that the scanned code does not have as it should."""
    from iac_ims.suggest import closest
    from iac_ims.terraform.values import Diagnostic

    near = closest(address, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return Diagnostic("IMS904", f"{what}{hint}: {consequence}", file=_shown(options.config_file, options),
                      line=1, end_line=1)


def _misplaced_deployer_marks(analysis: Analysis) -> list[Any]:
    """`iac-ims:deployer` directly above a block that is not a user, group or agency."""
    from iac_ims.directives import marks_deployer
    from iac_ims.iam.resources import PRINCIPAL_KINDS, kind_of
    from iac_ims.terraform.values import Diagnostic

    found = []
    seen: set[tuple[str, int]] = set()
    for instance in analysis.load.instances:
        if not instance.directives or kind_of(instance.mode, instance.type) in PRINCIPAL_KINDS:
            continue
        if (instance.file, instance.line) in seen or not marks_deployer(instance.directives):
            continue
        seen.add((instance.file, instance.line))
        line = next(n for n, text in instance.directives if "deployer" in text.lower())
        found.append(Diagnostic("IMS904", f"iac-ims:deployer marks {instance.address}, which is not a user, group "
                                "or agency: put it directly above the identity that runs terraform",
                                file=instance.file, line=line, end_line=line))
    return found


def _shown(path: str | None, options: ScanOptions) -> str | None:
    if path is None:
        return None
    from iac_ims.terraform.loader import report_path

    return report_path(Path(os.path.abspath(path)), report_base(options))


def _complete_syntax_checks(analysis: Analysis, ctx: Any) -> None:
    known = {id(d) for d in analysis.load.diagnostics}
    analysis.load.complete_syntax_checks()
    ctx.diagnostics.extend(d for d in analysis.load.diagnostics if id(d) not in known)
    withdrawn = {id(d) for d in analysis.load.withdrawn}
    if withdrawn:
        ctx.diagnostics[:] = [d for d in ctx.diagnostics if id(d) not in withdrawn]


def _cache_key(paths: Sequence[str | Path], options: ScanOptions, today: _dt.date) -> str | None:
    from iac_ims import scan_cache
    from iac_ims.cache import cache_dir
    from iac_ims.catalog import load_catalog

    if cache_dir() is None:
        return None
    catalog = load_catalog(tuple(options.catalog_files))
    return scan_cache.entry_key(scan_cache.path_list(paths), options, catalog.sources, today.isoformat())


def _report_to_json(report: Report) -> dict[str, Any]:
    return {"findings": [f.to_json() for f in report.findings], "files_scanned": report.files_scanned,
            "resources": report.resources}


def _report_from_json(stored: dict[str, Any], duration: float) -> Report:
    import dataclasses

    names = {f.name for f in dataclasses.fields(Finding)}
    findings = [Finding(**{k: v for k, v in f.items() if k in names}) for f in stored["findings"]]
    return Report(findings, stored["files_scanned"], stored["resources"], round(duration, 3))


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    result = []
    for finding in findings:
        if finding.identity() not in seen:
            seen.add(finding.identity())
            result.append(finding)
    return result


def _apply_severities(findings: list[Finding], options: ScanOptions) -> None:
    overrides = {rule_id.strip().upper(): severity for rule_id, severity in options.severity.items()}
    for finding in findings:
        override = overrides.get(finding.rule_id)
        if override:
            finding.severity = override
