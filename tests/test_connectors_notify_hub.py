"""notify (webhook over real HTTP, e-mail over a real SMTP server) and hub (SQLite and PostgreSQL)."""
import logging
import threading

import pytest
import requests

from connectors.base import ConnectorError
from connectors.hub import HubConnector
from connectors.mes_simulator import MesSimulator
from connectors.notify import NotifyConnector
from connectors.testing import SmtpSink, check_connector, expect_error, run_operation


@pytest.fixture(scope="module")
def sim():
    with MesSimulator() as s:
        yield s


@pytest.fixture
def sink(sim):
    requests.post(f"{sim.url}/_control/reset", timeout=5)
    return sim


def received(sim, channel):
    return requests.get(f"{sim.url}/_sink/{channel}", timeout=5).json()["items"]


def test_declarations():
    check_connector(NotifyConnector)
    check_connector(HubConnector, {"database_url": "sqlite://"})


def test_webhook_posts_json(sink):
    r = run_operation(NotifyConnector, "webhook", {"url": f"{sink.url}/_sink/im", "payload": {"text": "罐区报警"}})
    assert r == {"status": 202, "response": {"received": True}, "attempts": 1}
    [item] = received(sink, "im")
    assert item["body"] == {"text": "罐区报警"} and item["headers"]["content-type"] == "application/json"


def test_webhook_retries_5xx_and_classifies_4xx(sink):
    requests.post(f"{sink.url}/_control/faults", json={"path": "/_sink/im", "status": 500, "times": 1}, timeout=5)
    r = run_operation(NotifyConnector, "webhook", {"url": f"{sink.url}/_sink/im"}, config={"backoff": 0.01})
    assert r["attempts"] == 2 and len(received(sink, "im")) == 1
    err = expect_error(NotifyConnector, "webhook", {"url": f"{sink.url}/no-such-path"}, retryable=False)
    assert err.status == 404
    expect_error(NotifyConnector, "webhook", {"url": "file:///etc/passwd"}, param="url", match="http(s) URL")
    expect_error(NotifyConnector, "webhook", {"url": f"{sink.url}/_sink/im"},
                 config={"webhook_allowed_hosts": ["im.plant.example"]}, param="url",
                 match="not in webhook_allowed_hosts")


def test_people_over_webhook_and_email(sink):
    config = {"webhook_url": f"{sink.url}/_sink/people", "directory": {
        "safety": ["safety1@plant.example", "safety2@plant.example"], "boss1": "boss@plant.example"}}
    with SmtpSink() as smtp:
        config.update(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_from="anjian@plant.example")
        r = run_operation(NotifyConnector, "people", {"recipients": ["safety", "boss1", "nobody"],
                                                      "message": "三号罐区 T-302 液位高报警", "level": "alarm"},
                          config=config)
        assert r["delivered"] == [{"channel": "webhook", "status": 202},
                                  {"channel": "email", "to": ["safety1@plant.example", "safety2@plant.example",
                                                              "boss@plant.example"]}]
        assert r["unresolved"] == ["nobody"]
        [mail] = smtp.messages
    assert mail["from"] == "anjian@plant.example" and len(mail["to"]) == 3
    assert mail["subject"] == "[alarm] 安监通知" and "T-302 液位高报警" in mail["body"]
    [hook] = received(sink, "people")
    assert hook["body"]["recipients"] == ["safety", "boss1", "nobody"] and hook["body"]["level"] == "alarm"


def test_email_errors_are_classified():
    with SmtpSink() as smtp:
        config = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port}
        r = run_operation(NotifyConnector, "email", {"to": "a@plant.example", "subject": "s", "body": "b"},
                          config=config)
        assert r["delivered"] == [{"channel": "email", "to": ["a@plant.example"]}]
        smtp.reject_rcpt = {"gone@plant.example"}
        expect_error(NotifyConnector, "email", {"to": "gone@plant.example", "subject": "s", "body": "b"},
                     config=config, retryable=False, match="refused every recipient")
        smtp.reject_rcpt = set()
        smtp.fail_data_with = 451
        expect_error(NotifyConnector, "email", {"to": "a@plant.example", "subject": "s", "body": "b"},
                     config=config, retryable=True, match="SMTP 451")
        smtp.fail_data_with = 554
        expect_error(NotifyConnector, "email", {"to": "a@plant.example", "subject": "s", "body": "b"},
                     config=config, retryable=False, match="SMTP 554")
        port = smtp.port
    expect_error(NotifyConnector, "email", {"to": "a@plant.example", "subject": "s", "body": "b"},
                 config={"smtp_host": "127.0.0.1", "smtp_port": port}, retryable=True, match="cannot deliver via SMTP")
    expect_error(NotifyConnector, "email", {"to": "safety", "subject": "s", "body": "b"},
                 config={"smtp_host": "127.0.0.1"}, param="to", match="no e-mail address known for ['safety']")
    expect_error(NotifyConnector, "email", {"to": "a@b", "subject": "s", "body": "b"},
                 retryable=False, match="SMTP is not configured")


def test_people_without_a_channel_logs_or_fails_when_required(caplog):
    with caplog.at_level(logging.WARNING, logger="connectors.notify"):
        r = run_operation(NotifyConnector, "people", {"recipients": ["safety"], "message": "检查完成"})
    assert r["delivered"] == [{"channel": "log"}] and "no notification channel configured" in r["warning"]
    assert "检查完成" in caplog.text
    expect_error(NotifyConnector, "people", {"recipients": ["safety"], "message": "x"},
                 config={"require_channel": True}, retryable=False,
                 match="set ANJIAN_CONNECTOR_NOTIFY_WEBHOOK_URL and/or ANJIAN_CONNECTOR_NOTIFY_SMTP_HOST")
    expect_error(NotifyConnector, "people", {"recipients": [], "message": "x"}, param="recipients")


# --------------------------------------------------------------------------- hub

@pytest.fixture
def hub(session_platform):
    """A hub on the session's database (SQLite and PostgreSQL), emptied first."""
    h = HubConnector({"database_url": session_platform.settings.database_url})
    with h._database().session() as s:
        from connectors.hub import HUB_RECORDS

        s.execute(HUB_RECORDS.delete())
    yield h
    h.close()


def test_hub_write_then_read(hub):
    w = run_operation(hub, "write", {"kind": "gas_reading", "record": {"id": "GT-1", "area": "unit-1", "o2": 20.9}})
    assert (w["key"], w["version"], w["created"]) == ("GT-1", 1, True)
    w2 = run_operation(hub, "write", {"kind": "gas_reading", "key": "GT-1",
                                      "record": {"area": "unit-1", "o2": 19.0}})
    assert (w2["version"], w2["created"]) == (2, False)
    run_operation(hub, "write", {"kind": "gas_reading", "record": {"id": "GT-2", "area": "tank-farm-3"}})
    run_operation(hub, "write", {"kind": "permit", "record": {"id": "GT-1"}})
    one = run_operation(hub, "read", {"kind": "gas_reading", "key": "GT-1"})
    assert one["count"] == 1 and one["records"][0]["data"] == {"area": "unit-1", "o2": 19.0}
    assert one["records"][0]["version"] == 2
    by_area = run_operation(hub, "read", {"kind": "gas_reading", "filters": {"area": "tank-farm-3"}})
    assert [r["key"] for r in by_area["records"]] == ["GT-2"]
    newest = run_operation(hub, "read", {"kind": "gas_reading", "limit": 1})
    assert newest["count"] == 1
    generated = run_operation(hub, "write", {"kind": "note", "record": {"text": "无 id 的记录"}})
    assert len(generated["key"]) == 32
    expect_error(hub, "read", {"kind": "gas_reading", "limit": 0}, param="limit")
    expect_error(hub, "write", {"kind": "gas_reading", "record": "not an object"}, param="record")


def test_hub_concurrent_writes_of_one_key_all_land(hub):
    errors = []

    def write(i):
        try:
            hub.run("write", {"kind": "counter", "key": "k", "record": {"i": i}})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    [rec] = hub.run("read", {"kind": "counter"})["records"]
    assert rec["version"] == 8


def test_hub_unreachable_database_is_retryable():
    h = HubConnector({"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"})
    err = expect_error(h, "read", {"kind": "x"}, retryable=True, match="data hub database unavailable")
    assert err.connector == "hub"
    expect_error(HubConnector({"database_url": ""}), "write", {"kind": "x", "record": {}}, retryable=False,
                 match="data hub not configured")
