"""The time budget of one engine step (DESIGN.md, "Every step is bounded").

A step (start, completion, timer, message, job) runs SpiffWorkflow's engine steps inside the
request or job that asked for it. Python cannot stop a thread from outside, so the step checks
its own clock: :func:`check` runs after every task SpiffWorkflow completes (which also bounds a
call activity that keeps calling its own process) and at the top of every loop body, function
body and comprehension of a BPMN script (engine/scripting.py injects it). Once the deadline has
passed every check raises again, so a script that catches the first exception still unwinds.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from time import monotonic

_local = threading.local()


class StepBudgetExceeded(Exception):
    """The running step used up its time budget (becomes a ``step_budget`` incident)."""

    def __init__(self, seconds: float, element: str | None = None):
        where = f" at element '{element}'" if element else ""
        super().__init__(f"the engine step ran longer than its budget of {seconds:g} s{where}; an endless loop "
                         f"in a script or a call activity that keeps calling itself?")
        self.seconds = seconds
        self.element = element


@contextmanager
def step_budget(seconds: float):
    """Run the body with a deadline ``seconds`` from now (an enclosing, earlier deadline wins)."""
    outer = getattr(_local, "deadline", None)
    outer_seconds = getattr(_local, "seconds", None)
    deadline = monotonic() + seconds
    if outer is None or deadline < outer:
        _local.deadline, _local.seconds = deadline, seconds
    if outer is None:
        _local.tripped = None
    try:
        yield
    finally:
        _local.deadline, _local.seconds = outer, outer_seconds


def check(element: str | None = None) -> bool:
    """Raise :class:`StepBudgetExceeded` once the running step's deadline has passed; True otherwise
    (so a comprehension can use it as a condition). Outside a step it does nothing."""
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and monotonic() > deadline:
        tripped = getattr(_local, "tripped", None)
        if tripped is None or (element and not tripped.element):
            _local.tripped = tripped = StepBudgetExceeded(_local.seconds, element)
        raise StepBudgetExceeded(tripped.seconds, element or tripped.element)
    return True


def tripped() -> StepBudgetExceeded | None:
    """The budget exception of the running step, if the deadline passed (whoever caught it)."""
    return getattr(_local, "tripped", None)
