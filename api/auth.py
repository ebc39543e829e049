"""Authentication for every /api/v1 endpoint except login: a bearer token, or the browser's session cookie.

Scripts and REST clients send ``Authorization: Bearer <token>``. The workspace (the web app at ``/``)
never holds a token: ``POST /api/v1/auth/session`` sets the same JWT as the HttpOnly cookie
``anjian_session``, and a cookie-authenticated write must also carry ``X-CSRF-Token``, an HMAC of the
session token under the server's secret key. The CSRF token is derived, never stored: any server process
with the key can check it, and it dies with the session token (logout, expiry, revocation).
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app, g, request

from engine.errors import Forbidden, Unauthorized
from engine.principal import Principal

PUBLIC_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/openapi.json"})
SESSION_PATH = "/api/v1/auth/session"
SESSION_COOKIE = "anjian_session"
CSRF_HEADER = "X-CSRF-Token"
# The session resource authenticates itself: POST is the login, GET reads the cookie (and only the
# cookie), DELETE clears it whatever state it is in.
_SELF_AUTHENTICATED = frozenset({("POST", SESSION_PATH), ("GET", SESSION_PATH), ("DELETE", SESSION_PATH)})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token(session_token: str) -> str:
    """The CSRF token that goes with a session token: HMAC-SHA256(secret key, token), hex."""
    key = current_app.extensions["anjian"].settings.secret_key.encode()
    return hmac.new(key, session_token.encode(), hashlib.sha256).hexdigest()


def authenticate_request() -> None:
    """``before_request`` hook: put the caller's Principal on ``g``."""
    path = request.path
    if not path.startswith("/api/v1") or path in PUBLIC_PATHS or request.method == "OPTIONS" \
            or (request.method, path) in _SELF_AUTHENTICATED:
        return
    users = current_app.extensions["anjian"].users
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        g.principal = users.principal_from_token(token.strip())
        return
    if header:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <access_token>' from /api/v1/auth/login")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <access_token>' from "
                           "/api/v1/auth/login (or sign in at /api/v1/auth/session for a browser session)")
    principal_ = users.principal_from_token(cookie)  # 401 first: an expired session is not a CSRF attempt
    if request.method in _WRITES:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token(cookie).encode()):
            raise Forbidden(f"a write with the session cookie needs the {CSRF_HEADER} header of the session "
                            "(from POST or GET /api/v1/auth/session)", reason="csrf")
    g.principal = principal_


def principal() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


def require_roles(roles, action: str) -> Principal:
    """The caller, if they hold one of ``roles``; 403 naming the action otherwise."""
    p = principal()
    if not p.has_any(roles):
        raise Forbidden(f"{action} needs one of the roles {sorted(roles)}")
    return p
