"""URL patterns of the file-import door, mounted under the ``staff`` namespace by ``credit_portal.urls``."""

from django.urls import path, re_path

from records import views_imports

staff_patterns = [
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/new/", views_imports.import_new, name="import_new"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/status.json", views_imports.import_status, name="import_status"),
    path("imports/<int:pk>/rejected.csv", views_imports.import_rejected_csv, name="import_rejected_csv"),
    re_path(
        r"^imports/templates/(?P<item_code>[-\w]+)\.(?P<fmt>csv|xlsx)$",
        views_imports.import_template,
        name="import_template",
    ),
]
