"""The portal's own 404 and 500 pages, in the reader's language and with the navigation; and under
DEBUG (``make run``) Django's technical pages only for the machine itself (INTERNAL_IPS), never for
a browser on another address."""

from __future__ import annotations

import pytest
from django.test import Client

from credit_portal.web import errors

pytestmark = pytest.mark.django_db

ELSEWHERE = "203.0.113.7"  # an address that is not the machine's own


def html(response) -> str:
    return response.content.decode()


def portal_404(response) -> bool:
    page = html(response)
    return (
        response.status_code == 404
        and "<h1>Not found</h1>" in page
        and '<nav class="door-nav" aria-label="Sections">' in page
        and '<footer class="site-footer">' in page
        and "URLconf" not in page
    )


@pytest.fixture
def failing(settings):
    settings.ROOT_URLCONF = "tests.urls_failing"


def client_from(address: str, **headers) -> Client:
    return Client(REMOTE_ADDR=address, raise_request_exception=False, **headers)


class TestWithoutDebug:
    def test_an_unknown_address_gets_the_portals_404_page_with_the_navigation(self, client):
        response = client.get("/no-such-page/")
        assert portal_404(response)
        assert response.templates[0].name == "404.html"
        assert '<a href="/">Go to the public search</a>' in html(response)

    def test_the_404_page_is_in_chinese_for_a_chinese_reader(self):
        page = html(Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/no-such-page/"))
        assert "<h1>页面不存在</h1>" in page and "此页面不存在，或您无权查看。" in page
        assert "Not found" not in page

    def test_the_404_page_of_a_door_leads_back_into_the_door(self, client_for, clerk, entity_user):
        assert '<a href="/staff/">Go to the dashboard</a>' in html(client_for(clerk).get("/staff/no-such/"))
        assert '<a href="/my/">Go to your business pages</a>' in html(
            client_for(entity_user).get("/my/no/such/")
        )

    def test_a_server_error_gets_the_portals_page_with_the_navigation(self, failing):
        response = client_from("127.0.0.1").get("/fail/")
        page = html(response)
        assert response.status_code == 500
        assert "<h1>Server error</h1>" in page and '<nav class="door-nav" aria-label="Sections">' in page
        assert "a failure for the tests" not in page and "Traceback" not in page

    def test_the_api_answers_a_server_error_in_json(self, failing):
        response = client_from("127.0.0.1").get("/api/v1/fail/")
        assert response.status_code == 500
        assert response.json() == {"detail": "Server error: it has been logged."}

    def test_a_server_error_page_that_cannot_be_rendered_is_the_minimal_page(self, failing, monkeypatch):
        def broken(*args, **kwargs):
            raise RuntimeError("the database is down")

        monkeypatch.setattr(errors, "render_to_string", broken)
        response = client_from("127.0.0.1").get("/fail/")
        assert response.status_code == 500
        assert html(response) == errors.MINIMAL_SERVER_ERROR_PAGE


class TestUnderDebug:
    """``make run`` serves with DJANGO_DEBUG=true."""

    @pytest.fixture(autouse=True)
    def _debug(self, settings):
        settings.DEBUG = True

    def test_an_unknown_address_from_elsewhere_gets_the_portals_404(self):
        response = client_from(ELSEWHERE).get("/no-such-page/")
        assert portal_404(response)
        assert response["X-Frame-Options"] == "DENY"  # the other middleware's headers are kept

    def test_a_view_that_finds_nothing_from_elsewhere_gets_the_portals_404(self):
        assert portal_404(client_from(ELSEWHERE).get("/entities/91440300MA5XXXXXXX/"))

    def test_a_server_error_from_elsewhere_gets_the_portals_500(self, failing):
        response = client_from(ELSEWHERE).get("/fail/")
        page = html(response)
        assert response.status_code == 500
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert "<h1>Server error</h1>" in page
        assert "a failure for the tests" not in page and "Traceback" not in page and "settings" not in page

    def test_the_api_from_elsewhere_answers_in_json(self, failing):
        missing = client_from(ELSEWHERE).get("/api/v1/no-such-thing/")
        assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
        failed = client_from(ELSEWHERE).get("/api/v1/fail/")
        assert failed.status_code == 500 and failed["Content-Type"] == "application/json"
        assert failed.json() == {"detail": "Server error: it has been logged."}

    def test_a_bad_request_from_elsewhere_gets_the_portals_400(self, settings):
        response = client_from(ELSEWHERE, HTTP_HOST="portal.example.net").get("/")
        page = html(response)
        assert response.status_code == 400
        assert "<h1>Bad request</h1>" in page and "DisallowedHost" not in page and "ALLOWED_HOSTS" not in page

    def test_the_machine_itself_gets_djangos_technical_pages(self, failing):
        local = client_from("127.0.0.1")
        assert "URLconf" in html(local.get("/no-such-page/"))
        failed = local.get("/fail/")
        assert failed.status_code == 500 and "a failure for the tests" in html(failed)
        assert "URLconf" in html(client_from("::1").get("/no-such-page/"))

    def test_a_forwarded_request_is_internal_only_if_every_address_is(self):
        forwarded = client_from("127.0.0.1", HTTP_X_FORWARDED_FOR=ELSEWHERE).get("/no-such-page/")
        assert portal_404(forwarded)
        assert "URLconf" in html(client_from("127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1").get("/no-such/"))

    def test_internal_addresses_are_a_setting(self, settings):
        settings.INTERNAL_IPS = [ELSEWHERE]
        assert "URLconf" in html(client_from(ELSEWHERE).get("/no-such-page/"))
        assert portal_404(client_from("127.0.0.1").get("/no-such-page/"))

    def test_a_missing_trailing_slash_still_redirects(self):
        response = client_from(ELSEWHERE).get("/staff")
        assert response.status_code == 301 and response["Location"] == "/staff/"

    def test_a_page_that_answers_404_itself_keeps_its_own_answer(self):
        response = client_from(ELSEWHERE).get("/verify/CR-NO-SUCH-NUMBER")
        assert response.status_code == 404
        assert response.templates[0].name == "reports/verify_missing.html"
