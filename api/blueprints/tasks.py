"""User tasks."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import principal
from api.schemas import AssignSchema, CompleteSchema, TaskListArgs
from api.services import platform

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="User tasks")


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskListArgs, location="query")
    @blp.documents(200, R.TaskPage)
    def get(self, args):
        """Tasks with filters (mine=true: assigned to me or claimable by my roles in my scope).

        ``sort=due`` lists the soonest deadline first (``order=desc``: the latest first); tasks without a
        deadline come last in both orders.
        """
        return platform().tasks.list(principal(), **args)


@blp.route("/tasks/<string:task_id>")
class Task(MethodView):
    @blp.documents(200, R.TaskDetail)
    def get(self, task_id):
        """One task with its form JSON Schema and current data."""
        return platform().tasks.get(principal(), task_id)


@blp.route("/tasks/<string:task_id>/claim")
class Claim(MethodView):
    @blp.documents(200, R.Task)
    def post(self, task_id):
        """Claim a ready task (409 if someone else holds it)."""
        return platform().tasks.claim(principal(), task_id)


@blp.route("/tasks/<string:task_id>/unclaim")
class Unclaim(MethodView):
    @blp.documents(200, R.Task)
    def post(self, task_id):
        """Release a claimed task."""
        return platform().tasks.unclaim(principal(), task_id)


@blp.route("/tasks/<string:task_id>/assign")
class Assign(MethodView):
    @blp.arguments(AssignSchema)
    @blp.documents(200, R.Task)
    def post(self, body, task_id):
        """Assign a task to a user (department heads and supervisors)."""
        return platform().tasks.assign(principal(), task_id, body["user"])


@blp.route("/tasks/<string:task_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompleteSchema)
    @blp.documents(200, R.Completion)
    def post(self, body, task_id):
        """Complete a task with form data (validated against the task's JSON Schema)."""
        return platform().tasks.complete(principal(), task_id, body.get("data"))
