"""Content-Security-Policy and Permissions-Policy on every door; no inline script or style attribute
in the templates (the policy would refuse them); the API throttle exact under concurrency."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.services import token_issue
from credit_portal.api.throttling import ClientRateThrottle
from tests import factories as f

PORTAL_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), usb=(), browsing-topics=()"
)


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url"),
    [
        (None, "/"),
        (None, "/my/login/"),
        (None, "/staff/login/"),
        (None, "/account/password-reset/"),
        (None, "/admin/login/"),
        ("entity_user", "/my/"),
        ("department_admin", "/staff/"),
        ("department_admin", "/staff/tokens/"),
    ],
)
def test_every_door_sends_the_policies(request, client_for, who, url):
    response = client_for(request.getfixturevalue(who) if who else None).get(url)
    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == PORTAL_POLICY
    assert response["Permissions-Policy"] == PERMISSIONS


@pytest.mark.django_db
def test_swagger_ui_runs_its_inline_start_up_with_the_nonce(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'", policy).group(1)
    assert directives(policy) == {
        **PORTAL_POLICY,
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": f"'self' 'nonce-{nonce}'",
    }
    page = response.content.decode()
    assert page.count(f'nonce="{nonce}"') == 2  # the start-up script and the page's style
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", page) == []
    assert 'src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"' in page
    assert client.get("/api/docs/")["Content-Security-Policy"] != policy  # a new nonce each time


TEMPLATE_DIRS = [Path(django_settings.BASE_DIR) / "templates"] + [
    p for p in Path(django_settings.BASE_DIR).glob("*/templates") if p.is_dir()
]


def test_no_template_has_an_inline_script_or_a_style_attribute():
    """What the policy refuses: inline scripts (without the nonce), event-handler attributes,
    ``javascript:`` links and style attributes. Credit report PDFs are rendered by WeasyPrint, not
    by a browser, and are left out."""
    problems = []
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*.html"):
            if path.name.startswith("credit_report"):
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in (
                r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>",
                r"\sstyle=\"",
                r"<style(?![^>]*\bnonce=)[^>]*>",
                r"\son[a-z]+=\"",
                r"javascript:",
            ):
                problems += [f"{path}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert problems == []


# --- the API throttle, exact under concurrency ----------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("kind", ["token", "anon"])
def test_concurrent_requests_get_exactly_the_limit_through(live_server, kind):
    limit, clients = 10, 40
    original = ClientRateThrottle.THROTTLE_RATES
    ClientRateThrottle.THROTTLE_RATES = {"anon": f"{limit}/min", "token": f"{limit}/min"}
    headers = {}
    if kind == "token":
        _, secret = token_issue(
            actor=system_actor("tests"),
            department=f.department("SZ-LOAD"),
            scopes="entities:read",
            name="load",
        )
        headers["Authorization"] = f"Bearer {secret}"
    start = threading.Barrier(clients)

    def call(_n: int) -> int:
        req = urllib.request.Request(  # noqa: S310 - the live server's http URL
            f"{live_server.url}/api/v1/public/records/?q=%E8%85%BE%E8%AE%AF", headers=headers
        )
        start.wait(timeout=30)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - the live server
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            codes = list(pool.map(call, range(clients)))
    finally:
        ClientRateThrottle.THROTTLE_RATES = original
    assert sorted(codes) == [200] * limit + [429] * (clients - limit)
