"""A form sent back with errors, in a real browser: the error summary has the focus (a keyboard or
screen-reader user starts there and hears every error), it lists the form's and the service's
errors together, each field once, and each of its links moves the focus to its field — for a group
of radio buttons, a fieldset with its legend, to the first option. All under the portal's
Content-Security-Policy (the page fixture fails on any violation or console error)."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from playwright.sync_api import expect

from records.models import EntityClaim
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

UNKNOWN_CODE = f.uscc(n=77)


def sign_in_as(page, live_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    assert client.session[SESSION_KEY]
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": client.session.session_key, "url": live_url}])


def test_a_broken_claim_comes_back_with_its_summary_focused_and_links_to_each_field(page, live_url):
    sign_in_as(page, live_url, f.entity_user("summary_claimant"))
    page.goto("/my/claim/")
    # The form's own error (no role chosen) and the service's (no entity has the code) at once.
    page.get_by_label("Unified social credit code").fill(UNKNOWN_CODE)
    page.get_by_role("button", name="Send the claim").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_text(
        [
            "Unified social credit code: No entity is registered under this unified social credit code.",
            "You act as: This field is required.",
        ]
    )

    # The radio buttons are a group named by its legend.
    group = page.get_by_role("group", name="You act as")
    expect(group).to_be_visible()
    assert group.evaluate("el => el.tagName") == "FIELDSET"
    expect(group.locator("legend")).to_have_text("You act as *")
    expect(group.get_by_role("radio")).to_have_count(2)

    links.nth(1).click()
    expect(page.get_by_role("radio", name="Legal representative")).to_be_focused()
    links.nth(0).click()
    expect(page.get_by_label("Unified social credit code")).to_be_focused()

    # From the keyboard: the summary first, then its links in order.
    summary.focus()
    page.keyboard.press("Tab")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("radio", name="Legal representative")).to_be_focused()
    assert not EntityClaim.objects.exists()


def test_a_form_without_errors_takes_no_focus_away(page, live_url):
    sign_in_as(page, live_url, f.entity_user("summary_reader"))
    page.goto("/my/claim/")
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    assert page.evaluate("document.activeElement === document.body")
