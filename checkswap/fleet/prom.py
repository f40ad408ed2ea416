"""A small client of the Prometheus HTTP API (``/api/v1/query``, ``/api/v1/query_range``).

Standard library only (urllib, ssl, json). Credentials come from a file or the environment,
never from a flag's value, and are never printed: every error line names the URL without its
user info and never the header sent. Each failure becomes one ``FleetError`` line with a hint:
unreachable, TLS, 401/403, bad PromQL, an answer that is not the API's JSON. The answer is
another machine's output: it is read with a size bound and parsed by untrusted.py's bounded
``loads``, and only the shapes used here (vector, matrix) are accepted.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from checkswap.errors import CheckswapError, PluginStatus
from checkswap.untrusted import UntrustedData, loads

TYPE_CHECKING = False  # typing costs ~3 ms of start-up; mypy still sees the imports

if TYPE_CHECKING:
    from typing import Any


# An answer larger than this is refused rather than held in memory: 10,000 hosts for a day at
# a 1-minute step is ~400 MiB of JSON per range query, more than a gate should ever pull.
MAX_ANSWER_BYTES = 1024 * 1024 * 1024
DEFAULT_TIMEOUT_S = 30.0


class FleetError(CheckswapError):
    """The fleet question could not be answered: exit status 3, like doctor's UNKNOWN."""

    status = PluginStatus.UNKNOWN


@dataclass
class Auth:
    """An Authorization header's value, kept out of repr so it never reaches a log line."""

    header: str | None = field(default=None, repr=False)
    source: str = "none"  # where it came from, for messages: a file's path or a variable's name


def _read_secret(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(64 * 1024)
    except OSError as e:
        raise FleetError(f"{what} {path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise FleetError(f"{what} {path}: not UTF-8 text") from None
    secret: str = text.strip()
    if not secret or "\n" in secret:
        raise FleetError(f"{what} {path}: expected one line holding the secret")
    return secret


def load_auth(
    bearer_file: str | None,
    basic_file: str | None,
    environ: dict[str, str] | os._Environ[str] | None = None,
) -> Auth:
    """Bearer token or ``user:password`` from a file, else CHECKSWAP_PROMETHEUS_TOKEN or
    CHECKSWAP_PROMETHEUS_BASIC (``user:password``) from the environment."""
    env = os.environ if environ is None else environ
    if bearer_file and basic_file:
        raise FleetError("give --bearer-token-file or --basic-auth-file, not both")
    if bearer_file:
        return Auth("Bearer " + _read_secret(bearer_file, "--bearer-token-file"), bearer_file)
    if basic_file:
        pair = _read_secret(basic_file, "--basic-auth-file")
        return Auth(_basic(pair, f"--basic-auth-file {basic_file}"), basic_file)
    token = env.get("CHECKSWAP_PROMETHEUS_TOKEN")
    if token:
        return Auth("Bearer " + token.strip(), "CHECKSWAP_PROMETHEUS_TOKEN")
    env_pair = env.get("CHECKSWAP_PROMETHEUS_BASIC")
    if env_pair:
        return Auth(
            _basic(env_pair.strip(), "CHECKSWAP_PROMETHEUS_BASIC"), "CHECKSWAP_PROMETHEUS_BASIC"
        )
    return Auth()


def _basic(pair: str, where: str) -> str:
    if ":" not in pair:
        raise FleetError(f"{where}: expected user:password")
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def shown_url(url: str) -> str:
    """The URL as error lines print it: scheme, host, port and path, never user info."""
    p = urllib.parse.urlsplit(url)
    host = p.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{p.port}" if p.port else ""
    return f"{p.scheme}://{host}{port}{p.path}"


def check_url(url: str) -> str:
    p = urllib.parse.urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise FleetError(
            f"--prometheus {url[:80]!r}: not an http(s) URL, such as http://prometheus:9090"
        )
    if p.username or p.password:
        raise FleetError(
            "--prometheus: credentials in the URL would show in process lists; put them in "
            "--basic-auth-file or CHECKSWAP_PROMETHEUS_BASIC"
        )
    try:
        p.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise FleetError(f"--prometheus {shown_url(url)!r}: the port is not a number") from None
    return url.rstrip("/")


class Client:
    """One Prometheus server. ``calls`` counts the HTTP requests made (the scale test's and
    the benchmark's figure)."""

    def __init__(
        self,
        url: str,
        auth: Auth | None = None,
        ca_file: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.url = check_url(url)
        self.auth = auth or Auth()
        self.timeout_s = timeout_s
        self.calls = 0
        # Told the number of answers so far after each one: the command's progress display.
        self.on_answer: Callable[[int], None] | None = None
        self._context: ssl.SSLContext | None = None
        if ca_file is not None:
            try:
                self._context = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as e:
                reason = getattr(e, "strerror", None) or str(e)
                raise FleetError(f"--ca-file {ca_file}: cannot load ({reason})") from None

    # --- the two endpoints ---------------------------------------------------------------

    def query(self, promql: str, at: float) -> list[dict[str, Any]]:
        """An instant vector: [{"metric": {...}, "value": [t, "v"]}, ...]."""
        return self._answered(
            self._call("/api/v1/query", {"query": promql, "time": _ts(at)}, "vector")
        )

    def query_range(
        self, promql: str, start: float, end: float, step_s: float
    ) -> list[dict[str, Any]]:
        """A range matrix: [{"metric": {...}, "values": [[t, "v"], ...]}, ...]."""
        params = {"query": promql, "start": _ts(start), "end": _ts(end), "step": f"{step_s:g}s"}
        return self._answered(self._call("/api/v1/query_range", params, "matrix"))

    def _answered(self, result: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.on_answer is not None:
            self.on_answer(self.calls)
        return result

    # --- one request ---------------------------------------------------------------------

    def _call(self, path: str, params: dict[str, str], kind: str) -> list[dict[str, Any]]:
        body = urllib.parse.urlencode(params).encode("ascii")
        req = urllib.request.Request(self.url + path, data=body, method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        req.add_header("Accept", "application/json")
        if self.auth.header is not None:
            req.add_header("Authorization", self.auth.header)
        where = shown_url(self.url)
        self.calls += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s, context=self._context) as r:
                raw = r.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as e:
            raw = e.read(64 * 1024)
            raise FleetError(self._http_error(where, e.code, raw)) from None
        except urllib.error.URLError as e:
            raise FleetError(_unreachable(where, e.reason)) from None
        except (socket.timeout, TimeoutError):
            raise FleetError(
                f"Prometheus at {where}: no answer within {self.timeout_s:g} s "
                "(a slow query or server: try a shorter --since or a longer --timeout)"
            ) from None
        except (OSError, ValueError) as e:  # a reset mid-answer, a bad chunk
            raise FleetError(f"Prometheus at {where}: the answer broke off ({e})") from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise FleetError(
                f"Prometheus at {where}: the answer is larger than "
                f"{MAX_ANSWER_BYTES >> 20} MiB; narrow --match or --since"
            )
        doc = _parse(raw, where)
        data = doc.get("data")
        if doc.get("status") != "success" or not isinstance(data, dict):
            raise FleetError(f"Prometheus at {where}: {_api_error(doc)}")
        if data.get("resultType") != kind or not isinstance(data.get("result"), list):
            raise FleetError(
                f"Prometheus at {where}: expected a {kind}, got {clean(data.get('resultType'), 20)}"
            )
        return [s for s in data["result"] if isinstance(s, dict)]

    def _http_error(self, where: str, code: int, raw: bytes) -> str:
        if code in (401, 403):
            what = "authentication required" if code == 401 else "access denied"
            if self.auth.header is None:
                hint = (
                    "give --bearer-token-file or --basic-auth-file (or set "
                    "CHECKSWAP_PROMETHEUS_TOKEN / CHECKSWAP_PROMETHEUS_BASIC)"
                )
            else:
                hint = f"the credentials from {self.auth.source} were refused"
            return f"Prometheus at {where}: HTTP {code}, {what}: {hint}"
        try:
            doc = loads(raw, limit=len(raw))
        except UntrustedData:
            doc = None
        if isinstance(doc, dict) and doc.get("status") == "error":
            return f"Prometheus at {where}: {_api_error(doc)}"
        if code == 404:
            return (
                f"Prometheus at {where}: HTTP 404: no Prometheus API here (give the server's "
                "base URL, such as http://prometheus:9090, with its path prefix if it has one)"
            )
        return f"Prometheus at {where}: HTTP {code}"


def clean(value: object, limit: int = 256) -> str:
    """A label value or an error text from the server, safe to print: control characters
    (a terminal escape in a process name) become "?", and it is cut at ``limit``."""
    text = str(value)[:limit]
    return text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)


def _ts(t: float) -> str:
    return f"{t:.3f}"


def _parse(raw: bytes, where: str) -> dict[str, Any]:
    try:
        doc = loads(raw, limit=MAX_ANSWER_BYTES)
    except UntrustedData:
        doc = None
    if not isinstance(doc, dict):
        raise FleetError(
            f"Prometheus at {where}: the answer is not the Prometheus API's JSON "
            "(is this URL a Prometheus server?)"
        )
    return doc


def _api_error(doc: dict[str, Any]) -> str:
    kind = clean(doc.get("errorType") or "error", 40)
    text = clean(" ".join(str(doc.get("error") or "no error text").split()), 300)
    if kind == "bad_data":
        return f'bad PromQL or parameters: {text} (check --match: a selector such as job="node")'
    return f"{kind}: {text}"


def _unreachable(where: str, reason: object) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (
            f"Prometheus at {where}: TLS certificate not trusted ({reason.verify_message}); "
            "give its CA with --ca-file"
        )
    if isinstance(reason, ssl.SSLError):
        return f"Prometheus at {where}: TLS failed ({reason.reason or reason})"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f"Prometheus at {where}: no answer in time (try --timeout)"
    if isinstance(reason, ConnectionRefusedError):
        return f"Prometheus at {where}: connection refused (is Prometheus running, on that port?)"
    if isinstance(reason, socket.gaierror):
        return f"Prometheus at {where}: unknown host"
    text = getattr(reason, "strerror", None) or str(reason)
    return f"Prometheus at {where}: unreachable ({text})"
