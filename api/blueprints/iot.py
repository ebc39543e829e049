"""Devices, telemetry, readings, dead letters and graded alerts."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from api.auth import principal, require_roles
from api.services import platform
from engine.errors import Invalid
from engine.iot.alerts import STATUSES
from engine.iot.devices import DEVICE_ADMIN_ROLES, read_device_file
from engine.iot.rules import GRADES

blp = Blueprint("iot", __name__, url_prefix="/api/v1", description="IoT sensing and graded alerts")
TELEMETRY_ROLES = DEVICE_ADMIN_ROLES


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class PageArgs(_Args):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DeviceListArgs(PageArgs):
    area = fields.String()
    type = fields.String()
    include_inactive = fields.Boolean(load_default=False)


class RangeArgs(_Args):
    start = fields.AwareDateTime(data_key="from", load_default=None)
    end = fields.AwareDateTime(data_key="to", load_default=None)


class ReadingArgs(RangeArgs):
    limit = fields.Integer(load_default=10_000, validate=validate.Range(min=1, max=10_000))


class DownsampleArgs(RangeArgs):
    buckets = fields.Integer(load_default=200, validate=validate.Range(min=1, max=2_000))


class AlertListArgs(PageArgs):
    grade = fields.String(validate=validate.OneOf(GRADES))
    area = fields.String()
    status = fields.String(validate=validate.OneOf([*STATUSES, "active"]))
    device = fields.String()
    rule = fields.String()
    since = fields.AwareDateTime(data_key="from", load_default=None)
    until = fields.AwareDateTime(data_key="to", load_default=None)


class AcknowledgeSchema(_Args):
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class DisposalSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    cause = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    action = fields.String(required=True, validate=validate.Length(min=2, max=4000))
    measures = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    false_alarm = fields.Boolean(load_default=False)


class DeadLetterArgs(PageArgs):
    reason = fields.String()
    device = fields.String()


def _json_body():
    body = request.get_json(silent=True)
    if body is None:
        raise Invalid("the request body must be JSON", errors=[{"field": "(body)", "message": "not valid JSON"}])
    return body


@blp.route("/devices")
class Devices(MethodView):
    @blp.arguments(DeviceListArgs, location="query")
    @blp.documents(200, R.DevicePage)
    def get(self, args):
        """Devices (filters: area, type; decommissioned ones with include_inactive=true)."""
        return platform().iot.devices.list(**args)

    @blp.doc(requestBody=R.json_body(R.DEVICE_IN))
    @blp.documents(201, R.Device)
    def post(self):
        """Register a device: {id, type, area, name?, equipment?, gas?/lel_vol?, setpoints?, range?}.

        Unit, metric, measuring range and level 1/2 set-points default from the device type
        (GB/T 50493 for gas detectors); a combustible detector needs its gas or lel_vol.
        """
        body = _json_body()
        if not isinstance(body, dict):
            raise Invalid("a device is a JSON object", errors=[{"field": "(body)", "message": "must be an object"}])
        return platform().iot.devices.create(principal(), body), 201


@blp.route("/devices/import")
class DeviceImport(MethodView):
    @blp.doc(requestBody=R.DEVICE_IMPORT)
    @blp.documents(200, R.DeviceImport)
    def post(self):
        """Create or update many devices from JSON (list or {devices}), a CSV body or a multipart file.

        Every row is checked first; if any fails, the answer is 422 naming ``[row].field`` and nothing is stored.
        """
        p = principal()
        if "file" in request.files:
            f = request.files["file"]
            rows = read_device_file(f.filename or "devices.csv", f.read())
        elif request.mimetype in ("text/csv", "text/plain"):
            rows = read_device_file("devices.csv", request.get_data())
        else:
            body = _json_body()
            rows = body.get("devices") if isinstance(body, dict) else body
            if not isinstance(rows, list):
                raise Invalid("expected a list of devices", errors=[{"field": "devices", "message": "must be a list"}])
        return platform().iot.devices.import_rows(p, rows)


@blp.route("/devices/<string:device_id>")
class DeviceOne(MethodView):
    @blp.documents(200, R.Device)
    def get(self, device_id):
        """One device with its set-points and when it was last heard from."""
        return platform().iot.devices.get(device_id)

    @blp.doc(requestBody=R.json_body(R.DEVICE_CHANGES))
    @blp.documents(200, R.Device)
    def patch(self, device_id):
        """Change fields of a device (set-points, area, equipment …); all checks apply again."""
        body = _json_body()
        if not isinstance(body, dict):
            raise Invalid("changes are a JSON object", errors=[{"field": "(body)", "message": "must be an object"}])
        if "id" in body and body["id"] != device_id:
            raise Invalid("a device id cannot change", errors=[{"field": "id", "message": "cannot be changed"}])
        return platform().iot.devices.update(principal(), device_id, body)

    @blp.documents(200, R.Device)
    def delete(self, device_id):
        """Decommission a device: its readings are kept, new telemetry from it is dead-lettered."""
        return platform().iot.devices.decommission(principal(), device_id)


@blp.route("/devices/<string:device_id>/readings")
class Readings(MethodView):
    @blp.arguments(ReadingArgs, location="query")
    @blp.documents(200, R.Readings)
    def get(self, args, device_id):
        """Raw readings in [from, to) (default: the last hour), oldest first."""
        return platform().iot.readings.readings(device_id, args["start"], args["end"], limit=args["limit"])


@blp.route("/devices/<string:device_id>/readings/downsampled")
class ReadingsDownsampled(MethodView):
    @blp.arguments(DownsampleArgs, location="query")
    @blp.documents(200, R.Downsampled)
    def get(self, args, device_id):
        """min/avg/max/count per bucket of [from, to) for charts (default 200 buckets)."""
        return platform().iot.readings.downsampled(device_id, args["start"], args["end"], args["buckets"])


@blp.route("/telemetry")
class Telemetry(MethodView):
    @blp.doc(requestBody=R.json_body(R.TELEMETRY_IN))
    @blp.documents(200, R.TelemetryResult)
    def post(self):
        """Readings from a gateway without MQTT: one {device, value, unit?, ts?, quality?, metric?, area?},
        a list of them, or {readings: [...]}. Any invalid reading → 422 naming it; nothing is stored."""
        require_roles(TELEMETRY_ROLES, "sending telemetry")
        body = _json_body()
        if isinstance(body, dict) and "readings" in body:
            items = body["readings"]
            if not isinstance(items, list):
                raise Invalid("readings must be a list", errors=[{"field": "readings", "message": "must be a list"}])
        elif isinstance(body, list):
            items = body
        else:
            items = [body]
        if not items:
            raise Invalid("no readings", errors=[{"field": "readings", "message": "must not be empty"}])
        return platform().iot.pipeline.handle_http(items)


@blp.route("/alerts")
class Alerts(MethodView):
    @blp.arguments(AlertListArgs, location="query")
    @blp.documents(200, R.AlertPage)
    def get(self, args):
        """Alerts, newest first (filters: grade, area, status incl. 'active', device, rule, from/to on opening time)."""
        args["device_id"] = args.pop("device", None)
        return platform().iot.alerts.list(principal(), **args)


@blp.route("/alerts/<int:alert_id>")
class AlertOne(MethodView):
    @blp.documents(200, R.AlertDetail)
    def get(self, alert_id):
        """One alert with its history (opened, escalated, messages, acknowledged, closed)."""
        return platform().iot.alerts.get(principal(), alert_id)


@blp.route("/alerts/<int:alert_id>/acknowledge")
class Acknowledge(MethodView):
    @blp.arguments(AcknowledgeSchema)
    @blp.documents(200, R.Alert)
    def post(self, body, alert_id):
        """Acknowledge an alert (its owner department, or supervision)."""
        return platform().iot.alerts.acknowledge(principal(), alert_id, body.get("comment"))


@blp.route("/alerts/<int:alert_id>/dispose")
class Dispose(MethodView):
    @blp.arguments(DisposalSchema)
    @blp.documents(200, R.Alert)
    def post(self, body, alert_id):
        """Close an alert with its disposal record: cause, action taken, measures, false alarm or not."""
        return platform().iot.alerts.dispose(principal(), alert_id, body)


@blp.route("/dead-letters")
class DeadLetters(MethodView):
    @blp.arguments(DeadLetterArgs, location="query")
    @blp.documents(200, R.DeadLetterPage)
    def get(self, args):
        """Telemetry that could not be stored as a reading, with the reason and the raw payload."""
        require_roles(DEVICE_ADMIN_ROLES, "reading dead letters")
        return platform().iot.readings.dead_letters(reason=args.get("reason"), device_id=args.get("device"),
                                                    page=args["page"], page_size=args["page_size"])
