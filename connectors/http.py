"""A small HTTP hook shared by connectors: timeouts, retries with backoff, classified errors.

Connection errors, timeouts, 5xx and 429 answers are retried with exponential
backoff (``backoff * 2**attempt`` seconds, capped by ``max_backoff``); when
the attempts are used up the error is a retryable :class:`ConnectorError`, so
the worker may try again later under the BPMN's own ``retries``. Other 4xx
answers and bodies that are not JSON (when JSON is expected) fail at once and
are not retryable: the same call would fail the same way.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

from connectors.base import ConnectorError

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class HttpResult:
    """A successful answer: status code, parsed body (JSON or text) and attempts used."""

    status: int
    body: object
    attempts: int


class HttpClient:
    """One HTTP connection pool with Anjian's retry and error rules."""

    def __init__(self, base_url: str | None = None, *, connect_timeout: float = 3.0, read_timeout: float = 10.0,
                 retries: int = 2, backoff: float = 0.2, max_backoff: float = 5.0,
                 headers: dict | None = None, user_agent: str = "anjian-connector/1"):
        """``retries`` is the number of extra attempts after the first (0 = try once)."""
        self.base_url = base_url.rstrip("/") + "/" if base_url else None
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        self.max_backoff = float(max_backoff)
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self.session.headers.update(headers or {})

    def url(self, path: str) -> str:
        """``path`` resolved against the base URL (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        if not self.base_url:
            raise ConnectorError(f"no base URL configured for relative path {path!r}")
        return urljoin(self.base_url, path.lstrip("/"))

    def request(self, method: str, path: str, *, params: dict | None = None, json_body=None,
                expect_json: bool = True) -> HttpResult:
        """Send one request with retries; return :class:`HttpResult` or raise ConnectorError."""
        url = self.url(path)
        attempts = self.retries + 1
        last_error = ""
        last_status = None
        for attempt in range(attempts):
            try:
                resp = self.session.request(method, url, params=params, json=json_body, timeout=self.timeout)
            except requests.Timeout as exc:
                kind = "connect" if isinstance(exc, requests.ConnectTimeout) else "read"
                limit = self.timeout[0] if kind == "connect" else self.timeout[1]
                last_error, last_status = f"{kind} timeout after {limit:g} s calling {method} {url}", None
            except requests.ConnectionError as exc:
                last_error, last_status = f"cannot connect to {url}: {_root_cause(exc)}", None
            except requests.RequestException as exc:
                raise ConnectorError(f"{method} {url} failed: {exc}", retryable=False) from exc
            else:
                if resp.status_code in RETRY_STATUSES:
                    last_error, last_status = f"{method} {url} answered {resp.status_code}: {_detail(resp)}", \
                        resp.status_code
                elif resp.status_code >= 400:
                    raise ConnectorError(f"{method} {url} answered {resp.status_code}: {_detail(resp)}",
                                         retryable=False, status=resp.status_code)
                else:
                    return HttpResult(resp.status_code, _body(resp, method, url, expect_json), attempt + 1)
            if attempt + 1 < attempts:
                delay = min(self.max_backoff, self.backoff * (2 ** attempt))
                log.info("%s (attempt %d/%d); retrying in %.2f s", last_error, attempt + 1, attempts, delay)
                time.sleep(delay)
        raise ConnectorError(f"{last_error} (gave up after {attempts} attempt{'s' if attempts > 1 else ''})",
                             retryable=True, status=last_status)

    def get(self, path: str, params: dict | None = None) -> HttpResult:
        """GET ``path`` expecting JSON."""
        return self.request("GET", path, params=params)

    def post(self, path: str, json_body=None, *, expect_json: bool = False) -> HttpResult:
        """POST a JSON body; the answer may be JSON or text."""
        return self.request("POST", path, json_body=json_body, expect_json=expect_json)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()


def _body(resp, method, url, expect_json):
    if not resp.content:
        if expect_json:
            raise ConnectorError(f"{method} {url} answered {resp.status_code} with an empty body, expected JSON")
        return None
    try:
        return resp.json()
    except ValueError:
        if expect_json:
            raise ConnectorError(f"{method} {url} answered {resp.status_code} with a body that is not JSON: "
                                 f"{resp.text[:200]!r}", retryable=False, status=resp.status_code)
        return resp.text[:2000]


def _detail(resp) -> str:
    try:
        body = resp.json()
        if isinstance(body, dict):
            for key in ("error", "detail", "message", "title"):
                if body.get(key):
                    return str(body[key])[:300]
        return str(body)[:300]
    except ValueError:
        return (resp.text or resp.reason or "")[:300].strip() or "(no body)"


def _root_cause(exc: BaseException) -> str:
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__
    text = str(seen)
    return text[-200:] if text else type(seen).__name__
