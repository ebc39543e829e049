"""Telemetry as it arrives: parse MQTT topics and JSON payloads, check values.

Topic scheme ``anjian/{site}/{area}/{device}/{metric}``; payload
``{"value": number, "unit"?: str, "ts"?: ISO 8601 with offset | epoch seconds,
"quality"?: "good" | "uncertain" | "bad"}``. Every rejection carries a reason
code (stored on the dead letter) and a message naming the field at fault.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

TOPIC_ROOT = "anjian"
QUALITIES = ("good", "uncertain", "bad")
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_FUTURE = timedelta(minutes=5)
MAX_AGE = timedelta(days=30)


class Rejected(Exception):
    """A message that cannot become a reading; ``reason`` is the dead-letter code."""

    def __init__(self, reason: str, field: str, message: str, device_id: str | None = None):
        super().__init__(f"{field}: {message}")
        self.reason = reason
        self.field = field
        self.message = message
        self.device_id = device_id


@dataclass(slots=True)
class Sample:
    """One parsed measurement, not yet checked against the device registry."""

    device_id: str
    metric: str
    value: float
    ts: datetime
    quality: str = "good"
    unit: str | None = None
    area: str | None = None
    site: str | None = None


def parse_topic(topic: str) -> tuple[str, str, str, str]:
    """``(site, area, device, metric)`` of a telemetry topic, or Rejected."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_ROOT or not all(parts[1:]):
        raise Rejected("malformed", "topic", f"expected {TOPIC_ROOT}/{{site}}/{{area}}/{{device}}/{{metric}}, got {topic!r}")
    return parts[1], parts[2], parts[3], parts[4]


def parse_message(topic: str, payload: bytes, received_at: datetime) -> Sample:
    """Parse one MQTT message into a Sample (raises Rejected)."""
    site, area, device, metric = parse_topic(topic)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected("malformed", "payload", f"larger than {MAX_PAYLOAD_BYTES} bytes", device)
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejected("malformed", "payload", f"not JSON ({exc.__class__.__name__})", device) from None
    if isinstance(body, (int, float)) and not isinstance(body, bool):
        body = {"value": body}  # a bare number is the common minimal gateway format
    if not isinstance(body, dict):
        raise Rejected("malformed", "payload", "must be a JSON object with a 'value'", device)
    try:
        return sample_from_fields(body, device=device, metric=metric, area=area, site=site, received_at=received_at)
    except Rejected as rej:
        rej.device_id = device
        raise


def sample_from_fields(body: dict, *, device: str, metric: str | None, area: str | None, site: str | None,
                       received_at: datetime) -> Sample:
    """Check ``value``/``unit``/``ts``/``quality`` of a decoded reading."""
    value = body.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Rejected("malformed", "value", "must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise Rejected("malformed", "value", "must be a finite number")
    unit = body.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise Rejected("malformed", "unit", "must be a string")
    quality = body.get("quality", "good")
    if quality not in QUALITIES:
        raise Rejected("malformed", "quality", f"must be one of {', '.join(QUALITIES)}")
    ts = parse_ts(body.get("ts"), received_at)
    return Sample(device, metric or "", value, ts, quality, unit, area, site)


def parse_ts(raw, received_at: datetime) -> datetime:
    """A reading's time: ISO 8601 with offset or epoch seconds (ms accepted); now when absent."""
    if raw is None:
        return received_at
    if isinstance(raw, bool):
        raise Rejected("malformed", "ts", "must be an ISO 8601 time or epoch seconds")
    if isinstance(raw, (int, float)):
        if not math.isfinite(raw):
            raise Rejected("malformed", "ts", "must be finite")
        seconds = raw / 1000.0 if raw > 1e11 else float(raw)
        try:
            ts = datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise Rejected("malformed", "ts", "epoch seconds out of range") from None
    elif isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise Rejected("malformed", "ts", "not an ISO 8601 time") from None
        if ts.tzinfo is None:
            raise Rejected("malformed", "ts", "needs a UTC offset (e.g. 2026-05-01T08:00:00+08:00)")
        ts = ts.astimezone(timezone.utc)
    else:
        raise Rejected("malformed", "ts", "must be an ISO 8601 time or epoch seconds")
    if ts > received_at + MAX_FUTURE:
        raise Rejected("malformed", "ts", "more than 5 minutes in the future (clock of the gateway?)")
    if ts < received_at - MAX_AGE:
        raise Rejected("malformed", "ts", "older than 30 days")
    return ts
