"""URL patterns of credit reports, per door; ``credit_portal.urls`` and ``api_urls`` mount them."""

from django.urls import path

from disclosure import api_reports, views_reports

public_patterns = [
    path("verify/", views_reports.verify_index, name="verify_index"),
    # The QR code points here; the trailing-slash form is accepted too.
    path("verify/<str:number>", views_reports.verify_report, name="verify_report"),
    path("verify/<str:number>/", views_reports.verify_report, name="verify_report_slash"),
    path(
        "entities/<str:code>/third-party-reports/",
        views_reports.entity_third_party_reports,
        name="third_party_reports",
    ),
    path("third-party-reports/<int:pk>/file/", views_reports.third_party_file, name="third_party_file"),
]

staff_patterns = [
    path("reports/", views_reports.staff_reports, name="report_list"),
    path("reports/agencies/", views_reports.staff_agencies, name="third_party_agencies"),
    path(
        "reports/agencies/<int:pk>/active/",
        views_reports.staff_agency_active,
        name="third_party_agency_active",
    ),
    path("reports/entities/<str:code>/", views_reports.staff_entity_reports, name="report_entity"),
    path("reports/<str:number>/status/", views_reports.staff_report_status, name="report_status"),
    path("reports/<str:number>/<str:fmt>/", views_reports.staff_report_download, name="report_download"),
]

my_patterns = [
    path("reports/", views_reports.my_reports, name="report_list"),
    path("reports/<str:number>/status/", views_reports.my_report_status, name="report_status"),
    path("reports/<str:number>/<str:fmt>/", views_reports.my_report_download, name="report_download"),
    path("third-party-reports/", views_reports.my_third_party_reports, name="third_party_reports"),
    path(
        "third-party-reports/<int:pk>/withdraw/",
        views_reports.my_third_party_withdraw,
        name="third_party_withdraw",
    ),
]

api_patterns = [
    path("reports/", api_reports.ReportRequest.as_view(), name="report-list"),
    path("reports/<str:number>/", api_reports.ReportDetail.as_view(), name="report-detail"),
]
