"""Process instances."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import principal
from api.schemas import CancelSchema, InstanceListArgs, StartInstanceSchema
from api.services import platform

blp = Blueprint("instances", __name__, url_prefix="/api/v1", description="Process instances")


@blp.route("/process-instances")
class Instances(MethodView):
    @blp.arguments(InstanceListArgs, location="query")
    @blp.documents(200, R.InstancePage)
    def get(self, args):
        """Instances with filters, paging and total."""
        return platform().instances.list(principal(), **args)

    @blp.problems(404)
    @blp.arguments(StartInstanceSchema)
    @blp.documents(201, R.StartedInstance)
    def post(self, body):
        """Start an instance of the latest version of a process (409 if the business key is running)."""
        return platform().instances.start(principal(), body["process_key"], body.get("business_key"),
                                          body.get("variables"), version=body.get("version")), 201


@blp.route("/process-instances/<int:instance_id>")
class Instance(MethodView):
    @blp.documents(200, R.InstanceWithMarks)
    def get(self, instance_id):
        """Status, version, variables, active tasks, timeline, incidents (with the failed element) and the
        diagram marks: element_states (completed / active / suspended / error by element id) and taken_flows."""
        return platform().instances.get(principal(), instance_id)


@blp.route("/process-instances/<int:instance_id>/cancel")
class CancelInstance(MethodView):
    @blp.arguments(CancelSchema)
    @blp.documents(200, R.Instance)
    def post(self, body, instance_id):
        """Cancel a running instance (with a reason; authorised roles only)."""
        return platform().instances.cancel(principal(), instance_id, body["reason"])
