"""Messages to running instances and message start events."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import principal
from api.schemas import MessageSchema
from api.services import platform

blp = Blueprint("messages", __name__, url_prefix="/api/v1", description="Messages")


@blp.route("/messages")
class Messages(MethodView):
    @blp.problems(404)
    @blp.arguments(MessageSchema)
    @blp.documents(200, R.Delivery)
    def post(self, body):
        """Deliver a message to every waiting instance whose correlation matches (404 when none)."""
        return platform().messages.deliver(
            principal(), body["name"], correlation=body.get("correlation"), business_key=body.get("business_key"),
            payload=body.get("payload"), message_id=body.get("message_id"))
