"""Which keys a form lets a completion write (DESIGN.md, "Input writes only what it declares").

A task completion may write only the keys its form schema declares; JSON Schema by
itself allows any other key unless the designer remembered ``additionalProperties:
false``, and the engine merges what it accepts into the process data, where an extra
``department``, ``grade`` or ``now`` would overwrite what the process computed. This
module walks a form schema next to the submitted data and names every key the schema
does not declare. The rule, exactly:

* **Top level**: the keys of ``properties``, also of ``properties`` inside the root's
  ``allOf``/``anyOf``/``oneOf`` items and its ``if``/``then``/``else`` (recursively, and
  through local ``$ref``), are declared. Nothing else is, whatever the root says about
  ``additionalProperties`` or ``patternProperties``.
* **Nested objects** follow their schema: a schema (with its combinator branches) that
  lists ``properties`` is closed unless one of its branches explicitly gives
  ``additionalProperties`` (other than ``false``) or ``patternProperties``; a schema
  that lists no ``properties`` (``{"type": "object"}``) is a free-form value. Extra keys
  under an ``additionalProperties`` schema are walked with that schema.
* **Arrays** follow ``prefixItems``/``items`` (and ``items`` as a list with
  ``additionalItems`` in older drafts), element by element.
* A ``$ref`` is walked when it points inside the same schema (``#...``); any other
  reference is not walked here (the form validator checks what it allows).

Values are not checked here (the form's JSON Schema validation does that); this is only
about which keys may exist. The walk is iterative, so deep data cannot exhaust the stack.
"""
from __future__ import annotations

from typing import Iterable

COMBINATORS_LIST = ("allOf", "anyOf", "oneOf")
COMBINATORS_ONE = ("if", "then", "else")


def undeclared_keys(schema: dict | None, data: dict, *, form_name: str | None = None) -> list[dict]:
    """One ``{field, message}`` per key of ``data`` that ``schema`` does not declare.

    ``field`` is the key's path (``nearby_operations/0/foo``). ``schema`` None means the
    task has no form: then every key is undeclared (a form-less task accepts no data).
    """
    if schema is None:
        return [{"field": _escape(k), "message": "this task has no form, so it accepts no data"} for k in data]
    errors: list[dict] = []
    where = f"form '{form_name}'" if form_name else "the form"
    # (path, value, schemas describing it, is the root)
    stack: list[tuple[str, object, list[dict], bool]] = [("", data, [schema], True)]
    while stack:
        path, value, schemas, root = stack.pop()
        if isinstance(value, dict):
            shape = _object_shape(schemas, schema)
            for key in sorted(value, reverse=True):
                field = f"{path}/{_escape(key)}" if path else _escape(key)
                subs = shape.properties.get(key)
                if subs is not None:
                    stack.append((field, value[key], subs, False))
                elif root or shape.closed:
                    errors.append({"field": field, "message": f"not declared by {where}; "
                                   "a completion writes only the fields its form declares"})
                elif shape.additional:
                    stack.append((field, value[key], shape.additional, False))
        elif isinstance(value, list):
            prefix, rest = _array_shape(schemas, schema)
            for i in range(len(value) - 1, -1, -1):
                subs = prefix.get(i, rest)
                if subs:
                    stack.append((f"{path}/{i}", value[i], subs, False))
    errors.sort(key=lambda e: e["field"])
    return errors


def declared_fields(schema: dict) -> set[str]:
    """The top-level field names a form declares (see the module rule)."""
    return set(_object_shape([schema], schema).properties)


def read_only_fields(schema: dict) -> set[str]:
    """Top-level fields some declaring branch marks ``readOnly: true``: shown, never written."""
    out = set()
    for branch in _branches([schema], schema):
        props = branch.get("properties")
        if isinstance(props, dict):
            out.update(k for k, s in props.items() if isinstance(s, dict) and s.get("readOnly") is True)
    return out


class _Shape:
    __slots__ = ("properties", "closed", "additional")

    def __init__(self):
        self.properties: dict[str, list[dict]] = {}
        self.closed = False
        self.additional: list[dict] = []


def _object_shape(schemas: list[dict], root_schema: dict) -> _Shape:
    shape = _Shape()
    lists_properties = opened = False
    for branch in _branches(schemas, root_schema):
        props = branch.get("properties")
        if isinstance(props, dict):
            lists_properties = True
            for key, sub in props.items():
                shape.properties.setdefault(key, [])
                if isinstance(sub, dict):
                    shape.properties[key].append(sub)
        extra = branch.get("additionalProperties")
        if extra is True or isinstance(extra, dict):
            opened = True
            if isinstance(extra, dict):
                shape.additional.append(extra)
        if "patternProperties" in branch:
            opened = True
    shape.closed = lists_properties and not opened
    return shape


def _array_shape(schemas: list[dict], root_schema: dict) -> tuple[dict[int, list[dict]], list[dict]]:
    prefix: dict[int, list[dict]] = {}
    rest: list[dict] = []
    for branch in _branches(schemas, root_schema):
        items = branch.get("items")
        positional = branch.get("prefixItems")
        if isinstance(items, list):  # draft 4-2019: tuple validation, then additionalItems
            positional = items
            items = branch.get("additionalItems")
        if isinstance(positional, list):
            for i, sub in enumerate(positional):
                if isinstance(sub, dict):
                    prefix.setdefault(i, []).append(sub)
        if isinstance(items, dict):
            rest.append(items)
    return prefix, rest


def _branches(schemas: Iterable[dict], root_schema: dict) -> list[dict]:
    """The schemas and every schema reachable through combinators and local ``$ref``s."""
    out: list[dict] = []
    seen: set[int] = set()
    todo = [s for s in schemas if isinstance(s, dict)]
    while todo:
        s = todo.pop()
        if id(s) in seen:
            continue
        seen.add(id(s))
        out.append(s)
        for key in COMBINATORS_LIST:
            if isinstance(s.get(key), list):
                todo.extend(b for b in s[key] if isinstance(b, dict))
        for key in COMBINATORS_ONE:
            if isinstance(s.get(key), dict):
                todo.append(s[key])
        target = _local_ref(root_schema, s.get("$ref"))
        if target is not None:
            todo.append(target)
    return out


def _local_ref(root_schema: dict, ref) -> dict | None:
    """The subschema a ``#/json/pointer`` reference names inside ``root_schema``, else None."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node: object = root_schema
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, dict) else None


def _escape(key) -> str:
    # JSON Pointer escaping, so a key containing '/' cannot pose as a path.
    return str(key).replace("~", "~0").replace("/", "~1")
