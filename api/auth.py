"""Bearer-token authentication for every /api/v1 endpoint except login."""
from __future__ import annotations

from flask import current_app, g, request

from engine.errors import Forbidden, Unauthorized
from engine.principal import Principal

PUBLIC_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/openapi.json"})


def authenticate_request() -> None:
    """``before_request`` hook: put the caller's Principal on ``g``."""
    path = request.path
    if not path.startswith("/api/v1") or path in PUBLIC_PATHS or request.method == "OPTIONS":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <access_token>' from /api/v1/auth/login")
    g.principal = current_app.extensions["anjian"].users.principal_from_token(token.strip())


def principal() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


def require_roles(roles, action: str) -> Principal:
    """The caller, if they hold one of ``roles``; 403 naming the action otherwise."""
    p = principal()
    if not p.has_any(roles):
        raise Forbidden(f"{action} needs one of the roles {sorted(roles)}")
    return p
