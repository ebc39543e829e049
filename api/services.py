"""Access to the engine from a request."""
from flask import current_app

from engine.platform import Platform


def platform() -> Platform:
    """The Platform this app was created with."""
    return current_app.extensions["anjian"]
