"""Every task findable from where a newcomer starts: the business door's navigation and home, the
public pages from the home page, every matching entity from a search, exact hits without a "0
records" beneath them, recording a decision from the staff entity page, and the page a person
gets at a door that is not theirs."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from credit_portal.accounts.actors import actor_for_user
from disclosure import search
from records import services
from records.models import CatalogueItem, CreditRecord
from records.services import publication
from tests import factories as f
from tests.test_records import SWEEP, punishment
from tests.test_records_staff import form_data
from tests.test_reports_access import agency, agency_user  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today):
    today(date(2026, 12, 4), tick=True)


def html(response) -> str:
    return response.content.decode()


def nav_links(page: str, label: str) -> list[tuple[str, str]]:
    """The links of the ``<nav>`` named ``label``."""
    start = page.index(f'aria-label="{label}"')
    end = page.index("</nav>", start)
    return [
        (href, re.sub(r"<[^>]+>", "", text).strip())
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', page[start:end], flags=re.S)
    ]


# --- the business door ---------------------------------------------------------------------------


MY_SECTIONS = [
    ("/my/", "My entities"),
    ("/my/records/", "Our credit records"),
    ("/my/objections/", "Our objections"),
    ("/my/pledges/", "Permits and pledges"),
    ("/my/reports/", "Credit reports"),
    ("/my/claim/", "Claim an entity"),
    ("/account/password-reset/", "Change password"),
]


def test_the_business_navigation_leads_to_every_section_and_none_is_dead(client_for, entity_user):
    client = client_for(entity_user)
    page = html(client.get("/my/"))
    assert nav_links(page, "Business sections") == MY_SECTIONS
    for href, _label in MY_SECTIONS:
        assert client.get(href).status_code == 200, href
    # Voluntary information has no pages yet: no link leads to it.
    assert "voluntary" not in page.lower()


def test_the_business_home_says_what_each_section_is_for(client_for, entity_user):
    page = html(client_for(entity_user).get("/my/"))
    section = page[page.index('id="sections-heading"') :]
    section = section[: section.index("</section>")]
    items = re.findall(
        r'<li><a href="([^"]+)"><strong>([^<]+)</strong></a><div class="meta">([^<]+)</div></li>', section
    )
    assert [(href, label) for href, label, _purpose in items] == MY_SECTIONS[1:]
    purposes = {label: purpose for _href, label, purpose in items}
    assert purposes["Permits and pledges"] == (
        "Apply for a permit with a credit pledge (accepted on the spot, or with materials to follow), "
        "follow your applications and the pledges your entities have given."
    )
    assert purposes["Credit reports"] == (
        "Request your entity&#x27;s credit report (PDF and JSON), numbered and verifiable by anyone."
    )
    assert purposes["Change password"] == "Set a new password through a link sent to your email address."


def test_the_current_business_section_is_marked(client_for, entity_user):
    page = html(client_for(entity_user).get("/my/reports/"))
    assert '<a href="/my/reports/" aria-current="page">Credit reports</a>' in page
    assert page.count('aria-current="page"') == 2  # the door's own link, and the section


def test_an_agencys_member_finds_where_to_register_its_reports(client_for, agency_user, entity_user):  # noqa: F811
    link = """<a href="/my/third-party-reports/">Register your agency's reports on other entities</a>"""
    client = client_for(agency_user)
    assert link in html(client.get("/my/reports/"))
    assert client.get("/my/third-party-reports/").status_code == 200
    assert "/my/third-party-reports/" not in html(client_for(entity_user).get("/my/reports/"))


# --- the public door -----------------------------------------------------------------------------


PUBLIC_SECTIONS = [
    ("/verify/", "Verify a credit report"),
    ("/pledges/", "Credit pledges"),
    ("/pledges/matters/", "Matters with credit pledges"),
    ("/disclosure/on-time/", "How punctually does each department disclose?"),
    ("/complaints/new/", "Complaints and tip-offs"),
]


def test_the_public_pages_are_reachable_from_the_home_page(client):
    page = html(client.get("/"))
    section = page[page.index('<section aria-labelledby="more-heading">') :]
    section = section[: section.index("</section>")]
    assert '<h2 id="more-heading">Also on this portal</h2>' in section
    assert [
        (href, text) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', section)
    ] == PUBLIC_SECTIONS
    footer = page[page.index('<footer class="site-footer">') :]
    footer_hrefs = re.findall(r'<a href="([^"]+)"', footer)
    assert footer_hrefs == [
        "/complaints/new/",
        "/complaints/track/",
        "/objections/track/",
        "/disclosure/on-time/",
        "/pledges/",
        "/pledges/matters/",
        "/verify/",
        "/audit/anchors/",
    ]
    for href in {h for h, _ in PUBLIC_SECTIONS} | set(footer_hrefs):
        assert client.get(href).status_code == 200, href


def test_the_public_pages_are_listed_beneath_the_search_results_too(client, department):
    f.entity(department, code=f.uscc(), name_zh="星辰测试有限公司", name_en="")
    page = html(client.get("/", {"q": "星辰"}))
    assert page.index('id="entities-heading"') < page.index('<h2 id="more-heading">Also on this portal</h2>')


# --- the entities above the search results -------------------------------------------------------


def star_entities(department, n: int) -> list:
    """``n`` entities whose names hold "星辰", of growing length (shortest first = creation order)."""
    return [
        f.entity(department, code=f.uscc(), name_zh="星辰" + "甲" * i + "有限公司", name_en="")
        for i in range(n)
    ]


def test_the_search_says_how_many_entities_match_and_links_to_them_all(client, department):
    made = star_entities(department, 12)
    response = client.get("/", {"q": "星辰"})
    page = html(response)
    assert [e.code for e in response.context["entities"]] == [e.code for e in made[:10]]
    assert "10 of 12 matching market entities are shown." in page
    assert '<a href="/entities/?q=%E6%98%9F%E8%BE%B0">Show all 12 market entities</a>' in page

    response = client.get("/entities/", {"q": "星辰"})
    page = html(response)
    assert response.status_code == 200
    assert [e.code for e in response.context["matches"].hits] == [e.code for e in made]
    assert '<h2 id="entities-heading">12 market entities</h2>' in page
    assert '<a href="/?q=%E6%98%9F%E8%BE%B0">← Back to the search results</a>' in page


def test_all_the_entities_of_a_search_are_listed_in_pages(client, department):
    made = star_entities(department, 23)
    first = client.get("/entities/", {"q": "星辰"})
    assert [e.code for e in first.context["matches"].hits] == [e.code for e in made[:20]]
    assert "Page 1 of 2" in html(first) and 'href="?page=2&amp;q=%E6%98%9F%E8%BE%B0" rel="next"' in html(
        first
    )
    second = client.get("/entities/", {"q": "星辰", "page": "2"})
    assert [e.code for e in second.context["matches"].hits] == [e.code for e in made[20:]]
    assert '<ol class="result-list" start="21">' in html(second)
    # A page past the last (an old link) is the last page.
    past = client.get("/entities/", {"q": "星辰", "page": "9"})
    assert past.context["number"] == 2 and len(past.context["matches"].hits) == 3


def test_a_few_matching_entities_are_all_shown_without_a_link(client, department):
    star_entities(department, 3)
    page = html(client.get("/", {"q": "星辰"}))
    assert "3 market entities match." in page
    assert "/entities/?" not in page


def test_more_entities_than_are_read_are_said_to_be_more(client, department, monkeypatch):
    star_entities(department, 7)
    monkeypatch.setattr(search, "ENTITY_CANDIDATES", 5)
    page = html(client.get("/", {"q": "星辰"}))
    assert "5 of more than 5 matching market entities are shown." in page
    assert '<a href="/entities/?q=%E6%98%9F%E8%BE%B0">Show all matching market entities</a>' in page
    monkeypatch.setattr(search, "ENTITY_LIST_CAP", 6)
    response = client.get("/entities/", {"q": "星辰"})
    assert '<h2 id="entities-heading">More than 6 market entities</h2>' in html(response)
    assert len(response.context["matches"].hits) == 6


def test_the_entity_list_keeps_the_division_and_is_one_statement(client, department):
    f.entity(department, code=f.uscc(), name_zh="星辰深圳有限公司", name_en="", division="440305")
    f.entity(
        department, code=f.uscc(division="440106"), name_zh="星辰广州有限公司", name_en="", division="440106"
    )
    page = html(client.get("/", {"q": "星辰", "division": "440100"}))
    assert "1 market entity matches." in page
    client.get("/entities/", {"q": "星辰", "division": "440100"})  # the division's children, memoised
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/entities/", {"q": "星辰", "division": "440100"})
    assert [e.name_zh for e in response.context["matches"].hits] == ["星辰广州有限公司"]
    assert len(ctx.captured_queries) == 1
    assert '<input type="hidden" name="division" value="440100">' in html(response)


def test_an_entity_list_without_text_asks_for_it(client):
    response = client.get("/entities/")
    assert response.status_code == 200 and response.context["searched"] is False
    bad = client.get("/entities/", {"q": "星辰", "division": "44"})
    assert bad.context["searched"] is False and "division" in bad.context["form"].errors


# --- exact hits ------------------------------------------------------------------------------------


@pytest.fixture
def two_published(reviewer, entity):
    actor = actor_for_user(reviewer)
    made = [
        services.record_create(
            actor=actor, data=punishment(entity, f"深市监罚〔2026〕{n}号"), provenance="api"
        )
        for n in (31, 32)
    ]
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    return made


def test_a_search_by_code_shows_its_exact_hits_and_no_empty_count_beneath(client, entity, two_published):
    page = html(client.get("/", {"q": entity.code}))
    assert "2 published credit records have this code or decision number." in page
    assert "0 credit records" not in page and "results-heading" not in page
    assert "No published credit record matches" not in page


def test_a_search_by_decision_number_shows_one_exact_hit_and_no_empty_count(client, two_published):
    page = html(client.get("/", {"q": "深市监罚〔2026〕31号"}))
    assert "1 published credit record has this code or decision number." in page
    assert "0 credit records" not in page and "results-heading" not in page


def test_a_search_without_any_hit_still_says_so(client, two_published):
    page = html(client.get("/", {"q": "深市监罚〔2026〕99号"}))
    assert '<h2 id="results-heading">0 credit records</h2>' in page
    assert "No published credit record matches" in page


def test_exact_hits_beyond_the_cap_point_to_the_entity_page(client, entity, two_published, monkeypatch):
    monkeypatch.setattr(search, "EXACT_HITS", 2)
    page = html(client.get("/", {"q": entity.code}))
    assert (
        "The 2 newest published credit records with this code or decision number are shown; "
        "the entity's page lists them all."
    ) in page


# --- recording a decision from the staff entity page ---------------------------------------------


def test_the_staff_entity_page_records_a_decision_for_the_entity(client_for, clerk, entity):
    client = client_for(clerk)
    page = html(client.get(f"/staff/entities/{entity.code}/"))
    href = f"/staff/records/new/?code={entity.code}"
    assert f'<a class="button" href="{href}">Record a decision for this entity</a>' in page
    chooser = html(client.get(href))
    assert f"For the entity with the unified social credit code {entity.code}." in chooser
    assert f'href="?item=admin_punishment&amp;code={entity.code}"' in chooser
    form = client.get(f"/staff/records/new/?item=admin_punishment&code={entity.code}")
    assert form.context["form"]["code"].value() == entity.code
    response = client.post(f"/staff/records/new/?item=admin_punishment&code={entity.code}", form_data(entity))
    assert response.status_code == 302
    assert CreditRecord.objects.get().entity == entity


def test_the_record_chooser_lists_only_what_the_department_may_record(
    client_for, clerk, other_department_clerk, other_department, entity
):
    CatalogueItem.objects.get(code="admin_punishment").recording_departments.set([other_department])
    mine = html(client_for(clerk).get(f"/staff/records/new/?code={entity.code}"))
    theirs = html(client_for(other_department_clerk).get(f"/staff/records/new/?code={entity.code}"))
    assert 'href="?item=admin_punishment&' not in mine and 'href="?item=admin_permit&' in mine
    assert 'href="?item=admin_punishment&' in theirs
    for workflow_item in CatalogueItem.objects.filter(workflow_only=True):
        assert f'href="?item={workflow_item.code}&' not in mine
    refused = client_for(clerk).get("/staff/records/new/?item=serious_list")
    assert refused.status_code == 403
    assert "is recorded only by its own procedure" in html(refused)


# --- a door that is not one's own ------------------------------------------------------------------


def test_a_business_account_at_the_staff_door_is_told_what_it_is_and_how_to_sign_out(client_for, entity_user):
    client = client_for(entity_user)
    response = client.get("/staff/")
    page = html(response)
    assert response.status_code == 403
    assert "<h1>This is the regulators' door</h1>" in page
    assert "You are signed in as entity_user, which is not a staff account of a department" in page
    assert '<a href="/my/">Go to your business pages</a>' in page
    assert re.search(
        r'<form class="inline-form" method="post" action="/staff/logout/">.*?'
        r'<button class="primary" type="submit">Sign out and sign in as staff</button>',
        page,
        flags=re.S,
    )
    signed_out = client.post("/staff/logout/")
    assert signed_out.status_code == 302 and signed_out["Location"] == "/staff/login/"
    assert client.get("/staff/").status_code == 302  # now to the staff sign-in


def test_a_business_account_changes_nothing_at_the_staff_door(client_for, entity_user, entity):
    response = client_for(entity_user).post("/staff/records/new/?item=admin_punishment", form_data(entity))
    assert response.status_code == 403
    assert "This is the regulators' door" in html(response)
    assert not CreditRecord.objects.exists()


def test_a_staff_account_at_the_business_door_is_told_what_it_is_and_how_to_sign_out(client_for, reviewer):
    client = client_for(reviewer)
    for url in ["/my/", "/my/reports/", "/my/pledges/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "<h1>This is the businesses' door</h1>" in html(response)
    page = html(response)
    assert "You are signed in as reviewer, a staff account of a department" in page
    assert '<a href="/staff/">Go to the regulators\' dashboard</a>' in page
    assert 'action="/my/logout/"' in page and "Sign out and sign in as a business" in page
    signed_out = client.post("/my/logout/")
    assert signed_out["Location"] == "/my/login/"


def test_the_wrong_door_page_is_a_page_of_the_readers_language(entity_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(entity_user)
    response = client.get("/staff/")
    assert response.status_code == 403
    assert response.templates[0].name == "staff/wrong_door.html"
    assert '<html lang="zh-Hans">' in html(response)
    assert "信用监管平台 · 监管部门" in html(response)  # the door's own brand, in Chinese


def test_staff_without_the_capability_still_get_the_plain_refusal(client_for, clerk):
    response = client_for(clerk).get("/staff/claims/")
    assert response.status_code == 403
    assert "regulators' door" not in html(response)


def test_every_public_link_of_the_home_page_resolves():
    # The navigation is written from URL names: a renamed page fails here, not in a browser.
    for href, _label in PUBLIC_SECTIONS + MY_SECTIONS:
        assert resolve(href)
