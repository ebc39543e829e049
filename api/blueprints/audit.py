"""The audit chain."""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import principal
from api.schemas import AuditArgs, AuditVerifyArgs
from api.services import platform
from engine.errors import Forbidden

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
            # Visible instance, or 404: an event list must not leak other departments' work. Whoever
            # may see an instance (its timeline, variables) may see its audit events.
            platform().instances.check_visible(p, args["instance_id"])
        return platform().audit.list(**args)


@blp.route("/audit/verify")
class AuditVerify(MethodView):
    @blp.problems(404)
    @blp.arguments(AuditVerifyArgs, location="query")
    @blp.documents(200, R.InstanceAuditVerification)
    def get(self, args):
        """Walk the chain and report the first broken link; with instance_id, that instance's chain only.

        The whole chain needs a plant-wide role; one instance's chain, that anyone who may see the
        instance may check (as its audit events).
        """
        p = principal()
        instance_id = args.get("instance_id")
        if instance_id is None:
            if not p.sees_all_departments:
                raise Forbidden("verifying the whole chain needs a plant-wide role; give instance_id")
            r = platform().audit.verify()
        else:
            platform().instances.check_visible(p, instance_id)
            r = platform().audit.verify_instance(instance_id)
        return {"ok": r.ok, "checked": r.checked, "broken_seq": r.broken_seq, "reason": r.reason,
                "instance_id": instance_id}
