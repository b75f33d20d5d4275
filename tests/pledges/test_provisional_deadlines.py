"""The deadlines of a pledge that a business (and the public) reads — materials to follow, the
permit record's disclosure-by date — say they are provisional while their year's official holidays
are not entered, like the defence deadline of a breach notice."""

from __future__ import annotations

from datetime import date

import pytest

from pledges import services
from tests.pledges.support import apply, permit, sign
from tests.test_provisional_deadlines import BADGE, UNANNOUNCED, WHY, enter_year, remove_year, text

pytestmark = pytest.mark.django_db


def test_materials_due_by_is_provisional_on_every_page_that_shows_it(
    today, matter, materials, entity_actor, entity, entity_user, client_for
):
    today(date(UNANNOUNCED, 3, 1))
    application = apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())
    pledge = application.pledge
    assert pledge.materials_due_on.year == UNANNOUNCED
    due = f"{pledge.materials_due_on:%Y-%m-%d}"
    business = client_for(entity_user)
    pages = {
        "my home": lambda: business.get("/my/pledges/"),
        "my application": lambda: business.get(f"/my/applications/{application.number}/"),
        "my pledge": lambda: business.get(f"/my/pledges/{pledge.number}/"),
        "public pledge": lambda: client_for(None).get(f"/pledges/{pledge.number}/"),
    }
    for name, page in pages.items():
        body = text(page())
        assert due in body, name
        assert BADGE.search(body), name
    assert WHY in text(pages["my application"]()) and WHY in text(pages["public pledge"]())

    enter_year(UNANNOUNCED)
    for name, page in pages.items():
        body = text(page())
        assert due in body and not BADGE.search(body) and WHY not in body, name

    remove_year(UNANNOUNCED)
    assert BADGE.search(text(pages["my home"]()))


def test_the_permit_records_disclosure_by_date_is_provisional(
    today, matter, entity_actor, entity, entity_user, reviewer_actor, client_for
):
    today(date(UNANNOUNCED, 3, 1))
    application = apply(entity_actor, matter, entity, pledge=sign())
    services.application_decide(
        actor=reviewer_actor, number=application.number, approve=True, permit=permit()
    )
    application.refresh_from_db()
    record = application.permit_record
    assert (record.disclosure, record.disclosure_due_on.year) == ("pending", UNANNOUNCED)
    url = f"/my/applications/{application.number}/"
    body = text(client_for(entity_user).get(url))
    assert f"Published by {record.disclosure_due_on:%Y-%m-%d} as the law requires." in body
    assert BADGE.search(body)
    enter_year(UNANNOUNCED)
    assert not BADGE.search(text(client_for(entity_user).get(url)))
