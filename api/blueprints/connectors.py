"""The connectors this process has loaded: their operations, parameters and failures.

Any authenticated user may read it (the bearer token is checked globally by
``api.auth``); configuration values marked ``writeOnly`` (secrets) are never listed.
"""
from flask.views import MethodView
from api import responses as R
from api.blueprint import Blueprint

from api.services import platform
from engine.errors import NotFound

blp = Blueprint("connectors", __name__, url_prefix="/api/v1", description="Connectors")


@blp.route("/connectors")
class Connectors(MethodView):
    @blp.documents(200, R.Connectors)
    def get(self):
        """Every connector with version, kind, operations and parameters, and every connector that failed to load."""
        return platform().connectors.describe()


@blp.route("/connectors/<name>")
class ConnectorOne(MethodView):
    @blp.documents(200, R.Connector)
    def get(self, name):
        """One connector's declaration (404 naming the known connectors, or why it failed to load)."""
        registry = platform().connectors
        connector = registry.get(name)
        if connector is None:
            why = registry.failures.get(name)
            if why:
                raise NotFound(f"connector '{name}' failed to load: {why}")
            raise NotFound(f"no connector named '{name}' (connectors: {', '.join(sorted(registry.connectors))})")
        return connector.describe()
