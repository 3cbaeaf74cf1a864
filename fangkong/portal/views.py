"""Public pages of the portal (cached per language for anonymous readers) and the
staff pages for editors, reviewers and moderators."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fangkong.core import permissions
from fangkong.core.errors import ApplicationError, ValidationFailed
from fangkong.core.forms import errors_onto
from fangkong.core.middleware import client_ip
from fangkong.core.sheets import csv_response, csv_stream
from fangkong.portal import captcha, search, selectors, services
from fangkong.portal.forms import (
    ArticleForm,
    CommentForm,
    FeedbackForm,
    LinkForm,
    ReasonForm,
)
from fangkong.portal.models import Article, Attachment, ServiceLink
from fangkong.portal.pagecache import SHORT_TIMEOUT, cached_public_page
from fangkong.portal.sanitise import html_text, plain_text
from fangkong.portal.services.comments import RateLimited
from fangkong.screening.selectors import shared as screening_shared
from fangkong.status.selectors import shared as status_shared
from fangkong.zones.selectors import shared as zones_shared

# --- Public pages ------------------------------------------------------------------------


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 page in the reader's language, in the public layout."""
    return render(request, "portal/404.html", status=404)


def set_language(request: HttpRequest, code: str) -> HttpResponse:
    """Language switch by link (public pages are cached, so carry no CSRF token)."""
    if code not in {c for c, _n in settings.LANGUAGES}:
        raise Http404
    nxt = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/"
    response = HttpResponseRedirect(nxt)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 86400, samesite="Lax")
    return response


@cached_public_page(timeout=SHORT_TIMEOUT)
def home(request: HttpRequest) -> HttpResponse:
    context = selectors.home_sections()
    context["figures"] = selectors.today_figures()
    context["zones"] = (selectors.public_zones() or [])[:8]
    return render(request, "portal/home.html", context)


@cached_public_page
def channel_page(request: HttpRequest, top: str, sub: str | None = None) -> HttpResponse:
    try:
        channel = selectors.channel_by_slugs(top, sub)
    except Http404:
        return not_found(request)
    page = Paginator(selectors.channel_articles(channel), 20).get_page(request.GET.get("page"))
    children = list(channel.children.all()) if channel.parent_id is None else []
    return render(
        request, "portal/channel.html", {"channel": channel, "page": page, "children": children}
    )


def article_page(
    request: HttpRequest, top: str, article_id: int, sub: str | None = None
) -> HttpResponse:
    response = _article_page(request, top, article_id, sub)
    if response.status_code == 200:
        services.article_view(article_id)  # counted in memory, also for cached pages
    return response


@cached_public_page
def _article_page(
    request: HttpRequest, top: str, article_id: int, sub: str | None = None
) -> HttpResponse:
    try:
        article = selectors.article_public(article_id)
    except Http404:
        return not_found(request)
    if article.channel.slug_path != (f"{top}/{sub}" if sub else top):
        return HttpResponseRedirect(article.get_absolute_url(), status=301)
    comments, count = selectors.approved_comments(article)
    return render(
        request,
        "portal/article.html",
        {
            "article": article,
            "channel": article.channel,
            "related": selectors.related_articles(article),
            "comments": comments,
            "comment_count": count,
            "canonical": request.build_absolute_uri(article.get_absolute_url()),
        },
    )


def _comment_context(request: HttpRequest, article: Article, form: CommentForm) -> dict[str, Any]:
    """The comment form with a new picture challenge, or the reason there is none
    (too many challenges asked from this address)."""
    key, limited = None, ""
    try:
        key = captcha.challenge_new(client_ip(request))
    except RateLimited as exc:
        limited = str(exc.message)
    return {
        "article": article,
        "form": form,
        "captcha_key": key,
        "captcha_image": captcha.image_url(key) if key else "",
        "captcha_limited": limited,
    }


def _render_comment_form(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    fragment = bool(request.headers.get("HX-Request"))
    template = "portal/_comment_form.html" if fragment else "portal/comment_page.html"
    if context["captcha_limited"] and not fragment:
        status = 429  # htmx swaps only 2xx and 422: the fragment says it in words
    return render(request, template, context, status=status)


def comment_form(request: HttpRequest, article_id: int) -> HttpResponse:
    """The comment form (fresh captcha each time): a fragment for the article page,
    or a page of its own without JavaScript."""
    article = selectors.article_public(article_id)
    if not article.channel.comments_enabled:
        raise Http404
    form = CommentForm(initial={"parent": request.GET.get("reply") or None})
    return _render_comment_form(request, _comment_context(request, article, form))


@require_POST
def comment_submit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_public(article_id)
    if request.POST.get("new_code"):
        # Another picture: the same form again, with what was typed, checked for nothing.
        kept = {f: request.POST.get(f, "") for f in ("name", "text", "parent")}
        form = CommentForm(initial=kept)
        return _render_comment_form(request, _comment_context(request, article, form))
    form = CommentForm(request.POST)
    posted = None
    if form.is_valid():
        with errors_onto(form):
            posted = services.comment_post(
                article=article,
                text=form.cleaned_data["text"],
                name=form.cleaned_data["name"],
                parent_id=form.cleaned_data["parent"],
                address=client_ip(request),
            )
    fragment = bool(request.headers.get("HX-Request"))
    if posted is not None:
        if fragment:
            return render(
                request, "portal/_comment_thanks.html", {"comment": posted, "article": article}
            )
        messages.success(
            request, _("Thank you. Your comment will appear once a moderator has approved it.")
        )
        return redirect(article.get_absolute_url() + "#comments")
    # The form again with what was typed and a new challenge (a challenge answers once).
    context = _comment_context(request, article, form)
    return _render_comment_form(request, context, status=422 if fragment else 400)


@csrf_exempt  # cached pages carry no token; a like changes nothing but a counter
@require_POST
def article_like(request: HttpRequest, article_id: int) -> HttpResponse:
    key = f"portal:like:{client_ip(request)}:{article_id}"
    if cache.add(key, 1, 3600):
        likes = services.article_like(article_id)
    else:
        likes = (
            Article.objects.filter(pk=article_id).values_list("like_count", flat=True).first() or 0
        )
    if request.headers.get("HX-Request"):
        return HttpResponse(_("Liked (%(n)d)") % {"n": likes})
    back = request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    return redirect(back)


def article_cover(request: HttpRequest, article_id: int) -> HttpResponse:
    row = (
        selectors.published_articles().filter(pk=article_id).values_list("cover", flat=True).first()
    )
    if not row:
        raise Http404
    response = HttpResponse(bytes(row), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    att = get_object_or_404(Attachment, pk=attachment_id)
    if (
        not (article := selectors.published_articles().filter(pk=att.article_id).first())
        or not article.is_public
    ):
        raise Http404
    response = HttpResponse(bytes(att.data), content_type=att.content_type)
    response["Content-Disposition"] = content_disposition_header(True, att.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@cached_public_page
def search_page(request: HttpRequest) -> HttpResponse:
    query = plain_text(request.GET.get("q", ""))[:100]
    results = []
    if query:
        hits = search.search_ids(query, limit=30)
        found = {
            a.pk: a
            for a in Article.objects.filter(pk__in=[h[0] for h in hits]).select_related(
                "channel__parent"
            )
        }
        for article_id, score in hits:
            article = found.get(article_id)
            if article is None:
                continue
            results.append(
                {
                    "article": article,
                    "score": score,
                    "title": search.highlight(article.title, query, width=200),
                    "excerpt": search.highlight(
                        " ".join([article.summary, html_text(article.body)]), query, width=140
                    ),
                }
            )
    return render(request, "portal/search.html", {"query": query, "results": results})


@cached_public_page(timeout=SHORT_TIMEOUT)
def risk_zones(request: HttpRequest) -> HttpResponse:
    district = _int(request.GET.get("district"))
    zones = selectors.public_zones(district_id=district)
    groups: dict[str, list[dict[str, Any]]] = {}
    for zone in zones or []:
        groups.setdefault(zone["district_name"], []).append(zone)
    zone_map = selectors.public_zone_map() if zones else None
    return render(
        request,
        "portal/zones.html",
        {
            "available": zones is not None,
            "groups": groups,
            "levels": selectors.zones_by_level() or [],
            "map_json": json.dumps(zone_map, ensure_ascii=False, default=str) if zone_map else "",
        },
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def testing_sites(request: HttpRequest) -> HttpResponse:
    district = _int(request.GET.get("district"))
    sites = selectors.public_sites(district_id=district)
    open_only = request.GET.get("open") == "1"
    communities = selectors.communities()
    chosen = next((c for c in communities if c["id"] == _int(request.GET.get("community"))), None)
    rows = []
    for site in sites or []:
        if open_only and not site.get("open_now"):
            continue
        site = dict(site)
        if chosen and site.get("lat") is not None and site.get("lon") is not None:
            site["distance_km"] = selectors.distance_km(
                (chosen["lat"], chosen["lon"]), (float(site["lat"]), float(site["lon"]))
            )
        rows.append(site)
    if chosen:
        rows.sort(key=lambda s: s.get("distance_km", 1e9))
    points = [
        {
            "name": s["name"],
            "value": [float(s["lon"]), float(s["lat"])],
            "open": bool(s.get("open_now")),
            "status": _("Open now") if s.get("open_now") else _("Closed now"),
        }
        for s in rows
        if s.get("lat") is not None and s.get("lon") is not None
    ]
    return render(
        request,
        "portal/sites.html",
        {
            "available": sites is not None,
            "sites": rows,
            "open_only": open_only,
            "communities": communities,
            "chosen": chosen,
            "points_json": json.dumps(points, ensure_ascii=False),
        },
    )


@cached_public_page
def services_directory(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/directory.html", {"groups": selectors.directory()})


@cached_public_page(timeout=SHORT_TIMEOUT)
def statistics(request: HttpRequest) -> HttpResponse:
    days = min(max(_int(request.GET.get("days")) or 30, 7), 120)
    daily = selectors.daily_new_cases(days=days)
    chart = {
        "days": [d.isoformat() for d in daily["days"]],
        "series": [
            {"name": _("New confirmed cases"), "data": daily["confirmed"]},
            {"name": _("New asymptomatic infections"), "data": daily["asymptomatic"]},
        ],
    }
    rows = list(zip(daily["days"], daily["confirmed"], daily["asymptomatic"], strict=True))
    return render(
        request,
        "portal/statistics.html",
        {
            "days": days,
            "rows": rows[::-1],
            "figures": selectors.today_figures(),
            "chart_json": json.dumps(chart, ensure_ascii=False),
        },
    )


def statistics_csv(request: HttpRequest) -> StreamingHttpResponse:
    days = min(max(_int(request.GET.get("days")) or 30, 7), 366)
    daily = selectors.daily_new_cases(days=days)
    rows = zip(daily["days"], daily["confirmed"], daily["asymptomatic"], strict=True)
    header = ["date", "new_confirmed", "new_asymptomatic"]
    return csv_response(csv_stream(header, rows), "daily-figures.csv")


# --- Self-service ------------------------------------------------------------------------


def _resident(request: HttpRequest) -> int | None:
    return status_shared.resident_person_id(request)


def _resident_login_url(request: HttpRequest) -> str:
    return reverse(status_shared.RESIDENT_LOGIN_URL_NAME) + "?next=" + request.path


def me_hub(request: HttpRequest) -> HttpResponse:
    person_id = _resident(request)
    context: dict[str, Any] = {"person_id": person_id, "login_url": _resident_login_url(request)}
    if person_id:
        context["results"] = screening_shared.latest_results_for_person(person_id)
        context["requests"] = zones_shared.requests_for_resident(person_id)
        context["zone"] = zones_shared.zone_for_person(person_id)
        context["status_url"] = reverse("status:me")
    return render(request, "portal/me.html", context)


def _need_resident(request: HttpRequest) -> int | HttpResponse:
    person_id = _resident(request)
    if person_id is None:
        return redirect(_resident_login_url(request))
    return person_id


def me_feedback(request: HttpRequest) -> HttpResponse:
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with errors_onto(form) as outcome:
            services.feedback_create(person_id=_resident(request), **form.cleaned_data)
        if outcome.ok:
            messages.success(
                request, _("Thank you. Your message has been sent to the command centre.")
            )
            return redirect("portal:me")
    return render(
        request, "portal/me_form.html", {"form": form, "heading": _("Write to the command centre")}
    )


# --- Staff pages ------------------------------------------------------------------------


def _staff_guard(request: HttpRequest, capability: str) -> None:
    if not permissions.has_capability(request.user, capability):
        raise DjangoPermissionDenied


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    _staff_guard(request, "portal.edit")
    state = request.GET.get("state") or ""
    qs = selectors.editor_articles(request.user).order_by("-updated_at")
    if state in Article.State.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    can_moderate = permissions.has_capability(request.user, "portal.moderate")
    return render(
        request,
        "portal/staff/overview.html",
        {
            "page": page,
            "state": state,
            "states": Article.State.choices,
            "pending_comments": selectors.moderation_queue(request.user).count()
            if can_moderate
            else None,
            "dead_links": ServiceLink.objects.filter(dead=True).count(),
        },
    )


@login_required
def article_edit(request: HttpRequest, article_id: int | None = None) -> HttpResponse:
    _staff_guard(request, "portal.edit")
    article = get_object_or_404(Article, pk=article_id) if article_id else None
    initial = {}
    if article:
        initial = {
            k: getattr(article, k)
            for k in ("channel", "title", "summary", "body", "author", "source", "place")
        }
        initial["tags"] = " ".join(t.name for t in article.tags.all())
    form = ArticleForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        cover = data["cover"].read() if data.get("cover") else None
        with errors_onto(form) as outcome:
            fields = {k: data[k] for k in ("title", "summary", "body", "author", "source", "place")}
            if article is None:
                article = services.article_create(
                    actor=request.user,
                    channel=data["channel"],
                    tags=form.tag_list(),
                    cover=cover,
                    **fields,
                )
            else:
                article = services.article_update(
                    actor=request.user,
                    article=article,
                    channel=data["channel"],
                    tags=form.tag_list(),
                    cover=cover,
                    **fields,
                )
            if data.get("attachment"):
                upload = data["attachment"]
                if upload.size > services.articles.ATTACHMENT_MAX_BYTES:
                    raise ValidationFailed(
                        fields={"attachment": _("The file is larger than %(mb)d MB.") % {"mb": 10}}
                    )
                services.attachment_add(
                    actor=request.user, article=article, filename=upload.name, data=upload.read()
                )
        if outcome.ok and article is not None:
            messages.success(request, _("Saved."))
            return redirect("portal:article_detail", article_id=article.pk)
    return render(request, "portal/staff/edit.html", {"form": form, "article": article})


@login_required
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    _staff_guard(request, "portal.edit")
    article = get_object_or_404(Article.objects.select_related("channel__parent"), pk=article_id)
    revisions = list(article.revisions.select_related("editor").order_by("-number"))
    diff: list[str] = []
    if len(revisions) >= 2:
        old = _int(request.GET.get("old")) or revisions[1].number
        new = _int(request.GET.get("new")) or revisions[0].number
        try:
            diff = services.revision_diff(article, old, new)
        except ApplicationError:
            diff = []
    from fangkong.core.models import AuditEntry

    trail = AuditEntry.objects.filter(
        object_type="portal.article", object_id=str(article.pk)
    ).order_by("-id")[:30]
    return render(
        request,
        "portal/staff/detail.html",
        {
            "article": article,
            "revisions": revisions,
            "diff": diff,
            "trail": trail,
            "form": ReasonForm(),
            "can_review": permissions.has_capability(request.user, "portal.review"),
        },
    )


@login_required
@require_POST
def article_action(request: HttpRequest, article_id: int, action: str) -> HttpResponse:
    article = get_object_or_404(Article, pk=article_id)
    form = ReasonForm(request.POST)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    reason = data.get("reason") or ""
    try:
        if action == "submit":
            services.article_submit(actor=request.user, article=article)
        elif action == "publish":
            at = data.get("publish_at")
            services.article_publish(actor=request.user, article=article, at=at)
        elif action == "return":
            services.article_return(actor=request.user, article=article, reason=reason)
        elif action == "withdraw":
            services.article_withdraw(actor=request.user, article=article, reason=reason)
        else:
            raise Http404
    except ApplicationError as exc:
        messages.error(request, " ".join([str(exc.message), *exc.fields.values()]))
    else:
        messages.success(request, _("Done."))
    return redirect("portal:article_detail", article_id=article.pk)


@login_required
def moderation(request: HttpRequest) -> HttpResponse:
    _staff_guard(request, "portal.moderate")
    if request.method == "POST":
        comment_id = _int(request.POST.get("comment")) or 0
        action = request.POST.get("action")
        reason = request.POST.get("reason", "")
        try:
            if action == "approve":
                services.comment_approve(actor=request.user, comment_id=comment_id)
                done = _("The comment is published under its article.")
            elif action == "reject":
                services.comment_reject(actor=request.user, comment_id=comment_id, reason=reason)
                done = _("The comment was rejected; it stays unpublished.")
            elif action == "ban":
                services.address_ban(actor=request.user, comment_id=comment_id, reason=reason)
                done = _("The address is banned from commenting.")
            else:
                return HttpResponseBadRequest()
        except ApplicationError as exc:
            messages.error(request, " ".join([str(exc.message), *exc.fields.values()]))
        else:
            messages.success(request, done)
        return redirect("portal:moderation")
    queue = selectors.moderation_queue(request.user)[:100]
    return render(request, "portal/staff/moderation.html", {"queue": queue})


@login_required
def links(request: HttpRequest, link_id: int | None = None) -> HttpResponse:
    _staff_guard(request, "portal.edit")
    link = get_object_or_404(ServiceLink, pk=link_id) if link_id else None
    form = LinkForm(request.POST or None, instance=link)
    if request.method == "POST" and form.is_valid():
        with errors_onto(form) as outcome:  # type: ignore[arg-type]  # a ModelForm
            services.link_save(actor=request.user, link=link, **form.cleaned_data)
        if outcome.ok:
            messages.success(request, _("Saved."))
            return redirect("portal:links")
    return render(
        request,
        "portal/staff/links.html",
        {"form": form, "link": link, "links": ServiceLink.objects.all()},
    )


@login_required
def feedback(request: HttpRequest) -> HttpResponse:
    _staff_guard(request, "portal.feedback")
    page = Paginator(selectors.feedback_list(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "portal/staff/feedback.html", {"page": page})
