"""The BPMN XML vocabulary the deployment checks share: namespaces and task properties.

A leaf module, so engine/definitions.py and the checks it calls (start contract, computed
fields, expression lint, call graph) read one definition without importing each other.
"""
from __future__ import annotations

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
BPMN = "{%s}" % NS["bpmn"]
SPIFF = "{%s}" % NS["spiffworkflow"]


def properties(el) -> dict:
    """The ``spiffworkflow:property`` name/value pairs of an element (of two with one name, the later)."""
    return {p.get("name"): p.get("value", "") for p in
            el.findall(f"{BPMN}extensionElements/{SPIFF}properties/{SPIFF}property") if p.get("name")}
