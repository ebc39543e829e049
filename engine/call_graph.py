"""Call activities of a deployment: every called process exists, and no process calls itself.

A call activity that reaches its own process again (A → A, or A → B → A) starts a new
sub-workflow on every pass without ever waiting, so the engine step never ends (issue 12: such a
diagram from SpiffWorkflow's own test corpus spun a request thread for ever). Deployment refuses
it, naming each call activity of the cycle. Call activities resolve only to processes of the same
deployment (engine/definitions.py bundles the called processes from its own files), so the graph
of one deployment is the whole graph.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.bpmn_xml import BPMN



@dataclass(frozen=True)
class Call:
    """One call activity: the process it is in, where it is, and what it calls."""

    caller: str
    file: str
    line: int | None
    element_id: str | None
    called: str


@dataclass
class CallProblem:
    """A call activity that calls a missing process or is part of a cycle."""

    call: Call
    message: str


def calls_of(docs: dict) -> tuple[dict[str, str], list[Call]]:
    """(process id → file, every call activity) of the parsed BPMN documents ``docs`` (file → tree)."""
    processes: dict[str, str] = {}
    calls: list[Call] = []
    for file, doc in docs.items():
        for process_el in doc.getroot().iter(f"{BPMN}process"):
            pid = process_el.get("id")
            processes.setdefault(pid, file)
            for el in process_el.iter(f"{BPMN}callActivity"):
                calls.append(Call(pid, file, el.sourceline, el.get("id"), (el.get("calledElement") or "").strip()))
    return processes, calls


def problems(docs: dict) -> tuple[list[CallProblem], set[str]]:
    """The call problems of a deployment, and the processes that reach one (not buildable)."""
    processes, calls = calls_of(docs)
    found: list[CallProblem] = []
    for call in calls:
        if not call.called:
            found.append(CallProblem(call, "call activity names no process (calledElement)"))
        elif call.called not in processes:
            found.append(CallProblem(call, f"call activity calls process '{call.called}', which is not in the "
                                           f"deployment (call activities resolve to processes deployed with them)"))
    graph: dict[str, list[Call]] = {}
    for call in calls:
        if call.called in processes:
            graph.setdefault(call.caller, []).append(call)
    in_cycle = {call: cycle for call in calls if (cycle := _cycle_through(graph, call)) is not None}
    for call, cycle in in_cycle.items():
        path = " → ".join([c.caller for c in cycle] + [cycle[0].caller])
        others = ", ".join(f"'{c.element_id}' ({c.file}:{c.line})" for c in cycle if c != call)
        message = (f"call activity calls process '{call.called}', which leads back to '{call.caller}' "
                   f"(cycle {path}): a process may not call itself, directly or through others")
        found.append(CallProblem(call, message + (f"; the other call activities of the cycle: {others}" if others
                                                   else "")))
    bad = {p.call.caller for p in found}
    # a process that calls a broken one cannot be built either
    changed = True
    while changed:
        changed = False
        for call in calls:
            if call.called in bad and call.caller not in bad:
                bad.add(call.caller)
                changed = True
    return found, bad


def _cycle_through(graph: dict[str, list[Call]], call: Call) -> list[Call] | None:
    """The shortest cycle that starts with ``call`` (breadth-first from the called process back to
    the caller), or None: polynomial, whatever a hostile deployment's graph looks like."""
    if call.called not in graph and call.called != call.caller:
        return None
    back: dict[str, Call | None] = {call.called: None}
    queue = [call.called]
    while queue:
        node = queue.pop(0)
        if node == call.caller:
            path = []
            while back[node] is not None:
                path.append(back[node])
                node = back[node].caller
            return [call] + path[::-1]
        for nxt in graph.get(node, []):
            if nxt.called not in back:
                back[nxt.called] = nxt
                queue.append(nxt.called)
    return None
