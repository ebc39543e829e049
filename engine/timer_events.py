"""Timer event definitions that fire when their due time is reached, not only after it.

SpiffWorkflow fires a timer when ``due < now``. The scheduler selects instances
with ``next_timer_at <= now``, so a timer due exactly at the poll instant was
selected, advanced without firing and left for the next poll (with a frozen
clock in tests it never fired at all). These subclasses compare with ``<=``;
everything else is SpiffWorkflow's. They keep SpiffWorkflow's class names on
purpose: pending events report ``type(definition).__name__`` and the runner
recognises timers by those names.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

_Base = spiff_timer.TimerEventDefinition


def _reached(value: datetime) -> bool:
    return value <= datetime.now(timezone.utc)


def _fired_when_reached(my_task, first_value, to_datetime) -> bool:
    # The due value is computed once (on first check) and kept in the task, as SpiffWorkflow does.
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        event_value = first_value()
        my_task._set_internal_data(event_value=event_value)
    if _reached(to_datetime(event_value)):
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data("event_fired", False)


class TimeDateEventDefinition(spiff_timer.TimeDateEventDefinition):
    """``timeDate``: fires at the date-time."""

    def has_fired(self, my_task):
        """True once the date-time is reached (inclusive)."""
        return _fired_when_reached(my_task, lambda: my_task.workflow.script_engine.evaluate(my_task, self.expression),
                                   _Base.parse_time_or_duration)


class DurationTimerEventDefinition(spiff_timer.DurationTimerEventDefinition):
    """``timeDuration``: fires the duration after the event was entered."""

    def has_fired(self, my_task):
        """True once the duration has elapsed (inclusive)."""
        def due():
            parsed = _Base.parse_iso_duration(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            return (datetime.now(timezone.utc) + _Base.get_timedelta_from_start(parsed)).isoformat()
        return _fired_when_reached(my_task, due, _Base.get_datetime)


class CycleTimerEventDefinition(spiff_timer.CycleTimerEventDefinition):
    """``timeCycle``: fires each occurrence when it is reached (inclusive)."""

    def cycle_complete(self, my_task):
        """True when the next occurrence is reached; counts the cycle down."""
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _Base.parse_iso_recurring_interval(expression)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if _reached(next_event):
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


INCLUSIVE = {spiff_timer.TimeDateEventDefinition: TimeDateEventDefinition,
             spiff_timer.DurationTimerEventDefinition: DurationTimerEventDefinition,
             spiff_timer.CycleTimerEventDefinition: CycleTimerEventDefinition}


def inclusive(definition):
    """Turn a parsed SpiffWorkflow timer definition into its inclusive twin (others unchanged)."""
    twin = INCLUSIVE.get(type(definition))
    if twin is not None:
        definition.__class__ = twin
    return definition


class InclusiveTimerParserMixin:
    """Mixed into the event parsers: every parsed timer is an inclusive one."""

    def parse_timer_event(self, event):
        """SpiffWorkflow's parsing, then the inclusive class."""
        return inclusive(super().parse_timer_event(event))


def inclusive_parser(parser_class):
    """A subclass of an event parser class whose timers fire at their due time."""
    return type(parser_class.__name__, (InclusiveTimerParserMixin, parser_class), {})
