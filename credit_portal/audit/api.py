"""The public API of the audit chain's anchors: no credentials, throttled per client."""

from datetime import UTC

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from credit_portal.api.pagination import SiteUrlCursorPagination
from credit_portal.api.views import ThrottleFirstMixin
from credit_portal.audit import selectors
from credit_portal.audit.models import AuditAnchor


class AuditAnchorSerializer(serializers.ModelSerializer):
    sequence = serializers.IntegerField(help_text="Id of the newest audit event when anchored (0: none yet)")
    hash = serializers.CharField(help_text="Hash of that event (HMAC-SHA256, 64 hexadecimal digits)")
    anchored_at = serializers.DateTimeField(default_timezone=UTC, help_text="When, in UTC")

    class Meta:
        model = AuditAnchor
        fields = ["sequence", "hash", "anchored_at"]


class AnchorPagination(SiteUrlCursorPagination):
    ordering = "-id"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"


class AuditAnchorList(ThrottleFirstMixin, generics.ListAPIView):
    """Anchors of the audit chain's head, newest first: the id and hash of its newest row, daily and
    on demand. Keep them; `manage.py verify_audit --anchors <this URL or a saved copy>` fails when
    the trail no longer matches one."""

    required_capabilities = {"GET": None}
    authentication_classes = []
    serializer_class = AuditAnchorSerializer
    pagination_class = AnchorPagination

    def get_queryset(self):
        return selectors.published_anchors()

    @extend_schema(summary="Anchors of the audit chain")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
