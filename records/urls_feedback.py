"""URL patterns of objections and complaints, per door; ``credit_portal.urls`` and
``credit_portal.api_urls`` mount them next to the registry's."""

from django.urls import path

from records import api_feedback, views_feedback

public_patterns = [
    path("objections/new/", views_feedback.objection_create, name="objection_create"),
    path("objections/received/", views_feedback.objection_received, name="objection_received"),
    path("objections/track/", views_feedback.objection_track, name="objection_track"),
    path("complaints/new/", views_feedback.complaint_create, name="complaint_create"),
    path("complaints/received/", views_feedback.complaint_received, name="complaint_received"),
    path("complaints/track/", views_feedback.complaint_track, name="complaint_track"),
]

staff_patterns = [
    path("objections/", views_feedback.staff_objection_list, name="objection_list"),
    path("objections/<int:pk>/", views_feedback.staff_objection_detail, name="objection_detail"),
    path("objections/<int:pk>/contact/", views_feedback.staff_objection_contact, name="objection_contact"),
    path("complaints/", views_feedback.staff_complaint_list, name="complaint_list"),
    path("complaints/<int:pk>/", views_feedback.staff_complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/transfer/", views_feedback.staff_complaint_transfer, name="complaint_transfer"),
    path("complaints/<int:pk>/contact/", views_feedback.staff_complaint_contact, name="complaint_contact"),
]

my_patterns = [
    path("records/", views_feedback.my_records, name="objection_records"),
    path("objections/", views_feedback.my_objection_list, name="objection_list"),
    path("objections/new/<int:record_id>/", views_feedback.my_objection_create, name="objection_create"),
    path("objections/<int:pk>/withdraw/", views_feedback.my_objection_withdraw, name="objection_withdraw"),
]

api_patterns = [
    path("complaints/", api_feedback.ComplaintCreate.as_view(), name="complaint_create"),
    path(
        "complaints/<str:tracking_number>/", api_feedback.ComplaintDetail.as_view(), name="complaint_detail"
    ),
]
