"""marshmallow schemas of the success bodies, for the OpenAPI document only.

Operations return plain dicts built by the engine; these schemas describe them (``Blueprint.documents``)
and never marshal them, so a field added in the engine shows up in the answer at once and the contract
test (tests/test_api_contract.py) tells when the document no longer matches. Objects stay open to
further members (``unknown = INCLUDE`` leaves ``additionalProperties`` unset); what a schema lists, it
lists with its real type and nullability. Times are ISO 8601 strings.
"""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields


class Out(Schema):
    class Meta:
        unknown = INCLUDE


def Str(**kw):  # noqa: N802 - reads like a field type
    return fields.String(**kw)


def NStr(**kw):  # noqa: N802
    return fields.String(allow_none=True, **kw)


def NInt(**kw):  # noqa: N802
    return fields.Integer(allow_none=True, **kw)


def NFloat(**kw):  # noqa: N802
    return fields.Float(allow_none=True, **kw)


def Obj(**kw):  # noqa: N802 - a JSON object whose members depend on the process, form or analysis
    return fields.Dict(keys=fields.String(), **kw)


def ListOf(schema, **kw):  # noqa: N802
    return fields.List(fields.Nested(schema), **kw)


def page_of(item, name: str):
    """A page of items: ``{items, total, page, page_size}``."""
    return type(name, (Out,), {"items": ListOf(item), "total": fields.Integer(), "page": fields.Integer(),
                               "page_size": fields.Integer()})


def items_of(item, name: str):
    """An unpaged list: ``{items}``."""
    return type(name, (Out,), {"items": ListOf(item)})


# --- users -------------------------------------------------------------------------------------------
class Me(Out):
    username = Str()
    display_name = NStr()
    department = NStr()
    roles = fields.List(fields.String())


# --- definitions and deployments ---------------------------------------------------------------------
class DefinitionSummary(Out):
    id = fields.Integer()
    key = Str()
    version = fields.Integer()
    name = NStr()
    deployed_at = Str()
    deployed_by = NStr()
    content_hash = Str()


DefinitionList = type("DefinitionList", (Out,), {"items": ListOf(DefinitionSummary), "total": fields.Integer()})


class DefinitionVersions(Out):
    key = Str()
    name = NStr()
    versions = ListOf(DefinitionSummary)


class DeployedProcess(Out):
    key = Str()
    version = fields.Integer()
    created = fields.Boolean(metadata={"description": "false when the same content was already the latest"})
    definition_id = fields.Integer()


class Deployment(Out):
    id = fields.Integer()
    processes = ListOf(DeployedProcess)


class ValidatedProcess(Out):
    key = Str()
    name = NStr()


class Validation(Out):
    valid = fields.Boolean()
    processes = ListOf(ValidatedProcess)


# --- instances and tasks -----------------------------------------------------------------------------
class Task(Out):
    id = Str()
    bpmn_id = Str()
    name = NStr()
    instance_id = fields.Integer()
    process_key = Str()
    business_key = NStr()
    candidate_roles = fields.List(fields.String())
    assignee = NStr()
    state = Str(metadata={"enum": ["ready", "completed", "cancelled"]})
    department = NStr()
    area = NStr()
    due_at = NStr()
    priority = fields.Integer()
    created_at = Str()
    completed_at = NStr()
    completed_by = NStr()


class TaskDetail(Task):
    form = Obj(allow_none=True, metadata={"description": "the form's JSON Schema (null: the task takes no data)"})
    ui_schema = Obj(allow_none=True)
    properties = Obj(metadata={"description": "the task's extension properties from the BPMN"})
    data = Obj(metadata={"description": "the task's current data"})


TaskPage = page_of(Task, "TaskPage")


class Instance(Out):
    id = fields.Integer()
    process_key = Str()
    version = fields.Integer()
    business_key = NStr()
    status = Str(metadata={"enum": ["running", "waiting", "completed", "cancelled", "error"]})
    department = NStr()
    area = NStr()
    started_at = Str()
    started_by = NStr()
    ended_at = NStr()
    next_timer_at = NStr()
    error = NStr()
    row_version = fields.Integer()


class StartedInstance(Instance):
    active_tasks = ListOf(Task)


class TimelineEvent(Out):
    seq = fields.Integer()
    at = Str()
    actor = NStr()
    kind = Str()
    task_id = NStr()
    data = Obj(allow_none=True)


class Incident(Out):
    id = fields.Integer()
    instance_id = NInt()
    task_id = NStr()
    kind = Str()
    message = NStr()
    details = Obj()
    status = Str(metadata={"enum": ["open", "retried", "resolved"]})
    created_at = Str()
    resolved_at = NStr()
    resolved_by = NStr()


class InstanceDetail(StartedInstance):
    variables = Obj()
    timeline = ListOf(TimelineEvent)
    incidents = ListOf(Incident)


InstancePage = page_of(Instance, "InstancePage")


class InstanceState(Out):
    id = fields.Integer()
    status = Str()


class Completion(Out):
    task = fields.Nested(Task)
    instance = fields.Nested(InstanceState)
    next_tasks = ListOf(Task)


IncidentPage = page_of(Incident, "IncidentPage")


class Retried(Out):
    incident = fields.Nested(Incident)
    instance = fields.Nested(InstanceState)


# --- messages ----------------------------------------------------------------------------------------
class Reached(Out):
    id = fields.Integer()
    process_key = Str()
    status = Str()
    started = fields.Boolean()


class Delivery(Out):
    name = Str()
    correlation = Obj()
    instances = ListOf(Reached)
    duplicate = fields.Boolean(metadata={"description": "true when message_id was delivered before"})


# --- connectors --------------------------------------------------------------------------------------
class ConnectorParam(Out):
    name = Str()
    type = NStr()
    required = fields.Boolean()
    description = NStr()
    default = fields.Raw(allow_none=True)
    choices = fields.List(fields.Raw())


class ConnectorOperation(Out):
    name = Str()
    description = NStr()
    params = ListOf(ConnectorParam)
    result_schema = Obj(allow_none=True)
    timeout_s = fields.Float(allow_none=True, metadata={
        "description": "seconds one call may run; null = ANJIAN_OPERATION_TIMEOUT_SECONDS"})
    long_running = fields.Boolean(metadata={"description": "true: runs on the low-priority queue"})


class Connector(Out):
    name = Str()
    version = NStr()
    kind = NStr()
    description = NStr()
    config_schema = Obj(allow_none=True)
    config = Obj(metadata={"description": "configuration in force; writeOnly values (secrets) are left out"})
    operations = ListOf(ConnectorOperation)


class ConnectorFailure(Out):
    name = Str()
    error = NStr()


class Connectors(Out):
    connectors = ListOf(Connector)
    failures = ListOf(ConnectorFailure, metadata={"description": "connectors that failed to load, with why"})


# --- IoT ---------------------------------------------------------------------------------------------
class Device(Out):
    id = Str()
    name = NStr()
    type = Str()
    metric = NStr()
    unit = NStr()
    area = NStr()
    equipment = NStr()
    gas = NStr()
    lel_vol = NFloat()
    setpoints = fields.Dict(keys=fields.String(), values=fields.Float())
    range = fields.List(fields.Float(allow_none=True))
    active = fields.Boolean()
    last_seen_at = NStr()
    created_at = NStr()


DevicePage = page_of(Device, "DevicePage")


class DeviceImport(Out):
    created = fields.Integer()
    updated = fields.Integer()
    total = fields.Integer()


class Reading(Out):
    ts = Str()
    value = fields.Float()
    quality = NStr()


class Readings(Out):
    device_id = Str()
    start = Str(data_key="from")
    end = Str(data_key="to")
    truncated = fields.Boolean()
    items = ListOf(Reading)


class Bucket(Out):
    start = Str()
    min = NFloat()
    avg = NFloat()
    max = NFloat()
    count = fields.Integer()


class Downsampled(Out):
    device_id = Str()
    start = Str(data_key="from")
    end = Str(data_key="to")
    bucket_seconds = fields.Float()
    items = ListOf(Bucket)


class AlertOutcome(Out):
    id = fields.Integer()
    outcome = Str()
    grade = NStr()
    rule = NStr()
    device_id = NStr()
    area = NStr()


class TelemetryResult(Out):
    received = fields.Integer()
    stored = fields.Integer()
    dead_lettered = fields.Integer()
    duplicates = fields.Integer()
    alerts = ListOf(AlertOutcome)


class Alert(Out):
    id = fields.Integer()
    grade = Str()
    status = Str()
    rule = NStr()
    kind = NStr()
    title = NStr()
    device_id = NStr()
    area = NStr()
    level = NInt()
    value = NFloat()
    peak_value = NFloat()
    unit = NStr()
    owner_department = NStr()
    opened_at = Str()
    last_seen_at = NStr()
    deadline_at = NStr()
    escalations = fields.Integer()
    occurrences = fields.Integer()
    process_status = NStr()
    process_instance_id = NInt()
    acknowledged_at = NStr()
    acknowledged_by = NStr()
    closed_at = NStr()
    closed_by = NStr()
    disposal = Obj(allow_none=True, metadata={"description": "cause, action, measures, false_alarm, recorded_at/by"})
    details = Obj(allow_none=True)


class AlertEvent(Out):
    at = Str()
    actor = NStr()
    kind = Str()
    data = Obj(allow_none=True)


class AlertDetail(Alert):
    events = ListOf(AlertEvent)


AlertPage = page_of(Alert, "AlertPage")


class DeadLetter(Out):
    id = fields.Integer()
    received_at = Str()
    source = NStr()
    topic = NStr()
    device_id = NStr()
    reason = NStr()
    detail = NStr()
    payload = fields.Raw(allow_none=True, metadata={"description": "the raw payload as received"})


DeadLetterPage = page_of(DeadLetter, "DeadLetterPage")


# --- audit -------------------------------------------------------------------------------------------
class AuditEvent(Out):
    seq = fields.Integer()
    at = Str()
    actor = NStr()
    kind = Str()
    instance_id = NInt()
    task_id = NStr()
    data_digest = NStr()
    prev_hash = NStr()
    hash = Str()
    data = Obj(allow_none=True)


AuditPage = page_of(AuditEvent, "AuditPage")


class AuditVerification(Out):
    ok = fields.Boolean()
    checked = fields.Integer()
    broken_seq = NInt()
    reason = NStr()


# --- data hub ----------------------------------------------------------------------------------------
class KindField(Out):
    name = Str()
    type = Str()
    required = fields.Boolean()
    filter = fields.Boolean()
    choices = fields.List(fields.Raw())


class HubKind(Out):
    kind = Str()
    title = NStr()
    key = fields.List(fields.String())
    time_field = NStr()
    fields_ = ListOf(KindField, data_key="fields")


class HubKinds(Out):
    kinds = ListOf(HubKind)


class HubRecord(Out):
    id = fields.Integer()
    source = NStr()
    updated_at = NStr()


class HubPage(Out):
    kind = Str()
    items = ListOf(HubRecord)
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class HubUpsert(Out):
    record = fields.Nested(HubRecord)
    created = fields.Boolean()


class Rejected(Out):
    row = NInt()
    key = fields.Raw(allow_none=True)
    errors = fields.List(fields.Raw())


class ImportReport(Out):
    kind = Str()
    received = fields.Integer()
    inserted = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected_count = fields.Integer()
    rejected = ListOf(Rejected)
    batches = fields.Integer()


# One import report per record kind fed from the processes, keyed by kind.
HUB_SYNC = {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/ImportReport"}}


class FocusItem(Out):
    id = fields.Integer()
    analysis = Str()
    period = Str()
    run_id = NInt()
    target_kind = NStr()
    target = NStr()
    area = NStr()
    department = NStr()
    reason = NStr()
    evidence = fields.Raw(allow_none=True)
    status = Str()
    created_at = NStr()


FocusItems = items_of(FocusItem, "FocusItems")


class Recommendation(Out):
    id = fields.Integer()
    analysis = Str()
    period = Str()
    run_id = NInt()
    kind = NStr()
    target_kind = NStr()
    target = NStr()
    department = NStr()
    text = NStr()
    evidence = fields.Raw(allow_none=True)
    instance_id = NInt()
    status = Str()
    created_at = NStr()


Recommendations = items_of(Recommendation, "Recommendations")


# --- analytics, assessment, duties ------------------------------------------------------------------
class AnalysisRun(Out):
    id = fields.Integer()
    analysis = Str()
    period = Str()
    params = Obj()
    input_digest = Str()
    result_digest = Str()
    started_at = Str()
    duration_ms = NInt()
    run_by = NStr()


class AnalysisResult(AnalysisRun):
    result = Obj(metadata={"description": "the analysis' own result (see the analysis' documentation)"})


AnalysisRuns = items_of(AnalysisRun, "AnalysisRuns")
RunResults = type("RunResults", (Out,), {"runs": ListOf(AnalysisResult)})


class Indicator(Out):
    value = NFloat()
    score = NFloat()
    numerator = NFloat()
    denominator = NFloat()
    definition = NStr()
    weight = NFloat()
    records = NStr()


class AssessedSubject(Out):
    subject = Str()
    score = NFloat()
    rank = NInt()
    indicators = fields.Dict(keys=fields.String(), values=fields.Nested(Indicator))
    weights_used = fields.Dict(keys=fields.String(), values=fields.Float())


class Assessment(Out):
    period = Str()
    start = Str(data_key="from")
    end = Str(data_key="to")
    level = Str()
    weights = fields.Dict(keys=fields.String(), values=fields.Float())
    scales = Obj()
    method = NStr()
    items = ListOf(AssessedSubject)


class AssessmentRecords(Out):
    period = Str()
    level = Str()
    subject = Str()
    indicator = Str()
    value = NFloat()
    numerator = NFloat()
    denominator = NFloat()
    definition = NStr()
    records = fields.List(fields.Raw())


class DutyTask(Out):
    process_key = Str()
    bpmn_id = Str()


class Duty(Out):
    code = Str()
    title = Str()
    description = NStr()
    tasks = ListOf(DutyTask)


class DutyListVersion(Out):
    id = fields.Integer()
    role = Str()
    scope = Str()
    version = fields.Integer()
    title = Str()
    note = NStr()
    created_at = Str()
    created_by = NStr()


class DutyList(DutyListVersion):
    role_name = NStr()
    duties = ListOf(Duty)


DutyVersions = items_of(DutyListVersion, "DutyVersions")


class MyDuty(Duty):
    open_tasks = ListOf(Task)
    open_count = fields.Integer()


class MyDutyList(DutyList):
    duties = ListOf(MyDuty)


class MyDuties(Out):
    user = Str()
    department = NStr()
    roles = fields.List(fields.String())
    lists = ListOf(MyDutyList)
    unassigned_tasks = ListOf(Task)
    open_total = fields.Integer()


class DutyRef(Out):
    code = Str()
    title = Str()


class LaneTask(Out):
    bpmn_id = Str()
    name = NStr()
    duties = ListOf(DutyRef)


class Lane(Out):
    lane = NStr()
    role = NStr()
    list_version = NInt()
    duties = ListOf(Duty)
    tasks = ListOf(LaneTask)


class ProcessLanes(Out):
    process_key = Str()
    version = fields.Integer()
    name = NStr()
    lanes = ListOf(Lane)


Lanes = type("Lanes", (Out,), {"processes": ListOf(ProcessLanes)})


class FusionIndicators(Out):
    hazards_found = fields.Integer()
    major_hazards_found = fields.Integer()
    hazards_due = fields.Integer()
    hazards_closed_on_time = fields.Integer()
    on_time_rectification_rate = NFloat()
    inspections = fields.Integer()
    violations = fields.Integer()
    worked_hours = fields.Float()
    violations_per_1000h = NFloat()
    permits = fields.Integer()
    alerts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "count per grade"})


class FusionTrendMonth(Out):
    period = Str()
    hazards_found = fields.Integer()
    on_time_rectification_rate = NFloat()
    violations_per_1000h = NFloat()
    inspections = fields.Integer()


class FusionAnalysis(Out):
    run_id = fields.Integer()
    run_at = Str()
    params = Obj()
    input_digest = Str()
    result_digest = Str()
    result = Obj()


class Finding(Out):
    analysis = Str()
    target = NStr()
    area = NStr()
    summary = Str()


class FusionReport(Out):
    period = Str()
    generated_at = Str()
    indicators = fields.Nested(FusionIndicators)
    trend = ListOf(FusionTrendMonth, metadata={"description": "the 12 months up to the period"})
    analyses = fields.Dict(keys=fields.String(), values=fields.Nested(FusionAnalysis, allow_none=True),
                           metadata={"description": "latest run per analysis; null when not run for the period"})
    findings = ListOf(Finding)
    recommendations = ListOf(Recommendation)
    focus_items = ListOf(FocusItem)
    charts = fields.List(fields.String(), metadata={
        "description": "names of the report's charts, each an SVG image at /reports/fusion/charts/{name}"})


# Binary and text answers: the body is not JSON.
XML = {"type": "string", "description": "BPMN 2.0 XML"}
SVG = {"type": "string", "description": "SVG image"}
HTML = {"type": "string", "description": "HTML page"}
PDF = {"type": "string", "format": "binary"}


# --- request bodies read by the operation itself (no webargs schema: documented here, checked in the engine)
def json_body(schema: dict) -> dict:
    """A required JSON ``requestBody`` document."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_NUMBER = {"type": "number"}
DEVICE_FIELDS = {
    "id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
    "type": {"type": "string", "enum": ["co", "combustible_lel", "combustible_vol", "current", "h2s", "load",
                                       "o2", "pressure", "temperature", "video"]},
    "area": {"type": "string"},
    "name": {"type": "string"},
    "equipment": {"type": "string", "nullable": True},
    "gas": {"type": "string", "nullable": True},
    "lel_vol": {**_NUMBER, "nullable": True},
    "metric": {"type": "string"},
    "unit": {"type": "string"},
    "setpoints": {"type": "object", "properties": {k: _NUMBER for k in ("high1", "high2", "low1", "low2")}},
    "range": {"type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2},
}
DEVICE_IN = {"type": "object", "required": ["id", "type", "area"], "properties": DEVICE_FIELDS}
DEVICE_CHANGES = {"type": "object", "properties": {**DEVICE_FIELDS, "active": {"type": "boolean"}}}
DEVICE_ROWS = {"oneOf": [{"type": "array", "items": DEVICE_IN},
                         {"type": "object", "required": ["devices"],
                          "properties": {"devices": {"type": "array", "items": DEVICE_IN}}}]}
READING_IN = {"type": "object", "required": ["device", "value"], "properties": {
    "device": {"type": "string"}, "value": _NUMBER, "unit": {"type": "string"},
    "ts": {"type": "string", "description": "ISO 8601 time (default: when received)"},
    "quality": {"type": "string"}, "metric": {"type": "string"}, "area": {"type": "string"}}}
TELEMETRY_IN = {"oneOf": [READING_IN, {"type": "array", "items": READING_IN, "minItems": 1},
                          {"type": "object", "required": ["readings"],
                           "properties": {"readings": {"type": "array", "items": READING_IN, "minItems": 1}}}]}
HUB_RECORD_IN = {"type": "object", "description": "the kind's fields (GET /hub/kinds), natural key included",
                 "additionalProperties": True}
DUTY_IN = {"type": "object", "required": ["code", "title"], "properties": {
    "code": {"type": "string", "minLength": 1, "maxLength": 64},
    "title": {"type": "string", "minLength": 1},
    "description": {"type": "string"},
    "tasks": {"type": "array", "items": {"type": "object", "properties": {
        "process_key": {"type": "string"}, "bpmn_id": {"type": "string"}}}}}}
DUTY_LIST_IN = {"type": "object", "required": ["title", "duties"], "properties": {
    "title": {"type": "string", "minLength": 1}, "note": {"type": "string"},
    "department": {"type": "string", "nullable": True},
    "duties": {"type": "array", "minItems": 1, "items": DUTY_IN}}}
FILES_UPLOAD = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}
FILE_UPLOAD = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "CSV, JSON, JSON lines or Excel"},
        "sheet": {"type": "string", "description": "Excel sheet (default: the first)"}}}}}}
DEVICE_IMPORT = {"required": True, "content": {
    "application/json": {"schema": DEVICE_ROWS},
    "text/csv": {"schema": {"type": "string", "description": "CSV with a header row of device fields"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "CSV, JSON or Excel"}}}}}}


# --- permit register and board -----------------------------------------------------------------------
class PermitConflict(Out):
    source = Str(metadata={"description": "review: recorded by the permit's own review; register: another "
                                          "open permit of the area the SIMOPS table pairs with this one"})
    kind = NStr()
    process_key = NStr()
    instance_id = NInt()
    business_key = NStr()
    distance_m = NFloat()
    reason = NStr()
    status = NStr()
    forbidden = fields.Boolean(allow_none=True, metadata={"description": "the standard forbids this cross-work outright (GB 30871-2022 "
                                              "5.2.9, 6.7, 7.6, 7.10): a coordinator cannot clear it"})
    clause = NStr()
    refusal = NStr(metadata={"description": "why it is forbidden (same equipment, same pipeline, distance)"})


class PermitTask(Out):
    id = Str()
    bpmn_id = Str()
    name = NStr()
    candidate_role = NStr()
    assignee = NStr()
    department = NStr()
    due_at = NStr()


class Permit(Out):
    id = fields.Integer()
    business_key = NStr()
    process_key = Str()
    type = Str()
    type_name = Str()
    grade = NStr()
    grade_name = NStr()
    area = NStr()
    area_name = NStr()
    area_department = NStr()
    location = NStr()
    department = NStr()
    status = Str(metadata={"description": "applied, in_review, issued, working, paused, suspended, expired, "
                                          "closed or cancelled"})
    instance_status = Str()
    suspended_by = NStr()
    applicant = NStr()
    applied_at = NStr()
    issued_at = NStr()
    work_started_at = NStr()
    ended_at = NStr()
    validity_end = NStr()
    validity_seconds_left = NInt()
    gas_sampled_at = NStr()
    gas_sample_age_seconds = NInt()
    gas_sample_pass = fields.Boolean(allow_none=True)
    gas_window_minutes = fields.Float()
    gas_sample_stale = fields.Boolean()
    simops_conflicts = ListOf(PermitConflict)
    current_tasks = ListOf(PermitTask)


class RegisterArea(Out):
    code = Str()
    name = NStr()
    department = NStr()
    classification = NStr()


PermitPage = type("PermitPage", (Out,), {"items": ListOf(Permit), "total": fields.Integer(),
                                         "page": fields.Integer(), "page_size": fields.Integer(),
                                         "areas": ListOf(RegisterArea)})


class EscalationTask(Out):
    id = Str()
    bpmn_id = Str()
    name = NStr()
    level = fields.Integer()
    state = Str()
    assignee = NStr()
    candidate_role = NStr()
    due_at = NStr()


class Escalation(Out):
    task_id = Str()
    instance_id = fields.Integer()
    process_key = Str()
    business_key = NStr()
    duty_title = NStr()
    duty_type = NStr()
    department = NStr()
    area = NStr()
    level = fields.Integer()
    overdue = fields.Boolean()
    due_at = NStr()
    overdue_seconds = fields.Integer()
    started_at = NStr()
    assignee = NStr()
    candidate_role = NStr()
    escalation_tasks = ListOf(EscalationTask)


EscalationPage = page_of(Escalation, "EscalationPage")


# --- browser session (workspace) -------------------------------------------------------------------
class BrowserSession(Out):
    user = fields.Nested(Me, required=True)
    csrf_token = Str(required=True, metadata={"description": "send as `X-CSRF-Token` with every write"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds until the session ends"})


# --- organisation vocabulary (web app admin forms) ---------------------------------------------------
class RoleChoice(Out):
    code = Str()
    name = Str(metadata={"description": "the role's Chinese name"})


class OrgVocabulary(Out):
    roles = ListOf(RoleChoice)
    department_kinds = fields.List(fields.String())
    area_classifications = fields.List(fields.String())


# --- instance view and designer (issue 13) -----------------------------------------------------------
ELEMENT_STATES = ["completed", "active", "suspended", "error"]


class InstanceIncident(Out):
    id = fields.Integer()
    kind = Str()
    message = NStr()
    status = Str(metadata={"enum": ["open", "retried", "resolved"]})
    created_at = Str()
    resolved_at = NStr()
    task_id = NStr()
    element_id = NStr(metadata={"description": "the BPMN element that failed, when known"})


class InstanceWithMarks(InstanceDetail):
    """GET /process-instances/{id}: InstanceDetail plus what a client needs to colour the deployed diagram."""

    incidents = ListOf(InstanceIncident)
    element_states = fields.Dict(keys=fields.String(), values=fields.String(metadata={"enum": ELEMENT_STATES}),
                                 metadata={"description": "BPMN element id → completed | active | suspended | error "
                                                          "(engine/instance_marks.py)"})
    taken_flows = fields.List(fields.String(), metadata={"description": "ids of the sequence flows taken"})


class InstanceAuditVerification(AuditVerification):
    instance_id = NInt(metadata={"description": "the instance whose chain was verified (null: every chain)"})


class DefinitionElement(Out):
    id = Str()
    type = Str(metadata={"description": "BPMN element type (userTask, sequenceFlow, exclusiveGateway, lane, …)"})
    name = NStr()
    process = NStr(metadata={"description": "the process the element belongs to (null: definitions level)"})


class DefinitionChange(Out):
    kind = Str(metadata={"enum": ["type", "attribute", "property", "script", "condition", "event", "lane",
                                  "documentation", "extension", "other", "name", "hit_policy", "input",
                                  "output", "rule", "literal"]})
    name = Str()
    old = NStr()
    new = NStr()


class ChangedElement(DefinitionElement):
    changes = ListOf(DefinitionChange)


class ElementDiff(Out):
    added = ListOf(DefinitionElement)
    removed = ListOf(DefinitionElement)
    changed = ListOf(ChangedElement)


class FormChange(Out):
    path = Str(metadata={"description": "JSON pointer into the form"})
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)


class ChangedForm(Out):
    file = Str()
    changes = ListOf(FormChange)


class FormDiff(Out):
    added = fields.List(fields.String())
    removed = fields.List(fields.String())
    changed = ListOf(ChangedForm)


class DecisionRef(Out):
    id = Str()
    name = NStr()
    file = Str()


class ChangedDecision(DecisionRef):
    changes = ListOf(DefinitionChange)


class DecisionDiff(Out):
    added = ListOf(DecisionRef)
    removed = ListOf(DecisionRef)
    changed = ListOf(ChangedDecision)


class FileDiff(Out):
    added = fields.List(fields.String())
    removed = fields.List(fields.String())
    changed = fields.List(fields.String())


class DefinitionDiff(Out):
    key = Str()
    from_ = fields.Nested(DefinitionSummary, data_key="from")
    to = fields.Nested(DefinitionSummary)
    identical = fields.Boolean()
    elements = fields.Nested(ElementDiff)
    layout_changed = fields.List(fields.String(), metadata={"description": "elements only moved on the canvas"})
    forms = fields.Nested(FormDiff)
    decisions = fields.Nested(DecisionDiff)
    files = fields.Nested(FileDiff)



# --- startable processes (workspace 发起申请) ---------------------------------------------------------
class StartableProcess(Out):
    key = Str(required=True)
    version = fields.Integer(required=True)
    name = Str(required=True)
    start_event = Str(required=True)
    role = NStr(required=True, metadata={"description": "the role of the start event's lane (null: no lane)"})
    form = Obj(required=True, metadata={"description": "JSON Schema of the start variables (area and "
                                                       "department as choices) and the start form's fields"})


StartableProcessList = items_of(StartableProcess, "StartableProcessList")


# --- name directory (workspace: names instead of codes) ----------------------------------------------
class DirectoryUser(Out):
    username = Str(required=True)
    display_name = Str(required=True)


class DirectoryEntry(Out):
    code = Str(required=True)
    name = Str(required=True)


class Directory(Out):
    users = ListOf(DirectoryUser)
    departments = ListOf(DirectoryEntry)
    areas = ListOf(DirectoryEntry)
