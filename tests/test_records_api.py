"""The agency door for records and the change feed."""

import json
from datetime import date

import pytest

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from records import services
from records.fields import RecordInput
from records.models import CatalogueItem, CreditRecord, RecordChange, RecordProposal
from records.services import publication
from tests import factories as f
from tests.test_records import SWEEP, punishment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today):
    """The decisions in these tests are dated in 2026 and their disclosure periods are counted from
    them: run on a fixed day after them, not on whatever day the suite runs."""
    today(date(2026, 12, 4), tick=True)


def body(entity, number="深市监罚〔2026〕9号", **overrides):
    data = {
        "item": "admin_punishment",
        "code": entity.code,
        "decision_number": number,
        "decision_date": "2026-09-30",
        "legal_basis": "《中华人民共和国产品质量法》第四十九条",
        "severity": "general",
        "content": "罚款5万元",
        "fields": {
            "party_category": "legal_person",
            "facts": "销售不合格产品",
            "punishment_category": "fine",
            "fine_amount": "5",
            "legal_rep_name": "马某某",
            "legal_rep_id_number": f.resident_id(),
        },
    }
    data.update(overrides)
    return data


def post(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def counts():
    return (CreditRecord.objects.count(), RecordChange.objects.count(), AuditEvent.objects.count())


class TestWrite:
    def test_token_records_for_its_own_department(self, token_for, department, entity):
        api = token_for(department, "records:write,records:read")
        response = post(api, "/api/v1/records/", body(entity))
        assert response.status_code == 201, response.content
        data = response.json()
        assert (data["department"], data["entity"], data["status"], data["disclosure"]) == (
            department.code, entity.code, "effective", "pending"
        )  # fmt: skip
        assert data["disclosure_due_on"] == "2026-10-15"
        assert data["fields"]["legal_rep_id_number"].startswith("4401**")
        assert f.resident_id() not in response.content.decode()
        assert CreditRecord.objects.get().provenance == "api"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"code": "91440300MA5D1234X0"}, "code"),
            ({"decision_date": "2026-13-01"}, "decision_date"),
            ({"decision_date": "2999-01-01"}, "decision_date"),
            ({"item": "no_such_item"}, "item"),
            ({"severity": "awful"}, "severity"),
            ({"decision_number": "x" * 129}, "decision_number"),
            ({"content": "罚款\x00"}, "content"),
            (
                {
                    "fields": {
                        "party_category": "legal_person",
                        "facts": "x",
                        "punishment_category": "fine",
                        "oops": 1,
                    }
                },
                "fields.oops",
            ),
        ],
    )
    def test_bad_input_is_400_per_field_and_nothing_written(
        self, token_for, department, entity, overrides, field
    ):
        api = token_for(department, "records:write")
        before = counts()
        response = post(api, "/api/v1/records/", body(entity, **overrides))
        assert response.status_code == 400, response.content
        assert field in response.json()["errors"], response.json()
        assert counts() == before

    def test_duplicate_decision_number_is_409(self, token_for, department, entity):
        api = token_for(department, "records:write")
        assert post(api, "/api/v1/records/", body(entity)).status_code == 201
        before = counts()
        response = post(api, "/api/v1/records/", body(entity))
        assert response.status_code == 409
        assert "decision_number" in response.json()["errors"]
        assert counts() == before

    def test_another_department_may_record_the_same_number(
        self, token_for, department, other_department, entity
    ):
        assert (
            post(token_for(department, "records:write"), "/api/v1/records/", body(entity)).status_code == 201
        )
        assert (
            post(token_for(other_department, "records:write"), "/api/v1/records/", body(entity)).status_code
            == 201
        )

    def test_a_department_corrects_and_revokes_only_its_own(
        self, token_for, department, other_department, entity
    ):
        own = token_for(department, "records:write,records:read")
        record_id = post(own, "/api/v1/records/", body(entity)).json()["id"]
        other = token_for(other_department, "records:write,records:read")
        before = counts()
        assert post(other, f"/api/v1/records/{record_id}/revoke/", {"reason": "x"}).status_code == 404
        assert (
            post(other, f"/api/v1/records/{record_id}/correct/", {**body(entity), "reason": "x"}).status_code
            == 404
        )
        assert counts() == before
        fixed = body(entity, content="罚款3万元")
        response = post(own, f"/api/v1/records/{record_id}/correct/", {**fixed, "reason": "金额错误"})
        assert response.status_code == 200, response.content
        assert (response.json()["version"], response.json()["content"]) == (2, "罚款3万元")
        response = post(
            own, f"/api/v1/records/{record_id}/revoke/", {"reason": "复议撤销", "revoked_on": "2026-10-20"}
        )
        assert (response.status_code, response.json()["status"]) == (200, "revoked")

    @pytest.mark.parametrize(
        ("scopes", "status"), [("records:read", 403), ("entities:write", 403), (None, 401)]
    )
    def test_write_needs_the_scope(self, token_for, client, department, entity, scopes, status):
        api = token_for(department, scopes) if scopes else client
        before = counts()
        assert post(api, "/api/v1/records/", body(entity)).status_code == status
        assert counts() == before


class TestRead:
    def test_records_of_an_entity(self, token_for, department, other_department, entity, reviewer):
        actor = actor_for_user(reviewer)
        services.record_create(actor=actor, data=punishment(entity, "R-1"), provenance="api")
        api = token_for(other_department, "records:read")
        response = api.get("/api/v1/records/", {"entity": entity.code})
        assert response.status_code == 200
        assert [r["decision_number"] for r in response.json()["results"]] == ["R-1"]
        assert api.get("/api/v1/records/", {"entity": f.uscc(n=8_888_888)}).json()["results"] == []

    def test_authorised_use_records_stay_with_their_department(
        self, token_for, department, other_department, entity, reviewer
    ):
        actor = actor_for_user(reviewer)
        record = services.record_create(
            actor=actor,
            data=RecordInput(
                item="contract_performance",
                code=entity.code,
                decision_number="C-1",
                decision_date="2026-10-01",
            ),
            provenance="api",
        )
        assert CatalogueItem.objects.get(code="contract_performance").use_scope == "authorised"
        other = token_for(other_department, "records:read")
        assert other.get(f"/api/v1/records/{record.pk}/").status_code == 404
        assert other.get("/api/v1/records/", {"entity": entity.code}).json()["results"] == []
        own = token_for(department, "records:read")
        assert own.get(f"/api/v1/records/{record.pk}/").status_code == 200

    def test_read_needs_the_scope(self, token_for, department):
        assert token_for(department, "records:write").get("/api/v1/records/").status_code == 403
        assert token_for(department, "records:write").get("/api/v1/changes/").status_code == 403


class TestChangeFeed:
    def test_feed_follows_creation_correction_revocation_and_expiry_in_order(
        self, token_for, department, entity, reviewer
    ):
        actor = actor_for_user(reviewer)
        api = token_for(department, "records:read")
        first = api.get("/api/v1/changes/", {"cursor": 0}).json()
        assert first == {"changes": [], "next_cursor": 0, "has_more": False}
        a = services.record_create(actor=actor, data=punishment(entity, "FEED-1"), provenance="api")
        b = services.record_create(actor=actor, data=punishment(entity, "FEED-2"), provenance="api")
        services.record_correct(
            actor=actor,
            record_id=a.pk,
            data=punishment(entity, "FEED-1", fields={"fine_amount": "1"}),
            reason="更正",
        )
        services.record_revoke(actor=actor, record_id=b.pk, reason="撤销")
        publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
        publication.end_due(actor=SWEEP, today=date(2027, 10, 1))
        page = api.get("/api/v1/changes/", {"cursor": 0, "limit": 2}).json()
        assert [(c["record"], c["kind"]) for c in page["changes"]] == [(a.pk, "created"), (b.pk, "created")]
        assert page["has_more"] is True
        rest = api.get("/api/v1/changes/", {"cursor": page["next_cursor"]}).json()
        assert [(c["record"], c["kind"], c["version"]) for c in rest["changes"]] == [
            (a.pk, "corrected", 2),
            (b.pk, "revoked", 1),
            (a.pk, "expired", 2),
        ]
        assert rest["changes"][0]["data"]["fields"]["fine_amount"] == "1"
        assert rest["has_more"] is False
        assert api.get("/api/v1/changes/", {"cursor": rest["next_cursor"]}).json()["changes"] == []

    def test_drafts_reach_the_feed_when_confirmed(self, token_for, department, entity, clerk, reviewer):
        api = token_for(department, "records:read")
        draft = services.record_create(
            actor=actor_for_user(clerk), data=punishment(entity, "DR-1"), provenance="form"
        )
        assert api.get("/api/v1/changes/").json()["changes"] == []
        services.record_confirm(actor=actor_for_user(reviewer), record_id=draft.pk)
        assert [c["kind"] for c in api.get("/api/v1/changes/").json()["changes"]] == ["created"]

    def test_bad_cursor_is_400(self, token_for, department):
        api = token_for(department, "records:read")
        assert api.get("/api/v1/changes/", {"cursor": "abc"}).status_code == 400
        assert api.get("/api/v1/changes/", {"cursor": -1}).status_code == 400


# --- the permission matrix of the records doors and the feed --------------------------------------

ACTORS = [
    "anonymous",
    "entity_user",
    "other_entity_user",
    "other_department_clerk",
    "clerk",
    "token_without_scope",
    "token_read",
    "token_write",
    "other_department_token_write",
]


@pytest.fixture
def as_actor(request, client_for, token_for, department, other_department):
    def make(name):
        if name == "anonymous":
            return client_for(None)
        if name == "token_without_scope":
            return token_for(department, "entities:read")
        if name == "token_read":
            return token_for(department, "records:read")
        if name == "token_write":
            return token_for(department, "records:write")
        if name == "other_department_token_write":
            return token_for(other_department, "records:write,records:read")
        return client_for(request.getfixturevalue(name))

    return make


@pytest.fixture
def a_record(reviewer, entity):
    return services.record_create(
        actor=actor_for_user(reviewer), data=punishment(entity, "M-1"), provenance="api"
    )


READ_EXPECTED = {
    "anonymous": 401, "entity_user": 403, "other_entity_user": 403, "other_department_clerk": 200, "clerk": 200,
    "token_without_scope": 403, "token_read": 200, "token_write": 403, "other_department_token_write": 200,
}  # fmt: skip


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url", ["/api/v1/records/", "/api/v1/records/{pk}/", "/api/v1/changes/"])
def test_read_matrix(as_actor, actor, url, a_record):
    response = as_actor(actor).get(url.format(pk=a_record.pk))
    assert response.status_code == READ_EXPECTED[actor]
    if response.status_code != 200:
        assert a_record.decision_number not in response.content.decode()


WRITE_EXPECTED = {
    # Changing a record: only its own department's writers; others learn nothing (404 after scope).
    # A clerk's change of a standing record is a proposal for a reviewer: accepted (202), not applied.
    "anonymous": 401, "entity_user": 403, "other_entity_user": 403, "other_department_clerk": 404, "clerk": 202,
    "token_without_scope": 403, "token_read": 403, "token_write": 200, "other_department_token_write": 404,
}  # fmt: skip


@pytest.mark.parametrize("actor", ACTORS)
def test_revoke_matrix(as_actor, actor, a_record):
    client = as_actor(actor)
    before = counts()
    response = post(client, f"/api/v1/records/{a_record.pk}/revoke/", {"reason": "撤销"})
    assert response.status_code == WRITE_EXPECTED[actor]
    a_record.refresh_from_db()
    if WRITE_EXPECTED[actor] == 200:
        assert a_record.status == "revoked"
    elif WRITE_EXPECTED[actor] == 202:
        assert a_record.status == "effective"
        proposal = RecordProposal.objects.get(record=a_record)
        assert (proposal.kind, proposal.status, proposal.reason) == ("revocation", "pending", "撤销")
        assert response.json()["status"] == "pending"
    else:
        assert a_record.status == "effective"
        assert counts() == before


@pytest.mark.parametrize("actor", ACTORS)
def test_missing_record_is_indistinguishable_from_another_departments(as_actor, actor, a_record):
    client = as_actor(actor)
    missing = client.get("/api/v1/records/999999/")
    if READ_EXPECTED[actor] == 200:
        assert missing.status_code == 404
    else:
        assert missing.status_code == READ_EXPECTED[actor]
