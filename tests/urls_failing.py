"""The portal's URLs and some that fail, for the tests of the error pages: a server error, and
a service's ``NotFound`` beside Django's ``Http404``, at a web door and under ``/api/``."""

from django.http import Http404
from django.urls import path

from credit_portal import urls as portal
from credit_portal.errors import NotFound


def fail(request):
    raise RuntimeError("a failure for the tests")


def not_found(request):
    raise NotFound("record 42 of another department")


def http404(request):
    raise Http404("record 42 of another department")


urlpatterns = [
    path("fail/", fail),
    path("api/v1/fail/", fail),
    path("staff/not-found/", not_found),
    path("staff/http404/", http404),
    path("api/v1/not-found/", not_found),
    path("api/v1/http404/", http404),
    *portal.urlpatterns,
]

handler400 = portal.handler400
handler403 = portal.handler403
handler404 = portal.handler404
handler500 = portal.handler500
