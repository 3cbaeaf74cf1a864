"""Alias: `fangkong export-tree` is `fangkong export_tree`."""

from fangkong.core.management.commands.export_tree import Command

__all__ = ["Command"]
