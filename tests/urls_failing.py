"""The portal's URLs and two that fail, for the tests of the server error pages."""

from django.urls import path

from credit_portal import urls as portal


def fail(request):
    raise RuntimeError("a failure for the tests")


urlpatterns = [path("fail/", fail), path("api/v1/fail/", fail), *portal.urlpatterns]

handler400 = portal.handler400
handler403 = portal.handler403
handler404 = portal.handler404
handler500 = portal.handler500
