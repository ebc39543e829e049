"""Organisation management (admin only): departments, areas, users, file import."""
from flask import request
from flask.views import MethodView
from marshmallow import fields, validate

from api import responses as R
from api.auth import require_roles
from api.blueprint import Blueprint
from api.schemas import Base, PageArgs
from api.services import platform
from engine.errors import Invalid
from engine.organisation import AREA_CLASSIFICATIONS, DEPARTMENT_KINDS
from engine.roles import ROLES

blp = Blueprint("organisation", __name__, url_prefix="/api/v1/org",
                description="Organisation: departments, areas and users (admin only)")
ADMIN = frozenset({"admin"})
CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", error="1 to 64 letters, digits, '.', '_' or '-'")
USERNAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$",
                           error="1 to 100 letters, digits, '.', '_', '@' or '-'")
NAME = validate.Length(min=1, max=200)
PASSWORD = validate.Length(min=8, max=1000)


class DepartmentSchema(Base):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=NAME)
    kind = fields.String(load_default="production", validate=validate.OneOf(DEPARTMENT_KINDS))


class DepartmentPatchSchema(Base):
    name = fields.String(validate=NAME)
    kind = fields.String(validate=validate.OneOf(DEPARTMENT_KINDS))


class DepartmentListSchema(Base):
    items = fields.List(fields.Nested(DepartmentSchema))


class AreaSchema(Base):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=NAME)
    department = fields.String(load_default=None, allow_none=True, validate=CODE)
    classification = fields.String(required=True, validate=validate.OneOf(AREA_CLASSIFICATIONS))


class AreaPatchSchema(Base):
    name = fields.String(validate=NAME)
    department = fields.String(allow_none=True, validate=CODE)
    classification = fields.String(validate=validate.OneOf(AREA_CLASSIFICATIONS))


class AreaListSchema(Base):
    items = fields.List(fields.Nested(AreaSchema))


class UserSchema(Base):
    username = fields.String(validate=USERNAME)
    display_name = fields.String()
    department = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    active = fields.Boolean()


class UserCreateSchema(Base):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    display_name = fields.String(load_default="", validate=validate.Length(max=200))
    department = fields.String(load_default=None, allow_none=True, validate=CODE)
    roles = fields.List(fields.String(validate=validate.OneOf(list(ROLES))), required=True,
                        validate=validate.Length(min=1, max=len(ROLES)))
    active = fields.Boolean(load_default=True)


class UserPatchSchema(Base):
    display_name = fields.String(validate=NAME)
    department = fields.String(allow_none=True, validate=CODE)
    roles = fields.List(fields.String(validate=validate.OneOf(list(ROLES))), validate=validate.Length(min=1, max=len(ROLES)))
    active = fields.Boolean()


class UserListArgs(PageArgs):
    department = fields.String(validate=CODE)
    active = fields.Boolean()
    role = fields.String(validate=validate.OneOf(list(ROLES)))
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "part of the username or display name (case-insensitive)"})


class UserListSchema(Base):
    items = fields.List(fields.Nested(UserSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class PasswordSchema(Base):
    password = fields.String(required=True, load_only=True, validate=PASSWORD)


class OrgImportRowSchema(Base):
    row = fields.Integer(metadata={"description": "row number in the file (CSV line, Excel sheet row)"})
    record = fields.String()
    code = fields.String(allow_none=True)
    result = fields.String(validate=validate.OneOf(["created", "updated", "unchanged", "rejected"]))
    changes = fields.List(fields.String())
    errors = fields.List(fields.Dict(), metadata={"description": "[{field, message}] of a rejected row"})


class OrgImportReportSchema(Base):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    rows = fields.List(fields.Nested(OrgImportRowSchema))


class ImportFileSchema(Base):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "a .csv (UTF-8) or .xlsx file"})
    # Documented here, read from the form by the view: webargs' "files" location holds files only,
    # and a second (form) schema would be a second request body, which OpenAPI 3 cannot express.
    sheet = fields.String(metadata={"description": "Excel sheet to read (default: the first)"})


def _errors(*codes):
    """Document the problem+json answers of an endpoint (api/openapi.py's shared Problem schema)."""
    return blp.problems(*codes)


def _admin(action: str) -> str:
    return require_roles(ADMIN, action).username


@blp.before_request
def _admins_only():
    # Before the body is parsed: a non-admin learns nothing from a 422 about a request they may not make.
    if request.method != "OPTIONS":
        _admin("managing the organisation")


@blp.route("/vocabulary")
class Vocabulary(MethodView):
    @blp.documents(200, R.OrgVocabulary)
    @_errors(401, 403)
    def get(self):
        """The codes the organisation's forms choose from: roles with their names, department kinds, area
        hazard classifications (what POST/PATCH accept)."""
        _admin("reading the organisation's codes")
        return platform().organisation.vocabulary()


@blp.route("/departments")
class Departments(MethodView):
    @blp.response(200, DepartmentListSchema)
    @_errors(401, 403)
    def get(self):
        """Every department."""
        _admin("listing departments")
        return {"items": platform().organisation.departments()}

    @blp.arguments(DepartmentSchema)
    @blp.response(201, DepartmentSchema)
    @_errors(401, 403, 409, 422)
    def post(self, body):
        """Create a department."""
        return platform().organisation.add_department(_admin("creating departments"), **body)


@blp.route("/departments/<string:code>")
class DepartmentOne(MethodView):
    @blp.response(200, DepartmentSchema)
    @_errors(401, 403, 404)
    def get(self, code):
        """One department."""
        _admin("reading departments")
        return platform().organisation.department(code)

    @blp.arguments(DepartmentPatchSchema)
    @blp.response(200, DepartmentSchema)
    @_errors(401, 403, 404, 422)
    def patch(self, body, code):
        """Change a department's name or kind."""
        return platform().organisation.update_department(_admin("changing departments"), code, **body)


@blp.route("/areas")
class Areas(MethodView):
    @blp.response(200, AreaListSchema)
    @_errors(401, 403)
    def get(self):
        """Every area with its department and hazard classification."""
        _admin("listing areas")
        return {"items": platform().organisation.areas()}

    @blp.arguments(AreaSchema)
    @blp.response(201, AreaSchema)
    @_errors(401, 403, 409, 422)
    def post(self, body):
        """Create an area."""
        return platform().organisation.add_area(_admin("creating areas"), **body)


@blp.route("/areas/<string:code>")
class AreaOne(MethodView):
    @blp.response(200, AreaSchema)
    @_errors(401, 403, 404)
    def get(self, code):
        """One area."""
        _admin("reading areas")
        return platform().organisation.area(code)

    @blp.arguments(AreaPatchSchema)
    @blp.response(200, AreaSchema)
    @_errors(401, 403, 404, 422)
    def patch(self, body, code):
        """Change an area's name, department or hazard classification."""
        return platform().organisation.update_area(_admin("changing areas"), code, **body)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, UserListSchema)
    @_errors(401, 403, 422)
    def get(self, args):
        """A page of users by username, optionally of one department, with one role, only (in)active ones, or
        matching ``q``."""
        _admin("listing users")
        return platform().organisation.page_users(**args)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @_errors(401, 403, 409, 422)
    def post(self, body):
        """Create a user."""
        return platform().organisation.add_user(_admin("creating users"), **body)


@blp.route("/users/<string:username>")
class UserOne(MethodView):
    @blp.response(200, UserSchema)
    @_errors(401, 403, 404)
    def get(self, username):
        """One user."""
        _admin("reading users")
        return platform().organisation.user(username)

    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema)
    @_errors(401, 403, 404, 422)
    def patch(self, body, username):
        """Change roles, department, display name or active (deactivating revokes the user's tokens)."""
        return platform().organisation.update_user(_admin("changing users"), username, **body)


@blp.route("/users/<string:username>/password")
class UserPassword(MethodView):
    @blp.arguments(PasswordSchema)
    @blp.response(200, UserSchema)
    @_errors(401, 403, 404, 422)
    def post(self, body, username):
        """Reset a user's password; every token issued before stops working."""
        return platform().organisation.reset_password(_admin("resetting passwords"), username, body["password"])


@blp.route("/import")
class Import(MethodView):
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, OrgImportReportSchema)
    @_errors(401, 403, 422)
    def post(self, files):
        """Import departments, areas and users from a CSV or Excel file (multipart 'file'; README
        "Organisation import"): per-row results, bad rows rejected and not stored, idempotent."""
        actor = _admin("importing the organisation")
        upload = files.get("file") if files else request.files.get("file")
        if upload is None or not getattr(upload, "filename", None):
            raise Invalid("no file", errors=[{"field": "file", "message": "send the file as multipart field 'file'"}])
        sheet = request.form.get("sheet") or None
        if sheet is not None and len(sheet) > 100:
            raise Invalid("invalid sheet", errors=[{"field": "sheet", "message": "at most 100 characters"}])
        org = platform().organisation
        data = upload.stream.read(org.max_import_bytes + 1)
        return org.import_file(actor, upload.filename, data, sheet=sheet)
