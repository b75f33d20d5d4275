"""A reviewer's dashboard shows every queue that is theirs, each as a card with its count and a link
to the queue: drafts and proposed changes, entity claims, objections to answer, complaints to
handle, permit applications to decide. (Here, beside the pledge fixtures, for the applications.)"""

from __future__ import annotations

import re
from datetime import date

import pytest

from credit_portal.accounts.actors import PUBLIC, actor_for_user
from records import services as record_services
from records.services import complaints, objections, publication, review
from tests import factories as f
from tests.conftest import _actor
from tests.pledges.support import apply
from tests.test_records import SWEEP, punishment

pytestmark = pytest.mark.django_db


def cards(page: str) -> dict[str, tuple[str, list[str]]]:
    """Each dashboard card: its heading -> (its count, the links it has)."""
    out = {}
    for body in re.findall(r'<section class="card"[^>]*>(.*?)</section>', page, flags=re.S):
        heading = re.search(r"<h2[^>]*>(.*?)</h2>", body, flags=re.S).group(1).strip()
        stat = re.search(r'<p class="stat">([^<]*)</p>', body)
        out[heading] = (stat.group(1).strip() if stat else "", re.findall(r'<a href="([^"]+)"', body))
    return out


@pytest.fixture
def queues(today, reviewer, clerk, entity, entity_user, department, matter, entity_actor):
    """One item in each of the reviewer's queues."""
    today(date(2026, 10, 9))
    reviewer_actor, clerk_actor = actor_for_user(reviewer), actor_for_user(clerk)
    standing = record_services.record_create(
        actor=reviewer_actor, data=punishment(entity, "深市监罚〔2026〕41号"), provenance="api"
    )
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    record_services.record_create(
        actor=clerk_actor, data=punishment(entity, "深市监罚〔2026〕42号"), provenance="form"
    )
    review.record_change_propose(
        actor=clerk_actor,
        record_id=standing.pk,
        kind="revocation",
        reason="决定已被撤销",
        revoked_on=date(2026, 10, 9),
    )
    record_services.claim_submit(actor=_actor(f.entity_user("applicant")), code=entity.code, role="agent")
    objections.objection_submit(
        actor=entity_actor, record_id=standing.pk, grounds="罚款金额与决定书不符，请予更正。"
    )
    complaints.complaint_submit(
        actor=PUBLIC,
        kind="complaint",
        entity_name=entity.name_zh,
        code=entity.code,
        department=department.code,
        description="该企业销售过期食品，多次投诉未果，请依法查处。",
        submitter_name="李某",
        contact="13912345678",
    )
    apply(entity_actor, matter, entity)


def test_a_reviewer_sees_every_queue_with_its_count_and_link(client_for, reviewer, queues):
    page = client_for(reviewer).get("/staff/").content.decode()
    found = cards(page)
    assert found["Waiting for review"] == ("2", ["/staff/records/review/"])
    assert "1 drafts from the form, 0 imported drafts, 1 proposed changes" in page
    assert found["Entity claims"] == ("1", ["/staff/claims/"])
    assert found["Objections"] == ("1", ["/staff/objections/"])
    assert found["Complaints and tip-offs"] == ("1", ["/staff/complaints/"])
    assert found["Permits and pledges"] == ("1", ["/staff/pledges/applications/"])
    for _count, hrefs in found.values():
        for href in hrefs:
            assert client_for(reviewer).get(href).status_code == 200, href


def test_a_clerk_sees_no_reviewers_queue(client_for, clerk, queues):
    found = cards(client_for(clerk).get("/staff/").content.decode())
    for queue in [
        "Waiting for review",
        "Entity claims",
        "Objections",
        "Complaints and tip-offs",
        "Permits and pledges",
    ]:
        assert queue not in found
    assert "Entity registry" in found
