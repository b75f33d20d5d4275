"""Finding one's way in a real browser, as a newcomer would: a business's sections from its home, the
public pages from the home page, every entity a search matched, an exact hit without "0 records"
beneath it, the staff door opened with a business account, and a mistyped address under
``make run`` (DEBUG on) from a browser on another address.

The locators are what a person uses (roles, accessible names, visible text)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from playwright.sync_api import expect

from credit_portal.accounts.actors import actor_for_user
from records import services
from records.services import publication
from tests import factories as f
from tests.browser.conftest import PAGE_PROBLEMS
from tests.conftest import _member
from tests.test_records import SWEEP, punishment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ENTITY_ZH = "深圳市寻路示范科技有限公司"


@pytest.fixture
def world(live_url):
    department = f.department("SZ-FIND")
    entity = f.entity(department, code=f.uscc(), name_zh=ENTITY_ZH, name_en="Shenzhen Wayfinding Co., Ltd.")
    user = _member(f.entity_user("finding_company"), entity)
    return {"department": department, "entity": entity, "user": user}


def sign_in_as(page, live_url: str, user) -> None:
    """Put a session of ``user`` into the browser."""
    client = Client()
    client.force_login(user)
    assert client.session[SESSION_KEY]
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": client.session.session_key, "url": live_url}])


def expected_status(request, status: int) -> None:
    """The page just opened answered ``status`` on purpose: the browser's console line about it is
    not a problem of the page."""
    problems = request.node.stash[PAGE_PROBLEMS]
    problems.console_errors[:] = [e for e in problems.console_errors if f"status of {status}" not in e]


def test_a_business_finds_each_section_from_its_home(page, live_url, world):
    sign_in_as(page, live_url, world["user"])
    page.goto("/my/")
    sections = page.get_by_role("navigation", name="Business sections")
    for name in [
        "Our credit records",
        "Our objections",
        "Permits and pledges",
        "Credit reports",
        "Change password",
    ]:
        expect(sections.get_by_role("link", name=name, exact=True)).to_be_visible()
    what = page.get_by_role("region", name="What you can do here")
    expect(what.get_by_role("listitem")).to_have_count(6)
    expect(what).to_contain_text("Apply for a permit with a credit pledge")
    expect(what).to_contain_text("Request your entity's credit report (PDF and JSON)")

    sections.get_by_role("link", name="Credit reports", exact=True).click()
    expect(page).to_have_url(f"{live_url}/my/reports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Credit reports")
    expect(sections.get_by_role("link", name="Credit reports", exact=True)).to_have_attribute(
        "aria-current", "page"
    )

    page.get_by_role("navigation", name="Business sections").get_by_role(
        "link", name="Permits and pledges"
    ).click()
    expect(page.get_by_role("link", name="Apply for a permit").first).to_be_visible()


def test_the_public_finds_pledges_matters_verification_and_on_time_from_the_home_page(page, live_url):
    for name, url, heading in [
        ("Verify a credit report", "/verify/", re.compile("Verify", re.I)),
        ("Credit pledges", "/pledges/", re.compile("pledge", re.I)),
        ("Matters with credit pledges", "/pledges/matters/", re.compile("pledge", re.I)),
        ("How punctually does each department disclose?", "/disclosure/on-time/", re.compile("time", re.I)),
        ("Complaints and tip-offs", "/complaints/new/", re.compile("complaint", re.I)),
    ]:
        page.goto("/")
        page.get_by_role("region", name="Also on this portal").get_by_role(
            "link", name=name, exact=True
        ).click()
        expect(page).to_have_url(f"{live_url}{url}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.goto("/")
    footer = page.get_by_role("contentinfo")
    footer.get_by_role("link", name="Audit trail anchors").click()
    expect(page).to_have_url(f"{live_url}/audit/anchors/")
    page.goto("/")
    page.get_by_role("contentinfo").get_by_role("link", name="Verify a credit report").click()
    expect(page).to_have_url(f"{live_url}/verify/")


def test_a_search_says_how_many_entities_match_and_shows_them_all(page, live_url, world):
    for i in range(12):
        f.entity(world["department"], code=f.uscc(), name_zh="寻路" + "甲" * i + "贸易有限公司", name_en="")
    page.goto("/")
    search_box = page.get_by_role("search").get_by_role("searchbox")
    search_box.fill("寻路")
    search_box.press("Enter")
    entities = page.get_by_role("region", name="Market entities")
    expect(entities).to_contain_text("10 of 13 matching market entities are shown.")
    expect(entities.get_by_role("listitem")).to_have_count(10)

    entities.get_by_role("link", name="Show all 13 market entities").click()
    expect(page).to_have_url(re.compile(r"/entities/\?q=%E5%AF%BB%E8%B7%AF$"))
    expect(page.get_by_role("heading", level=2, name="13 market entities")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("listitem")).to_have_count(13)
    expect(page.get_by_role("link", name=ENTITY_ZH)).to_be_visible()

    page.get_by_role("link", name="Back to the search results").click()
    expect(page).to_have_url(re.compile(r"/\?q=%E5%AF%BB%E8%B7%AF$"))


def test_a_search_by_code_shows_its_exact_hit_and_no_zero_beneath(page, live_url, world, today):
    today(date(2026, 12, 4), tick=True)
    reviewer = f.staff(world["department"], "reviewer", username="finding_reviewer")
    services.record_create(
        actor=actor_for_user(reviewer),
        data=punishment(world["entity"], "深市监罚〔2026〕88号"),
        provenance="api",
    )
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    page.goto("/")
    search_box = page.get_by_role("search").get_by_role("searchbox")
    search_box.fill(world["entity"].code)
    search_box.press("Enter")
    exact = page.get_by_role("region", name="Exact matches")
    expect(exact).to_contain_text("1 published credit record has this code or decision number.")
    expect(exact).to_contain_text("深市监罚〔2026〕88号")
    expect(page.get_by_role("main")).not_to_contain_text("0 credit records")
    expect(page.get_by_role("main")).not_to_contain_text("No published credit record matches")


def test_a_business_account_at_the_staff_door_is_told_so_and_signs_out_there(page, live_url, world, request):
    sign_in_as(page, live_url, world["user"])
    response = page.goto("/staff/")
    assert response.status == 403
    expected_status(request, 403)
    expect(page.get_by_role("heading", level=1)).to_have_text("This is the regulators' door")
    expect(page.get_by_role("main")).to_contain_text("You are signed in as finding_company")
    page.get_by_role("button", name="Sign out and sign in as staff").click()
    expect(page).to_have_url(f"{live_url}/staff/login/")
    page.goto("/my/")
    expect(page).to_have_url(re.compile(r"/my/login/\?next=/my/$"))


def test_a_mistyped_address_under_debug_from_another_address_gets_the_portals_page(
    page, live_url, settings, request
):
    settings.DEBUG = True
    settings.INTERNAL_IPS = []  # the browser stands for one on another address
    response = page.goto("/pledge/")
    assert response.status == 404
    expected_status(request, 404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("main")).not_to_contain_text("URLconf")
    expect(page.get_by_role("navigation", name="Sections")).to_be_visible()
    page.get_by_role("contentinfo").get_by_role("link", name="Credit pledges", exact=True).click()
    expect(page).to_have_url(f"{live_url}/pledges/")
