"""The Blueprint every resource module uses."""
from __future__ import annotations

import http

import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class BodyParser(FlaskParser):
    """webargs' parser reading JSON bodies through Flask, so through api/app.py's strict and
    bounded provider: one parse per request instead of a second one by the standard library."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return req.get_json(cache=True)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, with each argument schema instantiated once.

    Given a Schema class, webargs builds a new instance (fields copied and bound) for
    every request: 4 % of a task completion's CPU in a py-spy profile. An instance is
    reused as is, and a marshmallow schema keeps no state between loads. The OpenAPI
    document is the same either way.
    """

    ARGUMENTS_PARSER = BodyParser()

    def arguments(self, schema, *args, **kwargs):
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def documents(self, status: int, schema=None, *, content_type: str | None = None, description: str | None = None):
        """Document a success answer of an operation without marshalling it.

        ``@blp.response`` would dump every answer through the schema (CPU on every request, and keys the
        schema lacks silently dropped); the engine's dicts are the answer, the schema (api/responses.py,
        or a dict for non-JSON bodies) describes them and tests/test_api_contract.py holds the two together.
        """
        return self.alt_response(status, schema=schema, content_type=content_type, description=description,
                                 success=True)

    def problems(self, *statuses: int):
        """Document error answers only this operation gives (problem+json, like every error).

        The statuses every operation of its kind can answer (401, 403, 404 on a path id, 400/413/422 on a
        body, 409 on a write, 414/431/503 anywhere) are documented for all blueprints by api/openapi.py.
        """
        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, response=http.HTTPStatus(status).name)(func)
            return func
        return decorator
