"""Integrated assessment per department or person per period, traceable to records."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint
from marshmallow import fields, validate

from api.auth import principal
from api.schemas import Base
from api.services import platform
from engine.errors import Forbidden

blp = Blueprint("assessments", __name__, url_prefix="/api/v1/assessments", description="Integrated assessment")
PERSON_VIEWERS = frozenset({"admin", "supervision", "plant_leader", "department_head"})


class AssessArgs(Base):
    period = fields.String(required=True)
    level = fields.String(load_default="department", validate=validate.OneOf(["department", "person"]))


class RecordsArgs(AssessArgs):
    subject = fields.String(required=True)
    indicator = fields.String(required=True)


def _check(level: str, subject: str | None = None) -> None:
    p = principal()
    if level == "person" and not p.has_any(PERSON_VIEWERS) and subject != p.username:
        raise Forbidden(f"person-level assessments need one of the roles {sorted(PERSON_VIEWERS)}")


@blp.route("")
class Assessments(MethodView):
    @blp.arguments(AssessArgs, location="query")
    @blp.documents(200, R.Assessment)
    def get(self, args):
        """Scores, ranking and indicators (month YYYY-MM or quarter YYYY-Qn) with weights from configuration."""
        _check(args["level"])
        return platform().assessment.assess(args["period"], args["level"])


@blp.route("/records")
class Records(MethodView):
    @blp.problems(404)
    @blp.arguments(RecordsArgs, location="query")
    @blp.documents(200, R.AssessmentRecords)
    def get(self, args):
        """The records behind one indicator of one department or person."""
        _check(args["level"], args["subject"])
        return platform().assessment.records(args["period"], args["level"], args["subject"], args["indicator"])
