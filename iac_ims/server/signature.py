"""The run task's HMAC: where the key comes from, and checking a request against it.

HCP Terraform signs the raw request body with HMAC-SHA512 keyed with the run task's HMAC key and
sends the lowercase hex digest in `X-TFC-Task-Signature` (an empty header when the task has no
key): https://developer.hashicorp.com/terraform/cloud-docs/api-docs/tasks/run-tasks-integration
The check runs on the bytes as received, before any JSON parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from enum import Enum

from iac_ims.server.config import SetupError

HEADER = "X-TFC-Task-Signature"
ENV_KEY = "IAC_IMS_HMAC_KEY"


class Verdict(Enum):
    VALID = "valid"
    MISMATCH = "mismatch"  # missing, malformed or wrong: 401
    UNEXPECTED = "unexpected"  # signed, but this server has no key (started with --insecure-no-hmac): 400


def load_key(key_file: str | None, environ: dict[str, str] | os._Environ = os.environ) -> bytes | None:
    """The key from `key_file`, else from $IAC_IMS_HMAC_KEY; None when neither is set. Never a
    command-line argument: those show in `ps` and shell history. Surrounding whitespace is
    dropped (a key file usually ends with a newline; HCP Terraform's key field keeps none)."""
    if key_file:
        try:
            with open(key_file, "rb") as handle:
                key = handle.read().strip()
        except OSError as exc:
            raise SetupError(f"cannot read the HMAC key file {key_file}: {exc.strerror or exc}") from None
        if not key:
            raise SetupError(f"the HMAC key file {key_file} is empty")
        return key
    value = environ.get(ENV_KEY, "").strip()
    return value.encode("utf-8") if value else None


def sign(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha512).hexdigest()


def verify(key: bytes | None, body: bytes, header: str | None) -> Verdict:
    provided = (header or "").strip()
    if key is None:
        return Verdict.UNEXPECTED if provided else Verdict.VALID
    # compared as bytes: a non-ASCII header is simply wrong, not an exception
    given = provided.lower().encode("utf-8", "surrogateescape")
    return Verdict.VALID if hmac.compare_digest(sign(key, body).encode("ascii"), given) else Verdict.MISMATCH
