"""``Idempotency-Key`` on the agency API's POSTs (credit_portal/idempotency/api.py): a retry with the
same key and body gets the first response again and changes nothing; the same key with another
body is a 409; keys are per department and kept for 24 hours; two requests at once create one."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from datetime import time as clock

import pytest
from django.db import connection
from django.test import Client

from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.services import token_issue
from credit_portal.audit.models import AuditEvent
from credit_portal.idempotency.models import ApiIdempotencyKey
from credit_portal.idempotency.services import purge_expired
from disclosure.models import CreditReport
from records.models import Complaint, CreditRecord, MarketEntity, RecordChange
from tests.test_records_api import body

pytestmark = pytest.mark.django_db

KEY = "8d6f1f3e-5b7c-4c1e-9a63-0f4f0a1d2b01"


@pytest.fixture(autouse=True)
def _clock(today):
    today(date(2026, 12, 4), tick=True)


def post(client, url, data, key: str | None = KEY):
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def counts() -> tuple:
    return (
        CreditRecord.objects.count(),
        RecordChange.objects.count(),
        AuditEvent.objects.count(),
        ApiIdempotencyKey.objects.count(),
    )


class TestRecords:
    def test_a_retry_with_the_same_key_and_body_returns_the_first_record_and_stores_nothing(
        self, token_for, department, entity
    ):
        api = token_for(department, "records:write")
        first = post(api, "/api/v1/records/", body(entity))
        assert first.status_code == 201, first.content
        assert "Idempotent-Replayed" not in first
        after = counts()
        again = post(api, "/api/v1/records/", body(entity))
        assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
        assert again.content == first.content  # same id, same body, byte for byte
        assert counts() == after
        assert CreditRecord.objects.get().pk == first.json()["id"]

    def test_the_body_is_compared_as_data_not_as_text(self, token_for, department, entity):
        api = token_for(department, "records:write")
        data = body(entity)
        first = post(api, "/api/v1/records/", data)
        reordered = json.dumps(dict(reversed(list(data.items()))), indent=2)
        again = api.post(
            "/api/v1/records/", reordered, content_type="application/json", headers={"Idempotency-Key": KEY}
        )
        assert (again.status_code, again.json()["id"]) == (201, first.json()["id"])
        assert again["Idempotent-Replayed"] == "true"

    def test_the_same_key_with_a_different_body_is_a_409_and_stores_nothing(
        self, token_for, department, entity
    ):
        api = token_for(department, "records:write")
        post(api, "/api/v1/records/", body(entity))
        after = counts()
        response = post(api, "/api/v1/records/", body(entity, number="深市监罚〔2026〕10号"))
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This Idempotency-Key was already used for a different request (first sent: POST "
            "/api/v1/records/, with another body or to another address). Use a new key for each new request.",
            "errors": {
                "Idempotency-Key": [
                    "This Idempotency-Key was already used for a different request (first sent: POST "
                    "/api/v1/records/, with another body or to another address). Use a new key for each "
                    "new request."
                ]
            },
        }
        assert "Idempotent-Replayed" not in response
        assert counts() == after

    def test_the_same_key_on_another_endpoint_is_a_409(self, token_for, department, entity):
        api = token_for(department, "records:write,entities:write")
        record = post(api, "/api/v1/records/", body(entity)).json()
        response = post(api, f"/api/v1/records/{record['id']}/revoke/", {"reason": "撤销"})
        assert response.status_code == 409
        assert "POST /api/v1/records/," in response.json()["detail"]
        assert CreditRecord.objects.get().status == "effective"

    def test_keys_are_per_department(self, token_for, department, other_department, entity):
        ours = post(token_for(department, "records:write"), "/api/v1/records/", body(entity))
        theirs = post(token_for(other_department, "records:write"), "/api/v1/records/", body(entity))
        assert (ours.status_code, theirs.status_code) == (201, 201)
        assert "Idempotent-Replayed" not in theirs
        assert ours.json()["id"] != theirs.json()["id"]
        assert (ours.json()["department"], theirs.json()["department"]) == (
            department.code,
            other_department.code,
        )
        assert CreditRecord.objects.count() == 2
        # A second token of the same department shares the department's keys.
        replay = post(token_for(department, "records:write"), "/api/v1/records/", body(entity))
        assert (replay.json()["id"], replay["Idempotent-Replayed"]) == (ours.json()["id"], "true")

    def test_a_key_is_kept_for_24_hours_then_it_is_a_new_request(self, token_for, department, entity, today):
        api = token_for(department, "records:write")
        today(date(2026, 12, 4), at=clock(9, 0))
        first = post(api, "/api/v1/records/", body(entity))
        today(date(2026, 12, 5), at=clock(8, 59))
        assert post(api, "/api/v1/records/", body(entity))["Idempotent-Replayed"] == "true"
        today(date(2026, 12, 5), at=clock(9, 1))
        # The key is free again: the request runs, and meets the duplicate decision number.
        late = post(api, "/api/v1/records/", body(entity))
        assert late.status_code == 409 and "decision_number" in late.json()["errors"]
        assert "Idempotent-Replayed" not in late
        assert CreditRecord.objects.get().pk == first.json()["id"]
        # The failed request left nothing: the key is free for a new decision.
        fresh = post(api, "/api/v1/records/", body(entity, number="深市监罚〔2026〕10号"))
        assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh

    def test_a_failed_request_keeps_nothing_and_the_key_serves_the_corrected_one(
        self, token_for, department, entity
    ):
        api = token_for(department, "records:write")
        refused = post(api, "/api/v1/records/", body(entity, severity="awful"))
        assert refused.status_code == 400
        assert not ApiIdempotencyKey.objects.exists()
        fixed = post(api, "/api/v1/records/", body(entity))
        assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed
        assert ApiIdempotencyKey.objects.get().status_code == 201

    @pytest.mark.parametrize("key", ["", "with space", "x" * 256, "ключ"])
    def test_an_unusable_key_is_a_400_naming_the_header(self, token_for, department, entity, key):
        api = token_for(department, "records:write")
        before = counts()
        response = api.post(
            "/api/v1/records/",
            data=json.dumps(body(entity)),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
        )
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["Idempotency-Key"]
        assert counts() == before

    def test_without_the_header_nothing_changes(self, token_for, department, entity):
        api = token_for(department, "records:write")
        assert post(api, "/api/v1/records/", body(entity), key=None).status_code == 201
        assert post(api, "/api/v1/records/", body(entity), key=None).status_code == 409
        assert not ApiIdempotencyKey.objects.exists()

    def test_a_token_without_the_scope_claims_no_key(self, token_for, department, entity):
        reader, writer = token_for(department, "records:read"), token_for(department, "records:write")
        before = counts()
        response = post(reader, "/api/v1/records/", body(entity))
        assert response.status_code == 403
        assert counts() == before
        assert post(writer, "/api/v1/records/", body(entity)).status_code == 201

    def test_a_revocation_retried_is_the_first_revocation(self, token_for, department, entity):
        api = token_for(department, "records:write")
        record = post(api, "/api/v1/records/", body(entity), key=None).json()
        first = post(api, f"/api/v1/records/{record['id']}/revoke/", {"reason": "原决定已撤销"})
        assert first.status_code == 200 and first.json()["status"] == "revoked"
        after = counts()
        again = post(api, f"/api/v1/records/{record['id']}/revoke/", {"reason": "原决定已撤销"})
        assert (again.status_code, again["Idempotent-Replayed"], again.content) == (
            200,
            "true",
            first.content,
        )
        assert counts() == after


class TestOtherCreatingPosts:
    def test_an_entity_registration_retried(self, token_for, department):
        from tests.test_registry import _body

        api = token_for(department, "entities:write")
        data = _body()
        first = post(api, "/api/v1/entities/", data)
        assert first.status_code == 201, first.content
        again = post(api, "/api/v1/entities/", data)
        assert (again.status_code, again["Idempotent-Replayed"], again.content) == (
            201,
            "true",
            first.content,
        )
        assert MarketEntity.objects.filter(code=data["code"]).count() == 1

    def test_a_hotline_complaint_retried_keeps_its_first_status(self, token_for, department):
        api = token_for(department, "complaints:write")
        data = {
            "external_reference": "12345-2026-000871",
            "kind": "tip_off",
            "entity_name": "广州市星辰贸易有限公司",
            "department": department.code,
            "description": "门店销售过期食品。",
        }
        first = post(api, "/api/v1/complaints/", data)
        again = post(api, "/api/v1/complaints/", data)
        assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
        assert again.json()["tracking_number"] == first.json()["tracking_number"]
        # Without the key, the ticket id still makes the hotline's retry harmless (200, as before).
        assert post(api, "/api/v1/complaints/", data, key=None).status_code == 200
        assert Complaint.objects.count() == 1

    def test_a_report_request_retried_is_one_report_at_the_same_location(self, token_for, department, entity):
        api = token_for(department, "reports:request")
        data = {"code": entity.code, "sections": ["punishments"], "language": "en"}
        first = post(api, "/api/v1/reports/", data)
        again = post(api, "/api/v1/reports/", data)
        assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (202, 202, "true")
        assert again["Location"] == first["Location"] == f"/api/v1/reports/{first.json()['number']}/"
        assert CreditReport.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_with_one_key_at_once_create_one_record(department, entity, monkeypatch):
    """Two requests on two connections: the first is held inside its transaction after claiming the
    key; the second waits on the key's unique constraint and then replays the first's response."""
    from records import services

    _, secret = token_issue(
        actor=system_actor("tests"), department=department, scopes=["records:write"], name="test"
    )
    create = services.record_create
    first_inside, second_started = threading.Event(), threading.Event()

    def held(**kwargs):
        first_inside.set()
        second_started.wait(timeout=10)
        time.sleep(0.5)  # the second request is now at the key's row
        return create(**kwargs)

    monkeypatch.setattr(services, "record_create", held)
    responses, errors = {}, []

    def send(name: str):
        try:
            if name == "second":
                first_inside.wait(timeout=10)
                second_started.set()
            client = Client(headers={"Authorization": f"Bearer {secret}"})
            responses[name] = post(client, "/api/v1/records/", body(entity))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    first, second = responses["first"], responses["second"]
    assert (first.status_code, second.status_code) == (201, 201), (first.content, second.content)
    assert first.json()["id"] == second.json()["id"] == CreditRecord.objects.get().pk
    assert ("Idempotent-Replayed" in first, second["Idempotent-Replayed"]) == (False, "true")
    assert AuditEvent.objects.filter(action="records.record.created").count() == 1


def test_the_purge_forgets_keys_older_than_the_window(token_for, department, entity, today):
    api = token_for(department, "records:write")
    today(date(2026, 12, 1))
    post(api, "/api/v1/records/", body(entity), key="old")
    today(date(2026, 12, 2), at=clock(12, 0))
    post(api, "/api/v1/records/", body(entity, number="深市监罚〔2026〕10号"), key="new")
    assert purge_expired() == {"form_submissions": 0, "api_keys": 1}
    assert list(ApiIdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_every_post_of_the_schema_documents_the_key_and_the_replay_header(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    posts = {path: item["post"] for path, item in schema["paths"].items() if "post" in item}
    assert set(posts) == {
        "/api/v1/entities/",
        "/api/v1/records/",
        "/api/v1/records/{id}/correct/",
        "/api/v1/records/{id}/revoke/",
        "/api/v1/complaints/",
        "/api/v1/reports/",
    }
    for path, operation in posts.items():
        header = [
            p for p in operation["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key"
        ]
        assert len(header) == 1 and not header[0].get("required"), path
        assert "24 hours" in header[0]["description"]
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert successes, path
        for code in successes:
            assert "Idempotent-Replayed" in operation["responses"][code]["headers"], (path, code)
        assert "Idempotency-Key was already used" in operation["responses"]["409"]["description"]
    gets = [item["get"] for item in schema["paths"].values() if "get" in item]
    assert not any(p.get("name") == "Idempotency-Key" for op in gets for p in op.get("parameters", []))
