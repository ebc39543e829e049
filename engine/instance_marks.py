"""Where an instance stands on its diagram: element states and the sequence flows taken.

A client that draws the deployed BPMN itself (the workspace's bpmn-js view) needs to know,
by BPMN element id, what to colour:

* ``element_states`` — ``{element id: state}`` for the flow nodes of the instance's process
  (and of its embedded subprocesses), the state being

  - ``completed`` — a token passed the element;
  - ``active`` — a task of the element is ready or started, or waits on a timer;
  - ``suspended`` — it waits for an outside event (a message catch or receive task, e.g. a
    stopped job waiting for its restart);
  - ``error`` — a task of it failed, or an open incident names it.

  An element that ran several times takes its most urgent state (error > active >
  suspended > completed), as the server-side picture (engine/diagram.py) does.
* ``taken_flows`` — ids of the sequence flows a token travelled along.

SpiffWorkflow keeps the path as its task tree: each task's parent is the task that
produced it. A flow ``S → T`` was taken when a task of ``T`` was reached and its nearest
ancestor with a BPMN id is a completed task of ``S``. A parallel or inclusive join keeps
one task per arriving branch and cancels all but the one that goes on, so a cancelled join
under a completed source still counts as reached. Called processes (call activities) are
other diagrams: only the call activity itself is marked.
"""
from __future__ import annotations

# The mixins, not bpmn.specs.defaults: the parser builds the spiff extension's task classes
# (SpiffWorkflow.spiff.specs.defaults), which share only these bases with the plain BPMN ones.
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

RANK = {"error": 4, "active": 3, "suspended": 2, "completed": 1}
_REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


def _embedded_subprocesses(model) -> set[str]:
    """Names of the embedded (not called) subprocess specs reachable from the top-level spec."""
    found: set[str] = set()
    pending = [model.spec]
    while pending:
        spec = pending.pop()
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, SubWorkflowTask) and not isinstance(task_spec, CallActivity):
                name = task_spec.spec
                if name not in found:
                    found.add(name)
                    sub = model.subprocess_specs.get(name)
                    if sub is not None:
                        pending.append(sub)
    return found


def _state_of(task) -> str | None:
    st = task.state
    if st == TaskState.COMPLETED:
        return "completed"
    if st == TaskState.ERROR:
        return "error"
    if st in (TaskState.READY, TaskState.STARTED):
        return "active"
    if st == TaskState.WAITING:
        spec = task.task_spec
        if isinstance(spec, Join):
            return None  # a join waiting for its other branches: the flows into it tell that
        definition = getattr(spec, "event_definition", None)
        waits_outside = type(definition).__name__ == "MessageEventDefinition" or \
            type(spec).__name__ == "ReceiveTask"
        return "suspended" if waits_outside else "active"
    return None


def _bpmn_parent(task):
    """The nearest ancestor of ``task`` (same workflow) that stands for a BPMN element."""
    parent = task.parent
    while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
        parent = parent.parent
    return parent


def diagram_marks(wf, model, incident_elements=()) -> dict:
    """``{"element_states": {...}, "taken_flows": [...]}`` of workflow ``wf`` of ``model``.

    ``incident_elements`` are the element ids named by the instance's open incidents: they
    show as ``error`` even when the failed step was rolled back (its task is not in error).
    """
    own = {model.spec.name} | _embedded_subprocesses(model)
    key = model.key
    states: dict[str, str] = {}
    flows: set[str] = set()
    for task in wf.get_tasks():
        if task.workflow is not wf and task.workflow.spec.name not in own:
            continue  # a called process: another diagram
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        state = _state_of(task)
        if state is not None and RANK[state] > RANK.get(states.get(bpmn_id), 0):
            states[bpmn_id] = state
        reached = bool(task.state & _REACHED) or (task.state == TaskState.CANCELLED
                                                   and isinstance(task.task_spec, Join))
        if not reached:
            continue
        source = _bpmn_parent(task)
        if source is not None and source.state == TaskState.COMPLETED:
            flows.update(model.flows.get((key, source.task_spec.bpmn_id, bpmn_id), ()))
    for bpmn_id in incident_elements:
        if bpmn_id:
            states[bpmn_id] = "error"
    return {"element_states": states, "taken_flows": sorted(flows)}
