"""problem+json (RFC 9457) answers for every error."""
from __future__ import annotations

import json as std_json
import logging

from flask import Response, json
from werkzeug.exceptions import HTTPException

from engine.errors import AnjianError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra) -> Response:
    """Build a problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)


def from_domain(err: AnjianError) -> Response:
    """Map an engine error to its HTTP answer."""
    extra = dict(err.extra)
    if err.errors is not None:
        extra["errors"] = err.errors
    return problem(err.status, err.title, err.detail, **extra)


def _flatten(messages, prefix="") -> list[dict]:
    out = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for m in messages:
            out.append({"field": prefix or "(body)", "message": m})
    else:
        out.append({"field": prefix or "(body)", "message": str(messages)})
    return out


def from_http(err: HTTPException) -> Response:
    """Map a werkzeug/webargs HTTP error (including 422 argument errors)."""
    data = getattr(err, "data", None) or {}
    messages = data.get("messages")
    if messages:
        errors = []
        for location, fields in messages.items():
            # location is json/query/form/files; clients know fields by name.
            errors.extend(_flatten(fields))
        return problem(422, "Unprocessable entity", "request validation failed", errors=errors)
    code = err.code or 500
    detail = err.description if code != 500 else "internal error"
    if code == 400 and "JSON" in (err.description or ""):
        # Flask's "Failed to decode JSON object: <reason>": keep the reason (engine.jsoncodec.loads_bounded).
        reason = (err.description or "").partition("Failed to decode JSON object: ")[2]
        detail = f"the request body is not valid JSON: {reason}" if reason else "the request body is not valid JSON"
    return problem(code, err.name, detail)


def out_of_range(err: Exception) -> Response:
    """A number or date the database cannot hold came from the client (safety net behind the schemas)."""
    log.warning("client value out of range: %s", err)
    return problem(422, "Unprocessable entity", "a value in the request is out of the range the platform stores",
                   errors=[{"field": "(request)", "message": "number or date out of range"}])


_UNAVAILABLE = ("connection", "server closed", "terminating", "database is locked", "timeout", "could not connect")


def database_unavailable(err: Exception) -> Response:
    """The database could not be reached or dropped the connection: nothing was stored, try again.

    Other operational errors (a missing table, say) are server faults and stay a logged 500.
    """
    reason = str(getattr(err, "orig", err)).lower()
    if not getattr(err, "connection_invalidated", False) and not any(s in reason for s in _UNAVAILABLE):
        return unexpected(err)
    log.warning("database unavailable: %s", err)
    response = problem(503, "Service Unavailable", "the database is not reachable right now; nothing was "
                       "changed, try again", retryable=True)
    response.headers["Retry-After"] = "1"
    return response


def write_http_server_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it refuses before the app sees it, as problem+json.

    Replaces ``gunicorn.util.write_error`` (an HTML page) in ``anjian serve``: a request line over
    4094 bytes (414), too many or too large headers (431), a malformed request line or header (400).
    """
    from gunicorn.util import write_nonblock

    body = std_json.dumps({"type": "about:blank", "title": reason, "status": status_int,
                           "detail": mesg or reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_JSON}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)


def unexpected(err: Exception) -> Response:
    """The last resort: log with a stack trace, answer without one."""
    log.exception("unhandled error: %s", err)
    return problem(500, "Internal Server Error", "an unexpected error occurred; it has been logged")
