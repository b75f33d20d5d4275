"""A public form in a real browser: after sending, the browser is on a result page (303 See Other),
so reloading it shows the same tracking number and files nothing, and a second click on
the button while the first is on its way files one complaint."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from records.models import Complaint
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TRACKING = re.compile(r"^TS[0-9A-Z]{12}$")


@pytest.fixture
def department(live_url):
    return f.department("SZ-BROWSER")


def fill_complaint(page, department) -> None:
    page.goto("/complaints/new/")
    page.get_by_label("Complaint", exact=True).check()
    page.get_by_label("Name of the business or organisation").fill("深圳市某某食品店")
    page.get_by_label("Department to handle it").select_option(department.code)
    page.get_by_label("What happened").fill("门店销售过期食品。")


def tracking_number(page) -> str:
    number = page.get_by_role("status").locator("strong.code")
    expect(number).to_have_text(TRACKING)
    return number.inner_text()


def test_reloading_the_result_page_shows_the_same_tracking_number_and_files_nothing(
    page, live_url, department
):
    fill_complaint(page, department)
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(f"{live_url}/complaints/received/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Complaint received")
    first = tracking_number(page)

    for _reload in range(2):
        response = page.reload()
        assert response.request.method == "GET"  # the browser repeats the GET, not the POST
        expect(page).to_have_url(f"{live_url}/complaints/received/")
        assert tracking_number(page) == first
    assert list(Complaint.objects.values_list("tracking_number", flat=True)) == [first]

    # Another browser (no session) opening the address sees no tracking number.
    stranger = page.context.browser.new_context(base_url=live_url, locale="en-US")
    try:
        other = stranger.new_page()
        other.goto("/complaints/received/")
        expect(other).to_have_url(f"{live_url}/complaints/track/")
        expect(other.get_by_role("main")).not_to_contain_text(first)
    finally:
        stranger.close()


def test_a_second_click_while_the_first_is_on_its_way_files_one_complaint(
    page, live_url, department, monkeypatch
):
    """The server takes two seconds to file; the person clicks Send again meanwhile. The browser
    drops the first navigation and sends the form again, with the same key: the second POST waits
    for the first and then shows its result."""
    from records.services import complaints

    submit = complaints.complaint_submit

    def slow(**kwargs):
        time.sleep(2.0)
        return submit(**kwargs)

    monkeypatch.setattr(complaints, "complaint_submit", slow)
    fill_complaint(page, department)
    posts = []
    page.on("request", lambda request: posts.append(request.method) if request.method == "POST" else None)
    page.get_by_role("button", name="Send").focus()
    page.keyboard.press("Enter")  # the keyboard does not wait for the navigation it starts
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_url}/complaints/received/")
    number = tracking_number(page)
    assert posts == ["POST", "POST"]
    assert list(Complaint.objects.values_list("tracking_number", flat=True)) == [number]
