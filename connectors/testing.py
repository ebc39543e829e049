"""A test kit for connector authors (pytest-friendly: failures are AssertionErrors).

::

    from connectors.testing import check_connector, run_operation, expect_error

    def test_declarations():
        check_connector(GasConnector)                      # names, types, schemas

    def test_analyse():
        result = run_operation(GasConnector, "analyse", {"readings": {"o2_pct": 20.9}})
        assert result["verdict"] == "pass"                 # shape already checked

    def test_bad_input():
        err = expect_error(GasConnector, "analyse", {}, param="readings", retryable=False)

Every helper goes through the same path the platform uses: configuration is
validated against ``config_schema`` like :func:`connectors.registry.discover`
does, parameters against the declaration, the result against the declared
result schema. :class:`SmtpSink` is a real SMTP server on a free port for
testing e-mail.
"""
from __future__ import annotations

import json
import socketserver
import threading
from email import message_from_bytes, policy
from typing import Any

from connectors.base import Connector, ConnectorError
from connectors.registry import ConnectorRegistry, check_operations, validate_config


def build(connector: type[Connector] | Connector, config: dict | None = None) -> Connector:
    """A configured instance: validates ``config`` against the schema, constructs and sets up.

    An instance passed in is returned as is.
    """
    if isinstance(connector, Connector):
        return connector
    config = dict(config or {})
    try:
        validate_config(connector, config)
    except ValueError as exc:
        raise AssertionError(f"{connector.__name__}: {exc}") from None
    instance = connector(config)
    instance.setup()
    return instance


def check_connector(connector: type[Connector] | Connector, config: dict | None = None) -> Connector:
    """Assert the connector is well declared; return the configured instance.

    Checks: name and version set, ``config_schema`` a valid JSON Schema, the
    configuration valid, operations registrable (unique names, known
    parameter types, valid result schemas), a description on every operation.
    """
    cls = connector if isinstance(connector, type) else type(connector)
    assert cls.name, f"{cls.__name__}.name is empty"
    assert str(cls.version) not in ("", "0"), f"{cls.__name__}.version is not set"
    from jsonschema.validators import validator_for

    try:
        validator_for(cls.config_schema).check_schema(cls.config_schema)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{cls.__name__}.config_schema is not a valid JSON Schema: {exc}") from None
    instance = build(connector, config)
    try:
        ops = check_operations(instance)
    except ValueError as exc:
        raise AssertionError(f"{cls.__name__}: {exc}") from None
    assert ops, f"{cls.__name__} declares no operations"
    for op in ops.values():
        assert op.handler is not None, f"{cls.name}/{op.name} has no implementation"
        assert op.description, f"{cls.name}/{op.name} has no description (add a docstring)"
    registry = ConnectorRegistry()
    registry.register(instance)  # the same checks discover() applies
    return instance


def run_operation(connector: type[Connector] | Connector, operation: str, params: dict | None = None, *,
                  config: dict | None = None, result_schema: dict | None = None) -> Any:
    """Run one operation like the worker would and return its JSON result.

    Fails (AssertionError) when the call raises :class:`ConnectorError`, when
    the result is not JSON or breaks the declared result schema, or when it
    breaks the extra ``result_schema`` given here.
    """
    instance = build(connector, config)
    registry = ConnectorRegistry()
    registry.register(instance)
    op = registry.operation(f"{instance.name}/{operation}")
    assert op is not None, f"{instance.name} has no operation '{operation}' " \
                           f"(operations: {sorted(o.name for o in instance.operations())})"
    try:
        result = registry.call(f"{instance.name}/{operation}", params)
    except ConnectorError as err:
        raise AssertionError(f"{err} (retryable={err.retryable})") from err
    json.dumps(result)
    if result_schema is not None:
        _assert_matches(result, result_schema, f"{instance.name}/{operation} result")
    return result


def expect_error(connector: type[Connector] | Connector, operation: str, params: dict | None = None, *,
                 config: dict | None = None, retryable: bool | None = None, param: str | None = None,
                 match: str | None = None) -> ConnectorError:
    """Assert the call fails with :class:`ConnectorError`; return it.

    ``retryable``, ``param`` (the parameter named at fault) and ``match`` (a
    substring of the message) are checked when given.
    """
    instance = build(connector, config)
    registry = ConnectorRegistry()
    registry.register(instance)
    try:
        result = registry.call(f"{instance.name}/{operation}", params)
    except ConnectorError as err:
        if retryable is not None:
            assert err.retryable is retryable, f"expected retryable={retryable}: {err}"
        if param is not None:
            assert err.param == param, f"expected the error to name parameter '{param}', got {err.param!r}: {err}"
        if match is not None:
            assert match in err.message, f"expected {match!r} in the message: {err.message!r}"
        assert err.connector == instance.name and err.operation == operation, err.as_dict()
        return err
    raise AssertionError(f"{instance.name}/{operation} did not fail; it returned {result!r}")


def _assert_matches(value, schema: dict, what: str) -> None:
    from jsonschema.validators import validator_for

    errors = list(validator_for(schema)(schema).iter_errors(value))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.path) or "(root)"
        raise AssertionError(f"{what} does not match the schema at {where}: {e.message}")


# --------------------------------------------------------------------------- SMTP sink

class SmtpSink:
    """A minimal real SMTP server on a thread; received messages are in ``messages``.

    Speaks enough of RFC 5321 for :mod:`smtplib` (EHLO/HELO, MAIL, RCPT, DATA,
    RSET, NOOP, QUIT). ``reject_rcpt`` lists addresses answered with 550;
    ``fail_data_with`` makes DATA answer that code (e.g. 451, 554). Use as a
    context manager; ``port`` is free and chosen on construction.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.messages: list[dict] = []
        self.reject_rcpt: set[str] = set()
        self.fail_data_with: int | None = None
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                self.reply("220 anjian-smtp-sink ready")
                mail_from, rcpts = None, []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    verb = line[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250-anjian-smtp-sink" if verb == "EHLO" else "250 anjian-smtp-sink")
                        if verb == "EHLO":
                            self.reply("250-8BITMIME")
                            self.reply("250 SMTPUTF8")
                    elif verb == "MAIL":
                        mail_from, rcpts = _addr(line), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        addr = _addr(line)
                        if addr in sink.reject_rcpt:
                            self.reply(f"550 no such user {addr}")
                        else:
                            rcpts.append(addr)
                            self.reply("250 OK")
                    elif verb == "DATA":
                        if sink.fail_data_with:
                            self.reply(f"{sink.fail_data_with} refused by test")
                            continue
                        self.reply("354 end with <CRLF>.<CRLF>")
                        chunks = []
                        while True:
                            data = self.rfile.readline()
                            if not data or data in (b".\r\n", b".\n"):
                                break
                            chunks.append(data[1:] if data.startswith(b"..") else data)
                        msg = message_from_bytes(b"".join(chunks), policy=policy.default)
                        sink.messages.append({"from": mail_from, "to": rcpts, "subject": msg["Subject"],
                                              "body": msg.get_body(("plain",)).get_content() if msg.get_body(
                                                  ("plain",)) else "", "message": msg})
                        self.reply("250 OK queued")
                    elif verb == "RSET":
                        mail_from, rcpts = None, []
                        self.reply("250 OK")
                    elif verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 command not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((host, port), Handler)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "SmtpSink":
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"smtp-sink-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def _addr(line: str) -> str:
    start, end = line.find("<"), line.find(">")
    return line[start + 1:end] if 0 <= start < end else line.split(":", 1)[-1].strip()
