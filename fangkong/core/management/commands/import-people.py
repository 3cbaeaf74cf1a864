"""Alias: `fangkong import-people` is `fangkong import_people`."""

from fangkong.core.management.commands.import_people import Command

__all__ = ["Command"]
