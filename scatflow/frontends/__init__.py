"""Frontends: parameter handling shared by all frameworks (`base.py`, one base per transform)
and one thin module per framework."""
