"""iac-ims: static analysis of Huawei Cloud IAM in Terraform for IMS permissions.

The Python API is what the command line itself uses::

    import iac_ims
    report = iac_ims.scan(["infra/"], iac_ims.ScanOptions(intents={...}))
    for finding in report.findings: ...
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["scan", "ScanOptions", "Report", "__version__"]


def scan(paths: Any, options: Any = None) -> Any:
    """Scan Terraform directories or files; returns a `Report` (see `iac_ims.pipeline`)."""
    from iac_ims.pipeline import scan as run

    return run(paths, options)


def __getattr__(name: str) -> Any:
    # imported on first use: `import iac_ims` stays cheap for the command line
    if name in ("ScanOptions", "Report"):
        from iac_ims import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'iac_ims' has no attribute {name!r}")
