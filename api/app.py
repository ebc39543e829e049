"""The Flask application factory."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from api import metrics, problems
from api.openapi import DocumentedApi
from api.auth import authenticate_request
from engine import jsoncodec
from engine.config import Settings
from engine.errors import AnjianError
from engine.platform import Platform


class BoundedIntConverter(IntegerConverter):
    """<int:...> path parts beyond a 64-bit id are a 404, not a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson doing the encoding (engine/jsoncodec.py); Flask's own
    ``default`` still converts what orjson passes on (datetimes as HTTP dates, Decimals…)."""

    ensure_ascii = False
    sort_keys = False
    _FAST_ARGS = {"ensure_ascii", "sort_keys", "separators", "default"}

    def dumps(self, obj, **kwargs):
        if kwargs.keys() <= self._FAST_ARGS and not kwargs.get("ensure_ascii") and not kwargs.get("sort_keys"):
            return jsoncodec.dumps(obj, default=kwargs.get("default", self.default))
        return super().dumps(obj, **kwargs)  # indent (debug pretty-printing) and the like

    def loads(self, s, **kwargs):
        # Everything Flask parses is a request body: strict and bounded (jsoncodec.MalformedJSON is a
        # ValueError, which Flask answers with 400; problems.from_http keeps its reason).
        settings = self._app.extensions["anjian"].settings
        return jsoncodec.loads_bounded(s, max_depth=settings.request_max_depth,
                                       max_number_chars=settings.request_max_number_chars)


def _parse_body_first():
    # Every endpoint, also those that read the body with get_json(silent=True) or not at all: a
    # malformed JSON body is a 400 naming what is wrong before any view runs (Flask's own answer
    # drops the reason). The parsed body is Flask's cached one, so no view parses it again.
    if not request.is_json or request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    raw = request.get_data(cache=True)
    if not raw:
        return
    try:
        value = current_app.json.loads(raw)  # FastJSONProvider: strict and bounded
    except jsoncodec.MalformedJSON as exc:
        raise BadRequest(f"Failed to decode JSON object: {exc}") from None
    request._cached_json = (value, value)  # what Request.get_json(cache=True) keeps


class ProblemApi(DocumentedApi):
    """flask-smorest Api whose errors are problem+json, and documented so (api/openapi.py)."""

    def handle_http_exception(self, error):
        return problems.from_http(error)


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> Flask:
    """Build the app around a Platform (created from the environment when not given)."""
    if platform is None:
        platform = Platform(settings or Settings.from_env())
    app = Flask("anjian")
    app.json = FastJSONProvider(app)
    app.config.update(
        API_TITLE="Anjian (安监) API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Shipped with the package (api/blueprints/docs_assets.py); no validator badge, which would
        # send the document to validator.swagger.io.
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        MAX_CONTENT_LENGTH=50 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.extensions["anjian"] = platform
    app.url_map.converters["int"] = BoundedIntConverter

    api = ProblemApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        # the workspace's session (POST /api/v1/auth/session); writes also send X-CSRF-Token
        "session": {"type": "apiKey", "in": "cookie", "name": "anjian_session"}}}, "security": [{"bearer": []}, {"session": []}]})
    from api.blueprints import audit, auth, connectors, deployments, health, incidents, instances, iot, messages, tasks

    for module in (auth, deployments, instances, tasks, messages, incidents, connectors, iot, audit):
        api.register_blueprint(module.blp)
    app.register_blueprint(health.blp)
    from api.blueprints import docs_assets

    app.register_blueprint(docs_assets.blp)
    from api.blueprints import workspace

    app.register_blueprint(workspace.blp)
    from api.blueprints import analytics, assessments, diagrams, duties, hub, organisation, permits, reports

    for module in (hub, analytics, reports, assessments, duties, diagrams, organisation, permits):
        api.register_blueprint(module.blp)

    app.before_request(metrics.before)
    app.before_request(_parse_body_first)
    app.before_request(authenticate_request)
    app.after_request(metrics.after)
    app.register_error_handler(AnjianError, problems.from_domain)
    app.register_error_handler(HTTPException, problems.from_http)
    app.register_error_handler(OverflowError, problems.out_of_range)
    app.register_error_handler(DataError, problems.out_of_range)
    # A connection the server dropped (restart, failover) fails its request once; the pool then reconnects.
    app.register_error_handler(OperationalError, problems.database_unavailable)
    app.register_error_handler(Exception, problems.unexpected)
    return app
