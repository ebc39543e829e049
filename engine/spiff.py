"""SpiffWorkflow classes Anjian customises, and the one serializer it uses.

Service tasks never run inside a request: :class:`DeferredServiceTask` stops in
STARTED state and the worker completes it with the connector's result
(DESIGN.md, "two modes, one code path").
"""
from __future__ import annotations

from copy import deepcopy
from uuid import UUID

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

from engine import jsoncodec, timer_events


class DeferredServiceTask(ServiceTask):
    """A service task that waits (STARTED) for a worker to deliver its result."""

    def _execute(self, task):
        return None


def _inclusive_timer_parsers() -> dict:
    # Events that can wait for a timer parse it as an inclusive one (engine/timer_events.py).
    out = {}
    for tag in ("startEvent", "boundaryEvent", "intermediateCatchEvent"):
        parser_class, spec_class = SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)]
        out[full_tag(tag)] = (timer_events.inclusive_parser(parser_class), spec_class)
    return out


class MessageVariableParserMixin:
    """A catching message event whose diagram names no ``spiffworkflow:messageVariable``
    puts the payload in a variable named like the message (bpmn/README.md, "Messages").

    SpiffWorkflow's own default drops the payload; merging it over the task data (what
    the engine once did) let a message overwrite any variable. With one named variable
    the payload can only land where the diagram reads it (engine/start_contract.py
    checks that name at deployment).
    """

    def parse_message_event(self, message_event):
        definition = super().parse_message_event(message_event)
        if getattr(definition, "message_var", None) is None and definition.name:
            definition.message_var = definition.name
        return definition


def _catching_parsers(base: dict) -> dict:
    out = dict(base)
    for tag in ("startEvent", "boundaryEvent", "intermediateCatchEvent", "receiveTask"):
        parser_class, spec_class = base[full_tag(tag)]
        out[full_tag(tag)] = (type(parser_class.__name__, (MessageVariableParserMixin, parser_class), {}),
                              spec_class)
    return out


class AnjianParser(SpiffBpmnParser):
    """SpiffWorkflow's parser with Anjian's service task, inclusive timers and message variables;
    XSD checks run separately."""

    OVERRIDE_PARSER_CLASSES = _catching_parsers({
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, DeferredServiceTask),
        **_inclusive_timer_parsers(),
    })

    def __init__(self):
        super().__init__(validator=None)


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Stores a workflow without its process spec.

    The spec is immutable per definition version and cached in memory, so the
    instance row keeps only a reference: about half the JSON, and the
    costliest part of deserializing. States that embed a spec still load.
    """

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec"] = {SPEC_REF: workflow.spec.name}
        dct["subprocess_specs"] = {}
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, model=None):
        spec_dct = dct.pop("spec")
        subs = dct.pop("subprocess_specs", {})
        if isinstance(spec_dct, dict) and SPEC_REF in spec_dct:
            if model is None:
                raise ValueError("this state references its spec; load it through the Runner")
            spec, subprocess_specs = model.spec, model.subprocess_specs
        else:
            spec, subprocess_specs = self.registry.restore(spec_dct), self.mapping_from_dict(subs)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


SPEC_REF = "anjian_spec_ref"


def _serializer_config() -> dict:
    config = deepcopy(SPIFF_CONFIG)
    config[DeferredServiceTask] = ServiceTaskConverter
    for spiff_class, inclusive_class in timer_events.INCLUSIVE.items():
        # Same typename as SpiffWorkflow's; registered last, so restoring gives the inclusive class.
        config[inclusive_class] = config[spiff_class]
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    return config


def dumps(workflow) -> str:
    """Serialize a workflow to JSON (without its spec).

    SpiffWorkflow's ``serialize_json`` with the JSON encoding done by orjson: the same
    dict (the registry in encoder mode leaves task-data values to the encoder's
    ``default``, which converts datetimes, timedeltas and sets as SpiffWorkflow does).
    """
    registry = SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = SERIALIZER.to_dict(workflow)
        dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
    finally:
        registry._encoder_mode = False
    return jsoncodec.dumps(dct, default=_ENCODER.default)


def loads(state: str, model) -> "BpmnWorkflow":
    """Deserialize a workflow, taking its spec from ``model`` (a ProcessModel)."""
    dct = jsoncodec.loads(state)
    SERIALIZER.migrate(dct)
    return SERIALIZER.from_dict(dct, model=model)


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_serializer_config()))
_ENCODER = SERIALIZER._encoder_cls()
