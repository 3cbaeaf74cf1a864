"""Writes of the screening app, one module per part of the process."""
