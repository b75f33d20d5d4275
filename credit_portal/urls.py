"""The four doors. This module and ``api_urls`` are the only places that import every app
(declared as an exception in the import-linter contract)."""

from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from credit_portal.audit import urls as audit_urls
from credit_portal.web import views as web_views
from credit_portal.web import views_account as web_account
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
    path("sign-in-lockouts/", web_staff.signin_lockouts, name="signin_lockouts"),
    path("sign-in-lockouts/<int:pk>/lift/", web_staff.signin_lockout_lift, name="signin_lockout_lift"),
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
    path("signup/confirm/<str:token>/", web_my.signup_confirm, name="signup_confirm"),
    *records_urls.my_patterns,
    *records_urls_feedback.my_patterns,
    *disclosure_urls_reports.my_patterns,
    *pledges_urls.my_patterns,
]

# Setting a new password through a link sent by email: one set of pages for every door.
account_patterns = [
    path("password-reset/", web_account.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", web_account.PasswordResetSentView.as_view(), name="password_reset_sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        web_account.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        web_account.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", include((public_patterns, "public"))),
    path("staff/", include((staff_patterns, "staff"))),
    path("my/", include((my_patterns, "my"))),
    path("account/", include((account_patterns, "account"))),
    path("api/", include("credit_portal.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("healthz", web_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
# No URL serves MEDIA_ROOT, in any mode: credit reports, permit materials, defence attachments,
# third-party reports and import files are served only by the views that check who asks
# (reports, materials and attachments downloads; tests/test_media_access.py).

# Under /api/ these answer with the API's JSON error body; elsewhere with a page.
handler400 = "credit_portal.web.errors.bad_request"
handler403 = "credit_portal.web.errors.permission_denied"
handler404 = "credit_portal.web.errors.page_not_found"
handler500 = "credit_portal.web.errors.server_error"
