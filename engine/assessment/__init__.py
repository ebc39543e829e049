"""Integrated assessment per department and person per period."""
