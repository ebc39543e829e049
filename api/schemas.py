"""marshmallow schemas for request parsing and the OpenAPI document."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


# Ids and counters are 64-bit in the database; a larger number is a client error, not a 500.
MAX_ID = 2**63 - 1


def Id(**kwargs):  # noqa: N802 - reads like a field type
    """An integer id field bounded to what the database stores."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Base(Schema):
    class Meta:
        unknown = EXCLUDE


class LoginSchema(Base):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class TokenSchema(Base):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class PageArgs(Base):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class StartInstanceSchema(Base):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    business_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))


class InstanceListArgs(PageArgs):
    process_key = fields.String()
    business_key = fields.String()
    status = fields.String(validate=validate.OneOf(["running", "waiting", "completed", "cancelled", "error"]))
    started_after = fields.AwareDateTime(default_timezone=None)
    started_before = fields.AwareDateTime(default_timezone=None)


class CancelSchema(Base):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class TaskListArgs(PageArgs):
    assignee = fields.String()
    candidate_role = fields.String()
    mine = fields.Boolean(load_default=False)
    process_key = fields.String()
    instance_id = Id()
    business_key = fields.String()
    state = fields.String(validate=validate.OneOf(["ready", "completed", "cancelled"]))
    due_before = fields.AwareDateTime(default_timezone=None)
    due_after = fields.AwareDateTime(default_timezone=None)
    sort = fields.String(load_default="created", validate=validate.OneOf(["created", "due", "priority"]))
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class CompleteSchema(Base):
    data = fields.Dict(keys=fields.String(), load_default=dict)


class AssignSchema(Base):
    user = fields.String(required=True, validate=validate.Length(min=1, max=100))


class AuditArgs(PageArgs):
    instance_id = Id()
    kind = fields.String()


class TaskSchema(Base):
    id = fields.String()
    bpmn_id = fields.String()
    name = fields.String()
    instance_id = fields.Integer()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    candidate_roles = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    state = fields.String()
    department = fields.String(allow_none=True)
    area = fields.String(allow_none=True)
    due_at = fields.String(allow_none=True)
    priority = fields.Integer()
    created_at = fields.String()
    completed_at = fields.String(allow_none=True)
    completed_by = fields.String(allow_none=True)


class TaskListSchema(Base):
    items = fields.List(fields.Nested(TaskSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class MessageSchema(Base):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    business_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    correlation = fields.Dict(keys=fields.String(), load_default=dict)
    payload = fields.Dict(keys=fields.String(), load_default=dict)
    message_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))


class IncidentListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["open", "retried", "resolved"]))
    instance_id = Id()


class RetrySchema(Base):
    variables = fields.Dict(keys=fields.String(), load_default=dict)


class ResolveSchema(Base):
    comment = fields.String(required=True, validate=validate.Length(min=1, max=2000))


# --- instance view and designer (issue 13) ---
class AuditVerifyArgs(Base):
    instance_id = Id(metadata={"description": "verify only this instance's chain (anyone who may see it)"})


class DefinitionDiffArgs(Base):
    from_version = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1, max=2**31 - 1))
    to_version = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1, max=2**31 - 1))
