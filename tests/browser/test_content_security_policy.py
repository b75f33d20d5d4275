"""Every main page of every door, on demo data, renders in a real browser under the portal's
Content-Security-Policy without a single violation: no refused script, style, image, font or
connection (the page fixture also fails on any console error, which is where chromium reports a
violation too). The pages that run scripts are left running long enough for their first poll."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import expect

from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.models import User
from pledges.models import PermitApplication, Pledge
from records.imports import runner, templates
from records.models import CatalogueItem, CreditRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Installed before any script of the page: every violation the page meets is kept for the test.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " at "
    + (e.sourceFile || document.location.href) + ":" + e.lineNumber);
});
"""


@pytest.fixture
def demo(live_url, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    clerk = User.objects.get(username="sz_clerk")
    item = CatalogueItem.objects.get(code="admin_punishment")
    # An import still waiting for a worker: its page shows the progress bar and polls its status.
    job = runner.import_job_create(
        actor=actor_for_user(clerk),
        item_code=item.code,
        uploaded_file=SimpleUploadedFile("waiting.csv", templates.template_csv(item)),
    )
    return {"job": job}


def sign_in_as(page, live_url: str, username: str) -> None:
    """Put a session of ``username`` into the browser (the sign-in pages are visited signed out)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    assert client.session[SESSION_KEY]
    context = page.context
    context.clear_cookies()
    context.add_cookies([{"name": "sessionid", "value": client.session.session_key, "url": live_url}])


def visit(page, url: str, *, settle_ms: int = 0) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    assert "Content-Security-Policy" in response.headers or "content-security-policy" in response.headers
    expect(page.locator("body")).to_be_visible()
    if settle_ms:
        page.wait_for_timeout(settle_ms)
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], (url, violations)


def test_every_door_renders_without_a_policy_violation(page, live_url, demo):
    page.add_init_script(LISTEN)
    record = CreditRecord.objects.filter(disclosure="published").select_related("entity").first()
    application = PermitApplication.objects.select_related("matter__department").get(
        applicant__username="demo_company"
    )
    pledge = Pledge.objects.filter(application=application).get()
    my_entity = application.entity

    # The public door, and every sign-in page.
    for url in [
        "/", "/?q=星辰", f"/entities/{record.entity.code}/", f"/records/{record.pk}/", "/pledges/",
        f"/pledges/{pledge.number}/", "/pledges/matters/", "/verify/", "/disclosure/on-time/",
        "/staff/login/", "/my/login/", "/my/signup/", "/account/password-reset/", "/admin/login/",
    ]:  # fmt: skip
        visit(page, url)

    # Swagger UI runs from the sidecar's static files and its nonce'd start-up script.
    visit(page, "/api/docs/")
    expect(page.get_by_text("Credit Portal API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []

    # The business door.
    sign_in_as(page, live_url, "demo_company")
    for url in [
        "/my/", f"/my/entities/{my_entity.code}/", "/my/records/", "/my/objections/", "/my/pledges/",
        f"/my/applications/{application.number}/", f"/my/pledges/{pledge.number}/", "/my/reports/",
    ]:  # fmt: skip
        visit(page, url)

    # The staff door: the clerk's department (its import), then the credit office.
    sign_in_as(page, live_url, "sz_clerk")
    visit(page, f"/staff/imports/{demo['job'].pk}/", settle_ms=2_500)  # one poll of its status
    expect(page.locator("#import-bar")).to_be_attached()
    for url in ["/staff/imports/", "/staff/imports/new/"]:
        visit(page, url)
    sign_in_as(page, live_url, "credit_office")
    for url in [
        "/staff/", "/staff/entities/", f"/staff/entities/{record.entity.code}/", "/staff/records/",
        f"/staff/records/{record.pk}/", "/staff/records/new/?item=admin_punishment", "/staff/disclosure/",
        "/staff/disclosure/on-time/", "/staff/catalogue/", "/staff/calendar/", "/staff/tokens/",
        "/staff/sign-in-lockouts/", "/staff/audit/", "/staff/reports/",
    ]:  # fmt: skip
        visit(page, url)
    sign_in_as(page, live_url, "admin")
    visit(page, "/admin/")
