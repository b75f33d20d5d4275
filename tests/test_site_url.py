"""One setting of the portal's public address, SITE_URL, from which every link that leaves the portal
is made: what it accepts, the deployment check and the refusal to start without it in production,
and the API's links. (The credit report's QR code and printed address: tests/test_reports.py; the
emails: tests/test_notices.py, test_signup.py, test_password_reset.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import Client

from credit_portal import links
from credit_portal.accounts.capabilities import Cap
from devtools.bench.connections import ROOT, database_url, free_port
from tests import factories as f

# --- what the setting accepts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://credit.example.gov.cn", "https://credit.example.gov.cn"),
        ("https://credit.example.gov.cn/", "https://credit.example.gov.cn"),
        ("  HTTPS://Credit.Example.GOV.cn/  ", "https://credit.example.gov.cn"),
        ("https://credit.example.gov.cn:8443", "https://credit.example.gov.cn:8443"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("", ""),
    ],
)
def test_the_address_is_kept_as_scheme_and_host_without_a_trailing_slash(given, kept):
    assert links.normalise_site_url(given) == kept


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("https://credit.example.gov.cn/portal", "has a path ('/portal')"),
        ("https://credit.example.gov.cn/portal/", "has a path ('/portal/')"),
        ("https://credit.example.gov.cn//", "has a path ('//')"),
        ("credit.example.gov.cn", "must start with https://"),
        ("ftp://credit.example.gov.cn", "must start with https://"),
        ("https://", "must start with https://"),
        ("https://credit.example.gov.cn?x=1", "must not have a query or a fragment"),
        ("https://credit.example.gov.cn/#top", "must not have a query or a fragment"),
        ("https://admin:secret@credit.example.gov.cn", "must not carry a user name or password"),
        ("https://credit.example.gov.cn:99999", "is not an address"),
    ],
)
def test_a_malformed_address_is_refused_saying_why(given, says):
    with pytest.raises(ValueError) as refused:
        links.normalise_site_url(given)
    assert says in str(refused.value)
    with pytest.raises(ImproperlyConfigured) as configured:
        links.site_url_from_environment(given, debug=True)
    assert str(configured.value).startswith("SITE_URL: ") and says in str(configured.value)


def test_a_malformed_address_stops_the_settings_from_loading():
    started = subprocess.run(
        [sys.executable, "-c", "import credit_portal.settings.base"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "true", "SITE_URL": "https://credit.example.gov.cn/portal"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode != 0
    assert (
        "ImproperlyConfigured: SITE_URL: 'https://credit.example.gov.cn/portal' has a path" in started.stderr
    )


def test_with_debug_on_and_nothing_set_links_go_to_the_local_server():
    assert links.site_url_from_environment("", debug=True) == "http://127.0.0.1:8000"
    assert links.site_url_from_environment("", debug=False) == ""


def test_links_are_the_address_followed_by_a_path_of_the_portal_and_nothing_else(settings):
    settings.SITE_URL = "https://credit.example.gov.cn"
    assert links.absolute("/verify/CR2026000001") == "https://credit.example.gov.cn/verify/CR2026000001"
    assert (
        links.absolute("/api/v1/reports/X/?format=pdf")
        == "https://credit.example.gov.cn/api/v1/reports/X/?format=pdf"
    )
    assert links.absolute("") == ""
    for foreign in ("//evil.example/x", "https://evil.example/", "verify/X", "/\\evil.example"):
        with pytest.raises(ValueError, match="not a path of this portal"):
            links.absolute(foreign)


def test_the_host_of_the_address_is_always_allowed():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.ALLOWED_HOSTS)",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "credit_portal.settings.base",
            "DJANGO_DEBUG": "true",
            "SITE_URL": "https://Credit.Example.gov.cn/",
            "ALLOWED_HOSTS": "portal.internal",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip() == "['portal.internal', 'credit.example.gov.cn']"


# --- production: the deployment check and the refusal to start ----------------------------------


@pytest.mark.parametrize(
    ("site_url", "debug", "found"),
    [
        ("", False, ["web.E001"]),
        ("http://credit.example.gov.cn", False, ["web.E002"]),
        ("http://127.0.0.1:8000", False, ["web.W001"]),
        ("http://localhost:8000", False, ["web.W001"]),
        ("https://credit.example.gov.cn", False, []),
        ("https://127.0.0.1:8443", False, []),
        ("http://127.0.0.1:8000", True, []),
        ("", True, []),
    ],
)
def test_the_deployment_check_requires_an_https_address_in_production(settings, site_url, debug, found):
    settings.DEBUG, settings.SITE_URL = debug, site_url
    assert [message.id for message in links.check_site_url()] == found


@pytest.mark.django_db
def test_check_deploy_errors_naming_the_setting(settings):
    settings.DEBUG, settings.SITE_URL = False, ""
    with pytest.raises(SystemCheckError) as failed:
        call_command("check", "--deploy", stdout=StringIO(), stderr=StringIO())
    assert "(web.E001) SITE_URL is not set: with DJANGO_DEBUG off" in str(failed.value)
    assert "HINT: Set SITE_URL to the portal's public address, e.g. https://credit.example.gov.cn" in str(
        failed.value
    )
    settings.SITE_URL = "https://credit.example.gov.cn"
    out = StringIO()
    try:
        call_command("check", "--deploy", stdout=out, stderr=out)
    except SystemCheckError as exc:  # the tests' settings fail other deployment checks
        out.write(str(exc))
    assert "web.E00" not in out.getvalue() and "web.W00" not in out.getvalue()


@pytest.mark.parametrize(
    ("site_url", "refused"),
    [
        ("", "SITE_URL is not set"),
        ("http://credit.example.gov.cn", "must use https"),
        ("https://credit.example.gov.cn", None),
    ],
)
def test_starting_in_production_is_refused_without_an_https_address(settings, site_url, refused):
    settings.DEBUG, settings.SITE_URL = False, site_url
    if refused is None:
        links.refuse_to_start_without_site_url()
        return
    with pytest.raises(ImproperlyConfigured) as failed:
        links.refuse_to_start_without_site_url()
    message = str(failed.value)
    assert message.startswith("Production settings (DJANGO_DEBUG off) refuse to start: ")
    assert refused in message and "Set SITE_URL, e.g. SITE_URL=https://credit.example.gov.cn" in message


def _production_env(site_url: str) -> dict[str, str]:
    return {
        **os.environ,
        # The portal's own settings (the tests' settings fix SITE_URL), against the test database.
        "DJANGO_SETTINGS_MODULE": "credit_portal.settings.base",
        "DJANGO_DEBUG": "false",
        "SITE_URL": site_url,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DATABASE_OWNER_URL": "",
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_web_server_the_worker_and_beat_refuse_to_start_without_the_address(tmp_path):
    python = sys.executable
    starts = {
        "gunicorn": [python, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}"],
        "wsgi": [python, "-c", "import credit_portal.wsgi"],
        "worker": [python, "-m", "celery", "-A", "credit_portal", "worker", "-Q", f"site-url-refusal-{os.getpid()}",
                   "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        "beat": [python, "-m", "celery", "-A", "credit_portal", "beat", "--schedule", str(tmp_path / "beat")],
    }  # fmt: skip

    def start(argv: list[str], site_url: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - fixed command lines
            argv,
            cwd=ROOT,
            env=_production_env(site_url),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    for name, argv in starts.items():
        started = start(argv, "")
        assert started.returncode != 0, name
        assert "refuse to start: SITE_URL is not set" in started.stdout + started.stderr, name
    loaded = start(starts["wsgi"], "https://credit.example.gov.cn")
    assert loaded.returncode == 0, loaded.stderr[-2000:]


# --- the API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_apis_next_and_previous_links_are_at_the_public_address_whatever_host_was_asked(
    settings, department, token_for
):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "portal.internal"]
    for n in range(3):
        f.entity(department, code=f.uscc(n=20 + n))
    client = token_for(department, [Cap.ENTITIES_READ])
    first = client.get("/api/v1/entities/", {"page_size": 1}, HTTP_HOST="portal.internal").json()
    following = urlsplit(first["next"])
    assert (following.scheme, following.netloc, following.path) == (
        "https",
        "credit.example.gov.cn",
        "/api/v1/entities/",
    )
    assert sorted(parse_qs(following.query)) == ["cursor", "page_size"]
    assert parse_qs(following.query)["page_size"] == ["1"]
    second = client.get(first["next"].removeprefix("https://credit.example.gov.cn")).json()
    assert second["previous"].startswith("https://credit.example.gov.cn/api/v1/entities/?cursor=")
    assert [len(first["results"]), len(second["results"])] == [1, 1]
    assert first["results"][0]["code"] != second["results"][0]["code"]


@pytest.mark.django_db
def test_the_audit_anchors_next_link_is_at_the_public_address(settings, tmp_path):
    from credit_portal.audit import services as audit

    settings.AUDIT_ANCHOR_DIR = tmp_path
    for _ in range(2):
        audit.anchor_head()
    page = Client().get("/api/v1/audit/anchors/", {"page_size": 1}).json()
    assert page["next"].startswith("https://credit.example.gov.cn/api/v1/audit/anchors/?cursor=")
