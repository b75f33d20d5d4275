from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from credit_portal.audit import urls as audit_urls
from disclosure import urls_public as disclosure_urls_public
from disclosure import urls_reports as disclosure_urls_reports
from records import urls as records_urls
from records import urls_feedback as records_urls_feedback

v1_patterns = [
    *records_urls.api_patterns,
    *records_urls_feedback.api_patterns,
    *disclosure_urls_public.api_patterns,
    *disclosure_urls_reports.api_patterns,
    *audit_urls.api_patterns,
]

urlpatterns = [
    path("v1/", include((v1_patterns, "api"))),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="schema", permission_classes=[AllowAny], template_name="api/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
]
