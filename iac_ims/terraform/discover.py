"""Which directories are Terraform modules, and which files belong to each."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Iterable

MAX_DIRECTORIES = 20_000  # bound the walk of a hostile tree
TF_SUFFIXES = (".tf", ".tf.json")


@dataclass(frozen=True)
class ModuleDir:
    path: Path  # absolute, resolved
    files: tuple[Path, ...]  # .tf / .tf.json, sorted by name
    whole: bool = True  # False when some of its files are excluded: what they declare is not seen


class Exclusions:
    """`--exclude` globs, matched against paths relative to the scanned directory ('/'-separated).

    A glob without '/' matches any file or directory name at any depth (`examples`,
    `*_test.tf`); one with '/' matches from the scanned directory (`tools/iac-ims`,
    `modules/*/examples`, `**/fixtures`). A directory that matches is left out with everything
    below it."""

    def __init__(self, patterns: Iterable[str] = ()):
        self.patterns = [p.strip().strip("/") for p in patterns if p.strip().strip("/")]

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def match(self, relative: str) -> bool:
        parts = PurePosixPath(relative).parts
        for pattern in self.patterns:
            if "/" not in pattern:
                if any(fnmatchcase(part, pattern) for part in parts):
                    return True
                continue
            anchored = pattern[3:] if pattern.startswith("**/") else None
            for depth in range(1, len(parts) + 1):
                prefix = "/".join(parts[:depth])
                if fnmatchcase(prefix, pattern) or (anchored is not None and any(
                        fnmatchcase("/".join(parts[start:depth]), anchored) for start in range(depth))):
                    return True
        return False


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


def walk_module_dirs(root: Path, exclude: Exclusions | None = None) -> list[ModuleDir]:
    """Every directory under `root` (itself included) holding Terraform files, but those the
    exclusions leave out.

    Skips `.terraform/` and hidden directories; follows no symlinked directories (no loops)."""
    found: list[ModuleDir] = []
    seen = 0
    for current, dirnames, _ in os.walk(root, followlinks=False):
        seen += 1
        if seen > MAX_DIRECTORIES:
            break
        here = Path(current)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "node_modules"
                             and not (exclude and exclude.match(_relative(here / d, root))))
        files = module_files(here)
        kept = tuple(f for f in files if not (exclude and exclude.match(_relative(f, root))))
        if kept:
            found.append(ModuleDir(here, kept, whole=len(kept) == len(files)))
    return found


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


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
