"""Property-based run over the OpenAPI schema: whatever the body, no answer is a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.serve.conftest import ADMIN, make_client


def test_no_request_to_any_operation_gets_a_server_error(model_dir, tmp_path):
    client = make_client(model_dir, tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE)  # bodies that fit the schema, and bodies that break it

        @given(case=cases)
        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case) -> None:  # noqa: ANN001
            response = case.call(headers=ADMIN)
            assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text}"

        no_server_error()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /v1/orders/score" in checked and "POST /v1/outcomes" in checked
