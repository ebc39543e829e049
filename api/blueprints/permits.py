"""The permit register and open escalations (the supervisor's board)."""
from flask.views import MethodView
from marshmallow import fields, validate

from api import responses as R
from api.auth import principal
from api.blueprint import Blueprint
from api.schemas import PageArgs
from api.services import platform
from engine.permits import PERMIT_TYPES

blp = Blueprint("permits", __name__, url_prefix="/api/v1", description="Permit register and escalations")


class PermitListArgs(PageArgs):
    area = fields.String(validate=validate.Length(min=1, max=64))
    status = fields.String(validate=validate.Length(min=1, max=200),
                           metadata={"description": "a status or a comma-separated list: applied, in_review, "
                                                    "issued, working, paused, suspended, expired, closed, cancelled"})
    type = fields.String(validate=validate.Length(min=1, max=64),
                         metadata={"description": "permit type: " + ", ".join(t.type for t in PERMIT_TYPES)})
    mine = fields.Boolean(load_default=False)


class EscalationListArgs(PageArgs):
    overdue = fields.Boolean(load_default=None, allow_none=True)
    level = fields.Integer(validate=validate.Range(min=1, max=3))
    department = fields.String(validate=validate.Length(min=1, max=64))


@blp.route("/permits")
class Permits(MethodView):
    @blp.arguments(PermitListArgs, location="query")
    @blp.documents(200, R.PermitPage)
    @blp.problems(422)
    def get(self, args):
        """The permit register: every permit I may see with its status, validity, gas sample age,
        SIMOPS conflicts and current tasks (filters: area, status, type, mine)."""
        return platform().permits.list(principal(), **args)


@blp.route("/escalations")
class Escalations(MethodView):
    @blp.arguments(EscalationListArgs, location="query")
    @blp.documents(200, R.EscalationPage)
    @blp.problems(422)
    def get(self, args):
        """Open three-level escalations with their level (filters: overdue, level, department)."""
        return platform().escalations.list(principal(), **args)
