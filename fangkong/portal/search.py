"""Chinese-capable full-text search over published articles.

Text is segmented with jieba (search mode: words and their dictionary sub-words)
and stored space-separated in ``Article.search_text``. SQLite indexes it in an
FTS5 table (``portal_article_fts``, rowid = article id, ranked by bm25);
PostgreSQL with a GIN index on ``to_tsvector('simple', search_text)`` (ranked
by ts_rank). The raw SQL for both engines lives only in this module.
Highlighting is done in Python on the article's plain text, the same for both.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import jieba
from django.db import connection
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

jieba.setLogLevel(logging.WARNING)

FTS_TABLE = "portal_article_fts"
_WORD = re.compile(r"\w", re.UNICODE)


def segment(text: str) -> str:
    """Space-separated lower-case search words of ``text``."""
    words = (w.strip().lower() for w in jieba.cut_for_search(text or ""))
    return " ".join(w for w in words if w and _WORD.search(w))


def query_terms(query: str) -> list[str]:
    seen: list[str] = []
    for word in segment(query).split():
        if word not in seen:
            seen.append(word)
    return seen[:12]


def index_article(article_id: int, search_text: str) -> None:
    """Refresh one article's entry (called whenever its text changes)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute(
                "DELETE FROM portal_article_fts WHERE rowid = %s",
                [article_id],
            )
            cur.execute(
                "INSERT INTO portal_article_fts (rowid, body) VALUES (%s, %s)",
                [article_id, search_text],
            )
    # PostgreSQL: the expression index follows the column by itself.


def unindex_article(article_id: int) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("DELETE FROM portal_article_fts WHERE rowid = %s", [article_id])


def search_ids(query: str, *, limit: int = 20, offset: int = 0) -> list[tuple[int, float]]:
    """``[(article id, score)]`` of published articles matching every term, best first."""
    terms = query_terms(query)
    if not terms:
        return []
    now = timezone.now()
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
            cur.execute(
                "SELECT a.id, -bm25(portal_article_fts) AS score FROM portal_article_fts "
                "JOIN portal_article a ON a.id = portal_article_fts.rowid "
                "WHERE portal_article_fts MATCH %s AND a.state = 'published' "
                "AND a.published_at <= %s ORDER BY score DESC, a.id DESC LIMIT %s OFFSET %s",
                [match, now, limit, offset],
            )
        else:
            cur.execute(
                "SELECT a.id, ts_rank(to_tsvector('simple', a.search_text), q) AS score "
                "FROM portal_article a, plainto_tsquery('simple', %s) q "
                "WHERE to_tsvector('simple', a.search_text) @@ q AND a.state = 'published' "
                "AND a.published_at <= %s ORDER BY score DESC, a.id DESC LIMIT %s OFFSET %s",
                [" ".join(terms), now, limit, offset],
            )
        return [(int(r[0]), float(r[1])) for r in cur.fetchall()]


def highlight(text: str, query: str, *, width: int = 120) -> SafeString:
    """An escaped excerpt of ``text`` around the first match, terms in ``<mark>``."""
    terms = sorted(query_terms(query), key=len, reverse=True)
    if not terms:
        return mark_safe(html.escape(text[:width]))  # noqa: S308 - escaped
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, (first.start() if first else 0) - width // 3)
    excerpt = text[start : start + width]
    out: list[str] = ["…" if start else ""]
    pos = 0
    for m in pattern.finditer(excerpt):
        out.append(html.escape(excerpt[pos : m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        pos = m.end()
    out.append(html.escape(excerpt[pos:]))
    if start + width < len(text):
        out.append("…")
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped above


def create_index(schema_editor: Any) -> None:
    """Migration helper: the engine's full-text structure."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(body)")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS portal_article_fts_idx ON portal_article "
            "USING gin (to_tsvector('simple', search_text))"
        )


def drop_index(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS portal_article_fts_idx")
