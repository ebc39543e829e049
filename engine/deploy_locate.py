"""Find the element a deployment error is about when SpiffWorkflow did not say.

SpiffWorkflow raises some ValidationExceptions without a node ("Data Store with name X has no
implementation", a missing called process …), which reached the designer with ``element_id:
null``. Such messages name the element by id or name; this finds it in the document.
"""
from __future__ import annotations

import re


def locate(root, message: str) -> tuple[str | None, int | None]:
    """(id, line) of the element of ``root`` whose id, or else whose name, ``message`` mentions
    as a whole word (the longest such, so 'Task_10' wins over 'Task_1'); (None, None) if none."""
    if root is None or not message:
        return None, None
    best = None
    for attribute in ("id", "name"):
        for el in root.iter():
            if not isinstance(el.tag, str) or not el.get("id"):
                continue
            value = el.get(attribute)
            if not value or len(value) < 2 or (best is not None and len(value) <= len(best[0])):
                continue
            if re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", message):
                best = (value, el)
        if best is not None:
            return best[1].get("id"), best[1].sourceline
    return None, None
