"""Words for the investigation app's audited actions and values (core.labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.labels import Label, names_for, register, staff_by_user_id
from fangkong.investigation.models import (
    BreachInquiry,
    Case,
    Contact,
    Disease,
    ExposureMatch,
    FollowUp,
    TrajectoryStop,
    Venue,
)


def _disease(code: str) -> Label | None:
    row = Disease.objects.filter(code=code).first()
    return row.name if row is not None else None


def _case(pk: str) -> Label | None:
    """A case's id stored in an audit row as the case number people quote."""
    row = Case.objects.filter(pk=int(pk)).only("number").first() if pk.isdigit() else None
    return row.number if row is not None else None


def _venue(pk: str) -> Label | None:
    row = Venue.objects.filter(pk=int(pk)).only("name").first() if pk.isdigit() else None
    return row.name if row is not None else None


def _contact(pk: str) -> Label | None:
    """A contact's id as the person's name (the audit row is read in the person's
    area already)."""
    row = (
        Contact.objects.filter(pk=int(pk)).select_related("person").first()
        if pk.isdigit()
        else None
    )
    return row.person.name if row is not None else None


register(
    actions={
        "case.create": pgettext_lazy("epidemiology", "Case created"),
        "case.classify": pgettext_lazy("epidemiology", "Case classified"),
        "case.outcome": pgettext_lazy("epidemiology", "Case outcome recorded"),
        "case.linelist.export": pgettext_lazy("epidemiology", "Case line list exported"),
        "contact.linelist.export": pgettext_lazy("epidemiology", "Contact line list exported"),
        "case.treatment": pgettext_lazy("epidemiology", "Case's hospital treatment recorded"),
        "case.release": pgettext_lazy("epidemiology", "Case released from isolation"),
        "case.assign": pgettext_lazy("epidemiology", "Case assigned to an investigator"),
        "case.investigation_status": _("Investigation progress recorded"),
        "case.pin_cluster": _("Case put in a named cluster"),
        "case.stop_add": _("Trajectory stop added"),
        "case.stop_remove": _("Trajectory stop removed"),
        "contact.create": pgettext_lazy("epidemiology", "Contact recorded"),
        "contact.status": _("Contact monitoring changed"),
        "contact.became_case": _("Contact became a case"),
        "contact.promote": _("Secondary contact became a close contact"),
        "contact.monitoring_end": _("Monitoring end set"),
        "contact.exposure_ended": _("Continuous exposure ended"),
        "contact.monitoring_completed": _("Monitoring completed"),
        "checkin.import": _("Check-in log imported"),
        "checkin.purge": _("Old check-ins deleted"),
        "cluster.create": _("Cluster created"),
        "cluster.name": _("Cluster named"),
        "cluster.assign": _("Cluster assigned"),
        "match.run": _("Matching run for a case"),
        "match.batch": _("Matching run for many cases"),
        "match.follow": _("Matching run again for check-ins that came late"),
        "match.confirm": _("Match confirmed"),
        "match.dismiss": _("Match dismissed"),
        "followup.record": _("Follow-up recorded"),
        "followup_team.create": _("Follow-up team created"),
        "followup_team.update": _("Follow-up team changed"),
        "linelist.import": _("Case line list imported"),
        "case.complete_date": _("Report date of an imported case completed"),
        "rules.version": _("New version of the disease rules"),
        "venue.create": _("Venue registered"),
        "venue.update": _("Venue changed"),
        "venue_code.issue": _("Venue code issued"),
        "venue_code.revoke": _("Venue code revoked"),
        "breach_inquiry.open": _("Closed-loop breach inquiry opened"),
        "breach_inquiry.take": _("Closed-loop breach inquiry taken up"),
        "breach_inquiry.close": _("Closed-loop breach inquiry closed"),
    },
    fields={
        "classification": _("classification"),
        "onset_date": _("onset date"),
        "first_positive_date": _("first positive sample"),
        "report_date": _("report date"),
        "found_by": _("found by"),
        "severity": _("severity"),
        "treatment_facility": _("treatment"),
        "facility_name": _("hospital or site"),
        "reporting_unit": _("reporting unit"),
        "source_contact_id": _("source contact"),
        "external_ref": _("external reference"),
        "released_at": _("released on"),
        "outcome": _("outcome"),
        "outcome_date": _("outcome date"),
        "investigator_id": _("investigator"),
        "investigation_status": _("investigation progress"),
        "category": pgettext_lazy("contact", "category"),
        "exposure_type": _("exposure"),
        "first_exposure": _("first exposure"),
        "last_exposure": _("last exposure"),
        "monitoring_end": _("monitoring ends"),
        "continuous_exposure": _("continuous exposure"),
        "relation": _("relation"),
        "frequency": _("frequency"),
        "certainty": _("certainty"),
        "found": _("matches found"),
        "cases": pgettext_lazy("epidemiology", "cases"),
        "start": _("from"),
        "end": _("to"),
        "venue_id": _("venue"),
        "address": _("address"),
        "grid_id": _("grid unit"),
        "transport_mode": _("transport"),
        "transport_number": _("flight, train or line"),
        "temperature": _("temperature"),
        "symptoms": _("symptoms"),
        "members": _("members"),
        "disease": _("disease"),
        "version": _("version"),
        "imported": _("imported"),
        "rejected": _("rejected"),
        "deleted": _("deleted"),
        "match_id": _("match"),
        "number": pgettext_lazy("epidemiology", "case number"),
        "rules_version": _("rules version"),
        "transport": _("transport"),
        "duplicates": _("duplicates"),
        "inserted": _("check-ins added"),
        "named": _("named"),
        "warning": _("warning"),
        "ended_before": _("ended before"),
        "case_id": pgettext_lazy("epidemiology", "case"),
        "source_case_id": _("source case"),
        "needs_completion": _("report date to be completed"),
        "format": _("file format"),
        "into": _("imported into"),
        "rows": _("rows"),
        "cases_imported": _("cases imported"),
        "links_imported": _("infector links imported"),
        "possible_sources": _("possible sources kept"),
        "to_complete": _("cases to be completed"),
        "errors": _("problems"),
        "warnings": _("warnings"),
        "site": _("quarantine site"),
        "inquiry_state": _("inquiry"),
        "inquiry_outcome": _("outcome of the inquiry"),
    },
    values={
        "classification": dict(Case.Classification.choices),
        "found_by": dict(Case.FoundBy.choices),
        "severity": dict(Case.Severity.choices),
        "treatment_facility": dict(Case.Facility.choices),
        "outcome": dict(Case.Outcome.choices),
        "investigation_status": dict(Case.InvestigationStatus.choices),
        "category": dict(Contact.Category.choices),
        "exposure_type": dict(Contact.ExposureType.choices),
        "status": {
            **dict(Contact.Status.choices),
            **dict(ExposureMatch.Status.choices),
            **dict(FollowUp.Status.choices),
        },
        "kind": dict(TrajectoryStop.Kind.choices),
        "inquiry_state": dict(BreachInquiry.State.choices),
        "inquiry_outcome": dict(BreachInquiry.Outcome.choices),
    },
    resolvers={
        "disease": _disease,
        "case_id": _case,
        "source_case_id": _case,
        "venue_id": _venue,
        "source_contact_id": _contact,
        "investigator_id": staff_by_user_id,
    },
    objects={
        "investigation.case": pgettext_lazy("epidemiology", "case"),
        "investigation.contact": pgettext_lazy("epidemiology", "contact"),
        "investigation.cluster": _("cluster"),
        "investigation.exposurematch": _("match"),
        "investigation.trajectorystop": _("trajectory stop"),
        "investigation.venue": _("venue"),
        "investigation.followup": _("follow-up"),
        "investigation.followupteam": _("follow-up team"),
        "investigation.diseaserules": _("disease rules"),
        "investigation.breachinquiry": _("closed-loop breach inquiry"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "investigation.case": ("number", "person__name"),
            "investigation.contact": ("person__name",),
            "investigation.cluster": ("name",),
            "investigation.exposurematch": ("person__name", "venue__name"),
            "investigation.trajectorystop": ("case__number", "venue__name", "address"),
            "investigation.venue": ("name",),
            "investigation.followup": ("contact__person__name",),
            "investigation.followupteam": ("name",),
            "investigation.breachinquiry": ("site_name",),
        }
    )
)
