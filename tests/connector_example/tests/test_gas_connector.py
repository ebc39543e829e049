"""The example connector's own tests, written with Anjian's connector test kit.

Run them with the package installed into Anjian's environment:
``pip install -e . && pytest tests``.
"""
import pytest

from connectors.testing import check_connector, expect_error, run_operation

gas = pytest.importorskip("anjian_gas_check", reason="install the example first: pip install tests/connector_example")


def test_declaration_is_valid():
    check_connector(gas.GasConnector)


def test_clean_air_passes_and_stays_valid_for_the_configured_time():
    result = run_operation(gas.GasConnector, "analyse",
                           {"readings": {"o2_pct": 20.9, "combustible_pct": 0.1, "h2s_ppm": 0, "co_ppm": 2},
                            "sampled_at": "2025-06-01T09:00:00+08:00"},
                           config={"valid_minutes": 20})
    assert result == {"verdict": "pass", "work_type": "hot_work", "failures": [],
                      "valid_until": "2025-06-01T09:20:00+08:00"}


def test_confined_space_with_low_oxygen_and_h2s_fails_with_every_reason():
    result = run_operation(gas.GasConnector, "analyse",
                           {"readings": {"o2_pct": 18.2, "h2s_ppm": 12}, "work_type": "confined_space"})
    assert result["verdict"] == "fail"
    assert any("oxygen" in f for f in result["failures"]) and any("H2S" in f for f in result["failures"])


def test_bad_input_is_named():
    expect_error(gas.GasConnector, "analyse", {}, param="readings", retryable=False)
    expect_error(gas.GasConnector, "analyse", {"readings": {"o2_pct": "high"}}, param="readings")
    expect_error(gas.GasConnector, "analyse", {"readings": {"o2_pct": 20.9}, "work_type": "welding"},
                 param="work_type", match="one of")
