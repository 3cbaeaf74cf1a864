"""A decision in words, for the officer and the traveller (active language)."""

from __future__ import annotations

import datetime as dt

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangkong.entry.models import Arrival, Category, RiskLevel


def _day(iso: str | dt.date | None) -> str:
    if not iso:
        return ""
    day = iso if isinstance(iso, dt.date) else dt.date.fromisoformat(iso)
    return date_format(day, "Y-m-d")


def measures_sentence(arrival: Arrival) -> str:
    m = arrival.measures or {}
    tests = m.get("tests", [])
    days = int(m.get("quarantine_days") or 0)
    n = len(tests)
    tests_text = ngettext("%(n)s test", "%(n)s tests", n) % {"n": n}
    if arrival.category == Category.CENTRALISED:
        return _(
            "centralised quarantine for %(days)s days (transfer from the checkpoint) and %(tests)s"
        ) % {"days": days, "tests": tests_text}
    if arrival.category == Category.HOME:
        return _("home quarantine for %(days)s days and %(tests)s") % {
            "days": days,
            "tests": tests_text,
        }
    if arrival.category == Category.MONITORING:
        return _("health monitoring with %(tests)s, the last on %(last)s") % {
            "tests": tests_text,
            "last": _day(tests[-1] if tests else None),
        }
    if arrival.category == Category.HOLD:
        return _("an arrival test; your itinerary is being checked")
    if arrival.category == Category.TRANSIT:
        return _("an arrival test; drive through without stopping")
    return _("an arrival test")


def ends_text(arrival: Arrival) -> str:
    if arrival.category in (Category.CENTRALISED, Category.HOME) and arrival.measures_end:
        return _("It ends on %(day)s when your tests are negative.") % {
            "day": _day(arrival.measures_end)
        }
    if arrival.category == Category.MONITORING and arrival.measures_end:
        return _("It ends after your last negative test on %(day)s.") % {
            "day": _day(arrival.measures_end)
        }
    if arrival.category == Category.HOLD:
        return _("We will tell you the measures once your itinerary is checked.")
    return _("A negative test ends it.")


def findings_text(arrival: Arrival) -> list[str]:
    """One sentence per finding: which place, which list (version), which level."""
    levels = dict(RiskLevel.choices)
    out: list[str] = []
    for f in arrival.findings or []:
        how = f.get("how")
        if how in ("code", "name"):
            out.append(
                _(
                    "%(place)s is in %(area)s, a %(level)s on the list of %(region)s "
                    "(version %(version)s)."
                )
                % {
                    "place": f.get("place", ""),
                    "area": f.get("area", ""),
                    "level": str(levels.get(f.get("level", ""), "")).lower(),
                    "region": f.get("region", ""),
                    "version": f.get("version", ""),
                }
            )
        elif how == "city":
            out.append(
                _(
                    "%(place)s is in a city with listed areas (%(region)s, version "
                    "%(version)s), outside them."
                )
                % {
                    "place": f.get("place", ""),
                    "region": f.get("region", ""),
                    "version": f.get("version", ""),
                }
            )
        elif how == "unmatched":
            out.append(
                _("%(place)s was found neither by code nor by name: it waits for review.")
                % {"place": f.get("place", "")}
            )
        elif how == "gap":
            out.append(
                _("The itinerary does not cover the last %(days)s days before arrival.")
                % {"days": f.get("days", "")}
            )
    if not out:
        out.append(_("No place of the itinerary is on a risk-area list in force."))
    return out
