"""The data hub: production and supervision records, filtered and paged; bulk import; pushed findings."""
from flask import request
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint
from marshmallow import fields, validate

from api.auth import principal, require_roles
from api.schemas import Base
from api.services import platform
from engine.errors import Invalid
from engine.hub.kinds import KINDS

blp = Blueprint("hub", __name__, url_prefix="/api/v1/hub", description="Data hub (数据中台)")
WRITER_ROLES = frozenset({"admin", "supervision", "production", "maintenance", "department_head"})
PAGING = {"page", "page_size", "from", "to"}


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise Invalid("invalid query", errors=[{"field": name, "message": "must be an integer"}]) from None


class FocusArgs(Base):
    area = fields.String()
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "done", "withdrawn", "all"]))
    period = fields.String()
    target_kind = fields.String(validate=validate.OneOf(["equipment", "area", "team", "post"]))


class RecommendationArgs(Base):
    department = fields.String()
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "done", "withdrawn", "all"]))
    period = fields.String()


@blp.route("/kinds")
class Kinds(MethodView):
    @blp.documents(200, R.HubKinds)
    def get(self):
        """The record kinds, their fields, natural keys and filters."""
        return {"kinds": [{"kind": k.name, "title": k.title, "key": list(k.key), "time_field": k.time_field,
                           "fields": [{"name": f.name, "type": f.type, "required": f.required,
                                       **({"choices": list(f.choices)} if f.choices else {}), "filter": f.filter}
                                      for f in k.fields]} for k in KINDS.values()]}


@blp.route("/focus-items")
class FocusItems(MethodView):
    @blp.arguments(FocusArgs, location="query")
    @blp.documents(200, R.FocusItems)
    def get(self, args):
        """Supervision focus items pushed by the analyses (the work plan reads them)."""
        status = args.get("status")
        return {"items": platform().analytics.focus_items(area=args.get("area"), period=args.get("period"),
                                                          status=None if status == "all" else status,
                                                          target_kind=args.get("target_kind"))}


@blp.route("/recommendations")
class Recommendations(MethodView):
    @blp.arguments(RecommendationArgs, location="query")
    @blp.documents(200, R.Recommendations)
    def get(self, args):
        """Recommendations pushed to production (reduce load, training) with their process instance."""
        status = args.get("status")
        return {"items": platform().analytics.recommendations(department=args.get("department"),
                                                              period=args.get("period"),
                                                              status=None if status == "all" else status)}


@blp.route("/sync-processes")
class SyncProcesses(MethodView):
    @blp.documents(200, R.HUB_SYNC)
    def post(self):
        """Feed supervision records produced by the processes into the hub (idempotent)."""
        require_roles({"admin", "supervision"}, "syncing process data into the hub")
        from engine.hub.feed import sync_from_processes

        return sync_from_processes(platform())


@blp.route("/<string:kind>")
class Records(MethodView):
    @blp.problems(422)
    @blp.documents(200, R.HubPage)
    def get(self, kind):
        """Records of a kind: ?page=&page_size=&from=&to= (time field) and equality filters by field name."""
        filters = {k: v for k, v in request.args.items() if k not in PAGING}
        return platform().hub.query(kind, filters, time_from=request.args.get("from"),
                                    time_to=request.args.get("to"), page=_int_arg("page", 1),
                                    page_size=_int_arg("page_size", 50))

    @blp.doc(requestBody=R.json_body(R.HUB_RECORD_IN))
    @blp.documents(201, R.HubUpsert, description="Inserted")
    @blp.documents(200, R.HubUpsert, description="Updated or unchanged")
    def post(self, kind):
        """Insert or update one record by its natural key (422 naming every bad field; nothing stored)."""
        require_roles(WRITER_ROLES, "writing hub records")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid("the body must be a JSON object", errors=[{"field": "(body)", "message": "a JSON object"}])
        record, created = platform().hub.upsert_one(kind, body, source="api")
        return {"record": record, "created": created}, 201 if created else 200


@blp.route("/<string:kind>/import")
class Import(MethodView):
    @blp.doc(requestBody=R.FILE_UPLOAD)
    @blp.documents(200, R.ImportReport)
    def post(self, kind):
        """Bulk import a CSV/JSON/Excel file (multipart 'file'): valid rows stored, rejected rows reported."""
        require_roles(WRITER_ROLES, "importing hub records")
        from engine.hub.importer import upsert_file
        from engine.hub.service import kind_or_error

        kind_or_error(kind)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise Invalid("no file", errors=[{"field": "file", "message": "send the file as multipart field 'file'"}])
        report = upsert_file(platform().hub, kind, upload.filename, upload.read(), sheet=request.form.get("sheet"),
                             source="import")
        return report.as_dict()


@blp.route("/<string:kind>/<int:record_id>")
class Record(MethodView):
    @blp.problems(422)
    @blp.documents(200, R.HubRecord)
    def get(self, kind, record_id):
        """One record by id."""
        principal()
        return platform().hub.get_by_id(kind, record_id)
