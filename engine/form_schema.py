"""Form JSON Schemas: checked at deployment, and the validators that run them on submissions.

A form schema is designer input, and each rule here closes a way it could hurt the server
(issue 12, DESIGN.md "Trust rules"):

- ``$ref`` resolves only inside the deployment: to ``#`` fragments and to other forms of the
  deployment or library by file name (``other.json#/$defs/x``). Nothing is fetched: the
  validators' ``referencing.Registry`` refuses every other URI (``file://``, ``http://`` …), and
  deployment checks that every ``$ref`` resolves.
- ``pattern``, ``patternProperties`` and the ``regex`` format run on RE2 (linear time); a
  pattern RE2 cannot compile (back-references, look-arounds) is refused at deployment.
  ``unevaluatedProperties`` next to ``patternProperties`` is refused too: jsonschema would
  evaluate those patterns with Python's backtracking ``re``.
- Size and nesting are bounded: ``MAX_FORM_BYTES`` of JSON, ``MAX_FORM_DEPTH`` levels.
"""
from __future__ import annotations

import hashlib
import json

import re2
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema import exceptions as js_exceptions
from jsonschema.validators import extend, validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

MAX_FORM_BYTES = 256 * 1024
MAX_FORM_DEPTH = 32
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print every refused pattern to stderr
_compiled: dict[str, object] = {}
_valid_schemas: set[bytes] = set()  # SHA-256 of the canonical JSON of schemas check_schema passed


def compile_pattern(pattern: str):
    """The RE2 program of ``pattern`` (cached); raises ``re2.error`` when RE2 cannot compile it."""
    program = _compiled.get(pattern)
    if program is None:
        program = _compiled[pattern] = re2.compile(pattern, _RE2_OPTIONS)
        if len(_compiled) > 4096:
            _compiled.clear()
    return program


def _search(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).search(text) is not None


# --------------------------------------------------------------------------- validators

def _pattern(validator, patrn, instance, schema):
    if validator.is_type(instance, "string") and not _search(patrn, instance):
        yield js_exceptions.ValidationError(f"{instance!r} does not match {patrn!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in pattern_properties.items():
        for key, value in instance.items():
            if _search(patrn, key):
                yield from validator.descend(value, subschema, path=key, schema_path=patrn)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = sorted((k for k in instance if k not in properties and not any(_search(p, k) for p in patterns)),
                    key=str)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        yield js_exceptions.ValidationError(
            f"Additional properties are not allowed ({', '.join(repr(e) for e in extras)} "
            f"{'was' if len(extras) == 1 else 'were'} unexpected)")


def _format_checker(cls) -> FormatChecker:
    checker = FormatChecker()
    checker.checkers = dict(cls.FORMAT_CHECKER.checkers)

    def regex(instance) -> bool:
        if isinstance(instance, str):
            compile_pattern(instance)
        return True

    checker.checks("regex", raises=re2.error)(regex)
    return checker


_CLASSES: dict[type, tuple[type, FormatChecker]] = {}


def _re2_class(base: type) -> tuple[type, FormatChecker]:
    found = _CLASSES.get(base)
    if found is None:
        overrides = {"pattern": _pattern, "patternProperties": _pattern_properties,
                     "additionalProperties": _additional_properties}
        cls = extend(base, {k: v for k, v in overrides.items() if k in base.VALIDATORS})
        found = _CLASSES[base] = (cls, _format_checker(base))
    return found


def _refuse(uri: str):
    raise NoSuchResource(ref=uri)


def registry(forms: dict[str, dict]) -> Registry:
    """The forms of a deployment (and library) by file name; any other URI is refused, never fetched."""
    resources = [(name, Resource.from_contents(schema, default_specification=DRAFT202012))
                 for name, schema in forms.items() if isinstance(schema, dict)]
    return Registry(retrieve=_refuse).with_resources(resources)


def validator(schema: dict, forms: dict[str, dict]):
    """A validator of submissions for ``schema``: its draft (``$schema``, default 2020-12) with
    RE2 patterns, the ``regex`` format on RE2, and ``$ref`` limited to ``forms``."""
    cls, checker = _re2_class(validator_for(schema, default=Draft202012Validator))
    return cls(schema, format_checker=checker, registry=registry(forms))


# --------------------------------------------------------------------------- deployment checks

def check_schema(schema: dict) -> None:
    """Raise ``jsonschema.exceptions.SchemaError`` when ``schema`` is not a valid JSON Schema of its draft.

    The answer depends on the schema's content only; a content that passed once is not checked again
    (a redeployment of the library's 71 forms spent most of its time here)."""
    try:
        digest = hashlib.sha256(json.dumps(schema, sort_keys=True, ensure_ascii=False).encode("utf-8")).digest()
    except (TypeError, ValueError):
        digest = None   # not JSON (never from a deployment): checked every time
    if digest is not None and digest in _valid_schemas:
        return
    validator_for(schema, default=Draft202012Validator).check_schema(schema)
    if digest is not None:
        if len(_valid_schemas) >= 4096:
            _valid_schemas.clear()
        _valid_schemas.add(digest)


def problems(name: str, schema: dict, size: int, forms: dict[str, dict]) -> list[str]:
    """Why the form ``name`` (``size`` bytes of JSON) cannot be deployed; [] when it can.

    ``forms`` are all forms the deployment can see (its own and the library's), for ``$ref``.
    """
    if size > MAX_FORM_BYTES:
        return [f"form is {size} bytes; at most {MAX_FORM_BYTES} are accepted"]
    found: list[str] = []
    refs: list[tuple[str, str]] = []
    stack = [(schema, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, list):
            stack.extend((child, depth + 1, f"{path}/{i}") for i, child in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        if depth > MAX_FORM_DEPTH:
            return [f"form is nested more than {MAX_FORM_DEPTH} levels deep (at {path or '/'})"]
        if isinstance(node.get("pattern"), str):
            found.extend(_pattern_problem(node["pattern"], f"{path}/pattern"))
        if isinstance(node.get("patternProperties"), dict):
            for patrn in node["patternProperties"]:
                found.extend(_pattern_problem(patrn, f"{path}/patternProperties"))
            if "unevaluatedProperties" in node:
                found.append(f"{path or '/'}: unevaluatedProperties next to patternProperties is not supported "
                             f"(its patterns would run on a backtracking regex engine)")
        if isinstance(node.get("$ref"), str):
            refs.append((node["$ref"], path or "/"))
        for key, child in node.items():
            stack.append((child, depth + 1, f"{path}/{key}"))
    resolver = registry({**forms, name: schema}).resolver(base_uri=name)
    for ref, path in refs:
        if "://" in ref or ref.startswith(("file:", "urn:")):
            found.append(f"$ref '{ref}' at {path} points outside the deployment: a $ref may name only "
                         f"'#' fragments and other form files of the deployment or library")
            continue
        try:
            resolver.lookup(ref)
        except (Unresolvable, NoSuchResource, KeyError, ValueError, LookupError) as exc:
            found.append(f"$ref '{ref}' at {path} does not resolve inside the deployment "
                         f"({type(exc).__name__})")
    return found


def referenced_forms(names: set[str], forms: dict[str, dict]) -> set[str]:
    """``names`` and every form they reach through ``$ref`` (file-name references)."""
    out, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in out or name not in forms:
            continue
        out.add(name)
        stack = [forms[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and not ref.startswith("#"):
                    todo.append(ref.split("#", 1)[0])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return out


def _pattern_problem(pattern: str, path: str) -> list[str]:
    try:
        compile_pattern(pattern)
    except re2.error as exc:
        return [f"pattern {pattern!r} at {path} is not supported by the linear-time regex engine (RE2): "
                f"{_text(exc)}; back-references and look-arounds are not available"]
    return []


def _text(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)
