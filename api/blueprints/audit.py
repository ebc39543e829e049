"""The audit chain."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import principal
from api.schemas import AuditArgs
from api.services import platform
from engine.errors import Forbidden, NotFound

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit chain")


@blp.route("/audit")
class Audit(MethodView):
    @blp.problems(404)
    @blp.arguments(AuditArgs, location="query")
    @blp.documents(200, R.AuditPage)
    def get(self, args):
        """Audit events (optionally of one instance) with their hashes."""
        p = principal()
        if args.get("instance_id") is None and not p.sees_all_departments:
            raise Forbidden("listing the whole chain needs a plant-wide role; filter by instance_id")
        if args.get("instance_id") is not None:
            # Visible instance, or 404: an event list must not leak other departments' work.
            try:
                platform().instances.get(p, args["instance_id"])
            except NotFound:
                raise
        return platform().audit.list(**args)


@blp.route("/audit/verify")
class AuditVerify(MethodView):
    @blp.documents(200, R.AuditVerification)
    def get(self):
        """Walk the chain and report the first broken link."""
        p = principal()
        if not p.sees_all_departments:
            raise Forbidden("verifying the chain needs a plant-wide role")
        r = platform().audit.verify()
        return {"ok": r.ok, "checked": r.checked, "broken_seq": r.broken_seq, "reason": r.reason}
