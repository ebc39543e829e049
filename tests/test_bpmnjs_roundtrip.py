"""A designer's modeler keeps the library working (issue 14 §4): every diagram of bpmn/ is opened in
the bpmn-js Modeler and saved (bpmn/tools/layout/roundtrip.mjs: headless Chromium, bpmn-js from
`npm ci` in bpmn/tools/layout), the saved files deploy, and the hot-work and confined-space permits
run their happy path from the saved files through the REST API.

Needs node, chromium and bpmn/tools/layout/node_modules: .ci/run installs the node modules; without
them the test fails saying what to run (it never skips: a modeler round trip that is not checked is
how the library stops being the designers')."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_library_support import library_files, plant  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = ROOT / "bpmn" / "tools" / "layout"
DIAGRAMS = sorted((ROOT / "bpmn").glob("*.bpmn"))


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, bytes]:
    """Every diagram of bpmn/ as the bpmn-js Modeler saves it (name → XML)."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed: the bpmn-js round trip needs node (and chromium)")
    if not (LAYOUT / "node_modules" / "bpmn-js" / "dist").is_dir():
        pytest.fail("bpmn-js is not installed: run `cd bpmn/tools/layout && npm ci` (.ci/run does it)")
    out = tmp_path_factory.mktemp("bpmnjs-saved")
    proc = subprocess.run(["node", str(LAYOUT / "roundtrip.mjs"), str(out), *map(str, DIAGRAMS)],
                          capture_output=True, text=True, timeout=600, cwd=LAYOUT)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [r["file"] for r in results] == [p.name for p in DIAGRAMS], proc.stdout + proc.stderr
    bad = [r for r in results if not r["ok"] or r["warnings"]]
    assert not bad, f"bpmn-js could not open or save cleanly: {bad}"
    return {p.name: (out / p.name).read_bytes() for p in DIAGRAMS}


def test_every_diagram_is_saved_by_bpmn_js_with_its_engine_extensions(saved):
    for path in DIAGRAMS:
        xml = saved[path.name].decode("utf-8")
        assert xml != path.read_text("utf-8")                   # really the Modeler's output
        original = path.read_text("utf-8")
        for marker in ("spiffworkflow:properties", "spiffworkflow:calledDecisionId", "bpmndi:BPMNShape"):
            assert xml.count(f"<{marker}") == original.count(f"<{marker}"), (path.name, marker)


def test_the_saved_diagrams_deploy_and_run_the_permits_happy_paths(plant, saved):
    r = plant.api.deploy({**library_files(), **saved})
    assert r.status_code == 201, r.json
    from tests.test_library_confined_space import inside
    from tests.test_library_hot_work import working

    hot = working(plant, "warehouse")
    cs = inside(plant)
    for iid in (hot, cs):   # the instances run the round-tripped versions (version 2 of each key)
        assert plant.instance(iid)["version"] == 2, plant.instance(iid)
    plant.complete("worker1", hot, "hw_work", {"action": "complete"})
    plant.complete("prod1", hot, "hw_acceptance", {"no_embers": True, "site_cleared": True,
                                                   "facilities_restored": True})
    plant.complete("worker1", cs, "cs_work", {"action": "complete", "people_inside": [], "tools_inside": 0})
    plant.complete("prod1", cs, "cs_acceptance", {"people_out": True, "tools_out": True, "facilities_restored": True})
    for iid in (hot, cs):
        assert plant.status(iid) == "completed"
        assert plant.variables(iid)["permit_status"] == "closed"
