"""Editor bodies and comments are cleaned here, never stored as given.

Bodies keep a small set of formatting tags (no scripts, styles, event handlers,
frames, forms, or non-http(s) links); comments keep no markup at all, and what
people type stays the text they typed (``plain_text``): entities are never decoded
into markup, pages and the API escape it on output.
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
    """What a person typed (comments, names, titles, search), as text: tags
    dropped, everything else kept as typed. ``&lt;script&gt;`` stays those
    characters (escaped again on output); only the escaping the cleaner itself
    added is undone, so no entity a person typed ever turns into markup."""
    typed = (raw or "").replace("&", "&amp;")
    return html.unescape(nh3.clean(typed, tags=set(), attributes={})).strip()


def html_text(body: str) -> str:
    """The text of a cleaned HTML body (search index, excerpts, feeds): tags
    dropped, its entities decoded into the characters they stand for."""
    return html.unescape(nh3.clean(body or "", tags=set(), attributes={})).strip()


def text_to_paragraphs(text: str) -> str:
    """Plain text with blank-line or line breaks as paragraphs of escaped HTML."""
    paras = [p.strip() for p in (text or "").splitlines() if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paras)
