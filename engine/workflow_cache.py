"""Live workflows of instances this process changed last, to skip deserializing them.

Deserializing an instance's state is the largest SpiffWorkflow cost of a task
completion. The next step of an instance is often handled by the same process
(one client's keep-alive connection, one worker), so the workflow it just saved
can be reused — but only while the database still holds exactly the state that
was serialized from it: an entry is keyed by the instance id and checked against
the stored state text, so any change made elsewhere (another process, a restore,
a test that rewrites rows) makes it miss, never return a stale workflow.

An entry is taken out while a request uses the workflow and put back only after
that request committed, so a failed or concurrent request never sees a workflow
that holds uncommitted changes.
"""
from __future__ import annotations

import threading
from collections import OrderedDict


class WorkflowCache:
    """A bounded LRU of (stored state text, live workflow) by instance id."""

    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict[int, tuple[str, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, instance_id: int, stored_state: str):
        """The workflow whose serialized state is ``stored_state``, removed from the cache; else None."""
        if self.size <= 0:
            return None
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            if entry is not None and entry[0] == stored_state:
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def put(self, instance_id: int, stored_state: str, workflow) -> None:
        """Remember ``workflow`` as the one serialized to ``stored_state`` (call after commit)."""
        if self.size <= 0:
            return
        with self._lock:
            self._entries[instance_id] = (stored_state, workflow)
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (tests, after a restore)."""
        with self._lock:
            self._entries.clear()
