"""Login and the caller's own profile."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import principal
from api.schemas import LoginSchema, TokenSchema
from api.services import platform

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Authentication")


@blp.route("/auth/login")
class Login(MethodView):
    @blp.problems(401)
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body):
        """Exchange username and password for a bearer token."""
        return platform().users.login(body["username"], body["password"])


@blp.route("/me")
class Me(MethodView):
    @blp.problems(404)
    @blp.documents(200, R.Me)
    def get(self):
        """The authenticated user's profile, roles and department."""
        return platform().users.get(principal().username)
