"""The public index follows the records (database triggers), and the search reads it in two steps."""

from datetime import date

import pytest

from credit_portal.accounts.actors import actor_for_user
from disclosure import search
from disclosure.models import PublicIndexEntry
from records import services
from records.models import CreditRecord
from records.services import publication
from tests.test_records import SWEEP, punishment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today):
    """The decisions in these tests are dated in 2026 and their disclosure periods are counted from
    them: run on a fixed day after them, not on whatever day the suite runs."""
    today(date(2026, 12, 4), tick=True)


def indexed():
    return set(PublicIndexEntry.objects.values_list("record_id", flat=True))


@pytest.fixture
def actor(reviewer):
    return actor_for_user(reviewer)


def test_a_record_is_in_the_index_exactly_while_published_and_standing(actor, entity):
    record = services.record_create(actor=actor, data=punishment(entity, "I-1"), provenance="api")
    assert indexed() == set()  # pending
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    assert indexed() == {record.pk}
    CreditRecord.objects.filter(pk=record.pk).update(status="under_objection")
    assert indexed() == {record.pk}  # contested records stay public, labelled
    services.record_revoke(actor=actor, record_id=record.pk, reason="撤销")
    assert indexed() == set()


def test_period_end_removes_it(actor, entity):
    record = services.record_create(actor=actor, data=punishment(entity, "I-2"), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    publication.end_due(actor=SWEEP, today=date(2027, 10, 1))
    assert record.pk not in indexed()


def test_corrections_and_entity_moves_follow(actor, entity, clerk):
    record = services.record_create(actor=actor, data=punishment(entity, "I-3"), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    fixed = punishment(entity, "I-3", decided=date(2026, 9, 29))
    fixed.party_name = "深圳市鹏程新名称有限公司"
    services.record_correct(actor=actor, record_id=record.pk, data=fixed, reason="更正名称")
    entry = PublicIndexEntry.objects.get(record_id=record.pk)
    assert entry.decision_date == date(2026, 9, 29)
    assert [r.pk for r in search.search_records(search.PublicQuery(q="鹏程")).records] == [record.pk]
    assert search.search_records(search.PublicQuery(q="腾讯计算机")).records == []
    services.entity_update(
        actor=actor_for_user(clerk),
        code=entity.code,
        data=services.EntityInput(
            code=entity.code, name_zh=entity.name_zh, name_en=entity.name_en, division="440306"
        ),
    )
    assert PublicIndexEntry.objects.get(record_id=record.pk).division_id == "440306"
    assert [r.pk for r in search.search_records(search.PublicQuery(division="440306")).records] == [record.pk]


@pytest.fixture
def many(actor, entity):
    """25 published records of the same entity, newest decided last."""
    rows = [(n, punishment(entity, f"W-{n:02d}", decided=date(2026, 8, 1 + n))) for n in range(25)]
    services.records_import(actor=actor, rows=rows, provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))


def test_a_full_page_says_there_is_more_without_counting(many):
    page = search.search_records(search.PublicQuery(q="腾讯"), page=1, page_size=5)
    assert [r.decision_number for r in page.records] == ["W-24", "W-23", "W-22", "W-21", "W-20"]
    assert (page.count, page.capped, page.has_next) == (5, True, True)


def test_the_last_page_knows_the_exact_total(many):
    page = search.search_records(search.PublicQuery(q="腾讯"), page=5, page_size=5)
    assert [r.decision_number for r in page.records] == ["W-04", "W-03", "W-02", "W-01", "W-00"]
    assert (page.count, page.capped, page.has_next) == (25, False, False)


def test_a_rare_query_among_common_ones(actor, many, other_entity):
    services.record_create(
        actor=actor, data=punishment(other_entity, "RARE-1", decided=date(2026, 1, 5)), provenance="api"
    )
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    page = search.search_records(search.PublicQuery(q="星辰贸易"))
    assert [r.decision_number for r in page.records] == ["RARE-1"]
    assert (page.count, page.capped) == (1, False)
