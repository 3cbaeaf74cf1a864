import pytest

from fangkong.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_describes_every_module(city, commander):
    r = client_for(commander).get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/v1/people",
        "/api/v1/jurisdictions",
        "/api/v1/audit",
        "/api/v1/notify/batches",
        "/api/v1/cases",
        "/api/v1/checkins",
    ):
        assert path in paths, path


def test_api_docs_are_reachable_at_the_documented_address(city, commander):
    r = client_for(commander).get("/api/docs", follow=True)
    assert r.status_code == 200
    assert b"openapi.json" in r.content
