"""The reader of deployed decision tables (engine/decision_tables.py) that the alert policy and the
alarm suspension share: the newest deployed table after the refresh, else the library's file; a
deployed table the reader cannot load falls back to the library's (alert_policy) or is refused again
at every look (alarm_permit_suspension); no library file gives the reader's own answer."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from engine import decision_tables
from engine.decision_tables import REFRESH_SECONDS, DeployedTable
from engine.errors import Invalid
from engine.iot.policy import AlertPolicy
from engine.iot.suspension import AlarmSuspension
from tests.test_deployments_dmn import process, table


def risk_table(note: str) -> str:
    """Decision ``risk`` (tests/test_deployments_dmn.py) whose one rule's note tells the versions apart."""
    return table([(["-", "-"], ['"low"', f'"{note}"'])])


def note_of(text: str, source: str):
    """The reader's load: the note, and where the text came from; a note ``broken`` is refused."""
    note = text.split('<outputEntry id="r1_o2"><text>"', 1)[1].split('"', 1)[0]
    if note == "broken":
        raise Invalid("decision risk cannot be used", errors=[{"field": "risk", "message": "broken"}])
    return note, source


@pytest.fixture
def clock(monkeypatch):
    """The reader's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(decision_tables, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


@pytest.fixture
def library(tmp_path):
    (tmp_path / "bpmn").mkdir()
    path = tmp_path / "bpmn" / "risk.dmn"
    path.write_text(risk_table("library"), "utf-8")
    return path


def deploy(api, note: str) -> None:
    r = api.deploy({"risk.bpmn": process(), "risk.dmn": risk_table(note)})
    assert r.status_code == 201, r.json


def test_a_new_version_is_read_after_the_refresh(api, platform, clock, library):
    reader = DeployedTable(platform.db, "risk", note_of, library_dir=library.parent.parent)
    assert reader.current() == ("library", str(library))
    deploy(api, "v1")
    assert reader.current()[0] == "library"                          # within the refresh: the table read
    clock[0] += REFRESH_SECONDS
    assert reader.current() == ("v1", "risk_check v1 (risk.dmn)")
    assert reader.source == "risk_check v1 (risk.dmn)"
    deploy(api, "v2")
    clock[0] += REFRESH_SECONDS - 1
    assert reader.current()[0] == "v1"
    clock[0] += 1
    assert reader.current() == ("v2", "risk_check v2 (risk.dmn)")
    deploy(api, "v3")
    reader.invalidate()                                               # what a deployment's test does
    assert reader.current()[0] == "v3"


def test_only_the_named_process_s_table_counts_when_a_process_is_named(api, platform, clock, library):
    deploy(api, "v1")
    root = library.parent.parent
    assert DeployedTable(platform.db, "risk", note_of, library_dir=root, process_key="risk_check").current()[0] == "v1"
    assert DeployedTable(platform.db, "risk", note_of, library_dir=root, process_key="alert_response").current() \
        == ("library", str(library))


def test_a_deployed_table_that_cannot_be_loaded_falls_back_to_the_library_loudly(api, platform, clock, library,
                                                                                  caplog):
    deploy(api, "broken")
    reader = DeployedTable(platform.db, "risk", note_of, library_dir=library.parent.parent, fall_back_on=(Invalid,))
    with caplog.at_level(logging.ERROR, logger="engine.decision_tables"):
        assert reader.current() == ("library", str(library))
    assert "decision risk cannot be used" in caplog.text and str(library) in caplog.text


def test_without_a_fall_back_the_error_is_raised_at_every_look(api, platform, clock, library):
    reader = DeployedTable(platform.db, "risk", note_of, library_dir=library.parent.parent)
    assert reader.current()[0] == "library"
    deploy(api, "broken")
    clock[0] += REFRESH_SECONDS
    with pytest.raises(Invalid):
        reader.current()
    with pytest.raises(Invalid):                                      # not kept: tried again
        reader.current()
    deploy(api, "v2")
    assert reader.current()[0] == "v2"


def test_no_library_file_gives_the_readers_answer(platform, clock, tmp_path):
    with pytest.raises(FileNotFoundError):
        DeployedTable(platform.db, "risk", note_of, library_dir=tmp_path).current()
    reader = DeployedTable(platform.db, "risk", note_of, library_dir=tmp_path, missing=lambda exc: ("none", ""))
    assert reader.current() == ("none", "")
    (tmp_path / "bpmn").mkdir()
    (tmp_path / "bpmn" / "risk.dmn").write_text(risk_table("library"), "utf-8")
    assert reader.current() == ("none", "")                          # within the refresh
    clock[0] += REFRESH_SECONDS
    assert reader.current()[0] == "library"


def test_the_alert_policy_and_the_alarm_suspension_without_a_library_file(platform, tmp_path):
    """What each reader did before sharing the reader: no alert policy is an error (alerts need a
    deadline); no suspension table suspends no permit."""
    with pytest.raises(Invalid, match="no alert_policy decision: .*alert_policy.dmn cannot be read"):
        AlertPolicy(platform.db, tmp_path).deadline_minutes("red")
    assert AlarmSuspension(platform.db, tmp_path).decide("gas", "hot_work", "fire_explosion") == (None, 0.0)
    assert AlarmSuspension(platform.db).decide("gas", "hot_work", "fire_explosion") == ("gas_alarm", 0.0)
