"""Schemathesis against the OpenAPI document: every documented operation answers with a
response that matches its schema and never a server error (house rule 3).

The schema is walked by hand because schemathesis' pytest plugin does not run under the
pytest version pinned here; the checks are schemathesis' own (``call_and_validate``)."""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from machi.bootstrap import Runtime
from machi.web.app import create_app


def test_documented_operations_conform(rt: Runtime) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(rt))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the API documents no operation"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate()

        conforms()


def test_schema_lists_health(rt: Runtime) -> None:
    with TestClient(create_app(rt)) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert "/health" in paths
