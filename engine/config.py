"""Configuration, read once from the environment into an immutable object.

Everything tunable lives here so that tests build a ``Settings`` of their own
instead of patching globals.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """All runtime configuration of one Anjian process."""

    data_dir: Path
    database_url: str
    secret_key: str
    library_dir: Path = REPO_ROOT
    token_ttl_seconds: int = 8 * 3600
    redis_url: str | None = None
    mqtt_url: str | None = None
    # MQTT ingest: stable client id (persistent session), topic filter, alert rules file (None: bundled default)
    mqtt_client_id: str = "anjian-ingest"
    mqtt_topic: str = "anjian/+/+/+/+"
    alert_rules_path: Path | None = None
    # Depth at which an instance is failed loudly; SpiffWorkflow's TaskIterator
    # silently stops at 1000 (see DESIGN.md), so stay well below it.
    max_task_depth: int = 900
    # Wall-clock budget of one engine step (start, completion, timer, message, job): a script loop or
    # a call activity that does not end within it becomes a `step_budget` incident (engine/budget.py).
    step_budget_seconds: float = 5.0
    # The values a step leaves in process variables (engine/value_domain.py): JSON types, str keys,
    # 64-bit integers, nested at most this deep, at most this many bytes as JSON.
    value_max_depth: int = 32
    value_max_bytes: int = 1_000_000
    # Request bodies (api/app.py): nesting depth and length of one number literal.
    request_max_depth: int = 64
    request_max_number_chars: int = 100
    # A job sent to a worker but not done after this long is sent again.
    job_lease_seconds: float = 60.0
    # How long a connector call may run when its operation declares no ``timeout``
    # (kept 5 s under the lease); past it the call is retried as its BPMN says (worker/queues.py).
    operation_timeout_seconds: float = 30.0
    # Live workflows kept per process to skip deserializing the next step (engine/workflow_cache.py); 0 = off.
    workflow_cache_size: int = 256
    default_page_size: int = 50
    max_page_size: int = 500
    # Scheduled hub jobs (worker/schedule.py), off unless configured: MES sync every N seconds
    # (re-reading work orders of today and the previous ``mes_sync_days`` days; empty areas = all
    # the MES lists), and the four fusion analyses once a day at ``analytics_at`` (UTC) for the
    # month the previous day belongs to, so the run on the 1st closes the finished month.
    mes_sync_seconds: float = 0.0
    mes_sync_days: int = 1
    mes_sync_areas: tuple[str, ...] = ()
    # How far ahead of our clock a hub record's date may lie (clock skew between systems); beyond it
    # the row is rejected as not true yet (engine/hub/kinds.py ``not_in_future``).
    hub_future_tolerance_minutes: float = 15.0
    analytics_at: time | None = None
    # Authorization reads the user's current facts (active, roles, department, token epoch),
    # each process keeping them this many seconds at most (engine/users.py); 0 reads every request.
    auth_refresh_seconds: float = 5.0
    # HMAC keys of the audit chain {key id: key} and the id new events are sealed with (engine/audit.py).
    audit_keys: dict = field(default_factory=dict, repr=False)  # never in a log line
    audit_key_id: str = ""
    # Organisation import (engine/organisation.py): largest file and number of rows accepted.
    org_import_max_bytes: int = 5 * 1024 * 1024
    org_import_max_rows: int = 10_000
    org_import_max_new_users: int = 200
    extra: dict = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """True when jobs run in-process (no Redis configured)."""
        return not self.redis_url

    @staticmethod
    def data_dir_from_env(environ: dict | None = None) -> Path:
        """``ANJIAN_DATA_DIR`` (default ``./var``), without reading (or generating) anything else."""
        env = os.environ if environ is None else environ
        return Path(env.get("ANJIAN_DATA_DIR") or (Path.cwd() / "var")).resolve()

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        """Build settings from environment variables (``ANJIAN_*``, ``DATABASE_URL`` …)."""
        env = os.environ if environ is None else environ
        data_dir = cls.data_dir_from_env(env)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'anjian.db'}"
        secret = env.get("ANJIAN_SECRET_KEY") or _embedded_secret(data_dir)
        audit_keys, audit_key_id = _audit_keys(env, data_dir)
        return cls(
            data_dir=data_dir,
            database_url=normalise_database_url(database_url),
            secret_key=secret,
            library_dir=Path(env.get("ANJIAN_LIBRARY_DIR") or REPO_ROOT).resolve(),
            token_ttl_seconds=int(env.get("ANJIAN_TOKEN_TTL", 8 * 3600)),
            redis_url=env.get("REDIS_URL") or None,
            mqtt_url=env.get("MQTT_URL") or None,
            mqtt_client_id=env.get("ANJIAN_MQTT_CLIENT_ID") or "anjian-ingest",
            mqtt_topic=env.get("ANJIAN_MQTT_TOPIC") or "anjian/+/+/+/+",
            alert_rules_path=Path(env["ANJIAN_ALERT_RULES"]) if env.get("ANJIAN_ALERT_RULES") else None,
            max_task_depth=int(env.get("ANJIAN_MAX_TASK_DEPTH", 900)),
            step_budget_seconds=_env_number(env, "ANJIAN_STEP_BUDGET_SECONDS", 5.0, minimum=0.1),
            value_max_depth=int(_env_number(env, "ANJIAN_VALUE_MAX_DEPTH", 32, minimum=1)),
            value_max_bytes=int(_env_number(env, "ANJIAN_VALUE_MAX_BYTES", 1_000_000, minimum=1024)),
            request_max_depth=int(_env_number(env, "ANJIAN_REQUEST_MAX_DEPTH", 64, minimum=2)),
            request_max_number_chars=int(_env_number(env, "ANJIAN_REQUEST_MAX_NUMBER_CHARS", 100, minimum=20)),
            job_lease_seconds=float(env.get("ANJIAN_JOB_LEASE_SECONDS", 60)),
            operation_timeout_seconds=_env_number(env, "ANJIAN_OPERATION_TIMEOUT_SECONDS", 30.0, minimum=1.0),
            workflow_cache_size=int(_env_number(env, "ANJIAN_WORKFLOW_CACHE", 256, minimum=0)),
            mes_sync_seconds=_env_number(env, "ANJIAN_MES_SYNC_SECONDS", 0.0, minimum=0.0),
            mes_sync_days=int(_env_number(env, "ANJIAN_MES_SYNC_DAYS", 1, minimum=0)),
            mes_sync_areas=tuple(a.strip() for a in (env.get("ANJIAN_MES_SYNC_AREAS") or "").split(",")
                                 if a.strip()),
            analytics_at=_env_time(env, "ANJIAN_ANALYTICS_AT"),
            hub_future_tolerance_minutes=_env_number(env, "ANJIAN_HUB_FUTURE_TOLERANCE_MINUTES", 15.0, minimum=0.0),
            auth_refresh_seconds=_env_number(env, "ANJIAN_AUTH_REFRESH_SECONDS", 5.0, minimum=0.0, maximum=10.0),
            audit_keys=audit_keys,
            audit_key_id=audit_key_id,
            org_import_max_bytes=int(_env_number(env, "ANJIAN_ORG_IMPORT_MAX_BYTES", 5 * 1024 * 1024, minimum=1)),
            org_import_max_rows=int(_env_number(env, "ANJIAN_ORG_IMPORT_MAX_ROWS", 10_000, minimum=1)),
            org_import_max_new_users=int(_env_number(env, "ANJIAN_ORG_IMPORT_MAX_NEW_USERS", 200, minimum=0)),
        )

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed (tests, CLI overrides)."""
        return replace(self, **changes)


def _env_number(env, name: str, default: float, *, minimum: float, maximum: float | None = None) -> float:
    """A number from the environment; a bad value stops start-up naming the variable."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be ≥ {minimum:g}, got {raw!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be ≤ {maximum:g}, got {raw!r}")
    return value


def _env_time(env, name: str) -> time | None:
    """A time of day ``HH:MM`` (UTC) from the environment, None when unset."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        hh, mm = raw.split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise ValueError(f"{name} must be a time of day HH:MM (UTC), got {raw!r}") from None


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for bare ``postgresql://`` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _embedded_secret(data_dir: Path, name: str = "secret.key") -> str:
    """A per-installation signing key kept in the data folder.

    Embedded installs have no secret manager; generating one on first start
    keeps tokens valid across restarts without a hard-coded key.
    """
    path = data_dir / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: processes starting together (gunicorn workers)
        # all end up with the one key that won, never each with its own.
        tmp = data_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return path.read_text().strip()


AUDIT_KEY_MIN_LENGTH = 32


def audit_key_fingerprint(key: str) -> str:
    """The id of a key given without one: ``k`` and 8 hex digits of its sha256 (never the key)."""
    import hashlib

    return "k" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def _audit_keys(env, data_dir: Path) -> tuple[dict, str]:
    """The audit chain's HMAC keyring and the id of the key new events are sealed with.

    ``ANJIAN_AUDIT_KEYS=id:key,id:key`` (rotation: old keys stay listed so old events
    verify; ``ANJIAN_AUDIT_KEY_ID`` names the current one, required with more than one),
    else ``ANJIAN_AUDIT_KEY`` (one key, its id derived from its fingerprint), else a key
    generated into the data folder like the JWT secret. The keys never enter the database.
    """
    listed = (env.get("ANJIAN_AUDIT_KEYS") or "").strip()
    if listed:
        keys = {}
        for part in listed.split(","):
            key_id, sep, key = part.strip().partition(":")
            key_id, key = key_id.strip(), key.strip()
            if not sep or not key_id or len(key_id) > 32:
                raise ValueError("ANJIAN_AUDIT_KEYS must be id:key,id:key (ids of 1 to 32 characters)")
            if len(key) < AUDIT_KEY_MIN_LENGTH:
                raise ValueError(f"ANJIAN_AUDIT_KEYS: key {key_id!r} is shorter than {AUDIT_KEY_MIN_LENGTH} characters")
            keys[key_id] = key
        current = (env.get("ANJIAN_AUDIT_KEY_ID") or "").strip()
        if not current and len(keys) == 1:
            current = next(iter(keys))
        if current not in keys:
            raise ValueError("ANJIAN_AUDIT_KEY_ID must name one of the ids in ANJIAN_AUDIT_KEYS "
                             f"(required with more than one key), got {current!r}")
        return keys, current
    key = (env.get("ANJIAN_AUDIT_KEY") or "").strip() or _embedded_secret(data_dir, "audit.key")
    if len(key) < AUDIT_KEY_MIN_LENGTH:
        raise ValueError(f"ANJIAN_AUDIT_KEY must be at least {AUDIT_KEY_MIN_LENGTH} characters")
    key_id = audit_key_fingerprint(key)
    return {key_id: key}, key_id
