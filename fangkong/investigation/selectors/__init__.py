"""Reads of the investigation app, always scoped to the user's jurisdiction."""
