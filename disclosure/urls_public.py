from django.urls import path

from disclosure import api_public, views_public

public_patterns = [
    path("", views_public.home, name="home"),
    path("search/export.csv", views_public.export_csv, name="export"),
    path("records/<int:pk>/", views_public.record_page, name="record"),
    path("entities/", views_public.entity_list, name="entity_list"),
    path("entities/<str:code>/", views_public.entity_profile, name="entity"),
]

api_patterns = [
    path("public/records/", api_public.PublicRecordList.as_view(), name="public-record-list"),
]
