"""One pagination shape for every list endpoint: items, count, page, page_size, has_next."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field
from ninja.pagination import PaginationBase

from fangkong.core.schema import Schema

MAX_PAGE_SIZE = 200


class PageNumber(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1)
        page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int
        has_next: bool

    items_attribute = "items"

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        size = pagination.page_size
        offset = (pagination.page - 1) * size
        # Fetch one row more than a page to know whether another page follows.
        rows = list(queryset[offset : offset + size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        if pagination.page == 1 and not has_next:
            count = len(rows)
        else:
            count = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        return {
            "items": rows,
            "count": count,
            "page": pagination.page,
            "page_size": size,
            "has_next": has_next,
        }
