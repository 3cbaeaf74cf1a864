"""Investigation pages (流调): overview with KPIs, case list and new case, the case
page (classification, investigation, trajectory, matching, contacts), chain graph,
clusters, timeline, and the daily follow-up list.

Thin, like the core pages: validate with a form, call one service or selector,
render. The sections of the case page are fragments: an htmx request gets back
just the section it changed (422 with the form errors inline when refused); a
plain form post is redirected back to the case page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core import selectors as core_selectors
from fangkong.core import services as core_services
from fangkong.core.errors import ApplicationError, NotFound, ValidationFailed
from fangkong.core.forms import add_application_errors, errors_onto
from fangkong.core.sheets import csv_response, xlsx_response
from fangkong.core.views import INVALID, is_htmx, page_of, staff_page
from fangkong.investigation import exports as line_lists
from fangkong.investigation.forms import (
    BreachCloseForm,
    CaseCreateForm,
    CaseFilterForm,
    ClassifyForm,
    ContactFilterForm,
    ContactForm,
    DismissForm,
    FollowUpForm,
    InvestigationForm,
    LineListForm,
    OutcomeForm,
    PersonSearchForm,
    ReleaseForm,
    RulesVersionForm,
    StopForm,
)
from fangkong.investigation.models import Case, Contact, ExposureMatch, FollowUp
from fangkong.investigation.selectors import breaches as breach_selectors
from fangkong.investigation.selectors import cases as case_selectors
from fangkong.investigation.selectors import clusters as cluster_selectors
from fangkong.investigation.selectors import contacts as contact_selectors
from fangkong.investigation.selectors import followup as followup_selectors
from fangkong.investigation.selectors import matching as matching_selectors
from fangkong.investigation.selectors import pages as page_selectors
from fangkong.investigation.selectors import venues as venue_selectors
from fangkong.investigation.services import breaches as breach_services
from fangkong.investigation.services import cases as case_services
from fangkong.investigation.services import contacts as contact_services
from fangkong.investigation.services import followup as followup_services
from fangkong.investigation.services import matching as matching_services
from fangkong.investigation.services import rules as rules_services
from fangkong.investigation.services import trajectories as stop_services
from fangkong.investigation.templatetags.inv_ui import mask_name
from fangkong.quarantine.selectors import shared as quarantine_shared

CASE_PAGE_SIZE = 25
CLUSTER_PAGE_SIZE = 25
MATCHES_SHOWN = 200
CONTACTS_SHOWN = 500
PICKER_SIZE = 12
TIMELINE_DAYS = 60
FOLLOWUP_PAGE_SIZE = 50

# Series colours shared by the charts (classification and contact nodes).
COLOURS = {
    "confirmed": "#b4232a",
    "asymptomatic": "#d9822b",
    "suspected": "#6b7a90",
    "excluded": "#b8c0cc",
    "contact": "#1554a8",
}


def _user(request: HttpRequest) -> Any:
    return request.user


# --- Overview ------------------------------------------------------------------


@staff_page
@require_GET
def overview(request: HttpRequest) -> HttpResponseBase:
    """KPIs of the user's area and the latest cases; users who only follow up
    contacts go straight to their list."""
    user = _user(request)
    if not permissions.has_capability(user, "case.view"):
        permissions.require(user, "contact.view")
        return redirect("investigation:followups")
    kpis = cluster_selectors.investigation_kpis(user)
    latest = page_of(case_selectors.case_list_for(user), 1, 10)
    return render(
        request,
        "investigation/overview.html",
        {
            "kpis": kpis,
            "latest": latest,
            "can_manage": permissions.has_capability(user, "case.manage"),
        },
    )


# --- Case list and new case ------------------------------------------------------


@staff_page
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    permissions.require(user, "case.view")
    districts = page_selectors.district_choices(user)
    form = CaseFilterForm(
        request.GET or None, districts=districts, diseases=list(case_selectors.disease_list())
    )
    results = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        under = None
        if data.get("district"):
            under = core_selectors.access_jurisdiction_by_id(user, data["district"]).path
        qs = case_selectors.case_list_for(
            user,
            disease=data.get("disease") or None,
            classification=data.get("classification") or None,
            investigation_status=data.get("status") or None,
            under_path=under,
            q=data.get("q") or "",
        )
        results = page_of(qs.select_related("investigator"), data.get("page"), CASE_PAGE_SIZE)
    context = {
        "form": form,
        "results": results,
        "can_manage": permissions.has_capability(user, "case.manage"),
        "line_url": reverse("investigation:case_line_list"),
        "line_params": [
            (k, v)
            for k, v in request.GET.items()
            if k in CaseFilterForm.base_fields and k != "page"
        ],
        "can_unmask": permissions.has_capability(user, "person.unmask"),
    }
    if is_htmx(request):
        return render(request, "investigation/_case_results.html", context)
    return render(
        request,
        "investigation/case_list.html",
        context,
        status=200 if results is not None else INVALID,
    )


@staff_page
@require_GET
def person_picker(request: HttpRequest) -> HttpResponse:
    """Live search of people of the user's area, as radio buttons ``person_id``."""
    user = _user(request)
    form = PersonSearchForm(request.GET)
    people: list[Any] = []
    q = ""
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:
            people = list(
                core_selectors.person_list_for(user, q=q).select_related("home")[:PICKER_SIZE]
            )
    return render(
        request,
        "investigation/_person_picker.html",
        {"people": people, "q": q, "selected": request.GET.get("person_id", "")},
    )


@staff_page
@require_GET
def venue_picker(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    q = (request.GET.get("venue_q") or "").strip()[:64]
    venues = list(venue_selectors.venue_list_for(user, q=q)[:PICKER_SIZE]) if q else []
    return render(request, "investigation/_venue_picker.html", {"venues": venues, "q": q})


@staff_page
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "case.manage")
    diseases = list(case_selectors.disease_list())
    form = CaseCreateForm(
        request.POST if request.method == "POST" else None,
        diseases=diseases,
        initial={
            "report_date": timezone.localdate(),
            "found_by": Case.FoundBy.SCREENING,
            "treatment_facility": Case.Facility.NONE,
        },
    )
    chosen = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person_id = data.get("person_id")
        with errors_onto(form) as outcome:
            if not person_id:
                person = core_services.person_create(
                    actor=user,
                    data=core_services.PersonData(
                        doc_type=data["doc_type"],
                        doc_number=data["doc_number"],
                        name=data["name"],
                        phone=data.get("phone") or "",
                    ),
                )
                person_id = person.pk
                # Registered: a refused case keeps the person chosen, not registered twice.
                posted: Any = form.data
                bound = posted.copy()
                bound["person_id"] = str(person.pk)
                form.data = bound
            case = case_services.case_create(
                actor=user,
                person_id=person_id,
                disease_code=data["disease_code"],
                classification=data["classification"],
                report_date=data["report_date"],
                found_by=data["found_by"],
                onset_date=data.get("onset_date"),
                first_positive_date=data.get("first_positive_date"),
                reporting_unit=data.get("reporting_unit") or "",
                severity=data["severity"],
                treatment_facility=data["treatment_facility"],
            )
        if outcome.ok:
            messages.success(request, _("Case %(number)s created.") % {"number": case.number})
            return redirect("investigation:case", case_id=case.pk)
    if form.is_bound and form.data.get("person_id"):
        try:
            chosen = core_selectors.access_person_by_id(user, int(form.data["person_id"]))
        except (NotFound, ValueError):
            chosen = None
    return render(
        request,
        "investigation/case_new.html",
        {"form": form, "chosen": chosen, "search": PersonSearchForm()},
        status=INVALID if form.is_bound else 200,
    )


# --- The case page -----------------------------------------------------------------


def _case_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    user = _user(request)
    can_manage = permissions.has_capability(user, "case.manage")
    can_contacts = permissions.has_capability(user, "contact.view")
    contacts = (
        list(page_selectors.case_contacts(user, case)[: CONTACTS_SHOWN + 1]) if can_contacts else []
    )
    more_contacts = len(contacts) > CONTACTS_SHOWN
    contacts = contacts[:CONTACTS_SHOWN]
    close = [
        c
        for c in contacts
        if c.category == Contact.Category.CLOSE and c.status == Contact.Status.MONITORING
    ]
    matches = list(matching_selectors.match_list_for(user, case.pk)[: MATCHES_SHOWN + 1])
    context: dict[str, Any] = {
        "case": case,
        "stops": list(case_selectors.stop_list_for(user, case)),
        "matches": matches[:MATCHES_SHOWN],
        "more_matches": len(matches) > MATCHES_SHOWN,
        "more_contacts": more_contacts,
        "contacts": contacts,
        "transitions": [
            (value, Case.Classification(value).label)
            for value in Case.Classification.values
            if value in case_services.TRANSITIONS.get(case.classification, set())
            and value in (case.rules.classifications or [])
        ],
        "can_manage": can_manage,
        "can_match": permissions.has_capability(user, "match.run"),
        "can_decide": permissions.has_capability(user, "match.decide"),
        "can_contacts": can_contacts,
        "can_add_contact": permissions.has_capability(user, "contact.manage"),
        "infectious_from": rules_services.infectious_period_start(
            case.rules, onset_date=case.onset_date, first_positive_date=case.first_positive_date
        ),
        "now": timezone.localtime(),
        "scope": permissions.scope_path(user),
        "investigator_name": _staff_name(case.investigator) if case.investigator_id else "",
    }
    if can_manage:
        context["classify_form"] = forms.get("classify_form") or ClassifyForm()
        context["investigation_form"] = forms.get("investigation_form") or InvestigationForm(
            initial={"status": case.investigation_status, "investigator_id": case.investigator_id},
            investigators=page_selectors.investigator_choices(user, case),
        )
        context["stop_form"] = forms.get("stop_form") or StopForm(
            grids=page_selectors.grid_choices(user)
        )
        context["outcome_form"] = forms.get("outcome_form") or OutcomeForm(
            initial={"outcome": case.outcome, "outcome_date": case.outcome_date}
        )
        context["can_release"] = (
            case.released_at is None and case.classification in case_services.INFECTED
        )
        context["release_form"] = forms.get("release_form") or ReleaseForm(
            initial={"released_at": timezone.localdate()}
        )
    if context["can_add_contact"]:
        today = timezone.localdate()
        context["contact_form"] = forms.get("contact_form") or ContactForm(
            close_contacts=close, initial={"first_exposure": today, "last_exposure": today}
        )
        context["person_search"] = PersonSearchForm()
        context["chosen_person"] = forms.get("chosen_person")
    context["pending_matches"] = sum(
        1 for m in context["matches"] if m.status == ExposureMatch.Status.PENDING
    )
    context["match_result"] = forms.get("match_result")
    context["chosen_venue"] = forms.get("chosen_venue")
    context["notice"] = forms.get("notice")
    return context


def _staff_name(user: Any) -> str:
    profile = permissions.staff_profile(user)
    if profile is not None and profile.display_name:
        return str(profile.display_name)
    return str(user.get_username())


def _section(
    request: HttpRequest,
    case: Case,
    template: str,
    *,
    status: int = 200,
    oob: tuple[str, ...] = (),
    **forms: Any,
) -> HttpResponseBase:
    """An htmx request gets the section (and out-of-band sections that changed with
    it); a plain post goes back to the case page, or shows it with the errors."""
    if not is_htmx(request):
        if status == 200:
            return redirect("investigation:case", case_id=case.pk)
        case = case_selectors.access_case_by_id(_user(request), case.pk)
        return render(
            request,
            "investigation/case_detail.html",
            _case_context(request, case, **forms),
            status=status,
        )
    case = case_selectors.access_case_by_id(_user(request), case.pk)
    context = _case_context(request, case, **forms)
    html = render(request, f"investigation/{template}", context).content.decode()
    for extra in oob:
        context["oob"] = True
        html += render(request, f"investigation/{extra}", context).content.decode()
    return HttpResponse(html, status=status)


@staff_page
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    context = _case_context(request, case)
    context["breadcrumb"] = []
    return render(request, "investigation/case_detail.html", context)


@staff_page
@require_POST
def case_classify(request: HttpRequest, case_id: int) -> HttpResponseBase:
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    form = ClassifyForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            case_services.case_classify(
                actor=user,
                case_id=case.pk,
                classification=form.cleaned_data["classification"],
                reason=form.cleaned_data["reason"],
            )
        if outcome.ok:
            return _section(request, case, "_case_summary.html")
    return _section(request, case, "_case_summary.html", status=INVALID, classify_form=form)


@staff_page
@require_POST
def case_investigation(request: HttpRequest, case_id: int) -> HttpResponseBase:
    """Investigation status and assigned investigator (two services, each audited
    only when its value changes)."""
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    form = InvestigationForm(
        request.POST, investigators=page_selectors.investigator_choices(user, case)
    )
    if form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            if data["status"] != case.investigation_status:
                case_services.case_set_investigation_status(
                    actor=user, case_id=case.pk, status=data["status"]
                )
            if data["investigator_id"] != case.investigator_id:
                case_services.case_assign(
                    actor=user, case_id=case.pk, investigator_id=data["investigator_id"]
                )
        if outcome.ok:
            return _section(request, case, "_case_summary.html")
    return _section(request, case, "_case_summary.html", status=INVALID, investigation_form=form)


@staff_page
@require_POST
def case_outcome(request: HttpRequest, case_id: int) -> HttpResponseBase:
    """Outcome of the case (recovered, died, transferred) with its date."""
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            case_services.case_set_outcome(
                actor=user,
                case_id=case.pk,
                outcome=data["outcome"],
                outcome_date=data.get("outcome_date"),
                reason=data.get("reason") or "",
            )
        if outcome.ok:
            return _section(request, case, "_case_summary.html")
    return _section(request, case, "_case_summary.html", status=INVALID, outcome_form=form)


@staff_page
@require_POST
def case_release(request: HttpRequest, case_id: int) -> HttpResponseBase:
    """Release from isolation: contacts with continuous exposure get their end date."""
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    form = ReleaseForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            case_services.case_release(
                actor=user, case_id=case.pk, released_at=form.cleaned_data["released_at"]
            )
        if outcome.ok:
            contacts = permissions.has_capability(user, "contact.view")
            oob = ("_contacts.html",) if contacts else ()
            return _section(request, case, "_case_summary.html", oob=oob)
    return _section(request, case, "_case_summary.html", status=INVALID, release_form=form)


@staff_page
@require_POST
def stop_add(request: HttpRequest, case_id: int) -> HttpResponseBase:
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    form = StopForm(request.POST, grids=page_selectors.grid_choices(user))
    if form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            stop_services.stop_add(
                actor=user,
                case_id=case.pk,
                kind=data["kind"],
                start=data["start"],
                end=data["end"],
                venue_id=data.get("venue_id"),
                address=data.get("address") or "",
                grid_id=data.get("grid_id"),
                transport_mode=data.get("transport_mode") or "",
                transport_number=data.get("transport_number") or "",
                carriage=data.get("carriage") or "",
                seat=data.get("seat") or "",
                notes=data.get("notes") or "",
            )
        if outcome.ok:
            return _section(request, case, "_trajectory.html")
    chosen_venue = None
    if str(form.data.get("venue_id", "")).isdigit():
        try:
            chosen_venue = venue_selectors.access_venue_by_id(user, int(form.data["venue_id"]))
        except NotFound:
            chosen_venue = None
    return _section(
        request,
        case,
        "_trajectory.html",
        status=INVALID,
        stop_form=form,
        chosen_venue=chosen_venue,
    )


@staff_page
@require_POST
def case_match(request: HttpRequest, case_id: int) -> HttpResponseBase:
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    result = matching_services.match_case(actor=user, case_id=case.pk)
    if not is_htmx(request):
        messages.success(
            request,
            _("Matching done: %(n)d new, %(w)d widened by late check-ins.")
            % {"n": result.created, "w": result.updated},
        )
    return _section(request, case, "_matches.html", oob=("_trajectory.html",), match_result=result)


@staff_page
@require_POST
def match_confirm(request: HttpRequest, match_id: int) -> HttpResponseBase:
    user = _user(request)
    match = matching_selectors.access_match_by_id(user, match_id)
    try:
        contact = matching_services.match_confirm(actor=user, match_id=match.pk)
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        return _section(
            request, match.case, "_matches.html", status=INVALID, notice=str(exc.message)
        )
    notice = _("%(name)s is now a contact of this case.") % {"name": contact.person.name}
    return _section(request, match.case, "_matches.html", oob=("_contacts.html",), notice=notice)


@staff_page
@require_POST
def match_dismiss(request: HttpRequest, match_id: int) -> HttpResponseBase:
    user = _user(request)
    match = matching_selectors.access_match_by_id(user, match_id)
    form = DismissForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        matching_services.match_dismiss(actor=user, match_id=match.pk, reason=reason)
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        message = exc.fields.get("reason") or str(exc.message)
        return _section(request, match.case, "_matches.html", status=INVALID, notice=message)
    return _section(request, match.case, "_matches.html")


@staff_page
@require_POST
def contact_add(request: HttpRequest, case_id: int) -> HttpResponseBase:
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    close = [
        c
        for c in page_selectors.case_contacts(user, case)
        if c.category == Contact.Category.CLOSE and c.status == Contact.Status.MONITORING
    ]
    form = ContactForm(request.POST, close_contacts=close)
    chosen = None
    if form.is_valid():
        data = form.cleaned_data
        source_contact_id = data.get("source_contact_id")
        try:
            contact_services.contact_create(
                actor=user,
                source_case_id=None if source_contact_id else case.pk,
                source_contact_id=source_contact_id,
                person_id=data["person_id"],
                exposure_type=data["exposure_type"],
                first_exposure=data["first_exposure"],
                last_exposure=data["last_exposure"],
                relation=data.get("relation") or "",
                continuous_exposure=bool(data.get("continuous_exposure")),
                frequency=data.get("frequency") or "",
                certainty=data.get("certainty") or "",
                notes=data.get("notes") or "",
            )
        except ApplicationError as exc:
            if isinstance(exc, NotFound):
                form.add_error("person_id", _("This person is not registered in your area."))
            else:
                add_application_errors(form, exc)
        else:
            return _section(request, case, "_contacts.html")
    if form.data.get("person_id", "").isdigit():
        try:
            chosen = core_selectors.access_person_by_id(user, int(form.data["person_id"]))
        except NotFound:
            chosen = None
    return _section(
        request,
        case,
        "_contacts.html",
        status=INVALID,
        contact_form=form,
        chosen_person=chosen,
    )


# --- Chains, clusters, timeline -------------------------------------------------------


def _graph_parts(
    graph: dict[str, Any], *, current_id: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Nodes and edges of a chain selector's graph for the chart script (case
    numbers only, no names); adds ``classification_label`` to the table rows."""
    labels = dict(Case.Classification.choices)
    nodes = []
    for n in graph["nodes"]:
        n["classification_label"] = labels.get(n["classification"], n["classification"])
        detail = [
            str(n["classification_label"]),
            _("generation %(n)d") % {"n": n["generation"]},
        ]
        if n["onset_date"]:
            detail.append(_("onset %(date)s") % {"date": n["onset_date"].isoformat()})
        nodes.append(
            {
                "id": f"case-{n['id']}",
                "name": str(n["number"]),
                "category": n["classification"],
                "generation": n["generation"],
                "url": reverse("investigation:case", args=[n["id"]]),
                "current": n["id"] == current_id,
                "detail": " · ".join(detail),
            }
        )
    edges: list[dict[str, Any]] = [
        {"source": f"case-{e['source']}", "target": f"case-{e['target']}"} for e in graph["edges"]
    ]
    return nodes, edges


def _graph_categories() -> list[dict[str, Any]]:
    return [
        {"name": key, "label": str(label), "colour": COLOURS[key]}
        for key, label in [
            *[(k, v) for k, v in Case.Classification.choices if k != "excluded"],
            ("contact", _("Contact (not a case)")),
        ]
    ]


@staff_page
@require_GET
def case_chain(request: HttpRequest, case_id: int) -> HttpResponse:
    """The chain a case belongs to as a hierarchical graph (generations top to
    bottom); the case's own contacts hang below it."""
    user = _user(request)
    case = case_selectors.access_case_by_id(user, case_id)
    chain = cluster_selectors.case_chain(user, case.pk)
    nodes, edges = _graph_parts(chain, current_id=case.pk)
    current_gen = next((n["generation"] for n in chain["nodes"] if n["id"] == case.pk), 1)
    contacts = []
    if permissions.has_capability(user, "contact.view"):
        contacts = [
            c
            for c in page_selectors.case_contacts(user, case)
            if c.source_case_id == case.pk and c.status != Contact.Status.BECAME_CASE
        ][:60]
    for c in contacts:
        nodes.append(
            {
                "id": f"contact-{c.pk}",
                "name": mask_name(c.person.name),
                "category": "contact",
                "generation": current_gen + 1,
                "url": "",
                "current": False,
                "detail": str(c.get_category_display()),
            }
        )
        edges.append({"source": f"case-{case.pk}", "target": f"contact-{c.pk}", "dashed": True})
    graph = {"nodes": nodes, "edges": edges, "categories": _graph_categories()}
    return render(
        request,
        "investigation/chain.html",
        {
            "case": case,
            "chain": chain,
            "graph": graph,
            "contact_count": len(contacts),
        },
    )


def _cluster_label(cluster: Any) -> str:
    if cluster.named and cluster.name:
        return str(cluster.name)
    return _("Cluster #%(id)s") % {"id": cluster.pk}


@staff_page
@require_GET
def cluster_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page_number = request.GET.get("page", "1")
    clusters = page_of(
        cluster_selectors.cluster_list_for(user),
        int(page_number) if page_number.isdigit() else 1,
        CLUSTER_PAGE_SIZE,
    )
    generations = page_selectors.cluster_generations(user, [c.pk for c in clusters.items])
    today = timezone.localdate()
    rows = [
        {
            "cluster": c,
            "generations": generations.get(c.pk, 1 if c.case_count else 0),
            "active": bool(c.last_case_at and c.last_case_at > today - dt.timedelta(days=14)),
        }
        for c in clusters.items
    ]
    chart = {
        "names": [_cluster_label(r["cluster"]) for r in rows][:20],
        "size": [r["cluster"].case_count for r in rows][:20],
        "new": [r["cluster"].new_cases_7d for r in rows][:20],
        "labels": {"size": _("Cases"), "new": _("New cases, last 7 days")},
    }
    return render(
        request,
        "investigation/clusters.html",
        {
            "page": clusters,
            "rows": rows,
            "chart": chart,
            "figures": cluster_selectors.chain_and_cluster_figures(user),
        },
    )


@staff_page
@require_GET
def cluster_detail(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """A cluster's chains as a hierarchical graph (every case of the cluster)."""
    user = _user(request)
    cluster = cluster_selectors.access_cluster_by_id(user, cluster_id)
    chain = cluster_selectors.cluster_graph(user, cluster)
    nodes, edges = _graph_parts(chain, current_id=None)
    return render(
        request,
        "investigation/chain.html",
        {
            "cluster": cluster,
            "cluster_label": _cluster_label(cluster),
            "chain": chain,
            "graph": {"nodes": nodes, "edges": edges, "categories": _graph_categories()},
            "contact_count": 0,
        },
    )


@staff_page
@require_GET
def timeline(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    diseases = list(case_selectors.disease_list())
    disease = request.GET.get("disease") or ""
    if disease not in {d.code for d in diseases}:
        disease = ""
    counts = page_selectors.case_onset_counts(user, disease=disease or None, days=TIMELINE_DAYS)
    labels = dict(Case.Classification.choices)
    chart = {
        "days": [d.isoformat() for d in counts["days"]],
        "series": [
            {"name": str(labels[k]), "data": counts["series"][k], "colour": COLOURS[k]}
            for k in ("confirmed", "asymptomatic", "suspected")
            if k in counts["series"]
        ],
    }
    total = sum(sum(s["data"]) for s in chart["series"])
    return render(
        request,
        "investigation/timeline.html",
        {
            "chart": chart,
            "total": total,
            "without_onset": counts["without_onset"],
            "diseases": diseases,
            "disease": disease,
            "days": TIMELINE_DAYS,
        },
    )


# --- Follow-up -------------------------------------------------------------------------


@staff_page
@require_GET
def followups(request: HttpRequest) -> HttpResponse:
    """Today's follow-ups: the user's teams' by default, or all of their area."""
    user = _user(request)
    mine = request.GET.get("all") != "1"
    page_number = request.GET.get("page", "1")
    items = page_of(
        followup_selectors.followup_list_for(user, mine=mine).select_related("contact__disease"),
        int(page_number) if page_number.isdigit() else 1,
        FOLLOWUP_PAGE_SIZE,
    )
    can_record = permissions.has_capability(user, "followup.record")
    rows = [{"fu": fu, "form": _followup_form(fu) if can_record else None} for fu in items.items]
    return render(
        request,
        "investigation/followups.html",
        {
            "page": items,
            "rows": rows,
            "mine": mine,
            "today": timezone.localdate(),
            "can_record": can_record,
            "line_url": reverse("investigation:contact_line_list"),
            "line_filters": list(
                ContactFilterForm(
                    districts=page_selectors.district_choices(user),
                    diseases=list(case_selectors.disease_list()),
                )
            )
            if permissions.has_capability(user, "contact.view")
            else None,
            "can_unmask": permissions.has_capability(user, "person.unmask"),
        },
    )


def _followup_form(fu: FollowUp, data: Any = None) -> FollowUpForm | None:
    """The quick form of a row, while the person has not been seen today."""
    if data is None and fu.status not in (
        FollowUp.Status.NOT_ATTEMPTED,
        FollowUp.Status.NOT_REACHED,
    ):
        return None
    return FollowUpForm(data, prefix=f"fu{fu.pk}")


@staff_page
@require_POST
def followup_record(request: HttpRequest, followup_id: int) -> HttpResponseBase:
    user = _user(request)
    fu = followup_selectors.access_followup_by_id(user, followup_id)
    form = _followup_form(fu, request.POST)
    assert form is not None
    opened = None
    status = INVALID
    if form.is_valid():
        with errors_onto(form) as outcome:
            recorded = followup_services.followup_record(
                actor=user,
                followup_id=fu.pk,
                status=form.cleaned_data["status"],
                symptoms=form.symptom_list(),
                temperature=form.cleaned_data.get("temperature"),
            )
        if outcome.ok:
            opened = getattr(recorded, "opened_case", None)
            fu = followup_selectors.access_followup_by_id(user, fu.pk)
            form = _followup_form(fu)
            status = 200
    if not is_htmx(request):
        if status != 200:
            errors = [str(m) for field in form.errors.values() for m in field] if form else []
            messages.error(request, " ".join(errors) or _("The follow-up was not saved."))
        elif opened is not None:
            messages.warning(
                request,
                _("A suspected case was opened: %(number)s.") % {"number": opened.number},
            )
        return redirect("investigation:followups")
    return render(
        request,
        "investigation/_followup_row.html",
        {"fu": fu, "form": form, "opened": opened, "can_record": True},
        status=status,
    )


# --- Disease rules -----------------------------------------------------------------


def _rules_form(latest: Any, data: Any = None) -> RulesVersionForm:
    from fangkong.investigation.services.rules import RULE_PARAMETERS

    initial: dict[str, Any] = {"effective_from": timezone.localdate()}
    if latest is not None:
        initial.update({name: getattr(latest, name) for name in RULE_PARAMETERS})
        initial["classifications"] = list(latest.classifications)
    return RulesVersionForm(data, initial=initial, prefix=latest.disease.code if latest else None)


def _rules_page(
    request: HttpRequest,
    *,
    bound: RulesVersionForm | None = None,
    code: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    can_manage = permissions.has_capability(user, "rules.manage")
    diseases = []
    for disease in case_selectors.disease_list():
        versions = list(case_selectors.rules_list(disease.code))
        form = None
        if can_manage:
            form = bound if bound is not None and code == disease.code else None
            form = form or _rules_form(versions[0] if versions else None)
        in_force = next((v for v in versions if v.effective_from <= timezone.localdate()), None)
        diseases.append(
            {
                "disease": disease,
                "versions": versions,
                "in_force": in_force,
                "form": form,
                "open": bound is not None and code == disease.code,
            }
        )
    return render(
        request,
        "investigation/rules.html",
        {"diseases": diseases, "can_manage": can_manage},
        status=status,
    )


@staff_page
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    """Each disease's rule versions (the one in force marked); a form for a new one."""
    permissions.require(_user(request), "case.view")
    return _rules_page(request)


@staff_page
@require_POST
def rules_add(request: HttpRequest, code: str) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "rules.manage")
    versions = list(case_selectors.rules_list(code))
    if not versions:
        raise NotFound()
    form = _rules_form(versions[0], request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            added = rules_services.rules_add_version(
                actor=user,
                disease_code=code,
                effective_from=data["effective_from"],
                source_document=data["source_document"],
                classifications=list(data["classifications"]),
                reason=data.get("reason") or "",
                **form.parameters(),
            )
        if outcome.ok:
            messages.success(
                request,
                _("Version %(v)s of the rules of %(disease)s takes effect on %(date)s.")
                % {
                    "v": added.version,
                    "disease": added.disease.name,
                    "date": added.effective_from.isoformat(),
                },
            )
            return redirect("investigation:rules")
    return _rules_page(request, bound=form, code=code, status=INVALID)


# --- Line lists (CSV / XLSX, streamed) ---------------------------------------------------


def _line_list_options(request: HttpRequest) -> tuple[str, bool, str]:
    form = LineListForm(request.GET)
    if not form.is_valid():
        raise ValidationFailed(fields={k: str(v[0]) for k, v in form.errors.items()})
    data = form.cleaned_data
    return data["format"] or "csv", bool(data["unmask"]), data["reason"] or ""


def _filters_or_error(form: Any) -> dict[str, Any]:
    if not form.is_valid():
        raise ValidationFailed(fields={k: str(v[0]) for k, v in form.errors.items()})
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "") and k != "page"}


def _line_list_response(lines: Any, fmt: str, stem: str) -> HttpResponseBase:
    name = f"{stem}-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        return xlsx_response(lines.xlsx(), name)
    return csv_response(lines.csv(), name)


@staff_page
@require_GET
def case_line_list(request: HttpRequest) -> HttpResponseBase:
    """The case list's cases (same filters) as a line list, streamed."""
    user = _user(request)
    fmt, unmask, reason = _line_list_options(request)
    form = CaseFilterForm(
        request.GET,
        districts=page_selectors.district_choices(user),
        diseases=list(case_selectors.disease_list()),
    )
    filters = _filters_or_error(form)
    under = None
    if filters.get("district"):
        under = core_selectors.access_jurisdiction_by_id(user, filters["district"]).path
    qs = case_selectors.case_list_for(
        user,
        disease=filters.get("disease"),
        classification=filters.get("classification"),
        investigation_status=filters.get("status"),
        under_path=under,
        q=filters.get("q", ""),
    )
    lines = line_lists.case_line_list(
        actor=user, qs=qs, filters=filters, unmask=unmask, reason=reason
    )
    return _line_list_response(lines, fmt, "cases")


@staff_page
@require_GET
def contact_line_list(request: HttpRequest) -> HttpResponseBase:
    """Contacts of the user's area (filtered) as a line list, streamed."""
    user = _user(request)
    fmt, unmask, reason = _line_list_options(request)
    form = ContactFilterForm(
        request.GET,
        districts=page_selectors.district_choices(user),
        diseases=list(case_selectors.disease_list()),
    )
    filters = _filters_or_error(form)
    under = None
    if filters.get("district"):
        under = core_selectors.access_jurisdiction_by_id(user, filters["district"]).path
    qs = contact_selectors.contact_list_for(
        user,
        status=filters.get("status"),
        category=filters.get("category"),
        under_path=under,
        disease=filters.get("disease"),
    )
    lines = line_lists.contact_line_list(
        actor=user, qs=qs, filters=filters, unmask=unmask, reason=reason
    )
    return _line_list_response(lines, fmt, "contacts")


# --- Closed-loop breach inquiries (破环流调) ------------------------------------------------

BREACH_PAGE_SIZE = 50


@staff_page
@require_GET
def breach_list(request: HttpRequest) -> HttpResponse:
    """Breaches of quarantine sites' closed loops in the user's area, open ones first."""
    user = _user(request)
    permissions.require(user, "case.view")
    show_all = request.GET.get("all") == "1"
    qs = breach_selectors.breach_inquiry_list_for(user, open_only=not show_all)
    try:
        number = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        number = 1
    page = page_of(qs, number, BREACH_PAGE_SIZE)
    return render(request, "investigation/breaches.html", {"page": page, "show_all": show_all})


def _breach_page(
    request: HttpRequest, inquiry_id: int, *, form: BreachCloseForm | None = None
) -> HttpResponse:
    user = _user(request)
    inquiry = breach_selectors.access_breach_inquiry_by_id(user, inquiry_id)
    return render(
        request,
        "investigation/breach.html",
        {
            "inquiry": inquiry,
            "breach": quarantine_shared.breach_fact(user, inquiry.breach_id),
            "close_form": form or BreachCloseForm(),
            "can_manage": permissions.has_capability(user, "case.manage"),
        },
        status=INVALID if form is not None else 200,
    )


@staff_page
@require_GET
def breach_detail(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    """One breach: what happened and who was involved (from the site), and the inquiry."""
    permissions.require(_user(request), "case.view")
    return _breach_page(request, inquiry_id)


@staff_page
@require_POST
def breach_take(request: HttpRequest, inquiry_id: int) -> HttpResponseBase:
    breach_services.breach_inquiry_take(actor=_user(request), inquiry_id=inquiry_id)
    messages.success(request, _("You have taken up this inquiry."))
    return redirect("investigation:breach", inquiry_id=inquiry_id)


@staff_page
@require_POST
def breach_close(request: HttpRequest, inquiry_id: int) -> HttpResponseBase:
    form = BreachCloseForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            breach_services.breach_inquiry_close(
                actor=_user(request),
                inquiry_id=inquiry_id,
                outcome=form.cleaned_data["outcome"],
                findings=form.cleaned_data["findings"],
            )
        if outcome.ok:
            messages.success(request, _("The inquiry is closed with its findings."))
            return redirect("investigation:breach", inquiry_id=inquiry_id)
    return _breach_page(request, inquiry_id, form=form)
