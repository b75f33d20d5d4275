"""URL patterns of pledges and pre-permit education, per door; ``credit_portal.urls`` mounts them."""

from django.urls import path

from pledges import views_associations, views_my, views_public, views_staff

public_patterns = [
    path("pledges/", views_public.pledge_list, name="pledge_public_list"),
    path("pledges/matters/", views_public.matter_list, name="matter_public_list"),
    path(
        "pledges/matters/<str:department>/<slug:code>/",
        views_public.matter_detail,
        name="matter_public_detail",
    ),
    path("pledges/<str:number>/", views_public.pledge_detail, name="pledge_public_detail"),
]

my_patterns = [
    path("pledges/", views_my.pledge_my_home, name="pledge_my_home"),
    path("pledges/apply/", views_my.application_choose, name="application_choose"),
    path(
        "pledges/apply/<str:department>/<slug:code>/", views_my.application_create, name="application_create"
    ),
    path(
        "pledges/apply/<str:department>/<slug:code>/acknowledge/",
        views_my.matter_acknowledge,
        name="matter_acknowledge",
    ),
    path("pledges/public/new/", views_my.pledge_public_create, name="pledge_public_create"),
    path("pledges/association/new/", views_my.association_pledge_create, name="association_pledge_create"),
    path("pledges/<str:number>/", views_my.pledge_my_detail, name="pledge_my_detail"),
    path("pledges/<str:number>/defence/", views_my.pledge_breach_answer, name="pledge_breach_answer"),
    path(
        "pledges/<str:number>/defence/<int:notice_id>/file/",
        views_my.pledge_my_defence_file,
        name="pledge_my_defence_file",
    ),
    path("applications/<str:number>/", views_my.application_my_detail, name="application_my_detail"),
    path("applications/<str:number>/sign/", views_my.application_pledge_sign, name="application_pledge_sign"),
    path(
        "applications/<str:number>/materials/",
        views_my.application_material_upload,
        name="application_material_upload",
    ),
    path(
        "applications/<str:number>/materials/<int:submission_id>/",
        views_my.application_my_material,
        name="application_my_material",
    ),
]

staff_patterns = [
    path("pledges/", views_staff.pledge_staff_list, name="pledge_staff_list"),
    path("pledges/report/", views_staff.pledge_report, name="pledge_report"),
    path("pledges/matters/", views_staff.matter_staff_list, name="matter_staff_list"),
    path("pledges/matters/new/", views_staff.matter_create, name="matter_create"),
    path("pledges/matters/<int:pk>/", views_staff.matter_edit, name="matter_edit"),
    path("pledges/matters/<int:pk>/template/", views_staff.matter_template_new, name="matter_template_new"),
    path("pledges/matters/<int:pk>/education/", views_staff.matter_education, name="matter_education"),
    path("pledges/applications/", views_staff.application_queue, name="application_queue"),
    path(
        "pledges/applications/<str:number>/",
        views_staff.application_staff_detail,
        name="application_staff_detail",
    ),
    path(
        "pledges/applications/<str:number>/decide/", views_staff.application_decide, name="application_decide"
    ),
    path(
        "pledges/applications/<str:number>/materials/<int:submission_id>/",
        views_staff.application_staff_material,
        name="application_staff_material",
    ),
    path("pledges/remedies/", views_staff.remedy_rules, name="remedy_rules"),
    path("pledges/<str:number>/", views_staff.pledge_staff_detail, name="pledge_staff_detail"),
    # "Confirm a breach" starts with the notice of the intended finding; the decision follows.
    path("pledges/<str:number>/breach/", views_staff.pledge_breach_notify, name="pledge_breach_notify"),
    path(
        "pledges/<str:number>/breach/confirm/",
        views_staff.pledge_breach_confirm,
        name="pledge_breach_confirm",
    ),
    path("pledges/<str:number>/breach/drop/", views_staff.pledge_breach_drop, name="pledge_breach_drop"),
    path(
        "pledges/<str:number>/breach/<int:notice_id>/file/",
        views_staff.pledge_staff_defence_file,
        name="pledge_staff_defence_file",
    ),
    path("pledges/<str:number>/accept-late/", views_staff.pledge_accept_late, name="pledge_accept_late"),
    path("associations/", views_associations.association_list, name="association_list"),
    path("associations/<int:pk>/", views_associations.association_detail, name="association_detail"),
]
