"""Fusion analytics: run (a job), stored runs, latest result per analysis and period."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint
from marshmallow import fields, validate

from api.auth import principal, require_roles
from api.schemas import Base
from api.services import platform

blp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics", description="Fusion analytics")
RUNNER_ROLES = frozenset({"admin", "supervision", "plant_leader"})


class RunSchema(Base):
    period = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                                   error="expected YYYY-MM, e.g. 2026-11"))
    analyses = fields.List(fields.String(), load_default=None)
    params = fields.Dict(keys=fields.String(), load_default=dict)
    push = fields.Boolean(load_default=True)


class RunsArgs(Base):
    period = fields.String()
    analysis = fields.String()


class PeriodArgs(Base):
    period = fields.String(required=True)


@blp.route("/runs")
class Runs(MethodView):
    @blp.arguments(RunSchema)
    @blp.documents(201, R.RunResults)
    def post(self, body):
        """Run analyses for a month now (the same job `anjian analytics run` runs); stores and pushes."""
        p = require_roles(RUNNER_ROLES, "running analyses")
        runs = platform().analytics.run(body["period"], body.get("analyses"), params=body.get("params"),
                                        actor=p.username, push=body.get("push", True))
        return {"runs": runs}, 201

    @blp.arguments(RunsArgs, location="query")
    @blp.documents(200, R.AnalysisRuns)
    def get(self, args):
        """Stored runs, newest first."""
        principal()
        return {"items": platform().analytics.runs(args.get("period"), args.get("analysis"))}


@blp.route("/<string:analysis>")
class Latest(MethodView):
    @blp.arguments(PeriodArgs, location="query")
    @blp.documents(200, R.AnalysisResult)
    def get(self, args, analysis):
        """The latest stored result of an analysis for a month."""
        return platform().analytics.latest(analysis, args["period"])
