"""Fusion analytics: the four analyses, stored runs and the push of their findings."""
