"""Login, the browser session and the caller's own profile."""
from flask import current_app, request
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import SESSION_COOKIE, SESSION_PATH, csrf_token, principal
from api.schemas import LoginSchema, TokenSchema
from api.services import platform
from engine.errors import Unauthorized

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Authentication")


@blp.route("/auth/login")
class Login(MethodView):
    @blp.problems(401)
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body):
        """Exchange username and password for a bearer token."""
        return platform().users.login(body["username"], body["password"])


def _session_body(token: str, expires_in: int) -> dict:
    users = platform().users
    who = users.principal_from_token(token)  # 401 for an expired, revoked or deactivated session
    return {"user": users.get(who.username), "csrf_token": csrf_token(token), "expires_in": expires_in}


def _set_cookie(response, token: str, max_age: int):
    # HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it; Secure over https
    # (behind a TLS-terminating proxy when it forwards the scheme).
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="Strict",
                        secure=request.is_secure or request.headers.get("X-Forwarded-Proto") == "https")
    return response


@blp.route("/auth/session")
class Session(MethodView):
    @blp.doc(security=[])
    @blp.problems(401)
    @blp.arguments(LoginSchema)
    @blp.documents(200, R.BrowserSession)
    def post(self, body):
        """Sign in a browser: the session is an HttpOnly cookie, the answer holds the user and the CSRF token.

        Every write authenticated by the cookie must send ``X-CSRF-Token: <csrf_token>``. Wrong credentials
        are a 401 exactly as ``POST /auth/login``.
        """
        users = platform().users
        issued = users.login(body["username"], body["password"])
        token = issued["access_token"]
        return _set_cookie(current_app.json.response(_session_body(token, issued["expires_in"])), token,
                           issued["expires_in"])

    @blp.doc(security=[{"session": []}])
    @blp.problems(401)
    @blp.documents(200, R.BrowserSession)
    def get(self):
        """The signed-in browser's user and CSRF token again (after a page reload); 401 without a valid cookie."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise Unauthorized("no browser session: sign in with POST /api/v1/auth/session")
        ttl = platform().users.seconds_left(token)
        return _session_body(token, ttl)

    @blp.doc(security=[{"session": []}])
    @blp.documents(204)
    def delete(self):
        """Sign the browser out: the session cookie is cleared (whatever state it was in)."""
        response = current_app.response_class(status=204)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict")
        return response


@blp.route("/me/startable-processes")
class MyStartable(MethodView):
    @blp.documents(200, R.StartableProcessList)
    def get(self):
        """The processes I may start (发起申请), each with its start form as JSON Schema.

        Those whose start event is a plain start event in a lane of one of my roles (or in no lane);
        message- and timer-started processes are the engine's.
        """
        from engine.startable import startable_processes

        p = platform()
        return {"items": startable_processes(p.db, p.runner, principal())}


@blp.route("/me/directory")
class MyDirectory(MethodView):
    @blp.documents(200, R.Directory)
    def get(self):
        """Names for codes (users, departments, areas) that any signed-in user may read: the workspace shows
        "张工 · 备件仓库" where rows hold worker1 and warehouse."""
        principal()
        return platform().organisation.directory()


@blp.route("/me")
class Me(MethodView):
    @blp.problems(404)
    @blp.documents(200, R.Me)
    def get(self):
        """The authenticated user's profile, roles and department."""
        return platform().users.get(principal().username)
