"""The fusion report: HTML with inline SVG charts, or the same data as JSON."""
from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.schemas import Base
from api.services import platform

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports")


class ReportArgs(Base):
    period = fields.String(required=True)
    format = fields.String(load_default=None, validate=validate.OneOf(["html", "json"]))


@blp.route("/fusion")
class Fusion(MethodView):
    @blp.arguments(ReportArgs, location="query")
    def get(self, args):
        """Fusion report of a month: HTML (default) or JSON (?format=json or Accept: application/json)."""
        from engine.reports.fusion import build, to_html

        data = build(platform(), args["period"])
        fmt = args.get("format")
        if fmt is None:
            best = request.accept_mimetypes.best_match(["text/html", "application/json"], default="text/html")
            fmt = "json" if best == "application/json" and \
                request.accept_mimetypes["application/json"] > request.accept_mimetypes["text/html"] else "html"
        if fmt == "json":
            return data
        return Response(to_html(data), mimetype="text/html")
