"""schemathesis over the whole OpenAPI schema (``/api/schema/``), in process (WSGI), no server.

Every operation is called with a token of each scope and without one: with the identity that holds
the operation's scope it gets most of the examples (valid requests and deliberately invalid ones),
every other identity a few (they must meet 401/403, never a 500). A run fails on any 5xx, on a
status code or content type the schema does not document for the operation, and on a response
body that does not match its documented schema.

Two seeds per run, each a test: a fixed one, so that a failure found once is found again, and a
varying one, so that runs keep exploring. The varying seed is printed (``pytest -s`` or the
captured output of a failure) and taken from ``CP_SCHEMATHESIS_SEED`` when set, to replay it.
The number of requests sent is printed too; a run stays at a few hundred requests per seed."""

from __future__ import annotations

import logging
import os
import random
import zlib
from contextlib import contextmanager
from datetime import timedelta

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import resolve
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.capabilities import TOKEN_SCOPES
from credit_portal.accounts.services import token_issue

FIXED_SEED = 20_261_020
VARYING_SEED = int(os.environ.get("CP_SCHEMATHESIS_SEED") or random.SystemRandom().randrange(2**32))
# Examples per operation: for the identity holding its scope (valid + invalid requests), and for
# each other identity.
EXAMPLES_WITH_SCOPE = int(os.environ.get("CP_SCHEMATHESIS_EXAMPLES") or 12)
EXAMPLES_WITHOUT_SCOPE = 1
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ANONYMOUS = "anonymous"


@contextmanager
def connection_kept_open():
    """Django's WSGI handler, as gunicorn runs it, closes the database connection after a request
    that left it in a transaction; inside a test's transaction it must not (Django's test client
    does the same while it runs a request)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def identities(department):
    """Authorization headers by identity: one token per scope, and none."""
    headers = {ANONYMOUS: {}}
    for scope in sorted(TOKEN_SCOPES):
        _, secret = token_issue(
            actor=system_actor("tests"), department=department, scopes=[scope], name=scope
        )
        headers[scope] = {"Authorization": f"Bearer {secret}"}
    return headers


@pytest.fixture
def known_objects(identities, entity):
    """Path parameters that name existing objects of the tokens' department (a record, a complaint,
    a report), so that generated bodies also reach the services behind a found object, not only
    the 404 of a random id."""

    def post(scope, path, body):
        response = Client(headers=identities[scope]).post(path, body, content_type="application/json")
        assert response.status_code in (200, 201, 202), response.content
        return response.json()

    record = post(
        "records:write",
        "/api/v1/records/",
        {
            "item": "admin_punishment",
            "code": entity.code,
            "decision_number": "深市监罚〔2026〕1号",
            "decision_date": (timezone.localdate() - timedelta(days=10)).isoformat(),
            "legal_basis": "《中华人民共和国产品质量法》第四十九条",
            "severity": "general",
            "content": "罚款5.5万元",
            "fields": {
                "party_category": "法人及非法人组织",
                "facts": "销售不合格产品",
                "punishment_category": "罚款",
            },
        },
    )
    complaint = post(
        "complaints:write",
        "/api/v1/complaints/",
        {"external_reference": "HOT-1", "kind": "complaint", "entity_name": entity.name_zh, "code": entity.code,
         "description": "销售不合格产品"},
    )  # fmt: skip
    report = post("reports:request", "/api/v1/reports/", {"code": entity.code})
    return {
        "id": record["id"],
        "code": entity.code,
        "tracking_number": complaint["tracking_number"],
        "number": report["number"],
    }


def _required_scope(operation) -> str:
    """The scope the operation's view requires (``anonymous`` for a public one)."""
    path = operation.path.replace("{id}", "1")
    for name in ("{code}", "{number}", "{tracking_number}"):
        path = path.replace(name, "X")
    view = resolve(path).func.view_class
    return view.required_capabilities.get(operation.method.upper()) or ANONYMOUS


def _strategy(operation, known: dict):
    """Valid and invalid requests; where the path names an object, also with an existing one."""
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    names = [p.name for p in operation.path_parameters]
    if names:
        found = {name: known[name] for name in names}
        strategies += [
            operation.as_strategy(generation_mode=mode, path_parameters=found) for mode in GenerationMode
        ]
    return st.one_of(strategies)


class Run:
    """Calls one operation as one identity ``examples`` times; counts what it sent."""

    def __init__(self, run_seed: int):
        self.seed = run_seed
        self.sent = 0

    def __call__(self, operation, strategy, identity: str, headers: dict, examples: int) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @seed(self.seed ^ zlib.crc32(f"{operation.label} {identity}".encode()))
        @given(case=strategy)
        def call(case):
            response = case.call(headers=headers)
            self.sent += 1
            case.validate_response(response, checks=CHECKS)

        call()


@pytest.mark.django_db
@pytest.mark.parametrize("run_seed", [FIXED_SEED, VARYING_SEED], ids=["fixed-seed", "varying-seed"])
def test_every_operation_answers_every_identity_as_documented(run_seed, identities, known_objects, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")  # thousands of expected 4xx warnings
    print(f"\nschemathesis seed {run_seed} (replay: CP_SCHEMATHESIS_SEED={run_seed})")
    with connection_kept_open():
        sent, failures = _run_every_operation(run_seed, identities, known_objects)
    print(f"schemathesis sent {sent} requests")
    assert not failures, f"seed {run_seed}: " + "\n\n".join(failures)


def _run_every_operation(run_seed: int, identities: dict, known_objects: dict) -> tuple[int, list[str]]:
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    run = Run(run_seed)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        owner = _required_scope(operation)
        strategy = _strategy(operation, known_objects)
        for identity, headers in identities.items():
            cache.clear()  # throttle counters: each identity starts with its full allowance
            examples = EXAMPLES_WITH_SCOPE if identity == owner else EXAMPLES_WITHOUT_SCOPE
            try:
                run(operation, strategy, identity, headers, examples)
            except (AssertionError, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} as {identity}: {exc}")
    return run.sent, failures


# --- the schema itself ----------------------------------------------------------------------------


def test_the_schema_is_valid_without_a_single_warning(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


@pytest.mark.django_db
def test_every_operation_documents_its_errors_with_the_error_body(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) == 15  # the audit anchors' page is one more
    for path, method, operation in operations:
        expected = {"400", "404", "409", "429"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if "requestBody" in operation:
            expected.add("413")
        documented = {code for code in operation["responses"] if code >= "400"}
        assert documented == expected, (method, path)
        for code in expected:
            assert operation["responses"][code]["content"] == error, (method, path, code)
    public = schema["paths"]["/api/v1/public/records/"]["get"]
    assert not public.get("security")


@pytest.mark.django_db
def test_nullable_fields_are_declared_nullable(client):
    schemas = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert schemas["Entity"]["properties"]["supervising_department"]["nullable"] is True
    assert schemas["Complaint"]["properties"]["entity"]["nullable"] is True
    for name in ("legal_basis", "severity", "content", "remarks", "fields"):
        assert schemas["Record"]["properties"][name]["nullable"] is True, name
