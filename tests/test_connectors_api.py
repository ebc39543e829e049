"""GET /api/v1/connectors and `anjian connectors list`."""
import json

from click.testing import CliRunner

from api.cli import main


def test_any_authenticated_user_lists_connectors(api, platform):
    assert api.get("/api/v1/connectors").status_code == 401
    r = api.get("/api/v1/connectors", "worker1")
    assert r.status_code == 200, r.json
    assert r.json == json.loads(json.dumps(platform.connectors.describe()))
    mes = next(c for c in r.json["connectors"] if c["name"] == "mes")
    assert mes["kind"] == "mes" and mes["version"] == "1.0.0"
    wo = next(o for o in mes["operations"] if o["name"] == "work_orders")
    assert wo["params"][0] == {"name": "area", "type": "string", "required": True,
                               "description": "plant area code, e.g. unit-1"}
    hub = next(c for c in r.json["connectors"] if c["name"] == "hub")
    assert "database_url" not in hub["config"]  # secrets (writeOnly) are never listed


def test_one_connector_and_404s(api, platform):
    r = api.get("/api/v1/connectors/notify", "safety1")
    assert r.status_code == 200 and {o["name"] for o in r.json["operations"]} == {"webhook", "people", "email"}
    r = api.get("/api/v1/connectors/dcs", "safety1")
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    assert "no connector named 'dcs' (connectors: " in r.json["detail"]
    platform.connectors.failures["dcs"] = "ImportError: no module named opcua"
    try:
        r = api.get("/api/v1/connectors/dcs", "safety1")
        assert r.json["detail"] == "connector 'dcs' failed to load: ImportError: no module named opcua"
        listed = api.get("/api/v1/connectors", "safety1").json["failures"]
        assert {"name": "dcs", "error": "ImportError: no module named opcua"} in listed
    finally:
        del platform.connectors.failures["dcs"]


def test_cli_lists_connectors_operations_parameters_and_failures(monkeypatch):
    monkeypatch.setenv("ANJIAN_CONNECTOR_MES_RETRIES", "lots")
    result = CliRunner().invoke(main, ["connectors", "list"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "notify 1.0.0  [notification]" in out
    assert "  notify/people  - Notify people/departments" in out
    assert "      level: string (optional, default 'info', one of ['info', 'warning', 'alarm', 'emergency'])" in out
    assert "FAILED mes: ValueError: ANJIAN_CONNECTOR_MES_RETRIES: cannot read as integer" in out
    monkeypatch.delenv("ANJIAN_CONNECTOR_MES_RETRIES")
    result = CliRunner().invoke(main, ["connectors", "list", "--json"])
    data = json.loads(result.output)
    assert "mes" in {c["name"] for c in data["connectors"]}
    assert "mes" not in {f["name"] for f in data["failures"]}
