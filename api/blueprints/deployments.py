"""Deployments and process definitions."""
from flask import Response, request
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.auth import require_roles
from api.schemas import DefinitionDiffArgs
from api.services import platform
from engine.errors import Invalid
from engine.roles import DEPLOYER_ROLES

blp = Blueprint("deployments", __name__, url_prefix="/api/v1", description="Deployments and definitions")

MAX_FILES = 200


def _uploaded_files() -> dict[str, bytes]:
    uploads = request.files.getlist("files")
    if not uploads:
        raise Invalid("no files uploaded", errors=[{"field": "files",
                                                    "message": "send each file as multipart field 'files'"}])
    if len(uploads) > MAX_FILES:
        raise Invalid("too many files", errors=[{"field": "files", "message": f"at most {MAX_FILES} files"}])
    files = {}
    for f in uploads:
        name = (f.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            raise Invalid("file without a name", errors=[{"field": "files", "message": "every file needs a filename"}])
        if name in files:
            raise Invalid("duplicate file name", errors=[{"field": "files", "message": f"'{name}' sent twice"}])
        files[name] = f.read()
    return files


@blp.route("/deployments")
class Deployments(MethodView):
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}})
    @blp.documents(201, R.Deployment, description="A new version of at least one process")
    @blp.documents(200, R.Deployment, description="Every process unchanged (same content already latest)")
    def post(self):
        """Deploy .bpmn, .dmn and form .json files (multipart, field 'files'). Designers and admins only."""
        p = require_roles(DEPLOYER_ROLES, "deploying")
        result = platform().deployments.deploy(_uploaded_files(), p.username)
        created = any(x["created"] for x in result["processes"])
        return result, 201 if created else 200


@blp.route("/deployments/validate")
class ValidateDeployment(MethodView):
    @blp.doc(requestBody=R.FILES_UPLOAD)
    @blp.documents(200, R.Validation)
    def post(self):
        """Validate files without storing them (same checks as a deployment)."""
        require_roles(DEPLOYER_ROLES, "validating a deployment")
        processes = platform().deployments.validate(_uploaded_files())
        return {"valid": True, "processes": [{"key": p.key, "name": p.name} for p in processes]}


@blp.route("/process-definitions")
class Definitions(MethodView):
    @blp.documents(200, R.DefinitionList)
    def get(self):
        """Latest version of every process definition."""
        items = platform().deployments.list_definitions()
        return {"items": items, "total": len(items)}


@blp.route("/process-definitions/<string:key>")
class DefinitionVersions(MethodView):
    @blp.documents(200, R.DefinitionVersions)
    def get(self, key):
        """All versions of one process key."""
        return platform().deployments.versions(key)


@blp.route("/process-definitions/<string:key>/<int:version>/xml")
class DefinitionXml(MethodView):
    @blp.documents(200, R.XML, content_type="application/xml")
    def get(self, key, version):
        """The BPMN XML of one version."""
        return Response(platform().deployments.xml(key, version), mimetype="application/xml")


@blp.route("/process-definitions/<string:key>/diff")
class DefinitionDiff(MethodView):
    @blp.arguments(DefinitionDiffArgs, location="query")
    @blp.documents(200, R.DefinitionDiff)
    def get(self, args, key):
        """What changed between two versions: BPMN elements (added, removed, changed by attribute, property,
        script, condition, event, lane), elements only moved on the canvas, forms and DMN decisions."""
        return platform().deployments.diff(key, args["from_version"], args["to_version"])
