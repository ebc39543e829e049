"""The workspace: the web app (api/workspace/dist, built by Vite and shipped in the package) at ``/``.

The app itself is public (the login page is part of it); everything it shows comes from /api/v1 with
the session cookie. Strict CSP (no inline script, no eval, nothing from another origin): plants run
air-gapped networks, and user content must never run as script.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

DIST = Path(__file__).resolve().parent.parent / "workspace" / "dist"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
       "form-action 'self'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
# Vite names every built asset after its content hash: a browser may keep it for a year.
ASSET_MAX_AGE = 365 * 24 * 3600

blp = Blueprint("workspace", __name__)


def _secure(response):
    response.headers.update(HEADERS)
    return response


@blp.get("/")
def index():
    """The app's page; always revalidated, so a new build reaches browsers at once."""
    if not (DIST / "index.html").is_file():
        abort(404, "the workspace is not built: cd api/workspace && npm ci && npm run build")
    response = send_from_directory(DIST, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return _secure(response)


@blp.get("/assets/<path:name>")
def asset(name: str):
    """A hashed build asset (script, style, font, image)."""
    response = send_from_directory(DIST / "assets", name, max_age=ASSET_MAX_AGE)
    response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}, immutable"
    return _secure(response)
