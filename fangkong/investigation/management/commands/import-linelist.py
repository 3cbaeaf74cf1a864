"""Alias: `fangkong import-linelist` is `fangkong import_linelist`."""

from fangkong.investigation.management.commands.import_linelist import Command

__all__ = ["Command"]
