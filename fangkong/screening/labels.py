"""Words for the screening app's audited actions and values (core.labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.core.labels import Label, names_for, register
from fangkong.screening.models import Round, Site, Task, Tube


def _lab(pk: str) -> Label | None:
    from fangkong.screening.models import Lab

    row = Lab.objects.filter(pk=int(pk)).only("name").first() if pk.isdigit() else None
    return row.name if row is not None else None


register(
    actions={
        "screening.round.create": _("Screening round created"),
        "screening.round.close": _("Screening round closed"),
        "screening.lab.create": _("Lab created"),
        "screening.lab.update": _("Lab changed"),
        "screening.site.create": _("Sampling site created"),
        "screening.site.update": _("Sampling site changed"),
        "screening.site.queue": _("Queue at a sampling site updated"),
        "screening.team.create": _("Sampling team created"),
        "screening.team.update": _("Sampling team changed"),
        "screening.exclusion.add": _("Person excluded from a round"),
        "screening.tube.open": _("Tube opened"),
        "screening.arrival_sample": _("Arrival test filed in its tube"),
        "screening.tube.close": _("Tube closed"),
        "screening.batch.submit": _("Sampling batch submitted"),
        "screening.box.pack": _("Box packed"),
        "screening.box.hand_over": _("Box handed over to transport"),
        "screening.box.receive": _("Box received by the lab"),
        "screening.results.import": _("Lab results reported"),
        "screening.result.review": _("Held result reviewed"),
        "screening.positive.followup": _("Positive pool followed up"),
        "screening.task.door_to_door": _("Door-to-door sampling tasks created"),
        "screening.task.state": _("Retest task updated"),
        "screening.task.escalate": _("Retest task escalated"),
        "screening.schedule.overdue": _("Standing screening overdue"),
        "screening.untested.unmask": _("Untested list shown with full numbers"),
        "screening.reminders.send": _("Reminders sent to untested people"),
    },
    fields={
        "applied": _("applied"),
        "buildings": _("buildings"),
        "conflicts": _("conflicts"),
        "held": _("held for review"),
        "lab": _("lab"),
        "people_sampled": _("people sampled"),
        "queue_state": _("queue"),
        "retest_tasks": _("retest tasks"),
        "tasks": _("tasks"),
        "tubes": _("tubes"),
        "tubes_closed": _("tubes closed"),
        "tubes_opened": _("tubes opened"),
        "areas": _("areas"),
        "target": _("target population"),
        "pooling_ratio": _("pooling"),
        "labs": _("labs"),
        "source": _("source"),
        "capacity_per_day": _("tests per day"),
        "lanes": _("sampling lanes"),
        "door_to_door": _("door to door"),
    },
    values={
        "queue_state": dict(Site.Queue.choices),
        "source": {"api": _("laboratory system (API)"), "csv": _("uploaded file")},
        "target": dict(Round.Target.choices),
        "result": dict(Tube.Result.choices),
        "state": {**dict(Round.State.choices), **dict(Task.State.choices)},
    },
    resolvers={"lab": _lab},
    objects={
        "screening.round": _("screening round"),
        "screening.tube": _("tube"),
        "screening.box": _("box"),
        "screening.lab": _("lab"),
        "screening.site": _("sampling site"),
        "screening.team": _("sampling team"),
        "screening.task": _("retest task"),
        "screening.resultreport": _("result report"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "screening.round": ("name",),
            "screening.tube": ("barcode",),
            "screening.box": ("barcode",),
            "screening.lab": ("name",),
            "screening.site": ("name",),
            "screening.team": ("name",),
            "screening.task": ("person__name",),
            "screening.resultreport": ("tube_barcode",),
        }
    )
)
