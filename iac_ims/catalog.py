"""The IMS knowledge the checks use, loaded from the YAML files in `rules/`.

Data lives in `rules/` (shipped inside the wheel as `iac_ims/_rules`); this module only loads,
validates (JSON Schema, `rules/schema/`) and indexes it. User catalogue files (config key
`catalog`) are merged over the shipped files: an entry with the same ID replaces the shipped one,
new entries are added.

File kinds, told apart by a top-level `kind:` key (shipped files may also be recognised by name):
`catalog` (operations, known_actions), `services`, `system_roles`, `rules`, `provider_calls`
(what the Terraform providers call for each image resource and data source, phase by phase, and
the IAM actions each call needs: `Catalog.provider_calls`, keyed `TYPE` for a resource and
`data.TYPE` for a data source, with the `provenance` of that map), and `extension` (any mix of
those sections; the default for a user file without `kind`). A user file's `provider_calls` entry
with the same type and kind replaces the shipped one.

Loading is cached per process (`load_catalog` is keyed by the extra files and their mtimes) and
across processes: the parsed content of every file that passed schema validation is kept in the
user cache directory, keyed by the SHA-256 of its bytes and of the schemas, so that a warm start
needs neither YAML parsing nor jsonschema. Set `IAC_IMS_NO_CACHE=1` to disable the disk cache.
The cross-reference checks (replacement IDs, actions, prerequisite roles and services, the
provider calls' actions, services and roles) always run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class CatalogError(Exception):
    """A catalogue file is malformed: names the file and the key."""

    def __init__(self, file: str, key: str, message: str):
        super().__init__(f"{file}: {key}: {message}")
        self.file = file
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Prerequisite:
    """A permission outside IMS that an operation needs: hold any one of `any_of` (system-role
    display names) at a scope that reaches `service` (whose level says which scopes do)."""

    service: str
    any_of: tuple[str, ...]


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    title: str
    actions: tuple[str, ...]  # all required
    project: bool  # grantable at IAM-project scope
    enterprise_project: bool  # grantable at enterprise-project scope
    deprecated: bool = False
    replacement: str | None = None
    variant_of: str | None = None  # the same call without a situational extra action (EP migration)
    prerequisites: tuple[Prerequisite, ...] = ()
    table: str = "image_management"  # which table of the appendix
    row: int | None = None  # row number in that table
    note: str = ""  # the source's note / variant description
    level: str = "project"  # the level of its service: project (IMS), or global (e.g. EPS, OBS)

    @property
    def api(self) -> str:
        """`METHOD PATH`, as intents may name it."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Service:
    name: str  # lowercase service prefix, e.g. "ims", "obs"
    level: str  # "global" or "project"
    title: str = ""


@dataclass(frozen=True)
class Dependency:
    """A role another (RBAC) role needs beside it, or it does not take effect: `scope` "global" =
    at global-service scope, "same_project" = at the project (or all projects) it is held at."""

    role: str
    scope: str


# The services whose actions a system role's `allow` / `deny` list (the rest of what a system role
# grants is not in the catalogue: unknown, unless a pattern such as `*:*:*` covers it).
ROLE_ACTION_SERVICES = frozenset({"ims"})


@dataclass(frozen=True)
class SystemRole:
    display_name: str
    name: str | None = None  # stable internal name, e.g. "te_admin"
    service: str | None = None
    former_names: tuple[str, ...] = ()  # e.g. "CBR Admin" for "CBR FullAccess"
    allow: tuple[str, ...] = ()  # actions (patterns) the role allows, where known
    deny: tuple[str, ...] = ()  # actions (patterns) the role denies
    actions_known: bool = False  # False: what it grants is not documented -> unknown
    note: str = ""
    unstable_names: tuple[str, ...] = ()  # `system_all_N`: a system role, but not which one
    services: tuple[str, ...] = ()  # console services it is listed under
    kind: str | None = None  # role | policy | identity-policy
    level: str | None = None  # global | project | all_projects; None: unconfirmed
    grants: str | None = None  # documented | inferred | unconfirmed
    depends: tuple[Dependency, ...] = ()
    sources: tuple[str, ...] = ()


# How a name given to IAM relates to the system roles (`Catalog.role_name`).
DISPLAY_NAME = "display_name"
INTERNAL_NAME = "internal_name"
FORMER_NAME = "former_name"
UNSTABLE_NAME = "unstable_name"


@dataclass(frozen=True)
class RuleMeta:
    id: str
    severity: str  # error | warning | info
    title: str
    rationale: str
    remediation: str
    family: str = ""  # policy | scope | intent | reading


# ---------------------------------------------------------------- provider calls (rules/provider_calls.yaml)

# The forms of a provider call's `when` (`When.form`).
WHEN_FORMS = ("always", "attribute_set", "attribute_unset", "attribute_changes", "attribute_equals",
              "attribute_differs", "on_error", "other", "all_of", "any_of")
PHASES = ("read", "create", "update", "delete", "import")


@dataclass(frozen=True)
class AttributeRef:
    """A `when` value that is another argument of the same block (`{attribute: region}`); an
    unset `region` is the provider's region."""

    name: str


@dataclass(frozen=True)
class When:
    """When a provider call happens, to be evaluated against the Terraform block:

    - `always`;
    - `attribute_set` / `attribute_unset`: one of / none of `attributes` is set (not null, not
      empty: the provider's GetOk); `attribute_changes` (update): one of them changes;
    - `attribute_equals` / `attribute_differs`: every one of `attributes` is set to / set to
      something other than its value in `values` (a literal or an `AttributeRef`);
    - `on_error`: a fallback, only after another call fails as `text` says; `other`: a condition
      the block does not decide (`text`): a checker that must never under-report counts both as
      possible;
    - `all_of` / `any_of`: every one / one of `clauses`.
    `tags` includes the provider's `default_tags` (the provider merges them)."""

    form: str
    attributes: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()  # attribute_equals / attribute_differs: one per attribute
    text: str = ""
    clauses: tuple[When, ...] = ()

    @property
    def names(self) -> frozenset[str]:
        """Every argument name it mentions (those referred to by an `AttributeRef` too)."""
        found = set(self.attributes)
        found.update(v.name for v in self.values if isinstance(v, AttributeRef))
        for clause in self.clauses:
            found |= clause.names
        return frozenset(found)

    def to_data(self) -> str | dict[str, Any]:
        """The form it is written in (`always`, or a one-key mapping), for JSON output."""
        if self.form == "always":
            return "always"
        if self.form in ("on_error", "other"):
            return {self.form: self.text}
        if self.form in ("all_of", "any_of"):
            return {self.form: [c.to_data() for c in self.clauses]}
        if self.form in ("attribute_equals", "attribute_differs"):
            return {self.form: {a: ({"attribute": v.name} if isinstance(v, AttributeRef) else v)
                                for a, v in zip(self.attributes, self.values, strict=True)}}
        return {self.form: list(self.attributes)}


ALWAYS = When("always")


@dataclass(frozen=True)
class CallRequirement:
    """A permission a provider call needs beside its actions (another service's, or an IMS
    action only some accounts need): all of `actions` (patterns allowed) and/or any one of
    `roles` (system-role display names), for `service`. `basis`: documented (a permission
    table's note) | dependency (a permission table's dependency list) | inferred (from what the
    source says is needed) | unconfirmed (something is needed, not exactly what: `actions` and
    `roles` may then be empty)."""

    service: str
    actions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    basis: str = "documented"
    when: When = ALWAYS
    why: str = ""


@dataclass(frozen=True)
class ProviderCall:
    """One HTTP call a provider makes in one phase of a resource or data source."""

    phase: str  # read | create | update | delete | import
    method: str
    path: str
    actions: tuple[str, ...]  # every IAM action it needs; () when none, or unconfirmed
    unconfirmed: bool  # no permission table lists its action (then `actions` is ())
    enterprise_project: str  # yes | no | unknown: a grant at enterprise-project scope works
    requires: tuple[CallRequirement, ...]
    when: When
    condition: str  # the source's wording
    source: str  # file:line in the provider (see `Catalog.provenance`)
    prerequisite_note: str = ""  # what the source says beside `requires`
    unconfirmed_note: str = ""  # what the source says about an unconfirmed action
    inferred: bool = False  # the action is inferred: no permission table lists this path

    @property
    def api(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class ResourceCalls:
    """Every call a provider makes for one resource type or data source, in source order."""

    type: str
    kind: str  # resource | data
    provider: str  # huaweicloud | flexibleengine | ...
    deprecated: bool
    importable: bool
    calls: tuple[ProviderCall, ...]
    note: str = ""

    @property
    def key(self) -> str:
        """Its key in `Catalog.provider_calls`: `TYPE`, or `data.TYPE` for a data source."""
        return provider_calls_key(self.type, self.kind)

    def phase(self, phase: str) -> tuple[ProviderCall, ...]:
        """Its calls of one phase (read, create, update, delete, import), in order."""
        return tuple(call for call in self.calls if call.phase == phase)


@dataclass(frozen=True)
class ProviderSource:
    """Where the provider-call map comes from: provider code read (with its commit) or a
    permission table."""

    name: str
    used_for: str
    url: str | None = None
    commit: str | None = None
    version: str | None = None
    date: str | None = None


def provider_calls_key(type_: str, kind: str = "resource") -> str:
    """`huaweicloud_images_image` for the resource, `data.huaweicloud_images_image` for the data
    source (the providers have both under one name), as Terraform addresses them."""
    return f"data.{type_}" if kind == "data" else type_


@dataclass
class Catalog:
    """The merged catalogue. Treat as read-only: `load_catalog` returns a shared, cached instance
    and the index helpers below cache their lookups on first use."""

    operations: dict[str, Operation] = field(default_factory=dict)
    actions: tuple[str, ...] = ()  # every known IMS action, canonical case
    services: dict[str, Service] = field(default_factory=dict)
    system_roles: tuple[SystemRole, ...] = ()
    rules: dict[str, RuleMeta] = field(default_factory=dict)
    sources: tuple[str, ...] = ()  # files loaded, in order
    provider_calls: dict[str, ResourceCalls] = field(default_factory=dict)  # key: provider_calls_key
    provenance: tuple[ProviderSource, ...] = ()  # of provider_calls

    # ---------------------------------------------------------------- provider calls
    def resource_calls(self, type_: str, kind: str = "resource") -> ResourceCalls | None:
        """The calls of one resource type (kind "resource") or data source (kind "data"), or None."""
        return self.provider_calls.get(provider_calls_key(type_, kind))

    # ---------------------------------------------------------------- operations
    def operation(self, operation_id: str) -> Operation | None:
        """The operation with this ID, or None."""
        return self.operations.get(operation_id)

    def operations_for_api(self, method: str, path: str) -> list[Operation]:
        """Every operation (variant) of one API: method case-insensitive, path exact after
        stripping whitespace. Several for a split row (e.g. `PATCH /v2/cloudimages/{image_id}`)."""
        return list(self._api_index.get((method.strip().upper(), path.strip()), ()))

    # ---------------------------------------------------------------- actions
    def is_ims_action(self, action: str) -> bool:
        """True for a known IMS action (no wildcard). Matching is case-insensitive, as IAM's is;
        the lowercase-service convention is a separate check (IMS102)."""
        return action.strip().lower() in self._action_index

    def canonical_action(self, action: str) -> str | None:
        """The catalogue spelling of a known action (`IMS:images:LIST` -> `ims:images:list`)."""
        return self._action_index.get(action.strip().lower())

    def actions_matching(self, pattern: str) -> list[str]:
        """Known IMS actions an action pattern matches (`ims:*:get*`, `*`, `ims:*`), in
        catalogue order, exactly as the checks match them (`iam.actions.action_matches`)."""
        from iac_ims.iam.actions import action_matches

        return [a for a in self.actions if action_matches(pattern, a)]

    # ---------------------------------------------------------------- services
    def service_level(self, service: str) -> str | None:
        """"global", "project", or None for a service the catalogue does not know."""
        svc = self.services.get(service.strip().lower())
        return svc.level if svc else None

    # ---------------------------------------------------------------- system roles
    def system_role(self, name: str) -> SystemRole | None:
        """The system role with this display name, former display name or internal name
        (case-sensitive, as IAM is), or None. Display names win over former and internal names."""
        return self._role_index.get(name)

    def role_name(self, name: str) -> tuple[str, SystemRole] | None:
        """What `name` is to IAM: (DISPLAY_NAME | INTERNAL_NAME | FORMER_NAME, the role), or
        (UNSTABLE_NAME, a role once listed under it) for a `system_all_N` name, which says that
        some system role is meant but not which; None for a name no system role has."""
        role = self._role_index.get(name)
        if role is not None:
            if name == role.display_name:
                return DISPLAY_NAME, role
            if name == role.name:
                return INTERNAL_NAME, role
            return FORMER_NAME, role
        role = self._unstable_index.get(name)
        return (UNSTABLE_NAME, role) if role is not None else None

    # ---------------------------------------------------------------- rules
    def rule(self, rule_id: str) -> RuleMeta | None:
        return self.rules.get(rule_id)

    @functools.cached_property
    def read_only_actions(self) -> frozenset[str]:
        """Lowercase actions that alone make a read-only (GET/HEAD) operation."""
        return frozenset(op.actions[0].lower() for op in self.operations.values()
                         if len(op.actions) == 1 and op.method.upper() in ("GET", "HEAD"))

    @functools.cached_property
    def multi_action_operations(self) -> tuple[tuple[Operation, tuple[str, ...]], ...]:
        """(operation, its distinct actions) of the current operations that need two or more
        actions, variants excluded (their extra action is situational)."""
        found = []
        for op in self.operations.values():
            required = tuple(dict.fromkeys(op.actions))
            if len(required) >= 2 and not op.deprecated and not op.variant_of:
                found.append((op, required))
        return tuple(found)

    # ---------------------------------------------------------------- lazily built indices
    @functools.cached_property
    def _api_index(self) -> dict[tuple[str, str], tuple[Operation, ...]]:
        index: dict[tuple[str, str], list[Operation]] = {}
        for op in self.operations.values():
            index.setdefault((op.method.upper(), op.path.strip()), []).append(op)
        return {k: tuple(v) for k, v in index.items()}

    @functools.cached_property
    def _action_index(self) -> dict[str, str]:
        return {a.lower(): a for a in self.actions}

    @functools.cached_property
    def _role_index(self) -> dict[str, SystemRole]:
        index: dict[str, SystemRole] = {}
        for role in self.system_roles:
            index.setdefault(role.display_name, role)
        for role in self.system_roles:
            for former in role.former_names:
                index.setdefault(former, role)
        for role in self.system_roles:
            if role.name:
                index.setdefault(role.name, role)
        return index

    @functools.cached_property
    def _unstable_index(self) -> dict[str, SystemRole]:
        index: dict[str, SystemRole] = {}
        for role in self.system_roles:
            for name in role.unstable_names:
                index.setdefault(name, role)
        return index


# ==================================================================== loading

KINDS = ("catalog", "services", "system_roles", "rules", "provider_calls", "extension")
_SHIPPED_KIND_BY_NAME = {
    "ims_catalog": "catalog",
    "services": "services",
    "system_roles": "system_roles",
    "rules": "rules",
    "provider_calls": "provider_calls",
}
_SHIPPED_ORDER = ("ims_catalog.yaml", "services.yaml", "system_roles.yaml", "rules.yaml", "provider_calls.yaml")
_SCHEMA_BASE = "https://schemas.iac-ims.invalid/"
_CACHE_FORMAT = 1
_CACHE_MAX_ENTRIES = 64


def shipped_rules_dir() -> Path:
    """Where the shipped catalogue lives: `iac_ims/_rules` in a wheel, `<repo>/rules` in a checkout."""
    package_dir = Path(__file__).resolve().parent
    installed = package_dir / "_rules"
    if installed.is_dir():
        return installed
    return package_dir.parent / "rules"


def shipped_files(rules_dir: Path | None = None) -> list[Path]:
    """The shipped catalogue files, in load order (catalogue first, then the others by name)."""
    rules_dir = rules_dir or shipped_rules_dir()
    found = {p.name: p for p in rules_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()}
    ordered = [found.pop(name) for name in _SHIPPED_ORDER if name in found]
    return ordered + [found[name] for name in sorted(found)]


def load_catalog(extra_files: Sequence[str | Path] = ()) -> Catalog:
    """The shipped catalogue with `extra_files` merged over it, in order.

    Raises CatalogError (file, key, message) for a missing or unreadable file, malformed YAML, a
    schema violation (key = JSON path, e.g. `operations[3].actions`), a duplicate ID within one
    file, an unknown replacement ID, an action that is not a known action, or a prerequisite
    naming an unknown service or system role. Cached: returns the same object for the same files.
    """
    key = []
    for f in extra_files:
        path = os.path.abspath(os.fspath(f))
        try:
            st = os.stat(path)
            key.append((path, st.st_mtime_ns, st.st_size))
        except OSError:
            key.append((path, -1, -1))
    try:
        return _load_cached(tuple(key))
    except RecursionError:
        raise CatalogError(str(extra_files[-1]) if extra_files else "rules/", "$", "nested too deeply") from None


def clear_cache() -> None:
    """Forget the in-process cache (the disk cache is content-addressed and needs no clearing)."""
    _load_cached.cache_clear()
    _shipped_documents.cache_clear()


@functools.lru_cache(maxsize=32)
def _load_cached(extra: tuple[tuple[str, int, int], ...]) -> Catalog:
    docs = list(_shipped_documents())
    if extra:
        cache = _DiskCache.open()
        for path, _mtime, _size in extra:
            docs.append(_load_document(Path(path), shipped=False, cache=cache))
        cache.save()
    return _merge(docs)


@functools.lru_cache(maxsize=1)
def _shipped_documents() -> tuple[_Document, ...]:
    cache = _DiskCache.open()
    docs = tuple(_load_document(p, shipped=True, cache=cache) for p in shipped_files())
    cache.save()
    return docs


@dataclass(frozen=True)
class _Document:
    file: str
    kind: str
    data: dict[str, Any]


def _load_document(path: Path, *, shipped: bool, cache: _DiskCache) -> _Document:
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(file, "$", "file not found") from None
    except IsADirectoryError:
        raise CatalogError(file, "$", "is a directory, not a catalogue file") from None
    except OSError as exc:
        raise CatalogError(file, "$", f"cannot read: {exc.strerror or exc}") from None

    digest = hashlib.sha256(raw).hexdigest()
    cached = cache.get(digest)
    if cached is not None:
        kind = _document_kind(file, path, cached[1], shipped)
        if kind == cached[0]:
            return _Document(file, kind, cached[1])
    data = _parse_yaml(file, raw)
    kind = _document_kind(file, path, data, shipped)
    _validate(file, kind, data)
    cache.put(digest, kind, data)
    return _Document(file, kind, data)


def _parse_yaml(file: str, raw: bytes) -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(file, "$", f"not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        raise CatalogError(file, "$", f"invalid YAML{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(file, "$", f"invalid YAML: {exc}") from None
    if data is None:
        raise CatalogError(file, "$", "empty file: expected a mapping of catalogue sections")
    if not isinstance(data, dict):
        raise CatalogError(file, "$", f"expected a mapping of catalogue sections, got {_type_name(data)}")
    for k in data:
        if not isinstance(k, str):
            raise CatalogError(file, "$", f"top-level key {k!r} is not a string")
    return data


def _document_kind(file: str, path: Path, data: dict[str, Any], shipped: bool) -> str:
    kind = data.get("kind")
    if kind is None:
        if shipped and path.stem in _SHIPPED_KIND_BY_NAME:
            return _SHIPPED_KIND_BY_NAME[path.stem]
        return "extension"
    if kind not in KINDS:
        raise CatalogError(file, "kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def _type_name(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


# -------------------------------------------------------------------- JSON Schema validation


def _schema_dir() -> Path:
    return shipped_rules_dir() / "schema"


@functools.lru_cache(maxsize=1)
def _schema_digest() -> str:
    h = hashlib.sha256(f"format={_CACHE_FORMAT}".encode())
    for p in sorted(_schema_dir().glob("*.json")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=len(KINDS))
def _validator(kind: str) -> Any:
    import jsonschema
    from referencing import Registry, Resource

    resources = []
    for p in sorted(_schema_dir().glob("*.json")):
        contents = json.loads(p.read_text(encoding="utf-8"))
        resources.append((contents.get("$id", _SCHEMA_BASE + p.name), Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    schema = registry.contents(f"{_SCHEMA_BASE}{kind}.schema.json")
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=None)


def _validate(file: str, kind: str, data: dict[str, Any]) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(_validator(kind).iter_errors(data))
    if error is None:
        return
    path = list(error.absolute_path)
    message = error.message
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            path.append(missing[0])
            message = "required key missing"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            path.append(extra[0])
            expected = ", ".join(sorted(allowed)) or "none"
            message = f"unknown key {extra[0]!r} (expected one of: {expected})"
    if len(message) > 300:
        message = message[:297] + "..."
    raise CatalogError(file, json_path(path), message)


def json_path(parts: Iterable[str | int]) -> str:
    """`["operations", 3, "actions"]` -> `operations[3].actions`; the empty path is `$`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out or "$"


# -------------------------------------------------------------------- disk cache


class _DiskCache:
    """Parsed, schema-valid documents keyed by content digest (best effort: never fails a load)."""

    def __init__(self, path: Path | None, schema: str, entries: dict[str, Any]):
        self.path = path
        self.schema = schema
        self.entries = entries
        self.dirty = False

    @classmethod
    def open(cls) -> _DiskCache:
        if os.environ.get("IAC_IMS_NO_CACHE"):
            return cls(None, "", {})
        try:
            schema = _schema_digest()
        except OSError:
            return cls(None, "", {})
        path = _cache_path()
        entries: dict[str, Any] = {}
        if path is not None:
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
                if stored.get("schema") == schema and isinstance(stored.get("entries"), dict):
                    entries = stored["entries"]
            except (OSError, ValueError, AttributeError):
                pass
        return cls(path, schema, entries)

    def get(self, digest: str) -> tuple[str, dict[str, Any]] | None:
        """(kind the document was validated as, its data), or None."""
        entry = self.entries.get(digest)
        if isinstance(entry, dict) and isinstance(entry.get("kind"), str) and isinstance(entry.get("data"), dict):
            return entry["kind"], entry["data"]
        return None

    def put(self, digest: str, kind: str, data: dict[str, Any]) -> None:
        if self.path is None:
            return
        try:
            json.dumps(data)  # YAML may hold values JSON cannot (dates); then do not cache
        except (TypeError, ValueError):
            return
        self.entries.pop(digest, None)
        self.entries[digest] = {"kind": kind, "data": data}
        while len(self.entries) > _CACHE_MAX_ENTRIES:
            self.entries.pop(next(iter(self.entries)))
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"schema": self.schema, "entries": self.entries}), encoding="utf-8")
            os.replace(tmp, self.path)
            self.dirty = False
        except OSError:
            pass


def _cache_path() -> Path | None:
    from iac_ims.cache import cache_dir

    base = cache_dir()
    return base / "catalog-v1.json" if base else None


# -------------------------------------------------------------------- building and merging


def _operation(raw: dict[str, Any]) -> Operation:
    return Operation(
        id=raw["id"],
        method=raw["method"].upper(),
        path=raw["path"].strip(),
        title=raw["title"],
        actions=tuple(raw["actions"]),
        project=raw["project"],
        enterprise_project=raw["enterprise_project"],
        deprecated=raw.get("deprecated", False),
        replacement=raw.get("replacement"),
        variant_of=raw.get("variant_of"),
        prerequisites=tuple(
            Prerequisite(service=p["service"], any_of=tuple(p["any_of"])) for p in raw.get("prerequisites", ())
        ),
        table=raw.get("table", "custom"),
        row=raw.get("row"),
        note=raw.get("note", ""),
    )


def _system_role(raw: dict[str, Any]) -> SystemRole:
    return SystemRole(
        display_name=raw["display_name"],
        name=raw.get("name"),
        service=raw.get("service"),
        former_names=tuple(raw.get("former_names", ())),
        allow=tuple(raw.get("allow", ())),
        deny=tuple(raw.get("deny", ())),
        actions_known=raw["actions_known"],
        note=raw.get("note", ""),
        unstable_names=tuple(raw.get("unstable_names", ())),
        services=tuple(raw.get("services", ())),
        kind=raw.get("kind"),
        level=raw.get("level"),
        grants=raw.get("grants"),
        depends=tuple(Dependency(d["role"], d["scope"]) for d in raw.get("depends", ())),
        sources=tuple(raw.get("sources", ())),
    )


def _rule(raw: dict[str, Any]) -> RuleMeta:
    return RuleMeta(
        id=raw["id"],
        severity=raw["severity"],
        title=raw["title"],
        rationale=raw["rationale"],
        remediation=raw["remediation"],
        family=raw.get("family", ""),
    )


def _when(raw: Any) -> When:
    if raw == "always":
        return ALWAYS
    ((form, value),) = raw.items()  # the schema allows one key
    if form in ("on_error", "other"):
        return When(form, text=value)
    if form in ("all_of", "any_of"):
        return When(form, clauses=tuple(_when(c) for c in value))
    if form in ("attribute_equals", "attribute_differs"):
        return When(form, attributes=tuple(value),
                    values=tuple(AttributeRef(v["attribute"]) if isinstance(v, dict) else v for v in value.values()))
    return When(form, attributes=tuple(value))


def _provider_call(raw: dict[str, Any]) -> ProviderCall:
    return ProviderCall(
        phase=raw["phase"],
        method=raw["method"],
        path=raw["path"],
        actions=tuple(raw["actions"]),
        unconfirmed=raw.get("unconfirmed", False),
        enterprise_project=raw["enterprise_project"],
        requires=tuple(
            CallRequirement(
                service=r["service"],
                actions=tuple(r.get("actions", ())),
                roles=tuple(r.get("roles", ())),
                basis=r["basis"],
                when=_when(r.get("when", "always")),
                why=r["why"],
            )
            for r in raw.get("requires", ())
        ),
        when=_when(raw["when"]),
        condition=raw["condition"],
        source=raw["source"],
        prerequisite_note=raw.get("prerequisite_note", ""),
        unconfirmed_note=raw.get("unconfirmed_note", ""),
        inferred=raw.get("inferred", False),
    )


def _resource_calls(raw: dict[str, Any]) -> ResourceCalls:
    return ResourceCalls(
        type=raw["type"],
        kind=raw["kind"],
        provider=raw["provider"],
        deprecated=raw["deprecated"],
        importable=raw["importable"],
        calls=tuple(_provider_call(c) for c in raw["calls"]),
        note=raw.get("note", ""),
    )


def _provider_source(raw: dict[str, Any]) -> ProviderSource:
    return ProviderSource(name=raw["name"], used_for=raw["used_for"], url=raw.get("url"),
                          commit=raw.get("commit"), version=raw.get("version"), date=raw.get("date"))


def _check_unique(doc: _Document, section: str, key_field: str | None, *, fold_case: bool = False) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(doc.data.get(section) or ()):
        value = item if key_field is None else item[key_field]
        norm = value.lower() if fold_case else value
        if norm in seen:
            key = json_path([section, i] + ([key_field] if key_field else []))
            raise CatalogError(doc.file, key, f"duplicate {value!r} (first at {section}[{seen[norm]}])")
        seen[norm] = i


def _merge(docs: Sequence[_Document]) -> Catalog:
    operations: dict[str, Operation] = {}
    op_origin: dict[str, tuple[str, int]] = {}
    actions: dict[str, str] = {}  # lowercase -> canonical
    services: dict[str, Service] = {}
    roles: dict[str, SystemRole] = {}
    rules: dict[str, RuleMeta] = {}
    role_origin: dict[str, str] = {}
    provider_calls: dict[str, ResourceCalls] = {}
    calls_origin: dict[str, tuple[str, int]] = {}
    provenance: dict[str, ProviderSource] = {}

    for doc in docs:
        _check_unique(doc, "operations", "id")
        _check_unique(doc, "known_actions", None, fold_case=True)
        _check_unique(doc, "services", "name")
        _check_unique(doc, "system_roles", "display_name")
        _check_unique(doc, "rules", "id")
        for i, raw in enumerate(doc.data.get("operations") or ()):
            operations[raw["id"]] = _operation(raw)  # same ID: replaced in place, order kept
            op_origin[raw["id"]] = (doc.file, i)
        for action in doc.data.get("known_actions") or ():
            actions.setdefault(action.lower(), action)
        for raw in doc.data.get("services") or ():
            services[raw["name"]] = Service(name=raw["name"], level=raw["level"], title=raw.get("title", ""))
        for raw in doc.data.get("system_roles") or ():
            roles[raw["display_name"]] = _system_role(raw)
            role_origin[raw["display_name"]] = doc.file
        for raw in doc.data.get("rules") or ():
            rules[raw["id"]] = _rule(raw)
        seen_calls: dict[str, int] = {}
        for i, raw in enumerate(doc.data.get("provider_calls") or ()):
            key = provider_calls_key(raw["type"], raw["kind"])
            if key in seen_calls:
                first = f"provider_calls[{seen_calls[key]}]"
                raise CatalogError(doc.file, json_path(["provider_calls", i, "type"]),
                                   f"duplicate {raw['kind']} {raw['type']!r} (first at {first})")
            seen_calls[key] = i
            provider_calls[key] = _resource_calls(raw)  # same type and kind: replaced in place
            calls_origin[key] = (doc.file, i)
        for raw in doc.data.get("provenance") or ():
            provenance[raw["name"]] = _provider_source(raw)

    catalog = Catalog(
        operations=operations,
        actions=tuple(actions.values()),
        services=services,
        system_roles=tuple(roles.values()),
        rules=rules,
        sources=tuple(doc.file for doc in docs),
        provider_calls=provider_calls,
        provenance=tuple(provenance.values()),
    )
    _check_references(catalog, op_origin, role_origin)
    _check_provider_calls(catalog, calls_origin)
    return catalog


def _check_references(catalog: Catalog, op_origin: dict[str, tuple[str, int]], role_origin: dict[str, str]) -> None:
    for op in catalog.operations.values():
        file, index = op_origin[op.id]

        def key(*rest: str | int, _index: int = index) -> str:
            return json_path(["operations", _index, *rest])

        if op.replacement is not None:
            if op.replacement not in catalog.operations:
                raise CatalogError(file, key("replacement"), f"unknown operation ID {op.replacement!r}")
            if op.replacement == op.id:
                raise CatalogError(file, key("replacement"), "an operation cannot replace itself")
        if op.variant_of is not None and op.variant_of not in catalog.operations:
            raise CatalogError(file, key("variant_of"), f"unknown operation ID {op.variant_of!r}")
        for j, action in enumerate(op.actions):
            canonical = catalog.canonical_action(action)
            if canonical is None:
                raise CatalogError(file, key("actions", j), f"{action!r} is not a known action (add it to known_actions)")
            if canonical != action:
                raise CatalogError(file, key("actions", j), f"{action!r}: write it as {canonical!r}")
        for j, prereq in enumerate(op.prerequisites):
            if prereq.service not in catalog.services:
                raise CatalogError(file, key("prerequisites", j, "service"), f"unknown service {prereq.service!r}")
            for k, role_name in enumerate(prereq.any_of):
                if catalog.system_role(role_name) is None:
                    raise CatalogError(
                        file, key("prerequisites", j, "any_of", k), f"unknown system role {role_name!r}"
                    )
    for role in catalog.system_roles:
        for dependency in role.depends:
            if catalog.system_role(dependency.role) is None:
                raise CatalogError(role_origin.get(role.display_name, "system_roles"),
                                   f"system_roles[{role.display_name!r}].depends",
                                   f"unknown system role {dependency.role!r}")


def _check_provider_calls(catalog: Catalog, origin: dict[str, tuple[str, int]]) -> None:
    """A call's IMS action is a known action, in catalogue spelling (an unknown one only on an
    unconfirmed call); another service's action names a known service; a requirement names a
    known service, actions of that service (a known IMS action unless unconfirmed) and known
    system roles, and names none only if unconfirmed; a type starts with its provider's name."""
    for key, entry in catalog.provider_calls.items():
        file, index = origin[key]

        def path(*rest: str | int, _index: int = index) -> str:
            return json_path(["provider_calls", _index, *rest])

        if not entry.type.startswith(f"{entry.provider}_"):
            raise CatalogError(file, path("provider"), f"{entry.type!r} is not a type of provider {entry.provider!r}")
        for i, call in enumerate(entry.calls):
            for j, action in enumerate(call.actions):
                _check_call_action(catalog, file, path("calls", i, "actions", j), action,
                                   unknown_ok=call.unconfirmed, unknown_hint="or mark the call unconfirmed")
            for j, req in enumerate(call.requires):
                if not req.actions and not req.roles and req.basis != "unconfirmed":
                    raise CatalogError(file, path("calls", i, "requires", j),
                                       "names no action and no role: give actions or roles, or basis unconfirmed")
                if req.service not in catalog.services:
                    raise CatalogError(file, path("calls", i, "requires", j, "service"),
                                       f"unknown service {req.service!r}")
                for k, action in enumerate(req.actions):
                    where = path("calls", i, "requires", j, "actions", k)
                    if action.split(":", 1)[0].lower() != req.service:
                        raise CatalogError(file, where, f"{action!r} is not an action of service {req.service!r}")
                    if "*" not in action:
                        _check_call_action(catalog, file, where, action, unknown_ok=req.basis == "unconfirmed",
                                           unknown_hint="or make the requirement's basis unconfirmed")
                for k, role_name in enumerate(req.roles):
                    if catalog.system_role(role_name) is None:
                        raise CatalogError(file, path("calls", i, "requires", j, "roles", k),
                                           f"unknown system role {role_name!r}")


def _check_call_action(catalog: Catalog, file: str, key: str, action: str, *,
                       unknown_ok: bool, unknown_hint: str) -> None:
    service = action.split(":", 1)[0]
    if service.lower() == "ims":
        canonical = catalog.canonical_action(action)
        if canonical is None:
            if not unknown_ok:
                raise CatalogError(file, key,
                                   f"{action!r} is not a known action (add it to known_actions, {unknown_hint})")
        elif canonical != action:
            raise CatalogError(file, key, f"{action!r}: write it as {canonical!r}")
    elif service not in catalog.services:
        raise CatalogError(file, key, f"{action!r}: unknown service {service!r}")
