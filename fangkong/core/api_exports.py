"""Streaming exports of people (masked CSV)."""

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, Query, Router

from fangkong.core.exports import person_export_csv
from fangkong.core.schema import Schema

router = Router(tags=["exports"])


class ExportFilter(Schema):
    jurisdiction_id: int | None = None
    key_group: str | None = Field(None, max_length=40)


@router.get(
    "/people/export.csv",
    openapi_extra={
        "responses": {200: {"description": "CSV (UTF-8 with BOM)", "content": {"text/csv": {}}}}
    },
)
def person_export(request: HttpRequest, filters: Query[ExportFilter]) -> StreamingHttpResponse:
    """The people of your area as a masked CSV, streamed (any size)."""
    chunks = person_export_csv(
        actor=request.user, jurisdiction_id=filters.jurisdiction_id, key_group=filters.key_group
    )
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
