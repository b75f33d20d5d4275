"""The four doors. This module and ``api_urls`` are the only places that import every app
(declared as an exception in the import-linter contract)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from credit_portal.audit import urls as audit_urls
from credit_portal.web import views as web_views
from credit_portal.web import views_my as web_my
from credit_portal.web import views_staff as web_staff
from credit_portal.workdays import views as workdays_views
from disclosure import urls_board as disclosure_urls_board
from disclosure import urls_public as disclosure_urls_public
from disclosure import urls_reports as disclosure_urls_reports
from pledges import urls as pledges_urls
from records import urls as records_urls
from records import urls_feedback as records_urls_feedback
from records import urls_imports as records_urls_imports

staff_patterns = [
    path("", web_staff.dashboard, name="dashboard"),
    path("login/", web_staff.StaffLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="/staff/login/"), name="logout"),
    path("calendar/", web_staff.calendar, name="calendar"),
    path("calendar/<str:day>/remove/", web_staff.calendar_day_remove, name="calendar_day_remove"),
    path("calendar/deadlines/", workdays_views.deadline_rules, name="deadline_rules"),
    path("tokens/", web_staff.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", web_staff.token_revoke, name="token_revoke"),
    path("audit/", web_staff.audit_trail, name="audit"),
    path("notices/", include("credit_portal.notices.urls")),
    *records_urls.staff_patterns,
    *records_urls_imports.staff_patterns,
    *records_urls_feedback.staff_patterns,
    *disclosure_urls_board.staff_patterns,
    *disclosure_urls_reports.staff_patterns,
    *pledges_urls.staff_patterns,
]

public_patterns = [
    *disclosure_urls_public.public_patterns,
    *records_urls_feedback.public_patterns,
    *disclosure_urls_board.public_patterns,
    *disclosure_urls_reports.public_patterns,
    *pledges_urls.public_patterns,
    *audit_urls.public_patterns,
]

my_patterns = [
    path("login/", web_my.MyLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="/my/login/"), name="logout"),
    path("signup/", web_my.signup, name="signup"),
    *records_urls.my_patterns,
    *records_urls_feedback.my_patterns,
    *disclosure_urls_reports.my_patterns,
    *pledges_urls.my_patterns,
]

urlpatterns = [
    path("", include((public_patterns, "public"))),
    path("staff/", include((staff_patterns, "staff"))),
    path("my/", include((my_patterns, "my"))),
    path("api/", include("credit_portal.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("healthz", web_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
