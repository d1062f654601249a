"""Which directories are Terraform modules, and which files belong to each."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_DIRECTORIES = 20_000  # bound the walk of a hostile tree
TF_SUFFIXES = (".tf", ".tf.json")


@dataclass(frozen=True)
class ModuleDir:
    path: Path  # absolute, resolved
    files: tuple[Path, ...]  # .tf / .tf.json, sorted by name


def is_tf_file(name: str) -> bool:
    return name.endswith(TF_SUFFIXES)


def module_files(directory: Path) -> tuple[Path, ...]:
    """The `.tf` and `.tf.json` entries of one directory (not recursive), sorted by name.

    Entries that are not regular files (a directory named `x.tf`, a dangling link) are kept:
    reading them yields a clear IMS900 rather than silently ignoring them."""
    try:
        names = sorted(e.name for e in os.scandir(directory) if is_tf_file(e.name) and not e.name.startswith("."))
    except OSError:
        return ()
    return tuple(directory / n for n in names)


def walk_module_dirs(root: Path) -> list[ModuleDir]:
    """Every directory under `root` (itself included) holding Terraform files.

    Skips `.terraform/` and hidden directories; follows no symlinked directories (no loops)."""
    found: list[ModuleDir] = []
    seen = 0
    for current, dirnames, _ in os.walk(root, followlinks=False):
        seen += 1
        if seen > MAX_DIRECTORIES:
            break
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "node_modules")
        files = module_files(Path(current))
        if files:
            found.append(ModuleDir(Path(current), files))
    return found


def tfvars_files(directory: Path) -> list[Path]:
    """Variable files Terraform loads automatically for a root module, in Terraform's order."""
    result: list[Path] = []
    for name in ("terraform.tfvars", "terraform.tfvars.json"):
        if (directory / name).is_file():
            result.append(directory / name)
    try:
        autos = sorted(n for n in os.listdir(directory) if n.endswith((".auto.tfvars", ".auto.tfvars.json")))
    except OSError:
        autos = []
    result.extend(directory / n for n in autos if (directory / n).is_file())
    return result
