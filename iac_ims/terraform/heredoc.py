"""The body of a heredoc token: text only, so that the parsers (which meet heredoc tokens) need
nothing of the template language, which parses expressions with them."""

from __future__ import annotations


def heredoc_body(token: str) -> tuple[str, bool]:
    """The body of a heredoc token and whether it is a `<<-` (flush) heredoc.

    `<<EOT\\nline\\nEOT\\n` -> ("line\\n", False): the body keeps its final newline (as
    Terraform does) and loses the closing marker line.
    """
    flush = token.startswith("<<-")
    first_nl = token.find("\n")
    if first_nl < 0:
        return "", flush
    marker = token[3 if flush else 2 : first_nl].rstrip("\r").strip()
    rest = token[first_nl + 1 :]
    if rest.endswith("\n"):
        rest = rest[:-1]
    if rest.endswith("\r"):
        rest = rest[:-1]
    if marker and rest.endswith(marker):
        rest = rest[: -len(marker)]
    rest = rest.rstrip(" \t")
    if "\r\n" in rest:
        rest = rest.replace("\r\n", "\n")
    return rest, flush
