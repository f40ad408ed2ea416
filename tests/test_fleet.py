"""``checkswap fleet`` without a Prometheus: failures against a tiny local HTTP server (auth
required, an answer that is not the API's, a slow server, a server down), credentials from a
file or the environment and never printed, the step under the 11,000-points limit, arguments.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from checkswap.fleet.queries import QUERIES
from checkswap.fleet.ranking import MAX_POINTS, choose_step, selector
from tests.clihelp import REPO, run_cli
from tests.fleetlab import free_port

SECRET = "s3cret-token-do-not-print"


class Fake(http.server.BaseHTTPRequestHandler):
    """Answers like Prometheus for one quiet host, behind a bearer token (when ``token``)."""

    token: str | None = None
    mode = "ok"
    seen: list[str] = []  # noqa: RUF012 (one server per test)

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        # Prometheus answers a range query at start, start + step, ... end: the grid fleet
        # judges each minute on. An instant query at its "time".
        start, end = float(form.get("start", ["0"])[0]), float(form.get("end", ["0"])[0])
        step = float(form.get("step", ["60s"])[0].rstrip("s"))
        grid = [start + k * step for k in range(round((end - start) / step) + 1)]
        self.seen.append(self.headers.get("Authorization") or "")
        if self.mode == "slow":
            time.sleep(3)
        if self.mode == "unhurried":
            time.sleep(0.35)  # 12 queries: about 4 s, past the pipe form's 3 s between lines
        if self.token is not None and self.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(401, b"Unauthorized\n", "text/plain")
        if self.mode == "html":
            return self._send(200, b"<html>not prometheus</html>", "text/html")
        now = float(form.get("time", [str(time.time())])[0])
        if self.mode in ("nodata", "nohost") and self.path.endswith("/query_range"):
            # nodata: the host's counters are there, never two scrapes within a rate's range.
            # nohost: series without a value (NaN), so no host at all.
            series = (
                [{"metric": {"instance": "a:1"}, "values": []}] if self.mode == "nodata" else []
            )
            result = {"resultType": "matrix", "result": series}
            return self._send(
                200, json.dumps({"status": "success", "data": result}).encode(), "application/json"
            )
        if self.mode == "nohost":
            # (a finding is a host's even without a value: none is exported here)
            finding = "checkswap_doctor_finding" in form.get("query", [""])[0]
            series = [] if finding else [{"metric": {}, "value": [now, "NaN"]}]
            result = {"resultType": "vector", "result": series}
            return self._send(
                200, json.dumps({"status": "success", "data": result}).encode(), "application/json"
            )
        if self.mode == "hostile":
            # A terminal escape in a label, a series whose labels are not an object, values
            # that are not numbers: printed safely or ignored, never a traceback.
            bad = "\x1b]0;owned\x07evil"
            key = "values" if self.path.endswith("/query_range") else "value"
            pairs: Any = (
                [[grid[0], "0"], *([t, "NaN"] for t in grid[1:]), ["x", "1"]]
                if key == "values"
                else [now, "1e999"]
            )
            result = {
                "resultType": "matrix" if key == "values" else "vector",
                "result": [
                    {"metric": {"instance": bad, "comm": bad}, key: pairs},
                    {"metric": ["not", "an", "object"], key: pairs},
                    "not a series",
                ],
            }
            body = json.dumps({"status": "success", "data": result}).encode()
            return self._send(200, body, "application/json")
        if self.path.endswith("/query_range"):
            result: Any = {
                "resultType": "matrix",
                "result": [{"metric": {"instance": "a:1"}, "values": [[t, "0"] for t in grid]}],
            }
        else:
            result = {
                "resultType": "vector",
                "result": [{"metric": {"instance": "a:1"}, "value": [now, "0"]}],
            }
        self._send(
            200, json.dumps({"status": "success", "data": result}).encode(), "application/json"
        )

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (the timeout test)
            self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[tuple[str, type[Fake]]]:
    handler = type("Handler", (Fake,), {"seen": [], "token": None, "mode": "ok"})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", handler
    finally:
        srv.shutdown()
        srv.server_close()


def fleet(*argv: str) -> tuple[int, str]:
    code, out, err = run_cli(["fleet", "--since", "1h", *argv])
    return code, out + err


def test_quiet_fleet_exits_0(server: tuple[str, type[Fake]]) -> None:
    url, _ = server
    code, text = fleet("--prometheus", url)
    assert code == 0, text
    assert "hosts       1: 0 thrashing, 0 swapping" in text


def test_auth_required_without_credentials(server: tuple[str, type[Fake]]) -> None:
    url, handler = server
    handler.token = SECRET
    code, text = fleet("--prometheus", url)
    assert code == 3
    assert text.splitlines() == [
        f"checkswap: Prometheus at {url}: HTTP 401, authentication required: give "
        "--bearer-token-file or --basic-auth-file (or set CHECKSWAP_PROMETHEUS_TOKEN / "
        "CHECKSWAP_PROMETHEUS_BASIC)"
    ]


def test_token_from_a_file_is_sent_and_never_printed(
    server: tuple[str, type[Fake]], tmp_path: Any
) -> None:
    url, handler = server
    handler.token = SECRET
    path = tmp_path / "token"
    path.write_text(SECRET + "\n")
    code, text = fleet("--prometheus", url, "--bearer-token-file", str(path), "--format", "json")
    assert code == 0, text
    assert SECRET not in text
    assert handler.seen and set(handler.seen) == {f"Bearer {SECRET}"}
    # A wrong one: refused, said where it came from, still not printed.
    path.write_text("wrong-" + SECRET)
    code, text = fleet("--prometheus", url, "--bearer-token-file", str(path))
    assert code == 3 and SECRET not in text
    assert f"the credentials from {path} were refused" in text


def test_token_and_basic_from_the_environment(
    server: tuple[str, type[Fake]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = server
    handler.token = SECRET
    monkeypatch.setenv("CHECKSWAP_PROMETHEUS_TOKEN", SECRET)
    code, text = fleet("--prometheus", url)
    assert code == 0, text
    assert SECRET not in text
    monkeypatch.delenv("CHECKSWAP_PROMETHEUS_TOKEN")
    monkeypatch.setenv("CHECKSWAP_PROMETHEUS_BASIC", "ops:" + SECRET)
    handler.token = None
    code, text = fleet("--prometheus", url)
    assert code == 0 and SECRET not in text
    assert handler.seen[-1].startswith("Basic ")


def test_credentials_in_the_url_are_refused() -> None:
    code, text = fleet("--prometheus", f"http://ops:{SECRET}@127.0.0.1:9")
    assert code == 3 and SECRET not in text
    assert "--basic-auth-file" in text


def test_server_down() -> None:
    port = free_port()  # nothing listens there
    code, text = fleet("--prometheus", f"http://127.0.0.1:{port}")
    assert code == 3
    assert text.splitlines() == [
        f"checkswap: Prometheus at http://127.0.0.1:{port}: connection refused "
        "(is Prometheus running, on that port?)"
    ]


def test_not_prometheus(server: tuple[str, type[Fake]]) -> None:
    url, handler = server
    handler.mode = "html"
    code, text = fleet("--prometheus", url)
    assert code == 3 and len(text.splitlines()) == 1
    assert "not the Prometheus API's JSON" in text


def test_timeout(server: tuple[str, type[Fake]]) -> None:
    url, handler = server
    handler.mode = "slow"
    code, text = fleet("--prometheus", url, "--timeout", "0.5")
    assert code == 3 and len(text.splitlines()) == 1
    assert "no answer within 0.5 s" in text or "no answer in time" in text, text


def test_missing_ca_file(tmp_path: Any) -> None:
    code, text = fleet("--prometheus", "https://127.0.0.1:9", "--ca-file", str(tmp_path / "no"))
    assert code == 3 and "--ca-file" in text and len(text.splitlines()) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--since", "2h", "--from", "2026-12-01T00:00"], "not both"),
        (["--from", "yesterday"], "not an ISO 8601 time"),
        (["--by", "a-b"], "not a Prometheus label name"),
        (["--since", "30s"], "at least a minute"),
    ],
)
def test_bad_arguments_exit_3(argv: list[str], message: str) -> None:
    code, _, err = run_cli(["fleet", "--prometheus", "http://127.0.0.1:9", *argv])
    assert code == 3 and message in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize(
    "window, step",
    [(3600, 60), (86400, 60), (7 * 86400, 60), (8 * 86400, 120), (30 * 86400, 240)],
)
def test_step_stays_under_the_points_limit(window: float, step: float) -> None:
    assert choose_step(window) == step
    assert window / step <= MAX_POINTS


def test_step_never_below_the_rate_window() -> None:
    assert choose_step(3600, rate_window_s=120) == 120


def test_selector_with_or_without_braces() -> None:
    assert selector("m", 'job="x"') == 'm{job="x"}'
    assert selector("m", '{job="x"}', 'kind="full"') == 'm{job="x",kind="full"}'
    assert selector("m", "") == "m{}"


@pytest.fixture
def tls_server(tmp_path: Any) -> Iterator[tuple[str, str]]:
    """The fake Prometheus over https with a self-signed certificate for 127.0.0.1."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key),
            *("-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    handler = type("Handler", (Fake,), {"seen": [], "token": None, "mode": "ok"})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"https://127.0.0.1:{srv.server_address[1]}", cert
    finally:
        srv.shutdown()
        srv.server_close()


def test_tls_needs_its_ca(tls_server: tuple[str, str]) -> None:
    url, cert = tls_server
    code, text = fleet("--prometheus", url)
    assert code == 3 and len(text.splitlines()) == 1
    assert "TLS certificate not trusted" in text and "--ca-file" in text, text
    code, text = fleet("--prometheus", url, "--ca-file", cert)
    assert code == 0, text


def test_hostile_answer_is_printed_safely(server: tuple[str, type[Fake]]) -> None:
    url, handler = server
    handler.mode = "hostile"
    code, text = fleet("--prometheus", url)
    assert code == 0, text
    assert "\x1b" not in text and "\x07" not in text
    assert "?]0;owned?evil" in text


def test_times_without_an_offset_are_local_and_said_so(server: tuple[str, type[Fake]]) -> None:
    url, _ = server
    then = time.time() - 7200
    local = time.strftime("%Y-%m-%dT%H:%M", time.localtime(then))
    code, out, err = run_cli(["fleet", "--prometheus", url, "--from", local])
    assert code == 0, err
    assert "as given without an offset" in out.splitlines()[1]
    assert time.strftime("%Y-%m-%d %H:%M", time.localtime(then)) in out.splitlines()[1]
    code, out, _ = run_cli(["fleet", "--prometheus", url, "--from", local + "Z"])
    assert "without an offset" not in out


def test_progress_of_a_slow_prometheus_goes_to_stderr_only(
    server: tuple[str, type[Fake]],
) -> None:
    url, handler = server
    handler.mode = "unhurried"
    code, out, err = run_cli(["fleet", "--since", "1h", "--prometheus", url])
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if ln.startswith("fleet: [")]
    # A pipe: plain lines, at most one every 3 s plus the last, which says all were answered.
    assert 1 <= len(lines) <= 3, err
    n = len(QUERIES)
    assert lines[-1].startswith("fleet: [" + "#" * 28 + f"] 100%  {n} / {n}"), lines
    assert "\r" not in err and "fleet: [" not in out
    assert "hosts       1: 0 thrashing, 0 swapping" in out


def test_a_quick_prometheus_shows_no_progress(server: tuple[str, type[Fake]]) -> None:
    url, _ = server
    code, _out, err = run_cli(["fleet", "--since", "1h", "--prometheus", url])
    assert code == 0 and "fleet: [" not in err, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--prometheus", "http://127.0.0.1:{port}", "--since", "1h"], "connection refused"),
        (["--prometheus", "http://127.0.0.1:{port}", "--by", "a-b"], "not a Prometheus label"),
        (["--since", "1h"], "--prometheus"),  # argparse's own error: a required flag
        (["--prometheus", "ftp://x", "--format=json"], "http"),
    ],
)
def test_json_error_rule(argv: list[str], message: str) -> None:
    """docs/interface.md's JSON error rule: under --format json a failure is one JSON object
    on stdout, the same message as the line on stderr, and exit status 3."""
    argv = [a.replace("{port}", str(free_port())) for a in argv]
    fmt = [] if "--format=json" in argv else ["--format", "json"]
    code, out, err = run_cli(["fleet", *argv, *fmt])
    assert code == 3, (out, err)
    (line,) = out.splitlines()
    obj = json.loads(line)
    assert obj == {"type": "fleet", "status": "UNKNOWN", "record": "error", "error": obj["error"]}
    assert message in obj["error"]
    assert err == f"checkswap: {obj['error']}\n"
    # Without --format json: the line on stderr only, stdout empty.
    code, out, err = run_cli(["fleet", *(a for a in argv if a != "--format=json")])
    assert code == 3 and out == "" and err.count("\n") == 1, (out, err)


def test_json_error_rule_for_a_refusing_server(server: tuple[str, type[Fake]]) -> None:
    url, handler = server
    handler.token = SECRET
    code, out, err = run_cli(["fleet", "--prometheus", url, "--since", "1h", "--format", "json"])
    assert code == 3
    obj = json.loads(out)
    assert obj["record"] == "error" and "HTTP 401" in obj["error"] and SECRET not in out + err


def test_no_host_with_data_is_no_answer(server: tuple[str, type[Fake]]) -> None:
    """A host whose counters are there but never with a rate in the window: "quiet" would be a
    guess, so exit 3 and one line saying why, in text and in JSON."""
    url, handler = server
    handler.mode = "nodata"
    code, out, err = run_cli(["fleet", "--prometheus", url, "--since", "1h"])
    assert code == 3 and out == "", out
    (line,) = err.splitlines()
    assert line.startswith("checkswap: the one host found has no swap-in rate in any minute"), line
    assert "--rate-window 2m" in line
    code, out, err = run_cli(["fleet", "--prometheus", url, "--since", "1h", "--format", "json"])
    assert code == 3 and json.loads(out)["error"] == err[len("checkswap: ") :].rstrip("\n")


def test_no_host_at_all_is_no_answer(server: tuple[str, type[Fake]]) -> None:
    url, handler = server
    handler.mode = "nohost"
    code, out, err = run_cli(["fleet", "--prometheus", url, "--since", "1h"])
    assert code == 3 and out == "", out
    (line,) = err.splitlines()
    assert line.startswith("checkswap: no host between ") and "no value that is a number" in line


def test_the_count_of_queries_is_one_figure_everywhere() -> None:
    """ask() sends len(QUERIES) queries; the help and docs/fleet.md say that number (a
    captured run's output included), so adding a query cannot leave a stale count behind."""
    import re

    from checkswap.fleet.ranking import ask
    from tests.test_fleet_names import Recorder

    client = Recorder()
    ask(client, 0.0, 3600.0)  # type: ignore[arg-type]
    assert client.calls == len(QUERIES)
    import argparse

    from checkswap.commands import fleet as command

    helped = command.add_parser(argparse.ArgumentParser().add_subparsers()).format_help()
    assert f"the number of queries ({len(QUERIES)})" in " ".join(helped.split())
    with open(os.path.join(REPO, "docs", "fleet.md"), encoding="utf-8") as f:
        doc = f.read()
    said = re.findall(r"\((\d+) queries\)|\"queries\": (\d+)|its (\d+) queries", doc)
    said += re.findall(r"HTTP calls is (\d+) whether", doc)
    figures = {
        int(x) for group in said for x in (group if isinstance(group, tuple) else [group]) if x
    }
    assert len(said) >= 6 and figures == {len(QUERIES)}, said
    with open(os.path.join(REPO, "docs", "interface.md"), encoding="utf-8") as f:
        assert f"HTTP requests made ({len(QUERIES)}, whatever" in f.read()
