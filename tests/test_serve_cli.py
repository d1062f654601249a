"""`iac-ims serve` start-up: what stops it with exit 2 and one line, before it listens."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from iac_ims.cli import cli


def serve(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["serve", *args], env={"IAC_IMS_HMAC_KEY": "", **(env or {})})
    return result.exit_code, result.output


def test_without_aiohttp_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # `import aiohttp` now raises ImportError
    code, output = serve("--insecure-no-hmac")
    assert code == 2 and "install iac-ims[server]" in output


def test_without_a_key_it_does_not_start() -> None:
    code, output = serve("--listen", "127.0.0.1:0")
    assert code == 2 and "no HMAC key" in output and "IAC_IMS_HMAC_KEY" in output


def test_the_key_is_never_a_command_line_argument() -> None:
    code, output = serve("--hmac-key", "secret")
    assert code == 2 and "No such option" in output


@pytest.mark.parametrize("args, message", [
    (["--allowed-origin", "https://app.terraform.io/api"], "without a path"),
    (["--allowed-origin", "app.terraform.io"], "--allowed-origin"),
    (["--listen", "8080"], "expected HOST:PORT"),
    (["--tls-cert", "cert.pem"], "--tls-cert and --tls-key go together"),
    (["--config", "missing.yml"], "missing.yml"),
    (["--catalog", "missing.yaml"], "missing.yaml"),
])
def test_settings_that_cannot_work_are_usage_errors(args: list[str], message: str) -> None:
    code, output = serve("--insecure-no-hmac", *args)
    assert code == 2 and message in output, output


def test_an_unreadable_key_file_is_a_usage_error(tmp_path: Path) -> None:
    code, output = serve("--hmac-key-file", str(tmp_path / "absent"))
    assert code == 2 and "cannot read the HMAC key file" in output


def test_an_unknown_rule_in_the_config_stops_it(tmp_path: Path) -> None:
    config = tmp_path / "server.yml"
    config.write_text("skip_rules: [IMS999]\n")
    code, output = serve("--insecure-no-hmac", "--config", str(config))
    assert code == 2 and "IMS999" in output


def test_a_port_in_use_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = serve("--insecure-no-hmac", "--listen", f"127.0.0.1:{port}", "--work-dir", str(tmp_path))
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in output
    assert not list(tmp_path.iterdir()), "the work directory of a server that never started was left"
