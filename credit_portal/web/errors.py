"""Answers to requests that cannot be served, for every door: a page in the reader's language, or
under ``/api/`` the API's JSON error body (``{"detail": ..., "errors": {...}}``) — never an HTML
page to a program, never a 500 for input that is merely hostile.

``RefuseNullCharactersMiddleware`` turns away a NUL character in the address before any view
sees it (PostgreSQL cannot compare a string holding one, so each view would otherwise fail on its
own): 404 in a path segment (nothing can be named that way), 400 naming the query parameter.
The ``handler400``/``403``/``404``/``500`` views of ``credit_portal.urls`` are below."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"
_NUL = "\x00"


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
    if is_api(request):
        return api_error(500, _("Server error: it has been logged."))
    return defaults.server_error(request, template_name)
