"""Renderers: each turns the records built in fields.py into one output format."""
