"""Swagger UI's own files, served from the installed package: plants run air-gapped networks, and
``/api/docs`` loaded them from a CDN (a blank page without internet; DESIGN.md, "Trust rules")."""
from flask import Blueprint, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

blp = Blueprint("docs_assets", __name__)
ASSETS_URL = "/api/docs/assets/"
# What the page loads (flask-smorest's template); nothing else of the bundle is served.
SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                    "favicon-16x16.png", "favicon-32x32.png"})


@blp.get(ASSETS_URL + "<name>")
def asset(name: str):
    """One file of the shipped Swagger UI (cached by browsers for a day)."""
    if name not in SERVED:
        abort(404)
    return send_from_directory(str(swagger_ui_path), name, max_age=86400)
