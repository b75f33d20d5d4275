"""Included in the staff door's patterns (namespace ``staff``): ``staff:notices``, ``staff:notices_read``."""

from django.urls import path

from credit_portal.notices import views

urlpatterns = [
    path("", views.notice_list, name="notices"),
    path("read/", views.notices_mark_read, name="notices_read"),
]
