"""worker.jobs.call_with_limit: stops a call at its limit and leaves an outer job timeout (RQ's) in place."""
from __future__ import annotations

import signal
import threading
import time

import pytest

from worker.jobs import OperationTimedOut, call_with_limit


@pytest.fixture
def outer_alarm():
    """An outer SIGALRM deadline like RQ's job timeout, with its own handler."""
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(time.monotonic()))
    signal.setitimer(signal.ITIMER_REAL, 30)
    yield fired
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_the_call_is_stopped_at_its_limit_and_the_outer_deadline_is_restored(outer_alarm):
    handler = signal.getsignal(signal.SIGALRM)
    with pytest.raises(OperationTimedOut, match="limit of 0.3 s"):
        call_with_limit(lambda: time.sleep(20), 0.3)
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 20 < remaining <= 30  # RQ's deadline is back, minus the time spent
    assert signal.getsignal(signal.SIGALRM) is handler and outer_alarm == []
    assert call_with_limit(lambda: "done", 5) == "done"
    assert 20 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30


def test_off_the_main_thread_the_call_is_abandoned_at_its_limit():
    out = {}
    release = threading.Event()

    def runner():
        try:
            call_with_limit(lambda: release.wait(30), 0.3)
        except OperationTimedOut as exc:
            out["error"] = exc
    t = threading.Thread(target=runner)
    t.start()
    t.join(20)
    release.set()
    assert isinstance(out.get("error"), TimeoutError)  # retryable, like every timeout
