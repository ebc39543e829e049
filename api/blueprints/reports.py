"""The fusion report: HTML with inline SVG charts, the same data as JSON, or a PDF for printing; each chart
also as its own SVG image (the web app shows the JSON and the charts as <img>, never report HTML in its page)."""
from flask import Response, request
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint
from marshmallow import fields, validate

from api.schemas import Base
from api.services import platform

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports")


class ReportArgs(Base):
    period = fields.String(required=True)
    format = fields.String(load_default=None, validate=validate.OneOf(["html", "json", "pdf"]))


@blp.route("/fusion")
class Fusion(MethodView):
    @blp.arguments(ReportArgs, location="query")
    @blp.documents(200, R.FusionReport, content_type="application/json")
    @blp.documents(200, R.HTML, content_type="text/html")
    @blp.documents(200, R.PDF, content_type="application/pdf")
    def get(self, args):
        """Fusion report of a month: HTML (default), JSON (?format=json or Accept: application/json)
        or PDF (?format=pdf or Accept: application/pdf)."""
        from engine.reports.fusion import build, to_html

        data = build(platform(), args["period"])
        fmt = args.get("format") or _negotiate()
        if fmt == "json":
            return data
        if fmt == "pdf":
            from engine.reports.pdf import to_pdf

            return Response(to_pdf(data), mimetype="application/pdf", headers={
                "Content-Disposition": f'inline; filename="fusion-report-{data["period"]}.pdf"'})
        return Response(to_html(data), mimetype="text/html")


def _negotiate() -> str:
    """html unless the client prefers JSON or PDF over HTML (a browser's */* gets HTML)."""
    accept = request.accept_mimetypes
    html_q = accept["text/html"]
    for mimetype, fmt in (("application/pdf", "pdf"), ("application/json", "json")):
        if accept.best_match(["text/html", mimetype], default="text/html") == mimetype and accept[mimetype] > html_q:
            return fmt
    return "html"


class ChartArgs(Base):
    period = fields.String(required=True)


@blp.route("/fusion/charts/<string:name>")
class FusionChart(MethodView):
    @blp.arguments(ChartArgs, location="query")
    @blp.documents(200, R.SVG, content_type="image/svg+xml")
    @blp.problems(404)
    def get(self, args, name):
        """One chart of a month's fusion report as an SVG image (names: the JSON report's ``charts``; 404 naming
        them for any other). Shown with <img>, an SVG runs no script and loads nothing."""
        from engine.reports.fusion import build, chart_image

        svg = chart_image(build(platform(), args["period"]), name, "svg")
        # The report's period can be re-run (new analysis results): the browser asks again each time.
        return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
