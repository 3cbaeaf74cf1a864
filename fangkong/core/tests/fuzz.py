"""Schema-driven fuzzing of the JSON API (schemathesis generates, Django's test client sends).

``fuzz_api(client, examples=N)`` sends, for every operation of the OpenAPI document,
``N`` requests whose parameters and bodies fit the schema and ``N`` that break it
(schemathesis' positive and negative modes), each path id half of the time taken
from ``ids`` (rows that exist, so that the requests reach past the look-up), and
counts the answers. A request that makes Django raise is recorded with its
traceback instead of stopping the run; the caller asserts that there is none.
"""

from __future__ import annotations

import os
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.signals import got_request_exception
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

BASE = "http://testserver"
# Examples per operation and mode: small in `make test`, larger in `make fuzz`.
EXAMPLES = int(os.environ.get("FANGKONG_FUZZ_EXAMPLES", "2"))


@dataclass
class Failure:
    operation: str
    status: int
    request: str
    detail: str

    def __str__(self) -> str:
        return f"{self.operation} -> {self.status}\n  {self.request}\n{self.detail}"


@dataclass
class FuzzReport:
    operations: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        by_class: Counter[str] = Counter()
        for status, n in self.statuses.items():
            by_class[f"{status // 100}xx"] += n
        return (
            f"{self.operations} operations, {self.requests} requests, "
            f"{dict(sorted(by_class.items()))}, 5xx = {self.server_errors}"
        )


def api_schema() -> Any:
    import schemathesis

    from fangkong.api import api

    document = api.get_openapi_schema(path_prefix="/api/v1")
    return schemathesis.openapi.from_dict(document)


@contextmanager
def _exceptions() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        seen.append(traceback.format_exc())

    got_request_exception.connect(record)
    try:
        yield seen
    finally:
        got_request_exception.disconnect(record)


def _send(client: Client, case: Any) -> tuple[Any, str]:
    from schemathesis.transport.requests import REQUESTS_TRANSPORT

    kwargs = REQUESTS_TRANSPORT.serialize_case(case, base_url=BASE)
    kwargs.pop("cookies", None)
    prepared = requests.Request(**kwargs).prepare()
    url = urlsplit(prepared.url or "")
    headers = {
        str(k): v if isinstance(v, str) else v.decode("latin-1")
        for k, v in prepared.headers.items()
        if k.lower() not in ("content-length", "cookie")
    }
    content_type = headers.pop("Content-Type", "application/octet-stream")
    raw: Any = prepared.body or b""
    body: bytes = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    response = client.generic(
        prepared.method or "GET",
        url.path,
        data=body,
        content_type=content_type,
        headers=headers,
        QUERY_STRING=url.query,
    )
    return response, f"{prepared.method} {url.path}?{url.query} {body[:300]!r}"


def _with_known_ids(operation: Any, ids: list[int]) -> Any:
    from schemathesis.generation import GenerationMode

    modes = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    names = [p.name for p in operation.path_parameters]
    if not names or not ids:
        return st.one_of(*modes)
    picks = st.fixed_dictionaries({n: st.one_of(st.none(), st.sampled_from(ids)) for n in names})

    def merge(pair: tuple[Any, dict[str, Any]]) -> Any:
        case, chosen = pair
        for name, value in chosen.items():
            if value is not None and isinstance(case.path_parameters, dict):
                case.path_parameters[name] = value
        return case

    return st.tuples(st.one_of(*modes), picks).map(merge)


def fuzz_api(
    client: Client, *, examples: int = EXAMPLES, ids: list[int] | None = None, seed: int = 0
) -> FuzzReport:
    from schemathesis.core.result import Ok

    report = FuzzReport()
    schema = api_schema()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            continue
        operation = result.ok()
        report.operations += 1
        _fuzz_operation(client, operation, examples, ids or [], report)
    return report


def _fuzz_operation(
    client: Client, operation: Any, examples: int, ids: list[int], report: FuzzReport
) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=examples * 2,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_with_known_ids(operation, ids))
    def run(case: Any) -> None:
        with _exceptions() as raised:
            response, sent = _send(client, case)
        report.requests += 1
        report.statuses[response.status_code] += 1
        body_type = response.get("Content-Type", "")
        problem = ""
        if response.status_code >= 500 or raised:
            problem = raised[0] if raised else response.content[:500].decode(errors="replace")
        elif response.status_code >= 400 and not body_type.startswith("application/json"):
            problem = f"error not in the JSON shape ({body_type})"
        elif response.status_code >= 400 and "error" not in response.json():
            problem = f"error not in the JSON shape: {response.content[:200]!r}"
        elif response.status_code >= 400 and response.json()["error"].get("code") == "data_error":
            # Refused by the database, not by the schema: a field lacks its bound.
            problem = "a value reached the database unchecked (data_error)"
        if problem:
            report.failures.append(Failure(label, response.status_code, sent, problem))

    run()
