"""`anjian devices import` and `anjian simulate --direct` in a fresh data folder (SQLite)."""
import json

from click.testing import CliRunner

from api.cli import main


def _env(tmp_path):
    return {"ANJIAN_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'anjian.db'}",
            "ANJIAN_SECRET_KEY": "cli-test-secret-key-0123456789-0123456789", "MQTT_URL": ""}


def _run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_devices_import_shows_progress_and_refuses_a_bad_file_whole(tmp_path):
    env = _env(tmp_path)
    assert _run(env, "migrate").exit_code == 0
    assert _run(env, "seed").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("id,type,area,gas\nGT-1,combustible_lel,tank-farm-3,methane\nGT-2,combustible_lel,mars,methane\n"
                   "GT-3,thermometer,unit-1,\n")
    r = _run(env, "devices", "import", str(bad))
    assert r.exit_code == 2
    assert "row 3: area" in r.output and "row 4: type" in r.output
    assert "0 devices" in _run(env, "devices", "list").output

    good = tmp_path / "devices.json"
    good.write_text(json.dumps([{"id": f"GT-{i:03d}", "type": "combustible_lel", "area": "tank-farm-3",
                                 "gas": "methane"} for i in range(450)]))
    r = _run(env, "devices", "import", str(good))
    assert r.exit_code == 0, r.output
    assert "450/450" in r.output and "450 devices: 450 created, 0 updated" in r.output
    listing = _run(env, "devices", "list").output
    assert "GT-449" in listing and "high1=25 high2=50" in listing


def test_simulate_direct_raises_alerts_from_the_excursion(tmp_path):
    env = _env(tmp_path)
    _run(env, "migrate")
    _run(env, "seed")
    r = _run(env, "simulate", "--area", "tank-farm-3", "--direct", "--speed", "20", "--excursion-after", "0",
             "--duration", "2")
    assert r.exit_code == 0, r.output
    assert "excursion on tank-farm-3-GT-01" in r.output and "O2-01=20." in r.output
    # the excursion passed level 1 and level 2: one threshold alert, escalated to orange
    assert [ln for ln in r.output.splitlines() if "报警" in ln and ln.startswith("alert #")] == \
        [ln for ln in r.output.splitlines() if ln.startswith("alert #") and "orange" in ln]
    assert sum(1 for ln in r.output.splitlines() if "级报警" in ln and ln.startswith("alert #")) == 1
