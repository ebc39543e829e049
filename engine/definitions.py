"""Parse and validate a deployment, and build runnable process models.

``analyse`` takes the files of a deployment and either returns one
:class:`ParsedProcess` per executable process (with the bundle of files that
version needs and its content hash) or raises :class:`DeploymentInvalid` with
every error found, each as ``{file, line, element_id, message}``. No input file
of any kind may escape as an unexpected exception.
"""
from __future__ import annotations

import ast
import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field

from jsonschema import exceptions as js_exceptions
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR

from engine import call_graph, computed_fields, decision_checks, expression_lint, form_schema, start_contract
from engine.deploy_locate import locate
from engine.bpmn_xml import BPMN, SPIFF, properties
from engine.roles import ROLES, role_for_lane
from engine.scripting import check_expression, check_script
from engine.spiff import AnjianParser

log = logging.getLogger(__name__)

HUMAN_TASKS = ("userTask", "manualTask")
FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class DeployError:
    """One problem in one file, as a designer needs to find it."""

    file: str
    message: str
    line: int | None = None
    element_id: str | None = None

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "element_id": self.element_id, "message": self.message}


class DeploymentInvalid(Exception):
    """Raised with every error of a deployment; nothing has been stored."""

    def __init__(self, errors: list[DeployError]):
        super().__init__(f"{len(errors)} error(s) in deployment")
        self.errors = errors


@dataclass
class ParsedProcess:
    """A validated executable process ready to be versioned."""

    key: str
    name: str
    bundle: dict
    content_hash: str
    start_messages: list[str] = field(default_factory=list)
    # (start event id, date|duration|cycle, expression)
    timer_starts: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class TaskInfo:
    """What the engine needs to know about one human task (from the XML)."""

    bpmn_id: str
    name: str
    lane: str | None
    role: str | None
    properties: dict = field(default_factory=dict)


@dataclass
class ProcessModel:
    """A parsed, runnable process version (cached per definition id)."""

    key: str
    spec: object
    subprocess_specs: dict
    # (process id, task id) -> info: task ids may repeat across called processes
    tasks: dict[tuple[str, str], TaskInfo]
    forms: dict[str, dict]
    # (process id, source id, target id) -> sequence flow ids: SpiffWorkflow keeps no flow ids,
    # and a client marking the path taken on the diagram needs them (engine/instance_marks.py)
    flows: dict[tuple[str, str, str], tuple[str, ...]] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers

def _parser_safe() -> etree.XMLParser:
    # No entity expansion and no network: uploaded XML is untrusted.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)


def _element_id(el) -> str | None:
    """Id of the nearest BPMN element (extension elements carry ids of their own)."""
    while el is not None:
        if isinstance(el.tag, str) and el.tag.startswith(BPMN) and el.get("id"):
            return el.get("id")
        el = el.getparent()
    return None


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


_properties = properties


def _lane_map(process_el) -> dict[str, str]:
    """flow node id -> innermost lane name of a process."""
    lanes: dict[str, str] = {}
    for lane in process_el.iter(f"{BPMN}lane"):
        for ref in lane.findall(f"{BPMN}flowNodeRef"):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id")
    return lanes


def _lane_of(el, lanes: dict[str, str]) -> str | None:
    """Lane of a node; nodes inside an embedded subprocess inherit its lane."""
    while el is not None:
        lane = lanes.get(el.get("id") or "")
        if lane:
            return lane
        el = el.getparent()
        if el is not None and _local(el) == "process":
            return None
    return None


def human_tasks(process_el, lanes: dict[str, str] | None = None) -> list[TaskInfo]:
    """Every user/manual task of a process element (embedded sub-processes included), with its
    lane and properties; ``lanes`` are the process's when ``process_el`` is a sub-process."""
    lanes = _lane_map(process_el) if lanes is None else lanes
    out = []
    for kind in HUMAN_TASKS:
        for el in process_el.iter(f"{BPMN}{kind}"):
            lane = _lane_of(el, lanes)
            out.append(TaskInfo(el.get("id"), el.get("name") or el.get("id"), lane,
                                role_for_lane(lane), _properties(el)))
    return out


def _timer_error(kind: str, text: str) -> str | None:
    reason = check_expression(text)
    if reason:
        return reason
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return None  # a computed expression: checked at run time
    if not isinstance(value, str):
        return None
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeDate":
            TimerEventDefinition.parse_time_or_duration(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as exc:  # spiff raises bare Exceptions for bad ISO text
        return f"timer expression {value!r} does not parse as ISO 8601 {kind}: {exc}"
    return None


def _duration_or_expression_error(value: str) -> str | None:
    text = value.strip()
    if text.startswith("P"):
        try:
            TimerEventDefinition.parse_iso_duration(text)
            return None
        except Exception as exc:
            return f"{text!r} is not an ISO 8601 duration: {exc}"
    return check_expression(text)


def content_hash(bundle: dict) -> str:
    """Hash identifying a process version's content (duplicate filtering)."""
    return hashlib.sha256(json.dumps(bundle, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --------------------------------------------------------------------------- analyse

def analyse(files: dict[str, bytes], *, library_forms: dict[str, dict] | None = None,
            operators: dict | None = None) -> list[ParsedProcess]:
    """Validate a deployment; return its executable processes or raise DeploymentInvalid.

    ``files`` maps file names to raw bytes. ``library_forms`` are forms already in the
    process library (a user task may reference them without shipping them).
    ``operators`` maps ``connector/operation`` to the declared operation.
    """
    errors: list[DeployError] = []
    try:
        result = _analyse(files, library_forms or {}, operators or {}, errors)
    except DeploymentInvalid:
        raise
    except Exception as exc:  # last line of defence: never a 500 for a file
        log.exception("unexpected error while validating a deployment")
        errors.append(DeployError("(deployment)", f"could not be processed: {type(exc).__name__}: {exc}"))
        result = []
    if errors:
        raise DeploymentInvalid(errors)
    return result


def _analyse(files, library_forms, operators, errors) -> list[ParsedProcess]:
    if not files:
        errors.append(DeployError("(deployment)", "no files: send .bpmn, .dmn and form .json files as 'files'"))
        return []
    bpmn_docs: dict[str, etree._ElementTree] = {}
    dmn_docs: dict[str, etree._ElementTree] = {}
    texts: dict[str, str] = {}
    forms: dict[str, dict] = {}
    form_sizes: dict[str, int] = {}

    for name, raw in files.items():
        if len(raw) > MAX_FILE_BYTES:
            errors.append(DeployError(name, f"file is larger than {MAX_FILE_BYTES} bytes"))
            continue
        lower = name.lower()
        if not lower.endswith((".bpmn", ".bpmn20.xml", ".dmn", ".json")):
            errors.append(DeployError(name, "unsupported file type: expected .bpmn, .dmn or .json"))
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            errors.append(DeployError(name, f"not UTF-8 text: {exc}"))
            continue
        if lower.endswith(".json"):
            form = _load_form(name, text, errors)
            if form is not None:
                forms[name] = form
                form_sizes[name] = len(raw)
            continue
        try:
            doc = etree.ElementTree(etree.fromstring(raw, _parser_safe()))
        except etree.XMLSyntaxError as exc:
            errors.append(DeployError(name, f"XML syntax error: {exc.msg}", exc.lineno))
            continue
        texts[name] = text
        if lower.endswith(".dmn"):
            dmn_docs[name] = doc
        else:
            if _xsd_errors(name, doc, errors):
                continue
            bpmn_docs[name] = doc

    parser = AnjianParser()
    added: dict[str, str] = {}
    unparsed: set[str] = set()  # files SpiffWorkflow refused: their processes are not built (no follow-on errors)
    for name, doc in bpmn_docs.items():
        try:
            parser.add_bpmn_xml(doc.getroot(), filename=name)
            for pid in parser.get_process_ids():
                added.setdefault(pid, name)
        except ValidationException as exc:
            errors.append(_from_validation(exc, name, doc.getroot()))
            unparsed.add(name)
        except Exception as exc:
            errors.append(DeployError(name, f"parse error: {exc}", *reversed(locate(doc.getroot(), str(exc)))))
            unparsed.add(name)
    decision_files: dict[str, str] = {}
    broken_dmn: set[str] = set()
    for name, doc in dmn_docs.items():
        root = doc.getroot()
        for dec in root.iter("{*}decision"):
            decision_files[dec.get("id")] = name
        found = [DeployError(name, f.message, f.line, f.element_id) for f in decision_checks.check_tables(root)]
        spiff = _parse_dmn(parser, name, root)
        # SpiffWorkflow stops at its first problem: drop it when ours already name that element,
        # or when it is an anonymous crash (an IndexError for a rule with too many entries) ours explain
        if spiff and not (found and spiff.element_id in {f.element_id for f in found} | {None}):
            found.append(spiff)
        if not found:  # a contract check runs the table: only once every cell compiles
            found = [DeployError(name, f.message, f.line, f.element_id)
                     for f in decision_checks.check_contracts(root, texts[name], name)]
        if found:
            broken_dmn.add(name)
            errors.extend(found)

    all_forms = {**library_forms, **forms}
    for name, schema in forms.items():
        if not _is_ui_schema(name):
            errors.extend(DeployError(name, message) for message in
                          form_schema.problems(name, schema, form_sizes[name], all_forms))
    processes: list[ParsedProcess] = []
    for name, doc in bpmn_docs.items():
        errors.extend(DeployError(name, message, el.sourceline, _element_id(el))
                      for el, message in expression_lint.problems(doc.getroot()))
    call_problems, unbuildable = call_graph.problems(bpmn_docs)
    errors.extend(DeployError(p.call.file, p.message, p.call.line, p.call.element_id) for p in call_problems)
    for name, doc in bpmn_docs.items():
        for process_el in doc.getroot().iter(f"{BPMN}process"):
            pid = process_el.get("id")
            _lint_process(name, process_el, all_forms, operators, decision_files, errors)
            computed_fields.check_process(name, process_el, all_forms, dmn_docs, errors, bpmn_docs)
            errors.extend(DeployError(name, message, el.sourceline, _element_id(el))
                          for el, message in start_contract.lint(process_el, doc.getroot(), all_forms))
            if process_el.get("isExecutable", "true").lower() == "false" or pid in unbuildable \
                    or name in unparsed:
                continue
            try:
                parser.get_spec(pid)
                subs = parser.get_subprocess_specs(pid)
            # Building a process parses the decision tables it calls: when one is broken or
            # missing, that is already reported (at the table's file, or by the lint above).
            except ValidationException as exc:
                if not _calls_unusable_decision(process_el, decision_files, broken_dmn):
                    errors.append(_from_validation(exc, name, doc.getroot()))
                continue
            except Exception as exc:
                if not _calls_unusable_decision(process_el, decision_files, broken_dmn):
                    errors.append(DeployError(name, f"cannot build process {pid}: {exc}", process_el.sourceline, pid))
                continue
            bundle = _bundle(pid, name, subs, bpmn_docs, texts, decision_files, all_forms, parser)
            processes.append(ParsedProcess(pid, process_el.get("name") or pid, bundle, content_hash(bundle),
                                           _start_messages(doc.getroot(), process_el), _timer_starts(process_el)))
    if not bpmn_docs and not errors and not forms and not dmn_docs:
        errors.append(DeployError("(deployment)", "no process, decision table or form in the deployment"))
    return processes


def _parse_dmn(parser, name: str, root) -> DeployError | None:
    """Register a DMN document and parse it now; SpiffWorkflow alone would parse a table only
    when a process using it is built (so per process, and never for a table no process uses yet)."""
    decision = root.find("{*}decision")
    if decision is None:
        return DeployError(name, "no <decision> in the DMN file", root.sourceline)
    try:
        parser.add_dmn_xml(root, filename=name)
        parser.dmn_parsers[decision.get("id")].parse()
    except ValidationException as exc:
        return _from_validation(exc, name, root)
    except Exception as exc:
        return DeployError(name, f"DMN parse error: {type(exc).__name__}: {exc}")
    return None


def _calls_unusable_decision(process_el, decision_files: dict[str, str], broken: set[str]) -> bool:
    """Whether a process calls a decision that is not deployed or defined in one of the ``broken`` files."""
    for ref in process_el.iter(f"{SPIFF}calledDecisionId"):
        file = decision_files.get((ref.text or "").strip())
        if file is None or file in broken:
            return True
    return False


def _load_form(name: str, text: str, errors: list[DeployError]) -> dict | None:
    if len(text) > form_schema.MAX_FORM_BYTES:
        errors.append(DeployError(name, f"form is larger than {form_schema.MAX_FORM_BYTES} bytes"))
        return None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        errors.append(DeployError(name, f"invalid JSON: {exc.msg}", exc.lineno))
        return None
    except RecursionError:
        errors.append(DeployError(name, f"form is nested more than {form_schema.MAX_FORM_DEPTH} levels deep"))
        return None
    if not isinstance(schema, dict):
        errors.append(DeployError(name, "a form must be a JSON Schema object"))
        return None
    if _is_ui_schema(name):
        return schema  # UI schemas (react-jsonschema-form) are not JSON Schemas
    try:
        form_schema.check_schema(schema)
    except js_exceptions.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        errors.append(DeployError(name, f"not a valid JSON Schema at {path}: {exc.message}"))
        return None
    except Exception as exc:
        errors.append(DeployError(name, f"not a valid JSON Schema: {exc}"))
        return None
    return schema


def _is_ui_schema(name: str) -> bool:
    return name.lower().endswith((".uischema.json", "-uischema.json", "_uischema.json"))


def _xsd_errors(name: str, doc, errors: list[DeployError]) -> bool:
    validator = SPIFF_VALIDATOR.validator
    root = doc.getroot()
    try:
        SPIFF_VALIDATOR.preprocess(root)
        ok = validator.validate(root)
    except Exception as exc:
        errors.append(DeployError(name, f"schema validation failed: {exc}"))
        return True
    if ok:
        return False
    by_line = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") and el.sourceline not in by_line:
            by_line[el.sourceline] = el.get("id")
    for entry in validator.error_log:
        errors.append(DeployError(name, f"BPMN schema: {entry.message}", entry.line, by_line.get(entry.line)))
    return True


def _from_validation(exc: ValidationException, fallback_file: str, root=None) -> DeployError:
    line = exc.line_number if isinstance(exc.line_number, int) else None
    msg = str(exc.args[0]) if exc.args else str(exc)
    element_id = getattr(exc, "id", None) or None
    if element_id is None and (not exc.file_name or exc.file_name == fallback_file):
        element_id, found_line = locate(root, msg)  # SpiffWorkflow raised it without the node
        line = line or found_line
    return DeployError(exc.file_name or fallback_file, msg, line, element_id)


def _lint_process(file, process_el, forms, operators, decision_files, errors) -> None:
    def err(el, message):
        errors.append(DeployError(file, message, el.sourceline, _element_id(el)))

    lanes = _lane_map(process_el)
    human_ids = {t.get("id") for k in HUMAN_TASKS for t in process_el.iter(f"{BPMN}{k}")}
    for kind in HUMAN_TASKS:
        for el in process_el.iter(f"{BPMN}{kind}"):
            lane = _lane_of(el, lanes)
            if lane is None:
                err(el, f"{kind} '{el.get('name') or el.get('id')}' is outside any lane; lanes are roles")
            elif role_for_lane(lane) is None:
                err(el, f"lane '{lane}' is not a known role (roles: {', '.join(ROLES)})")
            props = _properties(el)
            for prop in (FORM_PROPERTY, UI_FORM_PROPERTY):
                ref = props.get(prop)
                if ref and ref not in forms:
                    err(el, f"{prop} '{ref}' is neither in the deployment nor in the library")
            for ref in filter(None, (s.strip() for s in props.get("not_completed_by", "").split(","))):
                if ref not in human_ids:
                    err(el, f"not_completed_by names '{ref}', which is not a user task of this process")
            if props.get("due"):
                reason = _duration_or_expression_error(props["due"])
                if reason:
                    err(el, f"due: {reason}")
            if props.get("priority"):
                p = props["priority"].strip()
                if not p.lstrip("-").isdigit():
                    reason = check_expression(p)
                    if reason:
                        err(el, f"priority: {reason}")
            if props.get("candidate_role"):
                reason = check_expression(props["candidate_role"].strip())
                if reason:
                    err(el, f"candidate_role: {reason}")
            if props.get("assignee"):
                reason = check_expression(props["assignee"].strip())
                if reason:
                    err(el, f"assignee: {reason}")

    for el in process_el.iter(f"{BPMN}scriptTask"):
        script = el.find(f"{BPMN}script")
        if script is not None and script.text:
            reason = check_script(script.text)
            if reason:
                err(script, f"script rejected: {reason}")
    for tag in ("preScript", "postScript"):
        for el in process_el.iter(f"{SPIFF}{tag}"):
            if el.text:
                reason = check_script(el.text)
                if reason:
                    err(el, f"{tag} rejected: {reason}")
    for tag in ("conditionExpression", "loopCardinality", "completionCondition", "loopCondition"):
        for el in process_el.iter(f"{BPMN}{tag}"):
            if el.text and el.text.strip():
                reason = check_expression(el.text)
                if reason:
                    err(el, f"{tag} rejected: {reason}")
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for el in process_el.iter(f"{BPMN}{tag}"):
            if not (el.text and el.text.strip()):
                err(el, f"{tag} is empty")
                continue
            reason = _timer_error(tag, el.text)
            if reason:
                err(el, f"timer: {reason}")
    for start in process_el.findall(f"{BPMN}startEvent"):
        for tag in TIMER_KINDS:
            for el in start.iter(f"{BPMN}{tag}"):
                try:
                    value = ast.literal_eval((el.text or "").strip())
                    ok = isinstance(value, str)
                except (ValueError, SyntaxError):
                    ok = False
                if not ok:
                    err(el, "a timer start event needs a constant expression (a quoted ISO 8601 string): "
                            "the scheduler computes occurrences before any instance exists")
    for el in process_el.iter(f"{SPIFF}serviceTaskOperator"):
        operator = el.get("id") or ""
        op = operators.get(operator)
        if op is None:
            err(el, f"service task operator '{operator}' is not a registered connector operation")
            continue
        given = {p.get("id") for p in el.iter(f"{SPIFF}parameter")}
        for required in op.required_params():
            if required not in given:
                err(el, f"operator '{operator}' needs parameter '{required}'")
        for p in el.iter(f"{SPIFF}parameter"):
            reason = check_expression(p.get("value", "") or "None")
            if reason:
                err(p, f"parameter '{p.get('id')}' rejected: {reason}")
    for el in process_el.iter(f"{BPMN}businessRuleTask"):
        ref = el.find(f"{BPMN}extensionElements/{SPIFF}calledDecisionId")
        if ref is None or not (ref.text or "").strip():
            err(el, "business rule task names no decision (spiffworkflow:calledDecisionId)")
        elif ref.text.strip() not in decision_files:
            err(el, f"decision '{ref.text.strip()}' is not in the deployment")


def _start_messages(root, process_el) -> list[str]:
    names = {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{BPMN}message")}
    out = []
    for start in process_el.findall(f"{BPMN}startEvent"):
        for med in start.findall(f"{BPMN}messageEventDefinition"):
            if med.get("messageRef") in names:
                out.append(names[med.get("messageRef")])
    return sorted(set(out))


TIMER_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}


def _timer_starts(process_el) -> list[tuple[str, str, str]]:
    out = []
    for start in process_el.findall(f"{BPMN}startEvent"):
        for tag, kind in TIMER_KINDS.items():
            for el in start.iter(f"{BPMN}{tag}"):
                if el.text and el.text.strip():
                    out.append((start.get("id"), kind, el.text.strip()))
    return out


def _bundle(pid, file, subs, bpmn_docs, texts, decision_files, forms, parser) -> dict:
    files = {file}
    for sub_id in subs or {}:
        try:
            files.add(parser.get_process_parser(sub_id).filename or file)
        except Exception:
            pass
    bundle = {"bpmn": {}, "dmn": {}, "forms": {}}
    for f in sorted(files):
        if f not in texts:
            continue
        bundle["bpmn"][f] = texts[f]
        root = bpmn_docs[f].getroot()
        for ref in root.iter(f"{SPIFF}calledDecisionId"):
            dmn_file = decision_files.get((ref.text or "").strip())
            if dmn_file:
                bundle["dmn"][dmn_file] = texts[dmn_file]
        for el in root.iter(f"{SPIFF}property"):
            if el.get("name") in (FORM_PROPERTY, UI_FORM_PROPERTY) and el.get("value") in forms:
                bundle["forms"][el.get("value")] = forms[el.get("value")]
    # the forms those reach through $ref travel with them (nothing is fetched at run time)
    for name in form_schema.referenced_forms(set(bundle["forms"]), forms) - set(bundle["forms"]):
        bundle["forms"][name] = forms[name]
    return bundle


# --------------------------------------------------------------------------- runtime models

def build_model(key: str, bundle: dict) -> ProcessModel:
    """Parse a stored bundle into a runnable :class:`ProcessModel`."""
    parser = AnjianParser()
    tasks: dict[str, TaskInfo] = {}
    flows: dict[tuple[str, str, str], tuple[str, ...]] = {}
    for name, text in bundle["bpmn"].items():
        root = etree.fromstring(text.encode("utf-8"), _parser_safe())
        parser.add_bpmn_xml(root, filename=name)
        for process_el in root.iter(f"{BPMN}process"):
            for info in human_tasks(process_el):
                tasks[(process_el.get("id"), info.bpmn_id)] = info
            # A task of an embedded sub-process runs in a workflow named after the sub-process
            # (SpiffWorkflow's spec name): the runner looks it up under that name.
            for sub_el in process_el.iter(f"{BPMN}subProcess"):
                for info in human_tasks(sub_el, lanes=_lane_map(process_el)):
                    tasks.setdefault((sub_el.get("id"), info.bpmn_id), info)
            for flow in process_el.iter(f"{BPMN}sequenceFlow"):  # embedded subprocesses' flows too
                k = (process_el.get("id"), flow.get("sourceRef"), flow.get("targetRef"))
                flows[k] = flows.get(k, ()) + (flow.get("id"),)
    for name, text in bundle.get("dmn", {}).items():
        parser.add_dmn_xml(etree.fromstring(text.encode("utf-8"), _parser_safe()), filename=name)
    spec = parser.get_spec(key)
    subs = parser.get_subprocess_specs(key)
    return ProcessModel(key, spec, subs, tasks, bundle.get("forms", {}), flows)


class ModelCache:
    """Definition id -> parsed model. Definitions are immutable, so no invalidation."""

    def __init__(self):
        self._models: dict[int, ProcessModel] = {}
        self._lock = threading.Lock()

    def get(self, definition_id: int, load) -> ProcessModel:
        """The model for ``definition_id``; ``load()`` returns ``(key, bundle)`` on a miss."""
        model = self._models.get(definition_id)
        if model is None:
            key, bundle = load()
            model = build_model(key, bundle)
            with self._lock:
                self._models[definition_id] = model
        return model
