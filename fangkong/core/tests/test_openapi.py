"""The OpenAPI document: one name per schema class, the error answers documented."""

import pytest
from ninja import Router

from fangkong.api import api
from fangkong.core.apiedge import FangkongAPI
from fangkong.core.openapi import schema_name_clashes
from fangkong.core.schema import Schema

pytestmark = pytest.mark.django_db


def test_no_two_classes_share_a_schema_name():
    assert schema_name_clashes(api) == {}


class TeamIn(Schema):
    name: str


# A class of the same name in another module of the same app.
OtherTeamIn = type(
    "TeamIn", (Schema,), {"__module__": "fangkong.core.api", "__annotations__": {"size": int}}
)


def test_a_clash_between_two_classes_of_one_app_is_reported():
    router = Router()

    @router.post("/a")
    def a(request, payload: TeamIn) -> None: ...

    @router.post("/b")
    def b(request, payload: OtherTeamIn) -> None:  # type: ignore[valid-type]
        ...

    probe = FangkongAPI(urls_namespace="clash-probe")
    probe.add_router("/", router)
    assert list(schema_name_clashes(probe)) == ["CoreTeamIn"]


def test_components_are_named_by_their_app_and_bodies_are_the_right_ones():
    document = api.get_openapi_schema(path_prefix="/api/v1")
    schemas = document["components"]["schemas"]
    assert {"NotifyBatchIn", "ScreeningBatchIn", "InvestigationTeamIn", "ScreeningTeamIn"} <= set(
        schemas
    )
    assert {"InvestigationVenueCategory", "InvestigationContactCategory"} <= set(schemas)
    body = document["paths"]["/api/v1/notify/batches"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/NotifyBatchIn")


def test_every_operation_documents_its_errors_in_the_one_shape():
    document = api.get_openapi_schema(path_prefix="/api/v1")
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["error"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status in ("400", "401", "404", "500"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)


def test_every_schema_of_the_api_is_read_through_the_one_validation_layer():
    from fangkong.core.openapi import api_types

    ours = [
        t
        for t in api_types(api)
        if t.__module__.startswith("fangkong.") and hasattr(t, "model_fields")
    ]
    assert len(ours) > 100
    outside = sorted(f"{t.__module__}.{t.__qualname__}" for t in ours if not issubclass(t, Schema))
    assert outside == [], "derive these from fangkong.core.schema.Schema (or Patch)"
