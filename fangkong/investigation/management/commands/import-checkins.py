"""Alias: `fangkong import-checkins` is `fangkong import_checkins`."""

from fangkong.investigation.management.commands.import_checkins import Command

__all__ = ["Command"]
