"""Which hosts the server may talk to, decided on parsed URLs.

A signed payload names the URLs the server downloads from and reports to, with the run's token.
The server sends a request (and the token) only to an origin the operator allowed: scheme, host
and port compared as parsed values, so `https://app.terraform.io.evil.com` and
`https://app.terraform.io@evil.com` are other hosts, not longer strings that start alike. The
URLs are parsed with yarl, the parser the HTTP client itself connects with, so what is checked
is what is connected to.
"""

from __future__ import annotations

from dataclasses import dataclass

from yarl import URL

SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str  # lower case, IDNA-encoded
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        return f"{self.scheme}://{host}" if self.port == default else f"{self.scheme}://{host}:{self.port}"


def parse_url(text: str) -> URL:
    """An absolute http(s) URL with a host and no user info; ValueError otherwise."""
    if not isinstance(text, str) or text != text.strip() or any(ord(c) < 0x21 for c in text):
        raise ValueError("not a URL")
    url = URL(text)  # raises ValueError on what RFC 3986 forbids
    if url.scheme not in SCHEMES or not url.raw_host or not url.is_absolute():
        raise ValueError("not an absolute http or https URL")
    if url.raw_user is not None or url.raw_password is not None:
        raise ValueError("a URL with user information")
    return url


def origin_of(url: URL) -> Origin:
    return Origin(url.scheme, url.raw_host.lower().rstrip("."), url.port or 0)  # type: ignore[union-attr]


def parse_origin(text: str) -> Origin:
    """An `--allowed-origin`: scheme, host and optional port, nothing after them."""
    url = parse_url(text.rstrip("/"))
    if url.raw_path not in ("", "/") or url.raw_query_string or url.raw_fragment:
        raise ValueError("an origin is scheme://host[:port], without a path")
    return origin_of(url)


def is_allowed(url: URL, allowed: tuple[Origin, ...]) -> bool:
    return origin_of(url) in allowed
