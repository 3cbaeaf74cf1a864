"""Editor bodies and comments are cleaned here, never stored as given.

Bodies keep a small set of formatting tags (no scripts, styles, event handlers,
frames, forms, or non-http(s) links); comments keep no markup at all.
"""

from __future__ import annotations

import html

import nh3

BODY_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "sub", "sup", "blockquote",
    "h2", "h3", "h4", "ul", "ol", "li", "a", "img", "table", "thead", "tbody",
    "tr", "th", "td", "caption", "figure", "figcaption", "hr", "span",
}  # fmt: skip
BODY_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def clean_body(raw: str) -> str:
    """Rich text from an editor, reduced to the allowed tags and attributes."""
    return nh3.clean(
        raw or "",
        tags=BODY_TAGS,
        attributes=BODY_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def plain_text(raw: str) -> str:
    """Text only (comments, names, search): every tag dropped, entities decoded."""
    return html.unescape(nh3.clean(raw or "", tags=set(), attributes={})).strip()


def text_to_paragraphs(text: str) -> str:
    """Plain text with blank-line or line breaks as paragraphs of escaped HTML."""
    paras = [p.strip() for p in (text or "").splitlines() if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paras)
