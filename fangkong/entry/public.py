"""Entry's pages on the public site (mounted under /me/ with the portal's
self-service, in the public layout): the traveller's report before arriving and
the traveller's own view (my measures, my test schedule)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.forms import errors_onto
from fangkong.entry import selectors, services
from fangkong.entry.forms import ArrivalReportForm
from fangkong.status.selectors import shared as status_shared


def _login_url(request: HttpRequest) -> str:
    return reverse(status_shared.RESIDENT_LOGIN_URL_NAME) + "?next=" + request.path


def arrival_report(request: HttpRequest) -> HttpResponse:
    """Anyone may report before travelling; a signed-in resident's report is
    classified at once and shows on their own page."""
    person_id = status_shared.resident_person_id(request)
    form = ArrivalReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        since, arriving = data["since"], data["arrival_date"]
        itinerary = None
        if since is not None:
            until = min(arriving, timezone.localdate())
            itinerary = [{"place": data["from_place"], "from": since, "to": until}]
        with errors_onto(form) as outcome:
            services.arrival_self_report(
                person_id=person_id,
                origin=data["from_place"],
                arrival_date=arriving,
                destination=data["destination"],
                transport_text=data["transport"],
                itinerary=itinerary,
            )
        if outcome.ok:
            messages.success(request, _("Thank you. Your arrival report has been saved."))
            return redirect("entry_public:mine" if person_id else "portal:me")
    return render(
        request,
        "entry/public/report.html",
        {"form": form, "signed_in": person_id is not None, "login_url": _login_url(request)},
    )


def my_arrivals(request: HttpRequest) -> HttpResponse:
    """The traveller's own arrivals: the measures, what ends them, the tests due."""
    person_id = status_shared.resident_person_id(request)
    if person_id is None:
        return redirect(_login_url(request))
    return render(
        request,
        "entry/public/mine.html",
        {"arrivals": selectors.traveller_view(person_id), "today": timezone.localdate()},
    )
