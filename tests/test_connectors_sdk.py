"""The connector SDK: declarations, parameter validation, errors, discovery, configuration, isolation."""
import datetime as dt
import textwrap

import pytest

from connectors.base import Connector, ConnectorError, Operation, Param, operation
from connectors.registry import ConnectorRegistry, discover
from connectors.testing import check_connector, expect_error, run_operation


class Calc(Connector):
    name = "calc"
    version = "2.1"
    config_schema = {"type": "object", "properties": {"scale": {"type": "integer", "minimum": 1}},
                     "additionalProperties": False}

    @operation(params=[Param("a", "number"), Param("b", "number", required=False, default=1)],
               result_schema={"type": "object", "required": ["sum"], "properties": {"sum": {"type": "number"}}})
    def add(self, a, b):
        """Add two numbers (times the configured scale)."""
        return {"sum": (a + b) * self.config.get("scale", 1)}

    @operation(params=[Param("day", "date"), Param("tags", "array", required=False),
                       Param("mode", required=False, choices=("fast", "safe"))])
    def echo(self, **kw):
        """Return the normalised parameters."""
        return kw

    @operation(result_schema={"type": "object", "required": ["sum"]})
    def liar(self):
        """Returns something that breaks its own result schema."""
        return {"total": 3}

    @operation()
    def crash(self):
        """A plugin bug."""
        return 1 / 0

    @operation()
    def not_json(self):
        """Returns a Python object JSON cannot hold."""
        return {"when": dt.datetime(2025, 1, 1)}

    @operation()
    def flaky(self):
        """Fails like a dropped connection."""
        raise ConnectionResetError("peer reset")


@pytest.fixture
def reg():
    r = ConnectorRegistry()
    r.register(Calc({"scale": 10}))
    return r


def test_call_validates_and_runs(reg):
    assert reg.call("calc/add", {"a": 1, "b": 2}) == {"sum": 30}
    assert reg.call("calc/add", {"a": 1.5}) == {"sum": 25.0}  # default b=1 filled in
    assert reg.call("calc/add", {"a": 1, "b": None}) == {"sum": 20}  # None counts as absent
    assert reg.call("calc/echo", {"day": dt.date(2025, 6, 1), "tags": ("a", "b")}) == \
        {"day": "2025-06-01", "tags": ["a", "b"]}


@pytest.mark.parametrize("params, param, text", [
    ({}, "a", "missing required parameter 'a' (number)"),
    ({"a": "3"}, "a", "parameter 'a' must be a number, got string '3'"),
    ({"a": True}, "a", "must be a number, got boolean"),
    ({"a": 1, "c": 2}, "c", "unknown parameter 'c' (declared: a, b)"),
])
def test_bad_params_name_the_parameter_and_are_not_retryable(reg, params, param, text):
    with pytest.raises(ConnectorError) as info:
        reg.call("calc/add", params)
    err = info.value
    assert err.param == param and text in err.message
    assert (err.connector, err.operation, err.params, err.retryable) == ("calc", "add", params, False)
    assert str(err).startswith("calc/add: ")
    assert err.as_dict()["operator"] == "calc/add"


def test_connector_error_survives_pickling(reg):
    import pickle

    with pytest.raises(ConnectorError) as info:
        reg.call("calc/add", {"a": "x"})
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.as_dict() == info.value.as_dict() and str(copy) == str(info.value)


def test_dates_and_choices_are_checked(reg):
    with pytest.raises(ConnectorError, match="parameter 'day' must be a date .YYYY-MM-DD., got string '1.6.2025'"):
        reg.call("calc/echo", {"day": "1.6.2025"})
    with pytest.raises(ConnectorError, match=r"parameter 'mode' must be one of \['fast', 'safe'\]"):
        reg.call("calc/echo", {"day": "2025-06-01", "mode": "slow"})


def test_unknown_operator_connector_and_shape(reg):
    with pytest.raises(ConnectorError, match="must be written 'connector/operation'"):
        reg.call("calc", {})
    with pytest.raises(ConnectorError, match=r"no connector named 'nope' \(connectors: calc\)"):
        reg.call("nope/x", {})
    with pytest.raises(ConnectorError, match=r"no operation 'mul' \(operations: add, crash"):
        reg.call("calc/mul", {})
    with pytest.raises(ConnectorError, match="parameters must be an object"):
        reg.call("calc/add", [1, 2])


def test_failures_inside_handlers_become_connector_errors(reg):
    with pytest.raises(ConnectorError) as info:
        reg.call("calc/crash", {})
    assert info.value.message == "ZeroDivisionError: division by zero" and info.value.retryable is False
    with pytest.raises(ConnectorError) as info:
        reg.call("calc/flaky", {})
    assert info.value.retryable is True and "peer reset" in info.value.message
    with pytest.raises(ConnectorError, match="result does not match the declared result schema at .root.: 'sum'"):
        reg.call("calc/liar", {})
    with pytest.raises(ConnectorError, match="result is not JSON-serialisable"):
        reg.call("calc/not_json", {})


def test_operators_and_describe(reg):
    ops = reg.operators()
    assert list(ops) == ["calc/add", "calc/crash", "calc/echo", "calc/flaky", "calc/liar", "calc/not_json"]
    assert ops["calc/add"].required_params() == ["a"]
    assert reg.operation("calc/add") is ops["calc/add"] and reg.operation("calc/zzz") is None
    described = reg.describe()["connectors"][0]
    assert described["name"] == "calc" and described["version"] == "2.1"
    add = next(o for o in described["operations"] if o["name"] == "add")
    assert add["description"] == "Add two numbers (times the configured scale)."
    assert add["params"][1] == {"name": "b", "type": "number", "required": False, "description": "", "default": 1}


def test_classic_operation_lists_still_work():
    class Old(Connector):
        name = "old"
        version = "1"

        def operations(self):
            return [Operation("ping", (Param("host"),), "ping a host", handler=lambda host: {"pong": host})]

    r = ConnectorRegistry()
    r.register(Old())
    assert r.call("old/ping", {"host": "x"}) == {"pong": "x"}
    assert Old().run("ping", {"host": "y"}) == {"pong": "y"}


@pytest.mark.parametrize("bad, message", [
    ([Operation("a"), Operation("a")], "operation 'a' is declared twice"),
    ([Operation("a", (Param("x", "str"),))], "parameter 'x' has unknown type 'str'"),
    ([Operation("a/b")], "must be non-empty and contain no '/'"),
    ([Operation("a", result_schema={"type": 5})], "result_schema is not a valid JSON Schema"),
])
def test_inconsistent_declarations_are_refused(bad, message):
    class Bad(Connector):
        name = "bad"
        version = "1"

        def operations(self):
            return bad

    with pytest.raises(ValueError, match=message):
        ConnectorRegistry().register(Bad())


def test_duplicate_names_are_refused(reg):
    with pytest.raises(ValueError, match="connector name 'calc' is already registered by"):
        reg.register(Calc())


def test_test_kit_helpers():
    check_connector(Calc)
    assert run_operation(Calc, "add", {"a": 2}, config={"scale": 3}) == {"sum": 9}
    with pytest.raises(AssertionError, match="configuration invalid: scale: 0 is less than the minimum of 1"):
        run_operation(Calc, "add", {"a": 2}, config={"scale": 0})
    with pytest.raises(AssertionError, match="result does not match"):
        run_operation(Calc, "liar")
    with pytest.raises(AssertionError, match="does not match the schema at sum"):
        run_operation(Calc, "add", {"a": 2}, result_schema={"properties": {"sum": {"type": "string"}}})
    err = expect_error(Calc, "add", {"a": "x"}, param="a", retryable=False, match="must be a number")
    assert err.connector == "calc"
    with pytest.raises(AssertionError, match="did not fail"):
        expect_error(Calc, "add", {"a": 1})


# --------------------------------------------------------------------------- discovery and configuration

def test_builtins_are_discovered_with_their_declarations():
    r = discover({})
    assert not {"mes", "notify", "hub"} & set(r.failures)
    assert {"mes/work_orders", "mes/equipment_status", "mes/area_equipment", "mes/production_schedule",
            "notify/webhook", "notify/people", "notify/email", "hub/read", "hub/write"} <= set(r.operators())
    assert r.operation("mes/work_orders").required_params() == ["area"]
    assert [c.name for c in r.by_kind("notification")] == ["notify"]


def test_configuration_from_the_environment():
    env = {"ANJIAN_CONNECTORS": '{"mes": {"base_url": "http://json-mes:1", "retries": 1}}',
           "ANJIAN_CONNECTOR_MES_BASE_URL": "http://env-mes:8080",
           "ANJIAN_CONNECTOR_MES_READ_TIMEOUT": "2.5",
           "ANJIAN_CONNECTOR_MES_API_KEY": "s3cret",
           "ANJIAN_CONNECTOR_NOTIFY_DIRECTORY": '{"safety": "safety@plant.example"}',
           "ANJIAN_CONNECTOR_NOTIFY_SMTP_STARTTLS": "yes",
           "ANJIAN_CONNECTOR_HUB_DATABASE_URL": ""}
    r = discover(environ=env)
    assert not {"mes", "notify", "hub", "(configuration)"} & set(r.failures)
    mes = r.get("mes")
    assert mes.config == {"base_url": "http://env-mes:8080", "retries": 1, "read_timeout": 2.5, "api_key": "s3cret"}
    assert "api_key" not in mes.describe()["config"]  # writeOnly secrets are never listed
    notify = r.get("notify").config
    assert notify["directory"] == {"safety": "safety@plant.example"} and notify["smtp_starttls"] is True
    with pytest.raises(ConnectorError, match="data hub not configured") as info:
        r.call("hub/read", {"kind": "gas"})
    assert info.value.retryable is False


def test_hub_defaults_to_the_platform_database():
    r = discover(environ={"DATABASE_URL": "postgresql://u@db:5432/anjian"})
    assert r.get("hub").config == {"database_url": "postgresql+psycopg://u@db:5432/anjian"}


@pytest.mark.parametrize("env, name, message", [
    ({"ANJIAN_CONNECTOR_MES_RETRIES": "many"}, "mes", "ANJIAN_CONNECTOR_MES_RETRIES: cannot read as integer"),
    ({"ANJIAN_CONNECTOR_MES_BASE_URL": "ftp://mes"}, "mes", "configuration invalid: base_url: 'ftp://mes' does not match"),
    ({"ANJIAN_CONNECTOR_MES_COLOUR": "red"}, "mes", "Additional properties are not allowed ('colour'"),
    ({"ANJIAN_CONNECTORS": "{not json"}, "(configuration)", "ANJIAN_CONNECTORS is not valid JSON"),
])
def test_bad_configuration_skips_only_that_connector(env, name, message):
    r = discover(environ=env)
    assert message in r.failures[name]
    # Other installed plugins may be present too; the rest of the built-ins certainly are.
    assert name not in r.connectors and {"mes", "notify", "hub"} - {name} <= set(r.connectors)
    if name == "mes":
        with pytest.raises(ConnectorError, match=f"no connector named 'mes'; it failed to load: .*{message[:20]}"):
            r.call("mes/work_orders", {"area": "unit-1"})


PLUGINS = {
    "good_plugin.py": """
        from connectors.base import Connector, Param, operation

        class Thermo(Connector):
            name = "thermo"
            version = "0.3"

            @operation(params=[Param("celsius", "number")])
            def to_kelvin(self, celsius):
                '''Celsius to kelvin.'''
                return {"kelvin": celsius + 273.15}
    """,
    "broken_plugin.py": """
        import this_module_does_not_exist  # the import fails
    """,
    "exiting_plugin.py": """
        raise SystemExit("a plugin calling sys.exit at import")
    """,
    "config_plugin.py": """
        from connectors.base import Connector

        class NeedsToken(Connector):
            name = "needs_token"
            version = "1"
            config_schema = {"type": "object", "required": ["token"]}
    """,
    "setup_plugin.py": """
        from connectors.base import Connector

        class Unreachable(Connector):
            name = "unreachable"
            version = "1"

            def setup(self):
                raise RuntimeError("licence server unreachable")
    """,
    "clash_plugin.py": """
        from connectors.base import Connector

        class FakeMes(Connector):
            name = "mes"
            version = "9"
    """,
}
ENTRY_POINTS = """
[anjian.connectors]
thermo = good_plugin:Thermo
broken = broken_plugin:Anything
exiting = exiting_plugin:Anything
needs_token = config_plugin:NeedsToken
unreachable = setup_plugin:Unreachable
fake_mes = clash_plugin:FakeMes
not_a_class = good_plugin:operation
"""


def test_a_failing_plugin_does_not_take_down_the_others(tmp_path, monkeypatch):
    for fname, source in PLUGINS.items():
        (tmp_path / fname).write_text(textwrap.dedent(source))
    dist = tmp_path / "anjian_test_plugins-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: anjian-test-plugins\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))

    r = discover({})
    f = r.failures
    assert "ModuleNotFoundError: No module named 'this_module_does_not_exist'" in f["broken"]
    assert "SystemExit: a plugin calling sys.exit at import" in f["exiting"]
    assert "configuration invalid: 'token' is a required property" in f["needs_token"]
    assert f["unreachable"] == "RuntimeError: licence server unreachable"
    assert "connector name 'mes' is already registered by connectors.mes.MesConnector" in f["fake_mes"]
    assert "is not a Connector subclass" in f["not_a_class"]
    # The healthy plugin and every built-in are there and work.
    assert {"thermo", "mes", "notify", "hub"} <= set(r.connectors)
    assert r.get("mes").version == "1.0.0"
    assert r.call("thermo/to_kelvin", {"celsius": 20}) == {"kelvin": 293.15}
    names = [x["name"] for x in r.describe()["failures"]]
    assert names == sorted(names)
    assert {"broken", "exiting", "needs_token", "unreachable", "fake_mes", "not_a_class"} <= set(names)
