"""Instance diagrams (SVG) drawn from the definition's BPMN DI with element states coloured."""
from flask import Response
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import principal
from api.services import platform

blp = Blueprint("diagrams", __name__, url_prefix="/api/v1", description="Instance diagrams")


@blp.route("/process-instances/<int:instance_id>/diagram.svg")
class Diagram(MethodView):
    @blp.documents(200, R.SVG, content_type="image/svg+xml")
    def get(self, instance_id):
        """The instance's BPMN as SVG: completed, active, suspended and error elements coloured."""
        from engine.diagram import instance_svg

        svg = instance_svg(platform(), principal(), instance_id)
        return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
