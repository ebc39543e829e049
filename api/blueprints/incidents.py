"""Incidents."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import principal
from api.schemas import IncidentListArgs, ResolveSchema, RetrySchema
from api.services import platform

blp = Blueprint("incidents", __name__, url_prefix="/api/v1", description="Incidents")


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.arguments(IncidentListArgs, location="query")
    @blp.documents(200, R.IncidentPage)
    def get(self, args):
        """Incidents (failed service tasks, script errors, depth limits), newest first."""
        return platform().incidents.list(principal(), **args)


@blp.route("/incidents/<int:incident_id>")
class IncidentOne(MethodView):
    @blp.documents(200, R.Incident)
    def get(self, incident_id):
        """One incident with the connector, parameters and error."""
        return platform().incidents.get(principal(), incident_id)


@blp.route("/incidents/<int:incident_id>/retry")
class Retry(MethodView):
    @blp.arguments(RetrySchema)
    @blp.documents(200, R.Retried)
    def post(self, body, incident_id):
        """Run the failed step again, optionally with corrected variables."""
        return platform().incidents.retry(principal(), incident_id, body.get("variables"))


@blp.route("/incidents/<int:incident_id>/resolve")
class Resolve(MethodView):
    @blp.arguments(ResolveSchema)
    @blp.documents(200, R.Incident)
    def post(self, body, incident_id):
        """Close the incident without retrying."""
        return platform().incidents.resolve(principal(), incident_id, body["comment"])
