"""The Blueprint every resource module uses."""
from __future__ import annotations

import flask_smorest


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, with each argument schema instantiated once.

    Given a Schema class, webargs builds a new instance (fields copied and bound) for
    every request: 4 % of a task completion's CPU in a py-spy profile. An instance is
    reused as is, and a marshmallow schema keeps no state between loads. The OpenAPI
    document is the same either way.
    """

    def arguments(self, schema, *args, **kwargs):
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)
