"""Deployment checks of DMN decision tables.

SpiffWorkflow evaluates every cell of a decision table as Python when a business
rule task reaches it. Without these checks a table with ``__import__('os')`` or a
plain syntax error deploys and fails only at run time, in some instance. Here each
input entry is put through SpiffWorkflow's own ``DMNEngine.evaluate`` with a script
engine that compiles (under the same RestrictedPython rules) instead of running, so
the deploy check follows the engine's rewriting of an entry — ``-`` and empty match
anything, a literal means equality (``"red"`` → ``(input) == ("red")``), ``?`` stands
for the input value (``? >= 4``), and a bare comparison is joined to the input
(``> 5`` → ``input> 5``) — instead of a copy of those rules that could drift.

Decisions that another part of the platform reads (``alert_policy``) are also
checked against what that part needs, with that part's own check.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from types import SimpleNamespace

from lxml import etree
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from engine import budget
from engine.errors import Invalid
from engine.iot import policy
from engine.scripting import RestrictedScriptEngine, ScriptRejected

# The engine's "?" rewrite is a regular expression whose cost grows with the square of
# the cell's length; no real cell comes close (the library's longest is 131 characters).
MAX_CELL_CHARS = 1000

# decision id -> check raising Invalid; each is the reading module's own check.
CONTRACTS = {policy.DECISION_ID: lambda text, source: policy.evaluate_policy(text, source=source)}


@dataclass
class CellError:
    """One problem in one DMN document (the caller adds the file name)."""

    line: int | None
    element_id: str | None
    message: str


class _CompileOnly(RestrictedScriptEngine):
    """Compiles what the DMN engine asks to evaluate instead of running it."""

    def __init__(self):
        super().__init__()
        self.compiled: list[str] = []

    def evaluate(self, task, expression, external_context=None):
        self.validate(expression)
        self.compiled.append(expression)
        return True


def _shown(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _text(el):
    """(text, element carrying it) of a DMN element's ``<text>`` child; text None when absent."""
    text_el = el.find("{*}text") if el is not None else None
    return (text_el.text, text_el) if text_el is not None else (None, None)


def check_tables(root) -> list[CellError]:
    """Every expression of every decision table in a DMN document, checked as the engine will evaluate it.

    Also the document's shape where SpiffWorkflow's parser would only crash on it: one decision
    per file, and an id on every element it indexes."""
    errors = _shape_errors(root)
    for table in root.iter("{*}decisionTable"):
        columns = [_input_column(inp, errors) for inp in table.findall("{*}input")]
        outputs = [o.get("name") or o.get("label") or o.get("id") for o in table.findall("{*}output")]
        for rule in table.findall("{*}rule"):
            _check_rule(rule, columns, outputs, errors)
    return errors


def _shape_errors(root) -> list[CellError]:
    errors: list[CellError] = []
    decisions = root.findall("{*}decision")
    if len(decisions) > 1:
        errors.append(CellError(decisions[1].sourceline, decisions[1].get("id"),
                                f"SpiffWorkflow reads one decision per DMN file; this one has {len(decisions)} "
                                f"({', '.join(str(d.get('id')) for d in decisions)}): put each in its own file"))
    for el in root.iter("{*}decision", "{*}decisionTable", "{*}input", "{*}output", "{*}rule",
                        "{*}inputEntry", "{*}outputEntry"):
        if not el.get("id"):
            owner = next((a.get("id") for a in el.iterancestors() if a.get("id")), None)
            errors.append(CellError(el.sourceline, owner, f"<{etree.QName(el).localname}> has no id; "
                                                          "SpiffWorkflow needs one on every table element"))
    return errors


def _input_column(inp, errors: list[CellError]) -> tuple[str, str] | None:
    """(expression, its name in messages) of an input column; None when the expression is itself rejected."""
    expression_el = inp.find("{*}inputExpression")
    text, text_el = _text(expression_el)
    label = inp.get("label") or inp.get("id") or "?"
    if not (text and text.strip()):
        # SpiffWorkflow then looks the label up in the task data and compares its repr:
        # a literal, which any well-formed entry can be compared with.
        return "None", label
    reason = _too_long(text) or _compile_error(text)
    if reason:
        el = expression_el if expression_el.get("id") else inp
        errors.append(CellError(text_el.sourceline, el.get("id"),
                                f"input expression {_shown(text)} rejected: {reason}"))
        return None
    return text, text.strip()


def _check_rule(rule, columns, outputs, errors: list[CellError]) -> None:
    entries = rule.findall("{*}inputEntry")
    results = rule.findall("{*}outputEntry")
    if len(entries) != len(columns) or len(results) != len(outputs):
        # More entries than columns breaks SpiffWorkflow's parser; fewer silently drops
        # a test or an output. DMN wants exactly one entry per column.
        errors.append(CellError(rule.sourceline, rule.get("id"),
                                f"rule has {len(entries)} input and {len(results)} output entries; "
                                f"the table has {len(columns)} inputs and {len(outputs)} outputs"))
        return
    for entry, column in zip(entries, columns):
        text, text_el = _text(entry)
        where = text_el if text_el is not None else entry
        element_id = entry.get("id") or rule.get("id")
        if text_el is None:
            errors.append(CellError(where.sourceline, element_id,
                                    "input entry has no <text>; write - to match anything"))
            continue
        if column is None or text is None or text == "-":
            continue  # a rejected column is reported once, at its input expression
        reason = _too_long(text) or _input_entry_error(column[0], text)
        if reason:
            errors.append(CellError(where.sourceline, element_id,
                                    f"input entry {_shown(text)} for '{column[1]}' rejected: {reason}"))
    for entry, name in zip(results, outputs):
        text, text_el = _text(entry)
        if not text:
            continue  # the engine gives "" for an empty output entry
        reason = _too_long(text) or _compile_error(text)
        if reason:
            errors.append(CellError((text_el if text_el is not None else entry).sourceline,
                                    entry.get("id") or rule.get("id"),
                                    f"output entry {_shown(text)} for '{name}' rejected: {reason}"))


def _too_long(text: str) -> str | None:
    if len(text) > MAX_CELL_CHARS:
        return f"longer than {MAX_CELL_CHARS} characters; compute the value in a script task first"
    return None


def _compile_error(text: str) -> str | None:
    try:
        _CompileOnly().validate(text)
    except ScriptRejected as exc:
        return str(exc)
    return None


def _input_entry_error(input_expression: str, text: str) -> str | None:
    engine = _CompileOnly()
    task = SimpleNamespace(data={}, workflow=SimpleNamespace(script_engine=engine))
    try:
        DMNEngine(None).evaluate(input_expression, text, task)
    except ScriptRejected as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever the engine would raise at run time
        return f"{type(exc).__name__}: {exc}"
    joined = input_expression + text
    if engine.compiled and engine.compiled[-1] == joined and not _same_meaning(joined, f"({input_expression}) {text}"):
        # The engine glues a bare comparison to the input without a space or parentheses:
        # "in (...)" after "x" becomes the call "xin (...)", "> 5" after "a or b" binds to b.
        return (f"the engine evaluates it as {_shown(joined)}, not as ({input_expression.strip()}) {text.strip()}; "
                f"write it with ? for the input value: '? {text.strip()}'")
    return None


def _same_meaning(a: str, b: str) -> bool:
    try:
        return ast.dump(ast.parse(a.strip(), mode="eval")) == ast.dump(ast.parse(b.strip(), mode="eval"))
    except SyntaxError:
        return True  # only a difference between two readings is reported here; compile errors are above


DEPLOY_CHECK_SECONDS = 5.0


def check_contracts(root, text: str, source: str) -> list[CellError]:
    """Decisions another module reads (``alert_policy``), checked with that module's own check."""
    errors: list[CellError] = []
    for decision in root.iter("{*}decision"):
        check = CONTRACTS.get(decision.get("id"))
        if check is None:
            continue
        try:
            # the check runs the table's cells: bounded like an engine step (engine/budget.py)
            with budget.step_budget(DEPLOY_CHECK_SECONDS):
                check(text, source)
        except budget.StepBudgetExceeded as exc:
            errors.append(CellError(decision.sourceline, decision.get("id"), str(exc)))
        except Invalid as exc:
            for e in exc.errors or [{"field": decision.get("id"), "message": exc.detail}]:
                errors.append(CellError(decision.sourceline, decision.get("id"), f"{e['field']}: {e['message']}"))
    return errors
