"""Anjian engine: SpiffWorkflow integration, persistence and domain services.

Nothing in this package imports Flask; the HTTP layer in ``api/`` calls into it.
"""
