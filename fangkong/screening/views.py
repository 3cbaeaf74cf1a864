"""Staff pages of the screening app: overview, sampler, lab, round dashboard,
untested list, XLSX exports, set-up of rounds, sites, labs and teams, review of
held and conflicting results. Thin: forms validate, services and selectors work."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core.errors import ApplicationError, NotFound
from fangkong.core.forms import errors_onto
from fangkong.core.selectors import access_jurisdiction_by_id, key_group_list
from fangkong.core.views import staff_page
from fangkong.screening import forms, selectors
from fangkong.screening.exports import coverage_xlsx, untested_xlsx
from fangkong.screening.models import Exclusion, Lab, ResultReport, Round, Site, Task, Team, Tube
from fangkong.screening.selectors import coverage as coverage_selectors
from fangkong.screening.selectors import manage as manage_selectors
from fangkong.screening.services import custody, followup, reminders, results, rounds, sampling

SESSION_TUBE = "screening_tube"
SESSION_ROUND = "screening_round"
SESSION_SITE = "screening_site"


def _error_text(exc: ApplicationError) -> str:
    if exc.fields:
        return " ".join(str(v) for v in exc.fields.values())
    return str(exc.message)


# --- Overview ---------------------------------------------------------------------------


@staff_page
@require_GET
def overview(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    can_view = permissions.has_capability(user, "screening.view")
    if not can_view and permissions.has_capability(user, "screening.sample"):
        return redirect("screening:sampler")
    permissions.require(user, "screening.view")
    round_list = list(selectors.round_list_for(user)[:50])
    can_manage = permissions.has_capability(user, "screening.manage")
    return render(
        request,
        "screening/overview.html",
        {
            "rounds": round_list,
            "sites": selectors.public_sites(),
            "labs": selectors.lab_list_for(user),
            "can_sample": permissions.has_capability(user, "screening.sample"),
            "can_lab": permissions.has_capability(user, "screening.lab"),
            "can_manage": can_manage,
            "reviews_waiting": selectors.held_reports_for(user).count() if can_manage else 0,
        },
    )


# --- Sampler (phone-sized, scan-first) ------------------------------------------------------


def _sampler_context(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    open_rounds = selectors.round_list_open_for(user, capability="screening.sample")
    round_id = request.session.get(SESSION_ROUND)
    site_id = request.session.get(SESSION_SITE)
    tube = None
    members: list[Any] = []
    code = request.session.get(SESSION_TUBE)
    if code:
        tube = Tube.objects.filter(barcode=code).first()
        if tube is None or tube.state != Tube.State.OPEN:
            request.session.pop(SESSION_TUBE, None)
            tube = None
        else:
            members = list(tube.members.select_related("person").order_by("sampled_at", "pk"))
    prefix = permissions.scope_path(user) or ""
    sites = list(
        Site.objects.filter(active=True, scope_path__startswith=prefix).order_by("name")[:200]
    )
    return {
        "rounds": open_rounds,
        "sites": sites,
        "round_id": round_id,
        "site_id": site_id,
        "site": next((s for s in sites if s.pk == site_id), None),
        "tube": tube,
        "members": members,
        "queue_states": Site.Queue.choices,
        "need_name": request.session.pop("screening_need_name", ""),
    }


@staff_page
@require_http_methods(["GET", "POST"])
def sampler(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.sample")
    if request.method == "POST":
        action = request.POST.get("action", "")
        value = (request.POST.get("code") or "").strip()
        try:
            _sampler_action(request, action, value)
        except ApplicationError as exc:
            messages.error(request, _error_text(exc))
        return redirect("screening:sampler")
    return render(request, "screening/sampler.html", _sampler_context(request))


def _sampler_action(request: HttpRequest, action: str, value: str) -> None:
    user: Any = request.user
    session = request.session
    if action == "setup":
        session[SESSION_ROUND] = int(request.POST.get("round_id") or 0) or None
        session[SESSION_SITE] = int(request.POST.get("site_id") or 0) or None
        return
    if action == "queue":
        site_id = session.get(SESSION_SITE)
        if site_id:
            rounds.site_set_queue(
                actor=user, site_id=site_id, queue_state=request.POST.get("queue_state", "")
            )
            messages.success(request, _("Queue state updated."))
        return
    if action == "open":
        round_id = session.get(SESSION_ROUND)
        if not round_id:
            messages.error(request, _("Choose the round first."))
            return
        tube = sampling.tube_open(
            actor=user,
            round_id=round_id,
            barcode=value,
            site_id=session.get(SESSION_SITE),
            retest=request.POST.get("retest") == "1",
        )
        session[SESSION_TUBE] = tube.barcode
        messages.success(request, _("Tube %(code)s opened.") % {"code": tube.barcode})
        return
    code = session.get(SESSION_TUBE)
    if not code:
        messages.error(request, _("Scan a tube barcode first."))
        return
    if action == "scan":
        name = (request.POST.get("name") or "").strip()
        if "." in value:  # a signed personal code
            out = sampling.tube_scan(actor=user, barcode=code, person_token=value)
        else:
            try:
                out = sampling.tube_scan(actor=user, barcode=code, doc_number=value, name=name)
            except NotFound as exc:
                if "name" in exc.fields:
                    session["screening_need_name"] = value
                raise
        if out.warning:
            messages.warning(request, f"{out.person_name}: {out.warning}")
        else:
            messages.success(
                request,
                _("%(name)s added (%(n)s of %(cap)s).")
                % {"name": out.person_name, "n": out.member_count, "cap": out.capacity},
            )
        if out.member_count >= out.capacity:
            messages.info(request, _("The tube is full: close it."))
        return
    if action == "close":
        tube = sampling.tube_close(actor=user, barcode=code)
        session.pop(SESSION_TUBE, None)
        messages.success(
            request,
            _("Tube %(code)s closed with %(n)s people.")
            % {"code": tube.barcode, "n": tube.member_count},
        )
        return
    messages.error(request, _("Unknown action."))


# --- Transport and lab ----------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def boxes(request: HttpRequest) -> HttpResponseBase:
    """Pack closed tubes into a box and hand it over (transport)."""
    user: Any = request.user
    permissions.require(user, "screening.transport")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "hand_over":
                custody.box_hand_over(
                    actor=user,
                    barcode=request.POST.get("barcode", ""),
                    place=request.POST.get("place", ""),
                )
                messages.success(request, _("Box handed over."))
            else:
                codes = [c for c in request.POST.get("tubes", "").split() if c]
                box = custody.box_pack(
                    actor=user,
                    round_id=int(request.POST.get("round_id") or 0),
                    barcode=request.POST.get("barcode", ""),
                    tube_barcodes=codes,
                )
                messages.success(
                    request,
                    _("Box %(code)s packed with %(n)s tubes.")
                    % {"code": box.barcode, "n": len(codes)},
                )
        except (ApplicationError, ValueError) as exc:
            messages.error(
                request, _error_text(exc) if isinstance(exc, ApplicationError) else str(exc)
            )
        return redirect("screening:boxes")
    return render(
        request,
        "screening/boxes.html",
        {"rounds": selectors.round_list_open_for(user, capability="screening.transport")},
    )


@staff_page
@require_http_methods(["GET", "POST"])
def lab(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.lab")
    labs = selectors.lab_list_for(user)
    lab_id = int(
        request.GET.get("lab") or request.POST.get("lab_id") or (labs[0].pk if labs else 0)
    )
    current = next((x for x in labs if x.pk == lab_id), None)
    row_errors: list[dict[str, Any]] = []
    if request.method == "POST" and current is not None:
        action = request.POST.get("action", "")
        try:
            if action == "receive":
                box = custody.box_receive(
                    actor=user, lab_id=current.pk, barcode=request.POST.get("barcode", "")
                )
                messages.success(
                    request,
                    _("Box %(code)s received: %(n)s tubes.")
                    % {"code": box.barcode, "n": box.tubes.count()},
                )
            elif action == "result":
                cts = {
                    gene: request.POST.get(f"ct_{gene}", "")
                    for gene in ("ORF1ab", "N")
                    if request.POST.get(f"ct_{gene}")
                }
                rows = [
                    {
                        "tube": request.POST.get("tube", ""),
                        "result": request.POST.get("result", ""),
                        "ct_values": cts,
                    }
                ]
                _report_message(
                    request, results.results_import(actor=user, lab_id=current.pk, rows=rows)
                )
            elif action == "import":
                upload = request.FILES.get("file")
                if upload is None:
                    messages.error(request, _("Choose a CSV file."))
                else:
                    rows = results.csv_parse(upload.read())
                    _report_message(
                        request,
                        results.results_import(
                            actor=user, lab_id=current.pk, rows=rows, source="csv"
                        ),
                    )
        except ApplicationError as exc:
            row_errors = list(exc.extra.get("rows", []))
            messages.error(request, _error_text(exc) if not row_errors else str(exc.message))
            if row_errors:
                return render(
                    request,
                    "screening/lab.html",
                    _lab_context(user, labs, current, row_errors),
                    status=400,
                )
        return redirect(f"{reverse('screening:lab')}?lab={current.pk}")
    return render(request, "screening/lab.html", _lab_context(user, labs, current, row_errors))


def _lab_context(
    user: Any, labs: list[Any], current: Any, row_errors: list[dict[str, Any]]
) -> dict[str, Any]:
    held = list(selectors.held_reports_for(user, lab=current)[:100]) if current else []
    recent = list(Tube.objects.filter(lab=current).order_by("-received_at")[:30]) if current else []
    can_manage = permissions.has_capability(user, "screening.manage")
    return {
        "labs": labs,
        "lab": current,
        "held": held,
        "recent": recent,
        "row_errors": row_errors,
        "can_review": can_manage,
        "reviews_waiting": (
            manage_selectors.reports_to_review_for(user, lab=current).count()
            if can_manage and current
            else 0
        ),
    }


def _report_message(request: HttpRequest, report: Any) -> None:
    messages.success(
        request,
        _(
            "%(rows)s rows: %(applied)s applied, %(dup)s unchanged, %(conflicts)s "
            "conflicts and %(held)s held for review."
        )
        % {
            "rows": report.rows,
            "applied": report.applied,
            "dup": report.duplicates,
            "conflicts": report.conflicts,
            "held": report.held,
        },
    )


# --- Round dashboard, untested, exports ----------------------------------------------------------


LEVEL_LABELS = {  # lazy: read in the language of each request
    "district": gettext_lazy("District"),
    "subdistrict": gettext_lazy("Subdistrict"),
    "community": gettext_lazy("Community"),
    "grid": gettext_lazy("Grid"),
}


@staff_page
@require_GET
def round_dashboard(request: HttpRequest, round_id: int) -> HttpResponseBase:
    user: Any = request.user
    rnd = selectors.access_round_by_id(user, round_id)
    level = request.GET.get("level", "grid")
    if level not in coverage_selectors.LEVELS:
        level = "grid"
    rows = coverage_selectors.coverage(user, rnd, level=level)
    chart = {
        "names": [r.name for r in rows],
        "coverage": [r.coverage for r in rows],
        "positive": [r.positive for r in rows],
        "labels": {"coverage": _("Coverage %"), "positive": _("Positive people")},
    }
    return render(
        request,
        "screening/round.html",
        {
            "round": rnd,
            "rows": rows,
            "total": coverage_selectors.coverage_total(rows),
            "level": level,
            "levels": [(k, LEVEL_LABELS[k]) for k in coverage_selectors.LEVELS],
            "chart": chart,
            "sla": coverage_selectors.sla_board(user, rnd),
            "positives": list(selectors.positives_for(user, rnd)[:50]),
            "buildings": selectors.flagged_buildings_for(user, rnd)[:50],
            "tasks": list(selectors.task_list_for(user, rnd=rnd)[:50]),
            "held": list(selectors.held_reports_for(user)[:20]),
        },
    )


def _reminder_batches(user: Any, rnd: Round) -> list[dict[str, Any]]:
    """The round's latest reminder batches with their progress (preparation, then
    messages by status in the reader's language)."""
    if not permissions.has_capability(user, "notify.view"):
        return []
    from fangkong.notify.selectors.shared import batches_with_progress

    return batches_with_progress(
        user, purpose=reminders.PURPOSE, dedup_key=reminders.round_dedup_key(rnd)
    )


def _reminders_context(user: Any, rnd: Round) -> dict[str, Any]:
    batches = _reminder_batches(user, rnd)
    # While one is prepared or sent, the page polls its progress.
    active = any(item["batch"].status != "completed" for item in batches)
    return {"batches": batches, "reminders_active": active}


@staff_page
@require_GET
def untested(request: HttpRequest, round_id: int, node_id: int) -> HttpResponseBase:
    user: Any = request.user
    rnd = selectors.access_round_by_id(user, round_id)
    node = access_jurisdiction_by_id(user, node_id)
    limit = coverage_selectors.UNTESTED_ROWS
    rows = coverage_selectors.untested_rows(user, rnd, node, limit=limit)
    total = len(rows)
    if total >= limit:  # the list is cut: count them all
        total = coverage_selectors.untested_for(user, rnd, node).count()
    return render(
        request,
        "screening/untested.html",
        {
            **_reminders_context(user, rnd),
            "round": rnd,
            "node": node,
            "rows": rows,
            "total": total,
            "limited": [r["id"] for r in rows if r["limited_mobility"]],
            "can_remind": permissions.has_capability(user, "screening.remind"),
            "can_manage": permissions.has_capability(user, "screening.manage"),
            "exclusion_reasons": Exclusion.Reason.choices,
        },
    )


@staff_page
@require_GET
def untested_reminders(request: HttpRequest, round_id: int, node_id: int) -> HttpResponseBase:
    """The reminder batches' progress alone (the untested page polls it while a batch
    is being prepared or sent)."""
    user: Any = request.user
    rnd = selectors.access_round_by_id(user, round_id)
    node = access_jurisdiction_by_id(user, node_id)
    return render(
        request,
        "screening/_reminders.html",
        {**_reminders_context(user, rnd), "round": rnd, "node": node},
    )


@staff_page
@require_POST
def untested_action(request: HttpRequest, round_id: int, node_id: int) -> HttpResponseBase:
    user: Any = request.user
    try:
        if request.POST.get("action") == "remind":
            batch = reminders.reminders_send(actor=user, round_id=round_id, node_id=node_id)
            if batch.status == "preparing":
                note = _(
                    "%(n)s reminders accepted; the worker prepares and sends them (progress below)."
                )
            else:
                note = _("%(n)s reminders queued; the worker sends them.")
            messages.success(request, note % {"n": batch.total})
        elif request.POST.get("action") == "door_to_door":
            ids = [int(x) for x in request.POST.getlist("person_id") if x.isdigit()]
            n = followup.door_to_door_tasks_create(actor=user, round_id=round_id, person_ids=ids)
            messages.success(request, _("%(n)s door-to-door tasks created.") % {"n": n})
        elif request.POST.get("action") == "exclude":
            form = forms.ExclusionForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose why the person is not sampled."))
            else:
                rounds.exclusion_add(
                    actor=user,
                    round_id=round_id,
                    person_id=form.cleaned_data["person_id"],
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data.get("note") or "",
                )
                messages.success(request, _("Excluded from this round."))
    except NotFound:
        raise
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
    return redirect("screening:untested", round_id=round_id, node_id=node_id)


@staff_page
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponseBase:
    user: Any = request.user
    task = followup.task_set_state(actor=user, task_id=task_id, state=Task.State.DONE)
    return redirect("screening:round", round_id=task.round_id)


def _xlsx_response(chunks: Any, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        chunks,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_page
@require_GET
def coverage_export(request: HttpRequest, round_id: int) -> HttpResponseBase:
    user: Any = request.user
    rnd = selectors.access_round_by_id(user, round_id)
    level = request.GET.get("level", "grid")
    rows = coverage_selectors.coverage(user, rnd, level=level)
    return _xlsx_response(coverage_xlsx(rows), f"coverage-{rnd.pk}-{level}.xlsx")


@staff_page
@require_GET
def untested_export(request: HttpRequest, round_id: int, node_id: int) -> HttpResponseBase:
    user: Any = request.user
    rnd = selectors.access_round_by_id(user, round_id)
    node = access_jurisdiction_by_id(user, node_id)
    rows = coverage_selectors.untested_rows(user, rnd, node, limit=100_000)
    return _xlsx_response(untested_xlsx(rows), f"untested-{rnd.pk}-{node.pk}.xlsx")


# --- Set-up: rounds, sites, labs, teams ----------------------------------------------------


def _manage_nav(user: Any) -> dict[str, Any]:
    """What every set-up page shows: the waiting reviews count for the sub-navigation."""
    return {"reviews_waiting": selectors.held_reports_for(user).count()}


def _setup_page(
    request: HttpRequest,
    *,
    form: Form,
    create: Any,
    template: str,
    done: Any,
    context: dict[str, Any],
) -> HttpResponseBase:
    """One list-and-create page: a valid form goes to ``create(data)``; a domain
    error lands on the form (a node outside the area is a 404, by NotFound)."""
    user: Any = request.user
    if request.method == "POST" and form.is_valid():
        with errors_onto(form) as outcome:
            obj = create(form.cleaned_data)
        if outcome.ok:
            messages.success(request, done(obj))
            return redirect(request.path)
    status = 400 if form.is_bound else 200
    return render(request, template, {"form": form, **_manage_nav(user), **context}, status=status)


@staff_page
@require_http_methods(["GET", "POST"])
def rounds_manage(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.manage")
    now = timezone.localtime().replace(second=0, microsecond=0)
    ratios = rounds.allowed_ratios()
    form = forms.RoundForm(
        request.POST if request.method == "POST" else None,
        areas=manage_selectors.area_choices_for(user),
        ratios=ratios,
        labs=selectors.lab_list_for(user, include_above=True),
        key_groups=list(key_group_list()),
        initial={
            "starts_at": now,
            "ends_at": now + dt.timedelta(days=1),
            "target": Round.Target.ALL,
            "pooling_ratio": max(ratios, default=None),
        },
    )

    return _setup_page(
        request,
        form=form,
        create=lambda data: rounds.round_create(actor=user, **data),  # fields = keywords
        template="screening/manage_rounds.html",
        done=lambda r: _("Round %(name)s created.") % {"name": r.name},
        context={"rounds": list(selectors.round_list_for(user).prefetch_related("labs")[:100])},
    )


@staff_page
@require_POST
def round_close(request: HttpRequest, round_id: int) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.manage")
    rnd = rounds.round_close(actor=user, round_id=round_id)
    messages.success(request, _("Round %(name)s closed.") % {"name": rnd.name})
    return redirect("screening:rounds_manage")


@staff_page
@require_http_methods(["GET", "POST"])
def sites_manage(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.manage")
    form = forms.SiteForm(
        request.POST if request.method == "POST" else None,
        areas=manage_selectors.area_choices_for(user),
        initial={"lanes": 1, "opens_at": dt.time(8, 0), "closes_at": dt.time(20, 0)},
    )

    return _setup_page(
        request,
        form=form,
        create=lambda data: rounds.site_create(actor=user, **data),  # fields = keywords
        template="screening/manage_sites.html",
        done=lambda s: _("Sampling site %(name)s created.") % {"name": s.name},
        context={
            "sites": list(manage_selectors.site_list_for(user)[:300]),
            "queue_states": Site.Queue.choices,
        },
    )


@staff_page
@require_POST
def site_queue(request: HttpRequest, site_id: int) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.manage")
    form = forms.QueueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown queue state."))
    else:
        site = rounds.site_set_queue(
            actor=user, site_id=site_id, queue_state=form.cleaned_data["queue_state"]
        )
        messages.success(
            request,
            _("Queue at %(name)s: %(state)s.")
            % {"name": site.name, "state": site.get_queue_state_display()},
        )
    return redirect("screening:sites_manage")


@staff_page
@require_http_methods(["GET", "POST"])
def labs_manage(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.manage")
    form = forms.LabForm(
        request.POST if request.method == "POST" else None,
        areas=manage_selectors.area_choices_for(user),
    )

    return _setup_page(
        request,
        form=form,
        create=lambda data: rounds.lab_create(actor=user, **data),  # fields = keywords
        template="screening/manage_labs.html",
        done=lambda lab: _("Lab %(name)s created.") % {"name": lab.name},
        context={"labs": list(manage_selectors.lab_setup_list_for(user)[:300])},
    )


@staff_page
@require_http_methods(["GET", "POST"])
def teams_manage(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.manage")
    form = forms.TeamForm(
        request.POST if request.method == "POST" else None,
        areas=manage_selectors.area_choices_for(user),
    )

    return _setup_page(
        request,
        form=form,
        create=lambda data: rounds.team_create(actor=user, **data),  # fields = keywords
        template="screening/manage_teams.html",
        done=lambda t: _("Sampling team %(name)s created.") % {"name": t.name},
        context={"teams": list(manage_selectors.team_list_for(user)[:300])},
    )


def _edit_page(
    request: HttpRequest,
    *,
    model: Any,
    pk: int,
    form_class: Any,
    fields: list[str],
    update: Any,
    title: str,
    back: str,
) -> HttpResponseBase:
    """Edit one site, lab or team: the form holds the update service's keywords."""
    user: Any = request.user
    permissions.require(user, "screening.manage")
    obj = manage_selectors.access_setup_by_id(user, model, pk)
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            with errors_onto(form) as outcome:
                update(obj.pk, form.cleaned_data)
            if outcome.ok:
                messages.success(
                    request, _("%(name)s saved.") % {"name": form.cleaned_data["name"]}
                )
                return redirect(back)
    else:
        form = form_class(initial={f: getattr(obj, f) for f in fields})
    status = 400 if form.is_bound else 200
    return render(
        request,
        "screening/manage_edit.html",
        {"form": form, "object": obj, "title": title, "back": reverse(back), **_manage_nav(user)},
        status=status,
    )


@staff_page
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, site_id: int) -> HttpResponseBase:
    user: Any = request.user
    form_fields = list(forms.SiteEditForm.base_fields)
    return _edit_page(
        request,
        model=Site,
        pk=site_id,
        form_class=forms.SiteEditForm,
        fields=form_fields,
        update=lambda pk, data: rounds.site_update(actor=user, site_id=pk, **data),
        title=_("Edit the sampling site"),
        back="screening:sites_manage",
    )


@staff_page
@require_http_methods(["GET", "POST"])
def lab_edit(request: HttpRequest, lab_id: int) -> HttpResponseBase:
    user: Any = request.user
    return _edit_page(
        request,
        model=Lab,
        pk=lab_id,
        form_class=forms.LabEditForm,
        fields=list(forms.LabEditForm.base_fields),
        update=lambda pk, data: rounds.lab_update(actor=user, lab_id=pk, **data),
        title=_("Edit the lab"),
        back="screening:labs_manage",
    )


@staff_page
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int) -> HttpResponseBase:
    user: Any = request.user
    return _edit_page(
        request,
        model=Team,
        pk=team_id,
        form_class=forms.TeamEditForm,
        fields=list(forms.TeamEditForm.base_fields),
        update=lambda pk, data: rounds.team_update(actor=user, team_id=pk, **data),
        title=_("Edit the sampling team"),
        back="screening:teams_manage",
    )


# --- Review of held and conflicting result reports -------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def reviews(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "screening.manage")
    labs = selectors.lab_list_for(user, include_above=True)
    raw_lab = request.GET.get("lab", "")
    lab = next((x for x in labs if str(x.pk) == raw_lab), None)
    if raw_lab and lab is None:
        raise NotFound()
    failed: dict[int, forms.ReviewForm] = {}
    if request.method == "POST":
        raw_id = request.POST.get("report_id", "")
        report_id = int(raw_id) if raw_id.isdigit() else 0
        form = forms.ReviewForm(request.POST, prefix=f"r{report_id}")
        report = manage_selectors.access_report_by_id(user, report_id)
        if report.status == ResultReport.Status.RESOLVED:
            messages.info(request, _("This report was already reviewed."))
            return redirect(request.get_full_path())
        if form.is_valid():
            with errors_onto(form) as outcome:
                results.report_review(
                    actor=user, report_id=report_id, note=form.cleaned_data["note"]
                )
            if outcome.ok:
                messages.success(request, _("Report reviewed."))
                return redirect(request.get_full_path())
        failed[report_id] = form
    rows = list(manage_selectors.reports_to_review_for(user, lab=lab)[:200])
    items = [
        {"report": r, "form": failed.get(r.pk) or forms.ReviewForm(prefix=f"r{r.pk}")} for r in rows
    ]
    return render(
        request,
        "screening/reviews.html",
        {
            "items": items,
            "labs": labs,
            "lab": lab,
            "conflict": ResultReport.Status.CONFLICT,
            **_manage_nav(user),
        },
        status=400 if failed else 200,
    )
