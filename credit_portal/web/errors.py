"""Answers to requests that cannot be served, for every door: a page in the reader's language, or
under ``/api/`` the API's JSON error body (``{"detail": ..., "errors": {...}}``) — never an HTML
page to a program, never a 500 for input that is merely hostile.

``RefuseNullCharactersMiddleware`` turns away a NUL character in the address before any view
sees it (PostgreSQL cannot compare a string holding one, so each view would otherwise fail on its
own): 404 in a path segment (nothing can be named that way), 400 naming the query parameter.
The ``handler400``/``403``/``404``/``500`` views of ``credit_portal.urls`` are below.

``DomainErrorsMiddleware`` answers the services' ``NotFound`` (``credit_portal.errors``) as Django
answers ``Http404``: the portal's 404 page, the same for a missing row and for one that is not the
reader's, and the API's 404 body under ``/api/`` (DRF views answer through ``credit_portal.api.errors``
before it is reached).

``InternalTechnicalPagesMiddleware``: with ``DEBUG`` on (``make run``), Django answers an unknown
address and an uncaught exception with its technical pages, which list the URL patterns, the
settings and the source around the failing line. Only a browser on the machine itself
(``INTERNAL_IPS``) gets them; any other address gets the portal's own pages, as in production."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.debug import ExceptionReporter, technical_404_response

from credit_portal.errors import NotFound

API_PREFIX = "/api/"
_NUL = "\x00"
logger = logging.getLogger(__name__)

# What a reader gets when even the portal's error page cannot be rendered (the database that the
# page's navigation reads is down, say): no template, no translation, both languages.
MINIMAL_SERVER_ERROR_PAGE = (
    '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><title>服务器错误 · Server error</title>'
    "</head><body><h1>服务器错误</h1><p>出现了问题，已记录。请稍后再试。</p>"
    '<p lang="en">Server error: something went wrong and it has been logged. Please try again later.</p>'
    '<p><a href="/">信用监管平台 · Credit Portal</a></p></body></html>'
)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def api_error(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> JsonResponse:
    """The API's error body (``credit_portal.api.errors``), for answers given outside DRF."""
    body: dict = {"detail": detail}
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def too_large_detail() -> str:
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _("The request body is too large: at most %(size)d bytes are accepted.") % {"size": limit}


def _bad_request_page(
    request: HttpRequest, message: str, errors: dict[str, list[str]] | None = None, status: int = 400
) -> HttpResponse:
    context = {"message": message, "errors": sorted((errors or {}).items())}
    return HttpResponse(render_to_string("400.html", context, request=request), status=status)


def null_in_query(request: HttpRequest) -> dict[str, list[str]]:
    """``{parameter: [message]}`` for every query parameter whose name or value holds a NUL."""
    errors: dict[str, list[str]] = {}
    for key, values in request.GET.lists():
        if _NUL in key or any(_NUL in value for value in values):
            name = key.replace(_NUL, "\\x00") or "?"
            errors[name] = [_("Null characters are not allowed.")]
    return errors


class RefuseNullCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if _NUL in request.path_info:
            return page_not_found(request, Http404())
        if "%00" in request.META.get("QUERY_STRING", "") or _NUL in request.META.get("QUERY_STRING", ""):
            try:
                errors = null_in_query(request)
            except TooManyFieldsSent as exc:
                return bad_request(request, exc)
            if errors:
                detail = _("The address has invalid query parameters.")
                if is_api(request):
                    return api_error(400, detail, errors)
                return _bad_request_page(request, detail, errors)
        return self.get_response(request)


def bad_request(request: HttpRequest, exception=None, template_name: str = "400.html") -> HttpResponse:
    too_large = isinstance(exception, RequestDataTooBig)
    if is_api(request):
        if too_large:
            return api_error(413, too_large_detail())
        return api_error(400, _("Bad request."))
    if too_large:
        return _bad_request_page(request, too_large_detail(), status=413)
    return _bad_request_page(request, _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception=None, template_name: str = "403.html") -> HttpResponse:
    if is_api(request):
        return api_error(403, _("You do not have permission to perform this action."))
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request: HttpRequest, exception=None, template_name: str = "404.html") -> HttpResponse:
    if is_api(request):
        return api_error(404, _("Not found."))
    return defaults.page_not_found(request, exception, template_name)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """The portal's page, with its navigation, in the reader's language; the minimal page when
    rendering that fails too (its navigation reads the signed-in user from the database)."""
    if is_api(request):
        return api_error(500, _("Server error: it has been logged."))
    try:
        body = render_to_string(template_name, request=request)
    except Exception:
        logger.exception("The server error page could not be rendered: the minimal page is sent instead.")
        body = MINIMAL_SERVER_ERROR_PAGE
    return HttpResponse(body, status=500)


class DomainErrorsMiddleware:
    """The services' ``NotFound``, raised in any view, answered as ``Http404`` is: the one place
    where the web doors translate it (last in ``MIDDLEWARE``, so that it sees the exception first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, NotFound):
            return None
        not_found = Http404(str(exception))
        if settings.DEBUG and is_internal(request):
            return technical_404_response(request, not_found)
        return page_not_found(request, not_found)


# --- Django's technical pages, for the machine itself only ------------------------------------


def is_internal(request: HttpRequest) -> bool:
    """Whether the request comes from an address of ``INTERNAL_IPS``: the connection's own address
    and every address a proxy says it forwarded for. A forwarded address can only make a request
    less internal, so a client that writes the header itself gains nothing."""
    internal = set(getattr(settings, "INTERNAL_IPS", ()))
    forwarded = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    return all(address in internal for address in [request.META.get("REMOTE_ADDR", ""), *forwarded])


_PORTAL_ERROR = "_portal_error_response"


class _PortalErrorReporter(ExceptionReporter):
    """Put on a request from outside ``INTERNAL_IPS`` under ``DEBUG`` (Django's documented
    ``request.exception_reporter_class``): where Django would render its technical page for an
    uncaught exception (a 500; a 400 for a bad or suspicious request), the portal's own answer is
    made instead and kept on the request, which the middleware then sends. The traceback is
    logged as always: logging does not use this class."""

    def _answer(self) -> HttpResponse:
        if self.exc_type is not None and issubclass(self.exc_type, BadRequest | SuspiciousOperation):
            response = bad_request(self.request, self.exc_value)
        else:
            response = server_error(self.request)
        setattr(self.request, _PORTAL_ERROR, response)
        return response

    def get_traceback_html(self) -> str:
        return self._answer().content.decode()

    def get_traceback_text(self) -> str:
        return self._answer().content.decode()


def _replace(technical: HttpResponse, answer: HttpResponse) -> HttpResponse:
    """``answer`` with the headers and cookies the other middleware gave ``technical`` (the
    security headers, a session cookie), except those describing the body."""
    for header, value in technical.items():
        if header.lower() not in ("content-type", "content-length"):
            answer[header] = value
    answer.cookies = technical.cookies
    return answer


class InternalTechnicalPagesMiddleware:
    """Under ``DEBUG``, Django's technical 404 and 500 pages only for ``INTERNAL_IPS``; the
    portal's own pages (or the API's JSON errors) for every other address. Nothing at all with
    ``DEBUG`` off, where Django never renders them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not settings.DEBUG or is_internal(request):
            return self.get_response(request)
        request.exception_reporter_class = _PortalErrorReporter
        response = self.get_response(request)
        answer = getattr(request, _PORTAL_ERROR, None)
        if answer is not None:
            return _replace(response, answer)
        if response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            # No URL pattern matched (a view never ran): under DEBUG the answer is the technical
            # 404, which lists every pattern. A view's own 404 page (a view ran) is kept.
            return _replace(response, page_not_found(request, Http404()))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        """``Http404`` raised by a view: Django would render its technical 404 under DEBUG."""
        if settings.DEBUG and isinstance(exception, Http404) and not is_internal(request):
            return page_not_found(request, exception)
        return None
