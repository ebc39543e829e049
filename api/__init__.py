"""HTTP layer: Flask app factory, flask-smorest blueprints, auth and errors.

Blueprints parse, authorise and call an engine service; they hold no domain logic.
"""
