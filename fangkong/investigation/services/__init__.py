"""Writes of the investigation app, one module per entity group:

- ``rules``: the disease rule version in force on a date
- ``cases``: case numbers, case create / classify / outcome / assignment
- ``trajectories``: trajectory stops
- ``contacts``: contacts, categories, monitoring periods, promotion
- ``followup``: teams, daily follow-up lists, follow-up records
- ``clusters``: connected components of the case–contact graph
- ``venues``: venues and their signed venue codes
- ``checkins``: check-ins (API, bulk ingestion, retention)
- ``matching``: co-presence and shared-transport matching, confirm / dismiss
- ``linelist``: import of case line lists (DS4C and generic)
"""
