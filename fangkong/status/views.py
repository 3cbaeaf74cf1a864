"""Status pages.

Public (mobile-first, ``public_base.html``): resident sign-in with document number
+ SMS code, "my status" with each reason in plain language and the personal QR
code, the appeal form. Staff (``base.html``): overview, a person's status panel,
approvals queue, appeals queue, manual-change report.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core.errors import ApplicationError
from fangkong.core.forms import add_application_errors, errors_onto
from fangkong.core.selectors import access_person_by_id
from fangkong.core.views import INVALID, page_of, staff_page
from fangkong.status import rules, selectors
from fangkong.status.forms import (
    AppealDecisionForm,
    AppealForm,
    CodeForm,
    DecisionForm,
    DocumentForm,
    ManualRequestForm,
)
from fangkong.status.models import Appeal, ManualRequest
from fangkong.status.resident import (
    resident_code_send,
    resident_code_verify,
    resident_logout,
    resident_person_id,
    resident_required,
)
from fangkong.status.services import appeals as appeal_services
from fangkong.status.services import manual as manual_services
from fangkong.status.tokens import status_token, token_expiry


def _qr_svg(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return str(img.to_string(encoding="unicode"))


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return "/status/me/"


# --- Public: the resident ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def resident_login(request: HttpRequest) -> HttpResponseBase:
    """Step 1: document number -> SMS code. Step 2: document number + code."""
    step = "code" if request.POST.get("step") in ("send", "verify") else "document"
    doc_form = DocumentForm(request.POST if request.POST.get("step") == "send" else None)
    code_form = CodeForm(
        request.POST if request.POST.get("step") == "verify" else None,
        initial={"doc_number": request.POST.get("doc_number", "")},
    )
    status = 200
    if request.method == "POST" and request.POST.get("step") == "send":
        if doc_form.is_valid():
            with errors_onto(doc_form) as outcome:
                resident_code_send(doc_number=doc_form.cleaned_data["doc_number"])
            if outcome.ok:
                code_form = CodeForm(initial={"doc_number": doc_form.cleaned_data["doc_number"]})
                messages.info(
                    request,
                    _(
                        "If this document is registered with a mobile number, a code has "
                        "been sent to it."
                    ),
                )
            else:
                step, status = "document", INVALID
        else:
            step, status = "document", INVALID
    elif request.method == "POST" and request.POST.get("step") == "verify":
        if code_form.is_valid():
            with errors_onto(code_form) as outcome:
                resident_code_verify(
                    request,
                    doc_number=code_form.cleaned_data["doc_number"],
                    code=code_form.cleaned_data["code"],
                )
            if outcome.ok:
                return redirect(_next_url(request))
        status = INVALID
    return render(
        request,
        "status/public/login.html",
        {
            "step": step,
            "doc_form": doc_form,
            "code_form": code_form,
            "next": request.POST.get("next") or request.GET.get("next") or "",
        },
        status=status,
    )


@require_POST
def resident_signout(request: HttpRequest) -> HttpResponseBase:
    resident_logout(request)
    return redirect("status:resident_login")


@resident_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    pid = resident_person_id(request)
    assert pid is not None
    st = selectors.person_status(pid)
    token = status_token(pid)
    return render(
        request,
        "status/public/me.html",
        {
            "st": st,
            "qr": mark_safe(_qr_svg(token)),  # noqa: S308 - our own SVG of a signed token
            "token_expiry": token_expiry(),
            "appeals": Appeal.objects.filter(person_id=pid).order_by("-created_at")[:5],
            "now": timezone.now(),
        },
    )


@resident_required
@require_http_methods(["GET", "POST"])
def appeal_new(request: HttpRequest) -> HttpResponseBase:
    pid = resident_person_id(request)
    assert pid is not None
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with errors_onto(form) as outcome:
            appeal_services.appeal_create(
                person_id=pid,
                doc_number=form.cleaned_data["doc_number"],
                text=form.cleaned_data["text"],
            )
        if outcome.ok:
            messages.success(
                request,
                _("Your appeal was received. You will get the decision by SMS within %(h)s hours.")
                % {"h": rules.policy().appeal_sla_hours},
            )
            return redirect("status:me")
    status = INVALID if request.method == "POST" else 200
    return render(request, "status/public/appeal.html", {"form": form}, status=status)


# --- Staff ---------------------------------------------------------------------------


def _can(request: HttpRequest, capability: str) -> bool:
    return permissions.has_capability(request.user, capability)


@staff_page
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    permissions.require(user, "status.view")
    now = timezone.now()
    open_appeals = selectors.appeals_for(user)
    return render(
        request,
        "status/overview.html",
        {
            "counts": selectors.status_counts(user),
            "pending": selectors.manual_requests_for(user, state="pending").count(),
            "open_appeals": open_appeals.count(),
            "overdue": list(open_appeals.filter(due_at__lt=now)[:20]),
            "alerts": selectors.manual_alerts(user) if _can(request, "status.report") else [],
        },
    )


def _manual_form(request: HttpRequest, person_id: int, data: Any = None) -> ManualRequestForm:
    levels = [(code, lv.name) for code, lv in rules.levels().items() if lv.severity > 0]
    active = selectors.person_status(person_id)["reasons"]
    reasons = [(r["id"], f"{r['kind_label']} · {r['level_name']}") for r in active]
    return ManualRequestForm(data, levels=levels, reasons=reasons)


@staff_page
@require_http_methods(["GET", "POST"])
def person_panel(request: HttpRequest, person_id: int) -> HttpResponseBase:
    user = request.user
    permissions.require(user, "status.view")
    person = access_person_by_id(user, person_id)
    form = _manual_form(request, person.pk, request.POST or None)
    status = 200
    if request.method == "POST":
        permissions.require(user, "status.request")
        if form.is_valid():
            cd = form.cleaned_data
            with errors_onto(form) as outcome:
                manual_services.manual_request_create(
                    actor=user,
                    action=cd["action"],
                    basis=cd["basis"].code if cd["basis"] else "",
                    source_ref=cd["source_ref"],
                    text=cd["text"],
                    person_ids=[person.pk],
                    level=cd["level"] or "",
                    ends_at=cd["ends_at"],
                    reason_ids=[int(r) for r in cd["reason_ids"]],
                )
            if outcome.ok:
                messages.success(
                    request, _("Request sent: it has no effect until a second person approves it.")
                )
                return redirect("status:person", person_id=person.pk)
        status = INVALID
    return render(
        request,
        "status/person.html",
        {
            "person": person,
            "st": selectors.person_status(person.pk),
            "history": selectors.person_history(person.pk),
            "form": form,
            "can_request": _can(request, "status.request"),
        },
        status=status,
    )


@staff_page
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "status.approve")
    pending = selectors.manual_requests_for(request.user, state="pending")
    page = page_of(pending, _page(request), 50)
    return render(
        request,
        "status/approvals.html",
        {
            "requests": page,
            "rows": selectors.manual_request_rows(page.items),
            "form": DecisionForm(),
        },
    )


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@staff_page
@require_POST
def approval_decide(request: HttpRequest, request_id: int) -> HttpResponseBase:
    permissions.require(request.user, "status.approve")
    form = DecisionForm(request.POST)
    form.is_valid()
    note = form.cleaned_data.get("note", "") if hasattr(form, "cleaned_data") else ""
    try:
        if request.POST.get("decision") == "approve":
            manual_services.manual_request_approve(
                actor=request.user, request_id=request_id, note=note
            )
            messages.success(request, _("Approved: the change is in effect."))
        else:
            manual_services.manual_request_refuse(
                actor=request.user, request_id=request_id, note=note
            )
            messages.success(request, _("Refused."))
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        add_application_errors(form, exc)
        messages.error(
            request, " ".join(str(e) for e in form.non_field_errors()) or str(exc.message)
        )
        if exc.fields:
            messages.error(request, " ".join(exc.fields.values()))
    return redirect("status:approvals")


@staff_page
@require_GET
def appeals(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "status.appeals")
    return render(
        request,
        "status/appeals.html",
        {
            "appeals": page_of(selectors.appeals_for(request.user), _page(request), 50),
            "now": timezone.now(),
            "form": AppealDecisionForm(),
        },
    )


@staff_page
@require_POST
def appeal_decide(request: HttpRequest, appeal_id: int) -> HttpResponseBase:
    permissions.require(request.user, "status.appeals")
    form = AppealDecisionForm(request.POST)
    if form.is_valid():
        try:
            appeal_services.appeal_decide(
                actor=request.user,
                appeal_id=appeal_id,
                state=form.cleaned_data["state"],
                text=form.cleaned_data["text"],
            )
            messages.success(request, _("Decision recorded and sent to the person by SMS."))
        except ApplicationError as exc:
            if exc.status == 404:
                raise
            messages.error(request, " ".join(exc.fields.values()) or str(exc.message))
    else:
        messages.error(request, _("Choose a decision."))
    return redirect("status:appeals")


@staff_page
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "status.report")
    state = request.GET.get("state") or None
    if state not in (None, *ManualRequest.State.values):
        state = None
    qs = selectors.manual_requests_for(request.user, state=state)
    page = page_of(qs, _page(request), 50)
    return render(
        request,
        "status/report.html",
        {
            "requests": page,
            "rows": selectors.manual_request_rows(page.items),
            "alerts": selectors.manual_alerts(request.user),
            "state": state or "",
            "states": ManualRequest.State.choices,
        },
    )
