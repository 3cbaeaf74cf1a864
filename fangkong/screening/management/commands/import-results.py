"""Alias: `fangkong import-results` is `fangkong import_results`."""

from fangkong.screening.management.commands.import_results import Command

__all__ = ["Command"]
