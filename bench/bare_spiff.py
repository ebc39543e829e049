"""Bare SpiffWorkflow baseline: the permit process in memory, one core.

Same BPMN as the platform benchmark (tests/processes.py permit_process), parsed
with SpiffWorkflow's own ``SpiffBpmnParser``, default script engine, and a
JSON serialize → deserialize round trip (``BpmnWorkflowSerializer`` with the
spiff config) after the start and after each of the 5 user tasks — the floor
of any engine that persists SpiffWorkflow state between requests.

    .venv/bin/python bench/bare_spiff.py --lifecycles 500
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from tests.processes import permit_process  # noqa: E402

# What each user task is completed with (the same data the HTTP benchmark sends).
STEP_DATA = {
    "apply": {"content": "动火作业 bench", "workers": 2},
    "site_check": {},
    "review": {"approved": True},
    "approve": {},
    "accept": {},
}


def parse(key: str = "permit"):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(permit_process(key).encode(), filename=f"{key}.bpmn")
    return parser.get_spec(key), parser.get_subprocess_specs(key)


def one_lifecycle(spec, subprocess_specs, serializer, *, round_trip: bool = True,
                  serialize_only: bool = False) -> tuple[int, int]:
    """Run one instance to the end; returns (user tasks completed, bytes of the last JSON).

    ``serialize_only``: write the JSON after every step but keep working on the live
    workflow (what a persisted engine with a warm workflow cache does).
    """
    wf = BpmnWorkflow(spec, subprocess_specs)
    wf.do_engine_steps()
    state = serializer.serialize_json(wf) if round_trip else None
    done = 0
    size = len(state) if state else 0
    while True:
        if round_trip and not serialize_only:
            wf = serializer.deserialize_json(state)
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        task = ready[0]
        task.data.update(STEP_DATA[task.task_spec.bpmn_id])
        task.run()
        wf.do_engine_steps()
        done += 1
        if round_trip:
            state = serializer.serialize_json(wf)
            size = max(size, len(state))
    if not wf.is_completed():
        raise AssertionError("bare lifecycle did not complete")
    return done, size


def measure(lifecycles: int = 300, *, round_trip: bool = True, serialize_only: bool = False,
            warmup: int = 20) -> dict:
    """Lifecycles/s of bare SpiffWorkflow on the calling thread (one core)."""
    spec, subs = parse()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    for _ in range(warmup):
        one_lifecycle(spec, subs, serializer, round_trip=round_trip, serialize_only=serialize_only)
    t0, c0 = time.perf_counter(), time.process_time()
    tasks = size = 0
    for _ in range(lifecycles):
        n, size = one_lifecycle(spec, subs, serializer, round_trip=round_trip, serialize_only=serialize_only)
        tasks += n
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"lifecycles": lifecycles, "tasks": tasks, "wall": wall, "cpu": cpu,
            "lifecycles_per_s": lifecycles / wall, "lifecycles_per_cpu_s": lifecycles / cpu,
            "max_state_bytes": size}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lifecycles", type=int, default=300)
    args = ap.parse_args(argv)
    for rt in (False, True):
        r = measure(args.lifecycles, round_trip=rt)
        label = "with JSON round trip per step" if rt else "in memory, no serialization "
        print(f"bare SpiffWorkflow {label}: {r['lifecycles_per_s']:7.1f} lifecycles/s "
              f"({r['lifecycles_per_cpu_s']:.1f} per CPU-second; state JSON up to {r['max_state_bytes']} B)")


if __name__ == "__main__":
    main()
