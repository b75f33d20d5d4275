"""URL patterns of the registry, per door; ``credit_portal.urls`` mounts them."""

from django.urls import path

from records import api, api_records, views_catalogue, views_my, views_records, views_staff

staff_patterns = [
    path("entities/", views_staff.registry, name="registry"),
    path("entities/new/", views_staff.entity_create, name="entity_create"),
    path("entities/<str:code>/", views_staff.entity_detail, name="entity"),
    path("entities/<str:code>/edit/", views_staff.entity_edit, name="entity_edit"),
    path(
        "entities/<str:code>/persons/<int:person_id>/reveal/", views_staff.person_reveal, name="person_reveal"
    ),
    path("entities/<str:code>/persons/add/", views_staff.person_add, name="person_add"),
    path("entities/<str:code>/person-links/<int:link_id>/end/", views_staff.person_end, name="person_end"),
    path("records/", views_records.record_list, name="records"),
    path("records/new/", views_records.record_create, name="record_create"),
    path("records/<int:pk>/", views_records.record_detail, name="record"),
    path("records/<int:pk>/confirm/", views_records.record_confirm, name="record_confirm"),
    path("records/<int:pk>/correct/", views_records.record_correct, name="record_correct"),
    path("records/<int:pk>/revoke/", views_records.record_revoke, name="record_revoke"),
    path("records/review/", views_records.review_queue, name="review_queue"),
    path("records/proposals/<int:pk>/decide/", views_records.proposal_decide, name="proposal_decide"),
    path("records/proposals/<int:pk>/withdraw/", views_records.proposal_withdraw, name="proposal_withdraw"),
    path("imports/<int:pk>/confirm/", views_records.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/reject/", views_records.import_reject, name="import_reject"),
    path("catalogue/", views_catalogue.catalogue, name="catalogue"),
    path("catalogue/<slug:code>/", views_catalogue.catalogue_item, name="catalogue_item"),
    path("claims/", views_staff.claims, name="claims"),
    path("claims/<int:pk>/", views_staff.claim_decide, name="claim_decide"),
]

my_patterns = [
    path("", views_my.home, name="home"),
    path("claim/", views_my.claim, name="claim"),
    path("claims/<int:pk>/withdraw/", views_my.claim_withdraw, name="claim_withdraw"),
    path("entities/<str:code>/", views_my.entity, name="entity"),
]

api_patterns = [
    path("entities/", api.EntityListCreate.as_view(), name="entity-list"),
    path("entities/<str:code>/", api.EntityDetail.as_view(), name="entity-detail"),
    path("records/", api_records.RecordListCreate.as_view(), name="record-list"),
    path("records/<int:pk>/", api_records.RecordDetail.as_view(), name="record-detail"),
    path("records/<int:pk>/correct/", api_records.RecordCorrect.as_view(), name="record-correct"),
    path("records/<int:pk>/revoke/", api_records.RecordRevoke.as_view(), name="record-revoke"),
    path("changes/", api_records.ChangeFeed.as_view(), name="changes"),
]
