"""Stand-ins for the new permit processes in tests (no tests here).

The six new permits (blinding, height, lifting, temporary power, excavation, road closure) are written
beside this work; until their diagrams are in bpmn/, the SIMOPS and alarm tests use a small process of
the same key that does what the register and the alarm path read: it records ``permit_type``,
``permit_status`` and the facts of the SIMOPS rules, evaluates its rows of ``simops_matrix.dmn``,
and catches the messages its real diagram catches on the work task (suspending the permit).
``registered`` makes the register know the stand-in's process as a permit for the test's duration.
"""
from __future__ import annotations

from engine import permits
from engine.bpmn_builder import ProcessBuilder

LANE = "作业人员 (worker)"


def mini_permit_xml(kind: str, messages=("stop_work",)) -> str:
    """A ``<kind>_permit`` process: start (area, pipeline, equipment_id) → live permit → work task
    whose message boundaries (``messages``) suspend it with ``suspended_by`` = the message."""
    b = ProcessBuilder(f"{kind}_permit", f"测试用 {kind} 作业票")
    b.lane(LANE)
    b.start("start", "申请", variables=["area", "pipeline", "equipment_id", "work_plan_ref", "work_content"])
    b.script("init", "登记", f"permit_type = '{kind}'\npermit_status = 'active'\nsuspended_by = ''\n"
             "issued_at = now().isoformat()\n"
             "simops_permit_processes = []\nsimops_permit_reasons = []\n"
             "try:\n    work_plan_ref = work_plan_ref or ''\nexcept NameError:\n    work_plan_ref = ''", lane=LANE)
    b.business_rule("simops_rule", "交叉作业矩阵", "simops_matrix", lane=LANE)
    # A permit naming a work plan tells it, as the library's link_to_work_plan does.
    b.xor("plan_gw", "关联作业计划?", default=f"Flow_{kind}_no_plan")
    b.message_throw("notify_plan", "通知作业计划", "work_plan_permit", lane=LANE,
                    payload="{'correlation': {'plan_no': work_plan_ref}}")
    b.user("work", "作业", lane=LANE, form="resume_request.json")
    b.end("end", "结束", lane=LANE)
    b.chain("start", "init", "simops_rule", "plan_gw")
    b.flow("plan_gw", "notify_plan", condition="bool(work_plan_ref)", flow_id=f"Flow_{kind}_plan")
    b.flow("plan_gw", "work", flow_id=f"Flow_{kind}_no_plan")
    b.chain("notify_plan", "work", "end")
    for m in messages:
        b.message_boundary(f"on_{m}", m, "work", m)
        b.script(f"suspend_{m}", "暂停", f"permit_status = 'suspended'\nsuspended_by = '{m}'", lane=LANE)
        b.user(f"held_{m}", "暂停中", lane=LANE, form="resume_request.json")
        b.chain(f"on_{m}", f"suspend_{m}", f"held_{m}")
        b.end(f"end_{m}", "结束", lane=LANE)
        b.chain(f"held_{m}", f"end_{m}")
    return b.to_xml()


def registered(monkeypatch, kind: str) -> permits.PermitType:
    """Make the register read ``<kind>_permit`` as the stand-in (its statuses from ``permit_status``,
    its SIMOPS rows from simops_matrix.dmn), for the test's duration, whether or not a real type exists."""
    key = f"{kind}_permit"
    ptype = permits.PermitType(key, kind, kind, frozenset(), frozenset(), location_fields=("equipment_id", "pipeline"))
    monkeypatch.setattr(permits, "PERMIT_TYPES",
                        tuple(t for t in permits.PERMIT_TYPES if t.process_key != key) + (ptype,))
    monkeypatch.setitem(permits.BY_KEY, key, ptype)
    monkeypatch.setitem(permits.BY_TYPE, kind, ptype)
    return ptype


def deploy_mini(plant, monkeypatch, *kinds, messages=("stop_work",)) -> None:
    """Deploy the stand-ins of ``kinds`` over the library (a real diagram of the same key, once there,
    stays an older version: the stand-in's simple path is what these tests drive)."""
    from tests.test_library_support import library_files

    have = library_files()
    files = {"simops_matrix.dmn": have["simops_matrix.dmn"], "resume_request.json": have["resume_request.json"]}
    for kind in kinds:
        registered(monkeypatch, kind)
        files[f"{kind}_permit.bpmn"] = mini_permit_xml(kind, messages)
    r = plant.api.deploy(files)
    assert r.status_code == 201, r.json
