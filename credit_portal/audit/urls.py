"""URL patterns of the audit trail's public side; ``credit_portal.urls`` mounts ``public_patterns``
at the root (namespace ``public``) and ``credit_portal.api_urls`` mounts ``api_patterns`` under
``/api/v1/`` (namespace ``api``)."""

from django.urls import path

from credit_portal.audit import api, views_public

public_patterns = [
    path("audit/anchors/", views_public.anchors, name="audit_anchors"),
]

api_patterns = [
    path("audit/anchors/", api.AuditAnchorList.as_view(), name="audit-anchor-list"),
]
