"""Load Terraform modules as Terraform does: root modules, local module calls with their inputs
bound, variables from tfvars, locals, outputs, and count/for_each instances.

The result is provider-agnostic: `ResourceInstance`s (address, type, lazily evaluated
attributes and nested blocks, location, directives) and the diagnostics met on the way.
The Loader does the reading (files, tfvars, `file()`) and the reporting; what it reads is
modelled in sources.py (module directories), modules.py (module instances) and instances.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from iac_ims.cache import content_digest
from iac_ims.terraform.attribute_eval import NO_CONTEXT, eval_attribute, eval_expr
from iac_ims.terraform.certainty import Certainty
from iac_ims.terraform.discover import Exclusions, module_files, tfvars_files, walk_module_dirs
from iac_ims.terraform.instances import ResourceInstance, block_address
from iac_ims.terraform.modules import ModuleInstance, expansion
from iac_ims.terraform.parse import (Attribute, Block, ParsedFile, decode_source, json_syntax_error, parse_source,
                                     read_source_bytes, syntax_error)
from iac_ims.terraform.sources import ModuleSource, SourceFile, has_tofu_files, is_local_source, literal_source, within
from iac_ims.terraform.values import Diagnostic, Invalid, Unknown, instance_suffix

MAX_MODULE_DEPTH = 16
MAX_TOTAL_INSTANCES = 20_000  # all instances of a scan (nested module counts multiply)
MAX_READ_BYTES = 1024 * 1024  # file()/templatefile() limit
UNDECLARED_IN = "undeclared_in"  # Diagnostic.details key: the module directory a name was looked for in


def report_path(path: Path, base: Path) -> str:
    """`path` as findings name it: relative to `base` when inside it, else absolute; '/'-separated."""
    absolute = Path(os.path.realpath(path)) if not os.path.isabs(path) else Path(path)
    try:
        shown = absolute.relative_to(base).as_posix()
    except ValueError:
        shown = absolute.as_posix()
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass
class LoadResult:
    instances: list[ResourceInstance]
    diagnostics: list[Diagnostic]
    files: list[SourceFile]  # every file read, each once
    remote_modules: list[tuple[str, str, str]]  # (address, source, file)
    other_reads: dict[Path, Any] = field(default_factory=dict)  # file()/templatefile() targets (grows while
    # values are evaluated lazily, after loading)
    module_dirs: list[Path] = field(default_factory=list)  # every module directory loaded
    pending_syntax_checks: Callable[[], None] | None = None  # see Loader.load(defer_syntax_checks=True)
    root_modules: list["ModuleInstance"] = field(default_factory=list)  # each module loaded as a root
    withdrawn: list[Diagnostic] = field(default_factory=list)  # taken out of `diagnostics` by the syntax checks

    def complete_syntax_checks(self) -> None:
        """Wait for the deferred syntax checks; their IMS900s are appended to `diagnostics`, and
        what they make uncertain is moved from `diagnostics` to `withdrawn`."""
        if self.pending_syntax_checks is not None:
            pending, self.pending_syntax_checks = self.pending_syntax_checks, None
            pending()


class Loader:
    """Loads every root module under the scanned paths."""

    def __init__(self, variables: dict[str, Any] | None = None, var_files: Iterable[Path] = (),
                 must_parse: Callable[[str], bool] | None = None, progress: Callable[[int, int], None] | None = None,
                 jobs: int = 1, content_digests: bool = False, report_base: Path | None = None,
                 exclude: Iterable[str] = (), confine_to: Path | None = None):
        """`must_parse(text)`: whether a file can matter to the caller and is parsed at once;
        None parses every file (a full syntax check of the whole tree).  `content_digests`: hash
        each file's bytes as it is read (for the scan cache).  `report_base`: the directory file
        paths are reported relative to (default: the working directory).  `exclude`: globs of
        files and directories under a scanned directory to leave out (discover.Exclusions).
        `confine_to`: read no module directory outside it (a service scanning configurations it
        is sent must not be made to read its own disk); such calls are unknown (IMS901)."""
        self.exclude = Exclusions(exclude)
        self.confine_to = Path(os.path.realpath(confine_to)) if confine_to is not None else None
        self.content_digests = content_digests
        self.report_base = Path(os.path.realpath(report_base if report_base is not None else os.getcwd()))
        self.cli_variables = variables or {}
        self.var_files = [Path(p) for p in var_files]
        self.must_parse = must_parse
        self.progress = progress
        self.jobs = jobs
        self.diagnostics: list[Diagnostic] = []
        self.withdrawn: list[Diagnostic] = []  # reported, then found uncertain (withdraw_uncertain_rejections)
        self._syntax_error_dirs: set[Path] = set()  # directories with a file Terraform cannot parse
        self._diagnostic_keys: set[tuple] = set()
        self.sources: dict[Path, ModuleSource] = {}
        self.source_files: dict[Path, SourceFile] = {}
        self.parsed: dict[Path, ParsedFile] = {}
        self.instances: list[ResourceInstance] = []
        self.remote_modules: list[tuple[str, str, str]] = []
        self.allowed_roots: list[Path] = []
        self._file_cache: dict[Path, Any] = {}
        self._instances_left = MAX_TOTAL_INSTANCES
        self._background: Any = None  # the worker processes of the current load, if any
        self.certainty = Certainty()
        self.root_modules: list[ModuleInstance] = []

    def take_instances(self, count: int) -> bool:
        """Reserve `count` instances from the scan's budget; False when it would run out."""
        if count > self._instances_left:
            return False
        self._instances_left -= count
        return True

    # diagnostics
    def report(self, diagnostic: Diagnostic) -> None:
        key = (diagnostic.rule_id, diagnostic.file, diagnostic.line, diagnostic.message)
        if key not in self._diagnostic_keys:
            self._diagnostic_keys.add(key)
            self.diagnostics.append(diagnostic)

    def report_invalid(self, invalid: Invalid, attribute: Attribute, file: str | None, address: str | None,
                       directory: Path | None = None) -> None:
        """IMS903 where Terraform certainly rejects an attribute (once per file, line and message).
        `directory`: the module whose declarations an undeclared name was looked for in."""
        detail = invalid.reason.removeprefix("error: ")
        details: dict[str, Any] = {"depends_on": list(invalid.depends_on)}
        if invalid.static and directory is not None:
            details[UNDECLARED_IN] = directory
        self.report(Diagnostic(
            "IMS903", f"Terraform rejects `{attribute.name}`: {detail}", file=attribute.file or file,
            line=attribute.line, end_line=attribute.end_line, address=address, details=details))

    def withdraw_uncertain_rejections(self) -> None:
        """An undeclared name is certain only if every file of its module parses: drop the IMS903
        of a name looked for in a directory where a file has a syntax error (IMS900 says so)."""
        self._syntax_error_dirs.update(f.path.parent for f in self.source_files.values() if f.error is not None)
        uncertain = [d for d in self.diagnostics
                     if d.rule_id == "IMS903" and d.details.get(UNDECLARED_IN) in self._syntax_error_dirs]
        if uncertain:
            self.withdrawn.extend(uncertain)
            gone = {id(d) for d in uncertain}
            self.diagnostics[:] = [d for d in self.diagnostics if id(d) not in gone]

    # files
    def rel(self, path: Path, scan_root: Path | None = None) -> str:
        """The path as reported: relative to the report base (the working directory) when inside
        it, else absolute; '/'-separated, always valid UTF-8.  What a CI annotation or a SARIF
        viewer opens from where the tool ran, whatever directory was scanned."""
        return report_path(path, self.report_base)

    def source_file(self, path: Path, scan_root: Path) -> SourceFile:
        if path not in self.source_files:
            rel = self.rel(path, scan_root)
            data, error = read_source_bytes(path, rel)
            text = None
            if data is not None:
                text, error = decode_source(data, rel)
            digest = content_digest(data) if data is not None and self.content_digests else None
            self.source_files[path] = SourceFile(path, rel, text, error, digest=digest)
            if self._background is not None:
                self._background.reached(path)
            if self.progress is not None:
                self.progress(len(self.source_files), len(self.parsed))
        return self.source_files[path]

    def parse(self, source_file: SourceFile) -> ParsedFile:
        if source_file.parsed is None:
            sent = None  # blocks a worker process already built from the same file
            if self._background is not None and source_file.error is None:
                sent = self._background.parsed(source_file.path)
            if sent is None:
                sent = parse_source(source_file.path, source_file.rel, source_file.text, source_file.error)
            source_file.parsed = sent
            source_file.text = None  # the blocks are what is needed from now on
            self.parsed[source_file.path] = source_file.parsed
            if self.progress is not None:
                self.progress(len(self.source_files), len(self.parsed))
            if source_file.parsed.error is not None:
                self.report(source_file.parsed.error)
                self._syntax_error_dirs.add(source_file.path.parent)
        return source_file.parsed

    def parsed_file(self, path: Path, scan_root: Path) -> ParsedFile:
        return self.parse(self.source_file(path, scan_root))

    def _must_parse(self, source_file: SourceFile) -> bool:
        return self.must_parse is None or source_file.error is not None or self.must_parse(source_file.text or "")

    def source(self, directory: Path, scan_root: Path, files: Iterable[Path] | None = None,
               whole: bool = True) -> ModuleSource:
        """The files of a module directory (`files`: all of them, already listed; `whole=False`:
        only the files given, not the whole directory)."""
        if directory not in self.sources:
            paths = module_files(directory) if files is None else tuple(files)
            source_files = [self.source_file(p, scan_root) for p in paths]
            self.sources[directory] = ModuleSource(directory, source_files, self.parse, self._must_parse, whole)
        return self.sources[directory]

    def check_unparsed(self, checked: dict[str, Diagnostic | None]) -> None:
        """Files nothing needed are parsed too, for their syntax errors (IMS900), but their
        blocks are not kept: the report is the same as with every file parsed and kept.
        `checked`: answers already computed in worker processes, by path."""
        for source_file in self.source_files.values():
            if source_file.parsed is None and source_file.error is None:
                key = str(source_file.path)
                if key in checked:
                    error = checked[key]
                else:
                    text = source_file.text
                    if text is None:
                        continue
                    error = syntax_error(source_file.rel, text)
                if error is not None:
                    self.report(error)
                    self._syntax_error_dirs.add(source_file.path.parent)

    def report_duplicates(self) -> None:
        """Terraform rejects a second declaration of the same name; only the first is read."""
        for source in self.sources.values():
            for duplicate, kept in source.duplicates:
                name = ".".join((duplicate.type, *duplicate.labels)) if duplicate.type in ("resource", "data") \
                    else f'{duplicate.type} "{duplicate.labels[0]}"'
                name = name.replace("resource.", "", 1)
                self.report(Diagnostic(
                    "IMS900", f"{name} is declared twice (also at {kept.file}:{kept.line}); Terraform rejects "
                    "the configuration, and only the first declaration is read",
                    file=duplicate.file, line=duplicate.line, end_line=duplicate.end_line))

    def _start_background_workers(self, roots: list[Path]) -> Any:
        """Worker processes that parse IAM files ahead of this process and check the syntax of
        the others (see workers.py); None with a single job or a full parse."""
        if self.jobs < 2 or self.must_parse is None:
            return None
        from iac_ims.terraform.workers import BackgroundWorkers

        files = [(path, self.rel(path, root)) for root in roots if root.is_dir()
                 for module_dir in walk_module_dirs(root, self.exclude) for path in module_dir.files]
        return BackgroundWorkers(files, self.jobs, self.must_parse)

    def read_file(self, path: str, module: ModuleInstance, origin: Block | None) -> Any:
        """`file()` and `templatefile()`: only inside the scanned tree; content never reported."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = module.root_dir / candidate
        resolved = Path(os.path.realpath(candidate))
        where = origin.file if origin else None
        line = origin.line if origin else None
        address = block_address(module.address_prefix, origin) if origin is not None and origin.type != "module" else None
        if not any(within(resolved, root) for root in self.allowed_roots):
            self.report(Diagnostic("IMS902", f"file path {path!r} is outside the scanned tree: not read",
                                   file=where, line=line, end_line=origin.end_line if origin else None,
                                   address=address))
            return Unknown(f"file {path!r} is outside the scanned tree", (f"file({path})",))
        if resolved in self._file_cache:
            return self._file_cache[resolved]
        value: Any
        try:
            if not resolved.is_file():
                raise FileNotFoundError
            if resolved.stat().st_size > MAX_READ_BYTES:
                value = Unknown(f"file {path!r} is larger than {MAX_READ_BYTES} bytes", (f"file({path})",))
            else:
                value = resolved.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            self.report(Diagnostic("IMS902", f"file path {path!r} does not exist or cannot be read",
                                   file=where, line=line, end_line=origin.end_line if origin else None,
                                   address=address))
            value = Unknown(f"file {path!r} is missing or unreadable", (f"file({path})",))
        self._file_cache[resolved] = value
        return value

    # variables for a root module
    def root_variables(self, directory: Path, scan_root: Path) -> dict[str, Callable[[], Any]]:
        values: dict[str, Any] = {}
        for path in [*tfvars_files(directory), *self.var_files]:
            values.update(self._tfvars(path, scan_root))
        values.update(self.cli_variables)
        return {name: (lambda v=value: v) for name, value in values.items()}

    def _tfvars(self, path: Path, scan_root: Path) -> dict[str, Any]:
        if path.name.endswith(".json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except json.JSONDecodeError as exc:
                self.report(json_syntax_error(self.rel(path, scan_root), exc.doc, exc,
                                              "cannot read variables file: JSON syntax error"))
                return {}
            except (OSError, ValueError, RecursionError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                self.report(Diagnostic("IMS900", f"cannot read variables file: {reason}",
                                       file=self.rel(path, scan_root), line=1))
                return {}
            return data if isinstance(data, dict) else {}
        parsed = self.parsed_file(path, scan_root)
        # tfvars are attributes at the top level, which the block parser does not keep
        return {name: eval_expr(attr.expr, NO_CONTEXT) for name, attr in _top_attributes(parsed).items()}

    # loading
    def load(self, scan_paths: Iterable[Path], defer_syntax_checks: bool = False) -> LoadResult:
        """Everything under the paths.  `defer_syntax_checks`: the syntax checks of files nothing
        depends on are left to `LoadResult.complete_syntax_checks`, so that worker processes
        go on with them while the caller works with the result."""
        roots = [Path(os.path.realpath(p)) for p in scan_paths]
        background = self._background = self._start_background_workers(roots)
        try:
            for scan_path in roots:
                if scan_path.is_file():
                    self._load_single_file(scan_path)
                else:
                    self._load_tree(scan_path)
            self.report_duplicates()
        except BaseException:
            if background:
                background.close()
            raise
        files = [self.source_files[p] for p in sorted(self.source_files)]
        result = LoadResult(self.instances, self.diagnostics, files, self.remote_modules, self._file_cache,
                            list(self.sources), pending_syntax_checks=lambda: self._finish_syntax_checks(background),
                            root_modules=self.root_modules, withdrawn=self.withdrawn)
        if not defer_syntax_checks:
            result.complete_syntax_checks()
        return result

    def _finish_syntax_checks(self, background: Any) -> None:
        try:
            self.check_unparsed(background.results() if background else {})
            self.withdraw_uncertain_rejections()
        finally:
            self._background = None
            if background:
                background.close()

    def _load_single_file(self, path: Path) -> None:
        scan_root = path.parent
        self.allowed_roots.append(scan_root)
        source = self.source(scan_root, scan_root, files=[path], whole=False)
        self._load_root(source, scan_root)

    def _load_tree(self, scan_root: Path) -> None:
        self.allowed_roots.append(scan_root)
        module_dirs = walk_module_dirs(scan_root, self.exclude)
        called: set[Path] = set()
        for module_dir in module_dirs:
            source = self.source(module_dir.path, scan_root, module_dir.files, whole=module_dir.whole)
            for block in source.module_calls.values():
                target = literal_source(block)
                if target and is_local_source(target):
                    resolved = Path(os.path.realpath(module_dir.path / target))
                    if resolved != module_dir.path:
                        called.add(resolved)
        loaded: set[Path] = set()
        for module_dir in module_dirs:
            if module_dir.path not in called:
                self._load_root(self.sources[module_dir.path], scan_root, loaded)
        # directories only reachable through a cycle of calls are loaded as roots too
        for module_dir in module_dirs:
            if module_dir.path not in loaded:
                self._load_root(self.sources[module_dir.path], scan_root, loaded)

    def _load_root(self, source: ModuleSource, scan_root: Path, loaded: set[Path] | None = None) -> None:
        root = ModuleInstance(self, source, scan_root, source.directory, "", self.root_variables(source.directory, scan_root),
                              (), (source.directory,))
        self.root_modules.append(root)
        self._instantiate(root, loaded if loaded is not None else set())

    def _instantiate(self, module: ModuleInstance, loaded: set[Path]) -> None:
        loaded.add(module.source.directory)
        for name in sorted(module.source.module_calls):
            self._call_module(module, name, module.source.module_calls[name], loaded)
        for table, mode in ((module.source.resources, "managed"), (module.source.data, "data")):
            for (type_, name), block in list(table.items()):
                self.instances.extend(module.instances_of(mode, type_, name, block))

    def _call_module(self, parent: ModuleInstance, name: str, block: Block, loaded: set[Path]) -> None:
        address = f"{parent.address_prefix}module.{name}"
        source_text = literal_source(block)
        if source_text is None:
            parent.child_unknown[name] = Unknown(f"{address}: source is not a literal string", (address,))
            return
        if not is_local_source(source_text):
            self.remote_modules.append((address, source_text, block.file))
            parent.child_unknown[name] = Unknown(f"{address} comes from {source_text!r}, which is not fetched", (address,))
            return
        directory = Path(os.path.realpath(parent.source.directory / source_text))
        if self.confine_to is not None and not within(directory, self.confine_to):
            self.report(Diagnostic("IMS901", f"{address}: source {source_text!r} leads outside the configuration, "
                                   "which this scan does not read", file=block.file, line=block.line,
                                   end_line=block.end_line, address=address))
            parent.child_unknown[name] = Unknown(f"{address} is outside the configuration", (address,))
            return
        if directory in parent.ancestors or len(parent.ancestors) >= MAX_MODULE_DEPTH:
            why = ("module calls itself (directly or through others)" if directory in parent.ancestors
                   else f"modules are nested more than {MAX_MODULE_DEPTH} deep")
            self.report(Diagnostic("IMS901", f"{address}: {why}; not followed",
                                   file=block.file, line=block.line, end_line=block.end_line, address=address))
            parent.child_unknown[name] = Unknown(f"{address} is recursive", (address,))
            return
        if not module_files(directory):
            self._report_missing_module(block, address, source_text, directory)
            parent.child_unknown[name] = Unknown(f"{address} source {source_text!r} not found", (address,))
            return
        source = self.source(directory, parent.scan_root)
        self._report_unexpected_arguments(block, address, source_text, source)
        result = expansion(block, parent.base_ctx.derive(origin=block))
        self._report_unknown_module_keys(block, address, result.unknown)
        parent.children[name] = {}
        parent.children_uncertain[name] = result.uncertain
        for key, key_ctx in result.keys:
            instance_address = f"{address}{instance_suffix(key)}"
            inputs = {arg: (lambda a=attr, c=key_ctx, where=instance_address: eval_attribute(a, c, block.file, where)[0])
                      for arg, attr in _module_arguments(block).items()}
            child = ModuleInstance(self, source, parent.scan_root, parent.root_dir, f"{instance_address}.", inputs,
                                   (*parent.calls, block), (*parent.ancestors, directory), uncertain=key_ctx.uncertain)
            parent.children[name][key] = child
            self._instantiate(child, loaded)

    def _report_missing_module(self, block: Block, address: str, source_text: str, directory: Path) -> None:
        """A local module directory with no Terraform file.  Terraform rejects one that does not
        exist; one that exists is read as an empty module, which Terraform rejects only when the
        call passes it an argument (an empty module declares none)."""
        where = block.attributes.get("source")
        arguments = sorted(_module_arguments(block))
        rule = "IMS903"
        if not directory.exists():
            message = f"{address}: local module {source_text!r} does not exist"
        elif not directory.is_dir():
            message = f"{address}: local module {source_text!r} is not a directory"
        elif has_tofu_files(directory):
            rule, message = "IMS901", (f"{address}: local module {source_text!r} holds only OpenTofu files (.tofu), "
                                       "which this scan does not read")
        elif arguments:
            message = (f"{address}: local module {source_text!r} holds no Terraform file (.tf or .tf.json); "
                       f"as an empty module it takes no argument {arguments[0]!r}")
        else:
            rule, message = "IMS901", f"{address}: local module {source_text!r} holds no Terraform file (.tf or .tf.json)"
        self.report(Diagnostic(rule, message, file=block.file, line=where.line if where else block.line,
                               end_line=where.end_line if where else block.end_line, address=address))

    def _report_unexpected_arguments(self, block: Block, address: str, source_text: str, source: ModuleSource) -> None:
        """Terraform rejects a module call argument that the module declares no variable for."""
        for argument, attribute in _module_arguments(block).items():
            if source.variable(argument) is None and source.certainly_lacks("variable", argument):
                self.report(Diagnostic(
                    "IMS903", f"{address}: module {source_text!r} declares no variable \"{argument}\", so Terraform "
                    "rejects the argument", file=attribute.file or block.file, line=attribute.line,
                    end_line=attribute.end_line, address=address, details={UNDECLARED_IN: source.directory}))

    def _report_unknown_module_keys(self, block: Block, address: str, unknown: Unknown | None) -> None:
        if unknown is not None:
            what = "count" if "count" in block.attributes else "for_each"
            self.report(Diagnostic("IMS901", f"{address}: {what} cannot be resolved ({unknown.reason}); "
                                   "the module is checked once", file=block.file, line=block.line,
                                   end_line=block.end_line, address=address))


MODULE_META_ARGUMENTS = frozenset(("source", "version", "count", "for_each", "providers", "depends_on"))


def _module_arguments(block: Block) -> dict[str, Attribute]:
    """The arguments of a module call that set the module's variables."""
    return {name: attribute for name, attribute in block.attributes.items() if name not in MODULE_META_ARGUMENTS}


def _top_attributes(parsed: ParsedFile) -> dict[str, Attribute]:
    """Top-level attributes of a tfvars file."""
    return parsed.top_attributes
