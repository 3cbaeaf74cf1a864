"""Alias: `fangkong import-tree` is `fangkong import_tree`."""

from fangkong.core.management.commands.import_tree import Command

__all__ = ["Command"]
