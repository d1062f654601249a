"""Configuration: `.iac-ims.yml` (scanned directory up to the repository root), `[tool.iac-ims]`
in `pyproject.toml`, or `--config FILE`.  Unknown keys are an error naming the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAMES = (".iac-ims.yml", ".iac-ims.yaml")
SEVERITY_VALUES = ("error", "warning", "info")
FAIL_ON_VALUES = ("error", "warning", "info", "never")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "fail_on": {"enum": list(FAIL_ON_VALUES)},
        # rule IDs are checked against the rule registry (plugins included), with "did you mean"
        "skip_rules": {"type": "array", "items": {"type": "string"}},
        "only_rules": {"type": "array", "items": {"type": "string"}},
        "severity": {"type": "object", "additionalProperties": {"enum": list(SEVERITY_VALUES)}},
        "intents": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "var_files": {"type": "array", "items": {"type": "string"}},
        "vars": {"type": "object"},
        "catalog": {"type": "array", "items": {"type": "string"}},
        "baseline": {"type": "string"},
        "role_ids": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
        "exclude": {"type": "array", "items": {"type": "string", "minLength": 1}},
        # the address of the user, group or agency that runs terraform (or several)
        "deployer": {"anyOf": [{"type": "string", "minLength": 1},
                               {"type": "array", "items": {"type": "string", "minLength": 1}}]},
    },
}


class ConfigError(Exception):
    pass


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # the file it came from
    base: Path | None = None  # relative paths in it are relative to this directory


def _validate(data: Any, source: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping of keys")
    unknown = sorted(set(data) - set(SCHEMA["properties"]))
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} (known: {', '.join(SCHEMA['properties'])})")
    import jsonschema

    try:
        jsonschema.validate(data, SCHEMA)
    except jsonschema.ValidationError as exc:
        key = ".".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise ConfigError(f"{source}: {key}: {exc.message}") from None
    return data


def load_file(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8") from None
    try:
        return _load_text(path, text)
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None


def _load_text(path: Path, text: str) -> Config:
    if path.name == "pyproject.toml":
        import tomllib

        try:
            data = tomllib.loads(text).get("tool", {}).get("iac-ims")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{path}: invalid YAML{where}") from None
    return Config(_validate(data, str(path)), str(path), path.parent)


def find_config(start: Path) -> Config:
    """The nearest config from `start` up to the repository root (a directory holding .git)."""
    directory = start if start.is_dir() else start.parent
    directory = directory.resolve()
    for candidate in (directory, *directory.parents):
        for name in CONFIG_NAMES:
            if (candidate / name).is_file():
                return load_file(candidate / name)
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            config = load_file(pyproject)
            if config.values:
                return config
        if (candidate / ".git").exists():
            break
    return Config()
