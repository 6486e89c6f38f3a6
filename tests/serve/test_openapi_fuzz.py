"""Property-based runs over the OpenAPI schema: the service answers as its schema says.

Every operation goes through schemathesis' examples, coverage and fuzzing phases, with
requests that fit the schema (positive) and requests that break it (negative), under
schemathesis' built-in checks: no 5xx, only documented status codes, content types and
headers, bodies that match their declared schema, `Allow` on 405 for undeclared methods,
401 for a missing or invalid key. max_examples bounds the run to a few seconds per
operation on two cores.

The phases run through `create_test`, what schemathesis' own pytest integration calls:
its fixture-based loader (`schemathesis.pytest.from_fixture`) fails under pytest 9 and
the app needs the session's trained model, so the schema cannot be loaded at import.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

from tests.serve.conftest import ADMIN_KEY, make_client

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
CONFIG = {
    "auth": {"openapi": {"Bearer": {"bearer": ADMIN_KEY}}},
    # The 64 KiB body limit is not something a JSON schema can say (a batch of 10,000 schema-valid outcomes
    # exceeds it), so a schema-valid body may still get the documented 413; any other refusal fails the check.
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "413",
                                                                  "429"]},
               # 413 rejects too: a batch of outcomes over the body limit is refused before validation
               "negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]}},
}
# Requests accepted exactly when they fit the schema: the data contract's schema (risk/contract.py) must say
# everything the models enforce
CONTRACT_CHECKS = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def api_schema(model_dir, tmp_path):
    client = make_client(model_dir, tmp_path)
    return schemathesis.openapi.from_asgi("/openapi.json", client.app, config=SchemathesisConfig.from_dict(CONFIG))


def run_all_phases(schema, check: Callable, paths: set[str] | None = None) -> list[str]:
    """`check(case)` on every generated case of every operation (of `paths`); the operations run."""
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if paths is not None and operation.path not in paths:
            continue
        test = create_test(operation=operation, test_func=check, config=HypothesisTestConfig(
            project=schema.config, modes=list(HypothesisTestMode), settings=BOUNDED))
        test()
        ran.append(f"{operation.method.upper()} {operation.path}")
    return ran


def test_every_answer_conforms_to_the_schema(api_schema):
    def check(case) -> None:
        case.call_and_validate(excluded_checks=CONTRACT_CHECKS)

    ran = run_all_phases(api_schema, check)
    assert {"POST /v1/orders/score", "POST /v1/outcomes", "GET /metrics", "POST /v1/admin/reload"} <= set(ran)


def test_requests_are_accepted_exactly_when_they_fit_the_schema(api_schema):
    def check(case) -> None:
        case.call_and_validate(checks=CONTRACT_CHECKS)

    run_all_phases(api_schema, check, paths={"/v1/orders/score", "/v1/outcomes"})
