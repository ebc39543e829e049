"""The ``notify`` connector: webhook POSTs and e-mail (SMTP) to people and departments.

Configuration (``ANJIAN_CONNECTOR_NOTIFY_<KEY>``):

* ``webhook_url`` — where ``people`` notifications are POSTed as JSON
  (an IM bot gateway, the plant's message centre …);
* ``webhook_allowed_hosts`` — JSON list; when set, ``webhook`` may only POST to these hosts;
* ``smtp_host``, ``smtp_port`` (25), ``smtp_from``, ``smtp_user``, ``smtp_password``,
  ``smtp_starttls`` / ``smtp_ssl`` (booleans), ``smtp_timeout``;
* ``directory`` — JSON object mapping a user name or department code to an
  e-mail address or a list of them (``{"safety": ["safety@plant.example"]}``);
  recipients that contain ``@`` are used as addresses directly.

With neither a webhook URL nor an SMTP host (the embedded demo), ``people``
writes the notification to the log (logger ``connectors.notify``) and says so
in its result (``"channel": "log"`` and a ``warning``), so demo processes run
through; set ``require_channel`` to true in production to make that a
non-retryable error instead. ``email`` always needs SMTP.
"""
from __future__ import annotations

import logging
import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from connectors.base import Connector, ConnectorError, Param, operation
from connectors.http import HttpClient

log = logging.getLogger(__name__)
_DELIVERY = {"type": "object", "required": ["delivered"],
             "properties": {"delivered": {"type": "array"}, "unresolved": {"type": "array"}}}


class NotifyConnector(Connector):
    """Sends notifications: JSON webhooks and e-mail."""

    name = "notify"
    version = "1.0.0"
    kind = "notification"
    description = "Notifications to people and departments by webhook (JSON POST) and e-mail (SMTP)"
    config_schema = {
        "type": "object",
        "properties": {
            "webhook_url": {"type": "string", "pattern": "^https?://"},
            "webhook_allowed_hosts": {"type": "array", "items": {"type": "string"}},
            "timeout": {"type": "number", "exclusiveMinimum": 0, "default": 5},
            "retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 2},
            "backoff": {"type": "number", "minimum": 0, "default": 0.2},
            "smtp_host": {"type": "string"},
            "smtp_port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 25},
            "smtp_from": {"type": "string", "default": "anjian@localhost"},
            "smtp_user": {"type": "string"},
            "smtp_password": {"type": "string", "writeOnly": True},
            "smtp_starttls": {"type": "boolean", "default": False},
            "smtp_ssl": {"type": "boolean", "default": False},
            "smtp_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 10},
            "require_channel": {"type": "boolean", "default": False,
                                "description": "fail instead of logging when no channel is configured"},
            "directory": {"type": "object", "additionalProperties": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
        },
        "additionalProperties": False,
    }

    def __init__(self, config: dict | None = None):
        """Configure; the HTTP session is created on first use."""
        super().__init__(config)
        self._http: HttpClient | None = None

    @property
    def http(self) -> HttpClient:
        """The HTTP hook used for webhooks."""
        if self._http is None:
            c = self.config
            self._http = HttpClient(None, connect_timeout=c.get("timeout", 5), read_timeout=c.get("timeout", 5),
                                    retries=c.get("retries", 2), backoff=c.get("backoff", 0.2))
        return self._http

    def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            self._http.close()
            self._http = None

    # ------------------------------------------------------------------ operations

    @operation(params=[Param("url", description="http(s) URL to POST to"),
                       Param("payload", "object", required=False, description="JSON body (default {})")],
               result_schema={"type": "object", "required": ["status"]})
    def webhook(self, url, payload=None):
        """POST a JSON payload to a URL; answers the status code and the (JSON or text) response."""
        self._check_url(url)
        result = self.http.post(url, payload or {})
        return {"status": result.status, "response": result.body, "attempts": result.attempts}

    @operation(params=[Param("recipients", "array", description="user names, department codes or e-mail addresses"),
                       Param("message", description="the notification text"),
                       Param("subject", required=False, default="安监通知", description="e-mail subject / title"),
                       Param("level", required=False, default="info",
                             choices=("info", "warning", "alarm", "emergency"))],
               result_schema=_DELIVERY)
    def people(self, recipients, message, subject="安监通知", level="info"):
        """Notify people/departments over every configured channel (webhook and/or e-mail)."""
        if not recipients or not all(isinstance(r, str) and r.strip() for r in recipients):
            raise ConnectorError("parameter 'recipients' must be a non-empty list of names", param="recipients")
        if not self.config.get("webhook_url") and not self.config.get("smtp_host"):
            missing = "set ANJIAN_CONNECTOR_NOTIFY_WEBHOOK_URL and/or ANJIAN_CONNECTOR_NOTIFY_SMTP_HOST"
            if self.config.get("require_channel"):
                raise ConnectorError(f"no notification channel configured: {missing}", retryable=False)
            log.warning("notification (no channel configured, logged only) [%s] to %s: %s: %s",
                        level, recipients, subject, message)
            return {"delivered": [{"channel": "log"}], "unresolved": [],
                    "warning": f"no notification channel configured; written to the log only ({missing})"}
        delivered, unresolved = [], []
        if self.config.get("webhook_url"):
            r = self.http.post(self.config["webhook_url"], {"recipients": recipients, "subject": subject,
                                                            "message": message, "level": level})
            delivered.append({"channel": "webhook", "status": r.status})
        if self.config.get("smtp_host"):
            addresses, unresolved = self._resolve(recipients)
            if addresses:
                self._send_mail(addresses, f"[{level}] {subject}" if level != "info" else subject, message)
                delivered.append({"channel": "email", "to": addresses})
            elif not delivered:
                raise ConnectorError(f"no e-mail address known for {unresolved}: add them to the notify "
                                     f"connector's 'directory'", retryable=False, param="recipients")
        return {"delivered": delivered, "unresolved": unresolved}

    @operation(params=[Param("to", "any", description="an address, a directory name, or a list of them"),
                       Param("subject"), Param("body")],
               result_schema=_DELIVERY)
    def email(self, to, subject, body):
        """Send one e-mail over the configured SMTP server."""
        if not self.config.get("smtp_host"):
            raise ConnectorError("SMTP is not configured: set ANJIAN_CONNECTOR_NOTIFY_SMTP_HOST", retryable=False)
        names = [to] if isinstance(to, str) else to
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ConnectorError("parameter 'to' must be an address or a non-empty list of them", param="to")
        addresses, unresolved = self._resolve(names)
        if not addresses:
            raise ConnectorError(f"no e-mail address known for {unresolved}", retryable=False, param="to")
        self._send_mail(addresses, subject, body)
        return {"delivered": [{"channel": "email", "to": addresses}], "unresolved": unresolved}

    # ------------------------------------------------------------------ helpers

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectorError(f"parameter 'url' must be an http(s) URL, got {url!r}", param="url")
        allowed = self.config.get("webhook_allowed_hosts")
        if allowed and parts.hostname not in allowed:
            raise ConnectorError(f"host '{parts.hostname}' is not in webhook_allowed_hosts {allowed}", param="url")

    def _resolve(self, names: list[str]) -> tuple[list[str], list[str]]:
        directory = self.config.get("directory") or {}
        addresses, unresolved = [], []
        for name in names:
            entry = directory.get(name)
            if entry is None and "@" in name:
                entry = name
            if entry is None:
                unresolved.append(name)
                continue
            for addr in [entry] if isinstance(entry, str) else entry:
                if addr not in addresses:
                    addresses.append(addr)
        return addresses, unresolved

    def _send_mail(self, to: list[str], subject: str, body: str) -> None:
        c = self.config
        msg = EmailMessage()
        msg["From"] = c.get("smtp_from", "anjian@localhost")
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain="anjian")
        msg.set_content(body)
        host, port, timeout = c["smtp_host"], c.get("smtp_port", 25), c.get("smtp_timeout", 10)
        try:
            cls = smtplib.SMTP_SSL if c.get("smtp_ssl") else smtplib.SMTP
            with cls(host, port, timeout=timeout) as smtp:
                if c.get("smtp_starttls") and not c.get("smtp_ssl"):
                    smtp.starttls()
                if c.get("smtp_user"):
                    smtp.login(c["smtp_user"], c.get("smtp_password", ""))
                refused = smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectorError(f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                                 retryable=False, status=exc.smtp_code) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise ConnectorError(f"SMTP server refused every recipient: {sorted(exc.recipients)}",
                                 retryable=False) from exc
        except smtplib.SMTPResponseException as exc:
            raise ConnectorError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}",
                                 retryable=400 <= exc.smtp_code < 500, status=exc.smtp_code) from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, socket.timeout, OSError) as exc:
            raise ConnectorError(f"cannot deliver via SMTP {host}:{port}: {type(exc).__name__}: {exc}",
                                 retryable=True) from exc
        except smtplib.SMTPException as exc:
            raise ConnectorError(f"SMTP error: {exc}", retryable=False) from exc
        if refused:
            raise ConnectorError(f"SMTP server refused {sorted(refused)}", retryable=False)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
