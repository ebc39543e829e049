"""The OpenAPI document's error responses: problem+json (RFC 9457) with its real shape, on every operation.

One mechanism for every blueprint, present and future: :class:`DocumentedApi` documents, for each
operation a blueprint registers, the error statuses the platform's shared machinery can answer there
(authentication, path lookups, body parsing, validation, concurrency, an unreachable database), each
as ``application/problem+json`` with the ``Problem`` schema. An operation adds what only it answers
with ``@blp.problems(404)`` (api/blueprint.py; on a plain flask-smorest Blueprint
``@blp.alt_response(404, response="NOT_FOUND")``, any ``http.HTTPStatus`` name); the shared statuses
are only added where the operation documents nothing for that status. Success bodies are not guessed here: each operation documents its own with a
marshmallow schema (``Blueprint.documents`` in api/blueprint.py).
"""
from __future__ import annotations

import http

from flask_smorest import Api
from flask_smorest.utils import prepare_response

from api.auth import PUBLIC_PATHS
from api.problems import PROBLEM_JSON

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
OPERATION_METHODS = WRITE_METHODS | {"get", "head", "options", "trace"}

FIELD_ERROR = {
    "type": "object",
    "description": "A field of the request at fault (query parameter, body field, form field; "
                   "nested fields and list items as `a.b` and `[i].field`).",
    "required": ["field", "message"],
    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
}
DEPLOY_ERROR = {
    "type": "object",
    "description": "A problem in a deployed file, as a process designer finds it.",
    "required": ["file", "message"],
    "properties": {
        "file": {"type": "string"},
        "line": {"type": "integer", "nullable": True},
        "element_id": {"type": "string", "nullable": True},
        "message": {"type": "string"},
    },
}
PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details. Every error of the API has this shape.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "always `about:blank`: the status and title say it all"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "what went wrong, for a person"},
        "errors": {
            "type": "array",
            "description": "422: every failing field `{field, message}`; a refused deployment lists "
                           "`{file, line, element_id, message}` per problem",
            "items": {"anyOf": [{"$ref": "#/components/schemas/FieldError"},
                                {"$ref": "#/components/schemas/DeployError"}]},
        },
        "retryable": {"type": "boolean",
                      "description": "409/503: whether repeating the same request may succeed"},
        "reason": {"type": "string", "description": "403: why the caller may not do this, where given"},
    },
    # Domain errors may carry further context (RFC 9457 extension members).
    "additionalProperties": True,
}

# Why each shared status can happen, so the document explains rather than lists.
DESCRIPTIONS = {
    400: "The body is not well-formed JSON (or too deep, or holds numbers or strings the parser refuses).",
    401: "No bearer token, or it is invalid, expired or revoked.",
    403: "The caller's roles, department or area do not allow this.",
    404: "Nothing with this id or name, or not visible to the caller.",
    409: "A conflict with the current state (`retryable` says whether to try again).",
    413: "The request body is larger than the server accepts.",
    414: "The request line (path and query) is longer than the HTTP server accepts (4094 bytes).",
    422: "The request is well-formed but invalid: `errors` names every failing field.",
    431: "The request headers are more or larger than the HTTP server accepts.",
    503: "The database is not reachable right now; nothing was changed (`retryable: true`, `Retry-After`).",
}


def shared_statuses(path: str, method: str, operation: dict) -> list[int]:
    """The error statuses the platform's shared machinery can answer for one operation."""
    statuses = [414, 431, 503]  # 414/431: refused by the HTTP server (gunicorn) before the application
    if path not in PUBLIC_PATHS:
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    has_body = "requestBody" in operation or method in WRITE_METHODS - {"delete"}
    if has_body:
        statuses += [400, 413]
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []) if isinstance(p, dict))
    if has_body or has_query or method in WRITE_METHODS:
        statuses.append(422)
    if method in WRITE_METHODS and path not in PUBLIC_PATHS:
        statuses.append(409)
    return sorted(statuses)


class DocumentedApi(Api):
    """flask-smorest Api whose document states errors as problem+json on every operation."""

    # No catch-all "default": each status an operation answers is named, so a contract test can
    # tell an undocumented one.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self):
        """Every error status as a problem+json response (flask-smorest's own are application/json)."""
        self.spec.components.schema("FieldError", component=FIELD_ERROR)
        self.spec.components.schema("DeployError", component=DEPLOY_ERROR)
        self.spec.components.schema("Problem", component=PROBLEM)
        for status in http.HTTPStatus:
            response = {"description": DESCRIPTIONS.get(status.value, status.phrase)}
            if status >= 400:
                response["schema"] = "Problem"
                if status == 503:
                    response["headers"] = {"Retry-After": {
                        "description": "seconds to wait before trying again", "schema": {"type": "integer"}}}
                prepare_response(response, self.spec, PROBLEM_JSON)
            else:
                prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)

    def register_blueprint(self, blp, *, parameters=None, **options):
        """Register as flask-smorest does, then document the shared error statuses of its operations."""
        paths = self.spec._paths  # apispec keeps the operations here until to_dict()
        before = {(p, m) for p, ops in paths.items() for m in ops}
        super().register_blueprint(blp, parameters=parameters, **options)
        for path, operations in paths.items():
            for method, operation in operations.items():
                if method not in OPERATION_METHODS or (path, method) in before:
                    continue
                responses = operation.setdefault("responses", {})
                for status in shared_statuses(path, method, operation):
                    if str(status) not in responses:
                        name = http.HTTPStatus(status).name
                        responses[str(status)] = self.spec.components.get_ref("response", name)
                operation["responses"] = dict(sorted(responses.items()))
                if path in PUBLIC_PATHS:
                    operation["security"] = []  # no token: login is how a client gets one
        for component in self.spec.components.schemas.values():
            _strict_nullable_refs(component)


def _strict_nullable_refs(node) -> None:
    """``Nested(..., allow_none=True)`` as "null or that schema", not "null or any object".

    apispec writes it as ``anyOf: [{type: object, nullable: true}, {$ref}]``, whose first branch
    accepts every object and so proves nothing; ``allOf: [{$ref}]`` with ``nullable`` says what is meant.
    """
    if isinstance(node, list):
        for item in node:
            _strict_nullable_refs(item)
        return
    if not isinstance(node, dict):
        return
    branches = node.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and \
            {"type": "object", "nullable": True} in branches and any("$ref" in b for b in branches):
        ref = next(b for b in branches if "$ref" in b)
        del node["anyOf"]
        node.update(allOf=[ref], nullable=True)
    for value in node.values():
        _strict_nullable_refs(value)
