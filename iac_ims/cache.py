"""Where iac-ims keeps its caches: `$IAC_IMS_CACHE_DIR`, else `$XDG_CACHE_HOME/iac-ims`, else the
platform's user cache directory.  Every cache is an optimisation only: a cache that cannot be
read or written is ignored, and `IAC_IMS_NO_CACHE=1` turns them all off."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def caching_enabled() -> bool:
    return not os.environ.get("IAC_IMS_NO_CACHE")


def cache_dir() -> Path | None:
    if not caching_enabled():
        return None
    explicit = os.environ.get("IAC_IMS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "iac-ims"
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("iac-ims", appauthor=False))
    except Exception:  # noqa: BLE001 - no usable cache directory: run without one
        return None


def write_json_atomically(path: Path, value: Any) -> None:
    """`value` as JSON, via a private temporary file and a rename, so that concurrent runs never
    see half a file; written as it is encoded (a report of many thousand findings is never held
    whole as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(value, stream)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def content_digest(data: bytes) -> str:
    """The content hash the scan cache keys files by."""
    return hashlib.sha256(data).hexdigest()
