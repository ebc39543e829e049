"""SpiffWorkflow classes Anjian customises, and the one serializer it uses.

Service tasks never run inside a request: :class:`DeferredServiceTask` stops in
STARTED state and the worker completes it with the connector's result
(DESIGN.md, "two modes, one code path").
"""
from __future__ import annotations

from copy import deepcopy

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask


class DeferredServiceTask(ServiceTask):
    """A service task that waits (STARTED) for a worker to deliver its result."""

    def _execute(self, task):
        return None


class AnjianParser(SpiffBpmnParser):
    """SpiffWorkflow's parser with Anjian's service task; XSD checks run separately."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, DeferredServiceTask),
    }

    def __init__(self):
        super().__init__(validator=None)


def _serializer_config() -> dict:
    config = deepcopy(SPIFF_CONFIG)
    config[DeferredServiceTask] = ServiceTaskConverter
    return config


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_serializer_config()))
