"""The run-task server's pieces on their own: origins, signature, payload, result body limits,
redirect hops, archive extraction. No network; the exchange itself is in test_serve.py."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiohttp")

from yarl import URL  # noqa: E402

from iac_ims.findings import Finding  # noqa: E402
from iac_ims.server import archive, outcomes  # noqa: E402
from iac_ims.server.config import ArchiveLimits, RetryPolicy, SetupError, parse_listen, parse_origins  # noqa: E402
from iac_ims.server.fetch import FetchError, next_hop  # noqa: E402
from iac_ims.server.origins import is_allowed, parse_origin, parse_url  # noqa: E402
from iac_ims.server.payload import PayloadError, parse_request, working_directory  # noqa: E402
from iac_ims.server.signature import ENV_KEY, Verdict, load_key, sign, verify  # noqa: E402

HCP = (parse_origin("https://app.terraform.io"),)


# ---- origins ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://app.terraform.io/api/v2/task-results/1/callback",
    "HTTPS://APP.Terraform.io:443/api/v2/x",
    "https://app.terraform.io./api",
])
def test_urls_on_the_allowed_origin(url: str) -> None:
    assert is_allowed(parse_url(url), HCP)


@pytest.mark.parametrize("url", [
    "https://app.terraform.io.evil.com/api/v2/x",  # a naive prefix check passes this one
    "https://evil.com/app.terraform.io/api",
    "https://evil.com/?https://app.terraform.io",
    "http://app.terraform.io/api/v2/x",  # another scheme
    "https://app.terraform.io:8443/api/v2/x",  # another port
    "https://app.terraform.io.:444/x",
    "https://xn--app-terraform-io.evil/x",
])
def test_urls_outside_the_allowed_origin(url: str) -> None:
    assert not is_allowed(parse_url(url), HCP)


@pytest.mark.parametrize("text", [
    "https://app.terraform.io@evil.com/x", "https://user:pw@app.terraform.io/x", "ftp://app.terraform.io/x",
    "file:///etc/passwd", "/api/v2/x", "//evil.com/x", " https://app.terraform.io/x", "https://app.terraform.io\\.evil/",
    "https://app.terraform.io/\x00", "javascript:alert(1)", "", 5, None,
])
def test_what_is_no_usable_url(text: Any) -> None:
    with pytest.raises(ValueError):
        parse_url(text)


def test_allowed_origins_are_scheme_host_and_port() -> None:
    assert [str(o) for o in parse_origins(())] == ["https://app.terraform.io"]
    assert [str(o) for o in parse_origins(["http://127.0.0.1:8080/", "https://TFE.example.com:443", "https://[::1]:9"])] \
        == ["http://127.0.0.1:8080", "https://tfe.example.com", "https://[::1]:9"]
    for bad in ("https://tfe.example.com/api", "tfe.example.com", "https://u@tfe.example.com", "https://x/?q"):
        with pytest.raises(SetupError):
            parse_origins([bad])


def test_listen_addresses() -> None:
    assert parse_listen("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert parse_listen("[::]:0") == ("::", 0)
    for bad in ("8080", ":8080", "host:", "host:http", "host:70000"):
        with pytest.raises(SetupError):
            parse_listen(bad)


# ---- redirects -----------------------------------------------------------------------------------

def test_redirect_hops() -> None:
    here = URL("https://app.terraform.io/api/v2/configuration-versions/cv-1/download")
    assert str(next_hop(here, "https://archivist.terraform.io/v1/object/secret", HCP)).startswith("https://archivist")
    assert str(next_hop(here, "/other", HCP)) == "https://app.terraform.io/other"
    for location in (None, "", "http://archivist.terraform.io/v1/object/secret", "ftp://x/y", "file:///etc/passwd",
                     "https://user@blob.example/x", "http://169.254.169.254/latest/meta-data"):
        with pytest.raises(FetchError):
            next_hop(here, location, HCP)


# ---- signature -----------------------------------------------------------------------------------

def test_signature_is_hmac_sha512_hex_of_the_raw_body() -> None:
    body = b'{"access_token": "test-token"}'
    # what `openssl dgst -sha512 -hmac secret FILE` prints for these bytes (the docs' recipe)
    digest = ("19e56f72e32177cde0936a5562a070cdb6cfa74c3cfd0847e982704c1097e88c"
              "b27edbaf62dff0847348239050f0bf24c4bd1c6d96ae6ca20fea4aec13709238")
    assert sign(b"secret", body) == digest
    assert verify(b"secret", body, digest) is Verdict.VALID
    assert verify(b"secret", body, digest.upper()) is Verdict.VALID
    assert verify(b"secret", body + b" ", digest) is Verdict.MISMATCH
    assert verify(b"secret", body, "") is Verdict.MISMATCH
    assert verify(b"secret", body, None) is Verdict.MISMATCH
    assert verify(b"secret", body, "\udcff" * 3) is Verdict.MISMATCH
    assert verify(None, body, "") is Verdict.VALID  # --insecure-no-hmac
    assert verify(None, body, digest) is Verdict.UNEXPECTED


def test_the_key_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("s3cret\n")
    assert load_key(str(key_file), {ENV_KEY: "other"}) == b"s3cret"
    assert load_key(None, {ENV_KEY: " from-env "}) == b"from-env"
    assert load_key(None, {}) is None
    (tmp_path / "empty").write_text("\n")
    for bad in (str(tmp_path / "empty"), str(tmp_path / "missing")):
        with pytest.raises(SetupError):
            load_key(bad, {})


# ---- payload -------------------------------------------------------------------------------------

def payload(**changes: Any) -> bytes:
    body = {"payload_version": 1, "stage": "pre_plan", "access_token": "tok", "task_result_id": "taskrs-1",
            "task_result_callback_url": "https://app.terraform.io/api/v2/task-results/1/callback",
            "configuration_version_download_url": "https://app.terraform.io/api/v2/configuration-versions/cv/download",
            "capabilities": {"outcomes": True}, "workspace_working_directory": "/terraform", "new_key": [1]}
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v != "<absent>"}).encode()


def test_a_run_task_request_is_read() -> None:
    request = parse_request(payload())
    assert (request.stage, request.task_result_id, request.working_directory, request.outcomes) == \
        ("pre_plan", "taskrs-1", "terraform", True)
    assert not request.is_verification
    assert parse_request(payload(configuration_version_download_url=None)).download_url is None
    assert not parse_request(payload(capabilities="<absent>")).outcomes
    assert not parse_request(payload(capabilities={"outcomes": "yes"})).outcomes
    assert parse_request(b'{"access_token": "test-token"}').is_verification


@pytest.mark.parametrize("value, expected", [
    (None, ""), ("", ""), ("/", ""), ("/terraform", "terraform"), ("stacks/network/", "stacks/network"),
    ("./a//b/.", "a/b"), ("a\\b", "a/b"),
])
def test_working_directory_is_relative_to_the_archive_root(value: Any, expected: str) -> None:
    assert working_directory(value) == expected


@pytest.mark.parametrize("value", ["..", "a/../../b", "/../etc", "a/..", 5, "a\x00b"])
def test_working_directory_never_leaves_the_archive(value: Any) -> None:
    with pytest.raises(PayloadError):
        working_directory(value)


# ---- the result body -------------------------------------------------------------------------------

TAG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_result_body(document: dict[str, Any]) -> None:
    """The limits of the run task result schema and docs, written out independently of the code."""
    data = document["data"]
    assert set(document) == {"data"} and data["type"] == "task-results"
    attributes = data["attributes"]
    assert attributes["status"] in ("running", "passed", "failed")
    assert 1 <= len(attributes["message"]) <= 1000 and "\n" not in attributes["message"]
    items = data.get("relationships", {}).get("outcomes", {}).get("data", [])
    assert len(items) <= 250
    for item in items:
        assert item["type"] == "task-result-outcomes" and "id" not in item
        outcome = item["attributes"]
        assert 1 <= len(outcome["outcome-id"]) <= 64
        assert 1 <= len(outcome["description"]) <= 1000
        assert 1 <= len(outcome["body"]) <= 10_000
        assert 1 <= len(outcome["tags"]) <= 10
        for key, labels in outcome["tags"].items():
            assert TAG_KEY.match(key) and 1 <= len(labels) <= 32
            for label in labels:
                assert 1 <= len(label["label"]) <= 32 and label["level"] in ("none", "info", "warning", "error")
    assert len(json.dumps(document, ensure_ascii=False).encode()) < 5 * 1024 * 1024


def finding(n: int, severity: str = "error", size: int = 40, **changes: Any) -> Finding:
    values: dict[str, Any] = dict(rule_id=f"IMS{100 + n % 8}", severity=severity, title="A title", message="m" * size,
                                  resource=f"huaweicloud_identity_role.r{n}", file="main.tf", line=n + 1,
                                  end_line=n + 1, evidence=["e" * size], fix="f" * size)
    values.update(changes)
    return Finding(**values)


def test_each_finding_becomes_an_outcome() -> None:
    result = outcomes.scan_result([finding(0, "warning"), finding(1, "error"), finding(2, "info", suppressed=True)], 3,
                                  "error", with_outcomes=True)
    check_result_body(result.body())
    assert result.status == "failed"
    assert result.message == "iac-ims: 1 error, 1 warning in 3 Terraform files (fails on error); 1 suppressed"
    assert [o["attributes"]["tags"]["Severity"][0]["level"] for o in result.outcomes] == ["error", "warning"]
    assert outcomes.scan_result([finding(0, "warning")], 1, "error", with_outcomes=True).status == "passed"
    assert outcomes.scan_result([finding(0, "warning")], 1, "warning", with_outcomes=True).status == "failed"
    assert outcomes.scan_result([finding(0, "error")], 1, "never", with_outcomes=False).body()["data"].keys() == \
        {"type", "attributes"}


def test_over_250_findings_the_rest_is_summarised() -> None:
    result = outcomes.scan_result([finding(n) for n in range(600)], 10, "error", with_outcomes=True)
    check_result_body(result.body())
    assert len(result.outcomes) == 250
    last = result.outcomes[-1]["attributes"]
    assert last["outcome-id"] == "more-findings" and last["description"].startswith("351 more findings")
    exact = outcomes.scan_result([finding(n) for n in range(250)], 10, "error", with_outcomes=True)
    assert len(exact.outcomes) == 250 and exact.outcomes[-1]["attributes"]["outcome-id"] != "more-findings"


def test_huge_texts_are_cut_to_the_limits() -> None:
    big = [finding(n, size=50_000, rule_id="X" * 100, resource="r\n" * 800) for n in range(250)]
    result = outcomes.scan_result(big, 1, "error", with_outcomes=True, notes=["n" * 5000])
    check_result_body(result.body())
    assert result.outcomes[-1]["attributes"]["outcome-id"] == "more-findings"  # the byte budget ran out first
    assert len(json.dumps(result.body(), ensure_ascii=False).encode()) <= outcomes.MAX_OUTCOMES_BYTES + 64 * 1024


def test_non_ascii_and_markdown_in_findings_stay_within_limits() -> None:
    text = "é`😀" * 5000
    result = outcomes.scan_result([finding(0, message=text, evidence=[text, "`x`"], resource="a`b")], 1, "error",
                                  with_outcomes=True)
    check_result_body(result.body())
    body = result.outcomes[0]["attributes"]["body"]
    assert "``a`b``" in body and "`` `x` ``" in body


def test_text_from_the_scanned_code_cannot_add_links_or_html() -> None:
    body = outcomes.markdown(finding(0, message="see [docs](https://evil.example) <img src=x onerror=alert(1)>",
                                     fix="**now** <script>", evidence=["<b>x</b>"]))
    assert r"\[docs\](" in body and r"\<img" in body and r"\<script\>" in body  # escaped, shown as written
    assert not re.search(r"(?<!\\)[<\[]", body.replace("`<b>x</b>`", ""))
    assert "`<b>x</b>`" in body  # in a code span: shown, not rendered


def test_files_outside_the_configuration_are_not_named() -> None:
    body = outcomes.markdown(finding(0, file="/tmp/iac-ims-serve-x/job-y/mod/main.tf"))
    assert "/tmp" not in body and outcomes.OUTSIDE in body
    assert outcomes.OUTSIDE in outcomes.markdown(finding(0, file="../outside/main.tf"))


def test_a_failure_message_is_one_line() -> None:
    result = outcomes.could_not_check("the configuration\ndownload\ttimed out")
    check_result_body(result.body())
    assert result.body()["data"]["attributes"]["message"] == \
        "iac-ims could not check this run: the configuration download timed out"


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(attempts=6, first_delay=1.0, factor=2.0, max_delay=5.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


# ---- archives ------------------------------------------------------------------------------------

def tar_bytes(entries: list[tarfile.TarInfo | tuple[str, bytes]], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=fmt) as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                info.mode = 0o4755  # setuid and executable: never kept
                tar.addfile(info, io.BytesIO(entry[1]))
    return buffer.getvalue()


def unpack(tmp_path: Path, data: bytes, limits: ArchiveLimits = ArchiveLimits()) -> archive.Extracted:
    source = tmp_path / "in.tar.gz"
    source.write_bytes(data)
    dest = tmp_path / "out"
    dest.mkdir()
    return archive.extract(source, dest, limits)


def test_files_and_directories_are_unpacked_without_their_modes(tmp_path: Path) -> None:
    directory = tarfile.TarInfo("mods/")
    directory.type = tarfile.DIRTYPE
    result = unpack(tmp_path, tar_bytes([directory, ("./main.tf", b"a"), ("mods/x/y.tf", b"bc"), ("main.tf", b"def")],
                                        tarfile.PAX_FORMAT))
    assert (result.files, result.bytes, result.skipped) == (3, 6, {})
    assert (tmp_path / "out/main.tf").read_bytes() == b"def"  # a later entry of the same name wins, as in tar
    assert (tmp_path / "out/main.tf").stat().st_mode & 0o7777 == 0o600


def test_a_file_where_a_directory_is_is_refused(tmp_path: Path) -> None:
    for n, entries in enumerate(([("a/b.tf", b"x"), ("a", b"y")], [("a", b"y"), ("a/b.tf", b"x")])):
        (tmp_path / str(n)).mkdir()
        with pytest.raises(archive.ArchiveError, match="both named"):
            unpack(tmp_path / str(n), tar_bytes(entries))


def test_a_sparse_file_is_skipped(tmp_path: Path) -> None:
    sparse = tarfile.TarInfo("holes.bin")
    sparse.type = tarfile.GNUTYPE_SPARSE
    assert unpack(tmp_path, tar_bytes([sparse])).skipped == {"devices, FIFOs and sparse files": 1}


def test_the_ratio_limit_stops_a_bomb_before_the_byte_limit(tmp_path: Path) -> None:
    limits = ArchiveLimits(total_bytes=64 * 1024 * 1024, file_bytes=64 * 1024 * 1024, ratio=100,
                           ratio_grace_bytes=1024 * 1024)
    with pytest.raises(archive.ArchiveError, match="compression bomb"):
        unpack(tmp_path, tar_bytes([("zeros.txt", bytes(16 * 1024 * 1024))]), limits)
    assert sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file()) <= 2 * 1024 * 1024


@pytest.mark.parametrize("name", ["a" * 300, "/".join(["d"] * 100), "x\x00y"])
def test_unusable_names_are_refused(tmp_path: Path, name: str) -> None:
    entry = tarfile.TarInfo(name)
    with pytest.raises(archive.ArchiveError, match="invalid name"):
        archive._extract_member(None, entry, tmp_path, ArchiveLimits(), archive.Extracted())  # type: ignore[arg-type]
