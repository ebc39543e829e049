"""The errors of submitted data, as a 422 carries them: task forms and start forms share it.

Both build their validators with engine/form_schema.py (RE2 patterns, ``$ref`` only inside
the deployment), so a start form (``formJsonSchemaFilename`` on a start event) is checked
exactly as a task form is, with the same ``{field, message}`` list.
"""
from __future__ import annotations

from referencing.exceptions import Unresolvable


def errors(validator, data: dict, *, prefix: str = "") -> list[dict]:
    """Every way ``data`` fails ``validator``, as ``{field, message}``; a missing required
    field is named itself (``prefix`` + path), not the object that lacks it."""
    out = []
    try:
        found = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    except Unresolvable as exc:  # a version stored before deployment checked every $ref
        return [{"field": prefix.rstrip(".") or "(form)",
                 "message": f"the form has a $ref that does not resolve inside its deployment: {exc}"}]
    for err in found:
        path = "/".join(str(p) for p in err.absolute_path)
        if err.validator == "required" and isinstance(err.validator_value, list):
            missing = [f for f in err.validator_value if f not in (err.instance or {})]
            for f in missing:
                out.append({"field": prefix + (f"{path}/{f}" if path else f), "message": "required"})
            continue
        out.append({"field": prefix + path if path else (prefix.rstrip(".") or "(root)"), "message": err.message})
    return out
