"""The portal's public address (``SITE_URL``) and the absolute links made from it.

Every link that leaves the portal — the credit report's QR code and printed verification address,
notice, sign-up and password-reset emails, the API's ``verify_url``/``pdf_url`` and its pagination
links — is this address followed by a path, so a phone that scans a paper report, a mail client and
another agency's system all reach the portal. The request that caused a link is never used for it:
its ``Host`` header is the client's to choose (a password-reset link built from it can be pointed at
someone else's server).

``SITE_URL`` is a scheme and a host (and a port), nothing more: ``https://credit.example.gov.cn``. A
trailing slash is dropped; a path, a query, a fragment or a user name is refused when the settings
load, since the portal is served at the root of its host and a path here would make every link lead
elsewhere. With ``DJANGO_DEBUG`` on and nothing set it is ``http://127.0.0.1:8000`` (what ``manage.py
runserver`` serves; ``make run`` sets the address it serves). With ``DJANGO_DEBUG`` off it must be
set and use https: the deployment check ``web.E001``/``web.E002`` (``manage.py check --deploy``) says
so, and the web server, the Celery worker and beat refuse to start without it
(:func:`refuse_to_start_without_site_url`, called where the demo-account refusal is). A loopback
address over http (a local run with production settings, the benchmark) only warns, ``web.W001``.
See docs/adr/0010.

A page of the portal is named by a :class:`Route` (its URL pattern and arguments) where a service
says where a notice leads: services name the page, they never build its address; the address is
made once, where the link is written (``credit_portal.notices``)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_SITE_URL = "http://127.0.0.1:8000"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def normalise_site_url(value: str) -> str:
    """``value`` as the portal's address: scheme and host in lower case, no trailing slash. Raises
    ValueError saying what is wrong. "" stays "" (not set)."""
    text = value.strip()
    if not text:
        return ""
    example = "e.g. https://credit.example.gov.cn"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an address ({exc}); {example}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{text!r} must start with https:// (or http:// for a local run) and name a host; {example}"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{text!r} must not carry a user name or password")
    if parts.path not in ("", "/"):
        raise ValueError(
            f"{text!r} has a path ({parts.path!r}): give the scheme and host only, {example}. The portal is "
            "served at the root of its host, so every link is this address followed by the page's path."
        )
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError(f"{text!r} must not have a query or a fragment; {example}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def site_host(url: str) -> str:
    """The host of an address as ALLOWED_HOSTS names it (an IPv6 address in brackets); "" for none."""
    host = (urlsplit(url).hostname or "") if url else ""
    return f"[{host}]" if ":" in host else host


def site_url() -> str:
    """The portal's public address (no trailing slash)."""
    return settings.SITE_URL


def absolute(path: str) -> str:
    """The link to ``path`` (``/verify/CR…``, a query allowed) at the portal's public address; ""
    stays "" (no link). Only a path of this portal is accepted, so a link made here never leads to
    another site: ValueError for anything else (``//host/…``, ``https://…``, ``verify/…``)."""
    if not path:
        return ""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        raise ValueError(f"not a path of this portal: {path!r}")
    return site_url() + path


class Route:
    """A page of the portal: ``Route("staff:complaint_detail", complaint.pk)``, with a query string
    from ``query`` (``Route("staff:board_index", query={"department": 3})``). Its :meth:`path`
    is ``reverse``'s, followed by the query."""

    __slots__ = ("args", "name", "query")

    def __init__(self, name: str, *args: Any, query: dict[str, Any] | None = None):
        self.name = name
        self.args = args
        self.query = dict(query or {})

    def path(self) -> str:
        from django.urls import reverse  # not at import: the settings import this module

        path = reverse(self.name, args=self.args)
        return f"{path}?{urlencode(self.query)}" if self.query else path

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Route) and (self.name, self.args, self.query) == (
            other.name,
            other.args,
            other.query,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.args, tuple(self.query.items())))

    def __repr__(self) -> str:
        return f"Route({self.name!r}, *{self.args!r}, query={self.query!r})"


def path_of(link: str | Route) -> str:
    """A notice's link as the path it is stored as: a :class:`Route` made into its path, a path
    (or "") as it is."""
    return link.path() if isinstance(link, Route) else link


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def problems(*, url: str, debug: bool) -> tuple[list[str], list[str]]:
    """What is wrong with ``url`` (normalised) as the address of a portal with ``debug``: (errors,
    warnings). Errors keep production from starting; warnings are for ``check --deploy``."""
    if debug:
        return [], []
    if not url:
        return [
            "SITE_URL is not set: with DJANGO_DEBUG off the portal needs its public address for the links "
            "it gives out (the credit report's QR code and verification address, emails, the API)."
        ], []
    parts = urlsplit(url)
    if parts.scheme == "https":
        return [], []
    if is_loopback(parts.hostname or ""):
        return [], [
            f"SITE_URL is {url}: a local address over plain http. Links in reports and emails reach no "
            "one else; give the portal's public https address in production."
        ]
    return [
        f"SITE_URL is {url}: with DJANGO_DEBUG off the public address must use https (the portal sends "
        "its cookies over https only, and a printed http address invites interception)."
    ], []


def refuse_to_start_without_site_url() -> None:
    """With DEBUG off, raise ImproperlyConfigured when SITE_URL is missing or not https. Called when
    a server process starts (gunicorn's master, ``credit_portal.wsgi``, the Celery worker and beat)."""
    errors, _warnings = problems(url=settings.SITE_URL, debug=settings.DEBUG)
    if errors:
        raise ImproperlyConfigured(
            "Production settings (DJANGO_DEBUG off) refuse to start: "
            + " ".join(errors)
            + " Set SITE_URL, e.g. SITE_URL=https://credit.example.gov.cn (see .env.example)."
        )


def check_site_url(app_configs=None, **kwargs):
    """Deployment checks: ``web.E001`` SITE_URL not set, ``web.E002`` not https, ``web.W001`` a
    local http address."""
    from django.core.checks import Error
    from django.core.checks import Warning as CheckWarning

    url = settings.SITE_URL
    errors, warnings = problems(url=url, debug=settings.DEBUG)
    hint = "Set SITE_URL to the portal's public address, e.g. https://credit.example.gov.cn (.env.example)."
    found = [Error(message, hint=hint, id="web.E001" if not url else "web.E002") for message in errors]
    found += [CheckWarning(message, hint=hint, id="web.W001") for message in warnings]
    return found


def site_url_from_environment(raw: str, *, debug: bool) -> str:
    """For the settings: the normalised address, the development default with DEBUG on and nothing
    set; ImproperlyConfigured for a malformed one."""
    try:
        url = normalise_site_url(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SITE_URL: {exc}") from None
    return url or (DEVELOPMENT_SITE_URL if debug else "")
