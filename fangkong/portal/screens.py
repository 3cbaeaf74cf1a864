"""The public site as a resident sees it, and the editors' pages (``fangkong screenshots``)."""

from __future__ import annotations

from fangkong.core.pagecheck import Screen
from fangkong.portal.models import Article


def screens() -> list[Screen]:
    public = ["/", "/risk-zones/", "/testing-sites/", "/services/", "/statistics/"]
    article = (
        Article.objects.filter(state=Article.State.PUBLISHED)
        .select_related("channel")
        .order_by("pk")
        .first()
    )
    editor = ["/editor/", "/editor/links/"]
    if article is not None:
        public.append(article.get_absolute_url())
        editor.append(f"/editor/articles/{article.pk}/")
    public += ["/search/?q=%E6%A0%B8%E9%85%B8", "/me/"]
    return [
        Screen("public", None, public),
        Screen("portal", "portal_editor", editor),
        Screen("portal", "portal_reviewer", ["/editor/", "/editor/comments/", "/editor/feedback/"]),
    ]
