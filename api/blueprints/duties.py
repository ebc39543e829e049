"""Responsibility lists: my duties with my open tasks; versioned lists per post; lanes ↔ duties."""
from flask import request
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint
from marshmallow import fields

from api.auth import principal
from api.schemas import Base
from api.services import platform
from engine.errors import Invalid

blp = Blueprint("duties", __name__, url_prefix="/api/v1", description="Responsibility lists (责任清单)")


class ListArgs(Base):
    department = fields.String()
    version = fields.Integer()


class LaneArgs(Base):
    process_key = fields.String()


@blp.route("/me/duties")
class MyDuties(MethodView):
    @blp.documents(200, R.MyDuties)
    def get(self):
        """My posts' duties in force, each with the open tasks that fulfil it."""
        return platform().responsibility.my_duties(principal())


@blp.route("/duties/lanes")
class Lanes(MethodView):
    @blp.problems(404)
    @blp.arguments(LaneArgs, location="query")
    @blp.documents(200, R.Lanes)
    def get(self, args):
        """Deployed processes' lanes with the duties their tasks fulfil."""
        principal()
        return {"processes": platform().responsibility.lanes(args.get("process_key"))}


@blp.route("/duties/<string:role>")
class DutyList(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.documents(200, R.DutyList)
    def get(self, args, role):
        """The list of a post in force (a department's own list, else the plant-wide one)."""
        return platform().responsibility.current(role, args.get("department"), args.get("version"))

    @blp.doc(requestBody=R.json_body(R.DUTY_LIST_IN))
    @blp.documents(201, R.DutyList)
    def put(self, role):
        """Publish a new version of a post's list ({title, note?, department?, duties: [...]})."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid("the body must be a JSON object", errors=[{"field": "(body)", "message": "a JSON object"}])
        return platform().responsibility.publish(principal(), role, body, body.get("department")), 201


@blp.route("/duties/<string:role>/versions")
class Versions(MethodView):
    @blp.documents(200, R.DutyVersions)
    def get(self, role):
        """Every version of a post's lists."""
        return {"items": platform().responsibility.versions(role)}
