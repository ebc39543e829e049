"""``rq_probe``: a connector whose every call leaves a trace a test can count.

Each call appends ``start <value> <pid>`` to ``<calls_dir>/calls.log`` before it
does anything and ``end <value> <pid>`` just before it returns, so a test sees
calls that were cut off (a worker killed mid-job: a start without an end) as
well as completed ones. ``sleep_s`` keeps the call busy long enough to kill it.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from connectors.base import Connector, Param, operation


class RqProbeConnector(Connector):
    name = "rq_probe"
    version = "1.0.0"
    description = "Test probe: echoes its value and records the call in a folder"
    config_schema = {
        "type": "object",
        "properties": {"calls_dir": {"type": "string"}},
        "additionalProperties": False,
    }

    @operation(params=[Param("value", "string"), Param("sleep_s", "number", required=False, default=0)],
               result_schema={"type": "object", "required": ["echo", "pid"]})
    def echo(self, value, sleep_s=0):
        """Echo ``value`` after ``sleep_s`` seconds, recording start and end of the call."""
        self._record("start", value)
        if sleep_s:
            time.sleep(float(sleep_s))
        self._record("end", value)
        return {"echo": value, "pid": os.getpid()}

    @operation(params=[Param("value", "string"), Param("sleep_s", "number", required=False, default=0)],
               result_schema={"type": "object", "required": ["echo", "pid"]}, timeout=2)
    def limited(self, value, sleep_s=0):
        """``echo`` whose calls may run 2 s at most (declared limit)."""
        return self.echo(value, sleep_s)

    @operation(params=[Param("value", "string")], timeout=120, long_running=True)
    def report(self, value):
        """A long operation by nature: its calls go to the low-priority queue."""
        return self.echo(value)

    def _record(self, what: str, value: str) -> None:
        folder = self.config.get("calls_dir")
        if not folder:
            return
        # One short O_APPEND write per line: lines of concurrent workers never interleave.
        fd = os.open(Path(folder) / "calls.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{what} {value} {os.getpid()} {time.time():.3f}\n".encode())
        finally:
            os.close(fd)


def read_calls(folder) -> list[tuple[str, str, int, float]]:
    """The recorded calls as (start|end, value, pid, unix time)."""
    path = Path(folder) / "calls.log"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        what, value, pid, at = line.split(" ")
        out.append((what, value, int(pid), float(at)))
    return out
