"""The agency door for credit records and the change feed: ``/api/v1/records/``, ``/api/v1/changes/``.

A department writes only its own records (the token's department records them); it reads every
department's public and government-shared records, and its own authorised-use ones."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from credit_portal.accounts.actors import actor_for_request
from credit_portal.accounts.capabilities import Cap
from credit_portal.api.views import ThrottleFirstMixin
from records import selectors, services
from records.fields import RecordInput, public_field_values
from records.models import CreditRecord, RecordChange, RecordProposal
from records.services import review
from records.services.credit import ReviewRequired


class RecordSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    entity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Named for the API; the method is not get_fields, which DRF reserves.
    fields = serializers.SerializerMethodField(method_name="structured_fields")

    class Meta:
        model = CreditRecord
        fields = [
            "id", "item", "entity", "department", "party_name", "decision_number", "decision_date", "legal_basis",
            "severity", "content", "valid_from", "valid_to", "remarks", "fields", "status", "version", "provenance",
            "disclosure", "disclosure_due_on", "disclosure_ends_on", "published_at", "published_late_days",
            "created_at", "updated_at",
        ]  # fmt: skip

    def structured_fields(self, record) -> dict:
        return public_field_values(record.item, record.fields)


class RecordInputSerializer(serializers.Serializer):
    """Shape only; ``records.fields.RecordValidator`` validates the content, as for forms and files."""

    item = serializers.CharField(max_length=64, help_text="Catalogue item code, e.g. admin_punishment")
    code = serializers.CharField(max_length=40, help_text="The entity's unified social credit code")
    decision_number = serializers.CharField(max_length=128)
    decision_date = serializers.CharField(max_length=32, help_text="YYYY-MM-DD")
    party_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    legal_basis = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    severity = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    content = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    valid_from = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True, default=None
    )
    valid_to = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True, default=None
    )
    remarks = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    disclosure_months = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    fields = serializers.DictField(
        required=False, default=dict, help_text="The catalogue item's structured fields"
    )

    def to_input(self) -> RecordInput:
        return RecordInput(**self.validated_data)


class CorrectionSerializer(RecordInputSerializer):
    decision_number = serializers.CharField(
        max_length=128, required=False, help_text="Ignored: a record keeps its number"
    )
    reason = serializers.CharField(max_length=2000)

    def to_input(self) -> RecordInput:
        data = dict(self.validated_data)
        data.pop("reason")
        data["decision_number"] = ""
        return RecordInput(**data)


class ProposalSerializer(serializers.ModelSerializer):
    """A clerk's correction or revocation, accepted for review (HTTP 202): nothing changes until a
    reviewer of the department confirms it."""

    class Meta:
        model = RecordProposal
        fields = ["id", "record", "kind", "status", "reason", "revoked_on", "created_at"]


class RevocationSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    revoked_on = serializers.DateField(required=False, allow_null=True, default=None)


class RecordListCreate(ThrottleFirstMixin, generics.ListCreateAPIView):
    """Records of an entity (``?entity=CODE``), filtered by item or status; or record a decision for
    the token's department (201; 400 with every invalid field; 409 for a decision number already
    recorded by the department)."""

    required_capabilities = {"GET": Cap.RECORDS_READ, "POST": Cap.RECORDS_WRITE}
    serializer_class = RecordSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no actor
            return CreditRecord.objects.none()
        qs = selectors.records_visible_to_agencies(actor_for_request(self.request))
        params = self.request.query_params
        if params.get("entity"):
            qs = qs.filter(entity__code=params["entity"].strip().upper())
        if params.get("item"):
            qs = qs.filter(item__code=params["item"])
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("department"):
            qs = qs.filter(department__code=params["department"].strip().upper())
        return qs

    @extend_schema(
        parameters=[
            OpenApiParameter("entity", str, description="Unified social credit code"),
            OpenApiParameter("item", str, description="Catalogue item code"),
            OpenApiParameter("status", str, enum=CreditRecord.Status.values),
            OpenApiParameter("department", str, description="Recording department code"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=RecordInputSerializer, responses={201: RecordSerializer})
    def post(self, request, *args, **kwargs):
        incoming = RecordInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        record = services.record_create(
            actor=actor_for_request(request), data=incoming.to_input(), provenance="api"
        )
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)


class RecordDetail(ThrottleFirstMixin, generics.RetrieveAPIView):
    required_capabilities = {"GET": Cap.RECORDS_READ}
    serializer_class = RecordSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CreditRecord.objects.none()
        return selectors.records_visible_to_agencies(actor_for_request(self.request))


class RecordCorrect(ThrottleFirstMixin, APIView):
    """Correct one of the department's records (a new version; the change feed carries it)."""

    required_capabilities = {"POST": Cap.RECORDS_WRITE}

    @extend_schema(request=CorrectionSerializer, responses={200: RecordSerializer, 202: ProposalSerializer})
    def post(self, request, pk: int):
        incoming = CorrectionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        actor = actor_for_request(request)
        try:
            record = services.record_correct(
                actor=actor, record_id=pk, data=incoming.to_input(), reason=incoming.validated_data["reason"]
            )
        except ReviewRequired:
            proposal = review.record_change_propose(
                actor=actor,
                record_id=pk,
                kind=RecordProposal.Kind.CORRECTION,
                data=incoming.to_input(),
                reason=incoming.validated_data["reason"],
            )
            return Response(ProposalSerializer(proposal).data, status=status.HTTP_202_ACCEPTED)
        return Response(RecordSerializer(record).data)


class RecordRevoke(ThrottleFirstMixin, APIView):
    """The decision was revoked: the record leaves public view and the feed says so."""

    required_capabilities = {"POST": Cap.RECORDS_WRITE}

    @extend_schema(request=RevocationSerializer, responses={200: RecordSerializer, 202: ProposalSerializer})
    def post(self, request, pk: int):
        incoming = RevocationSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        actor = actor_for_request(request)
        try:
            record = services.record_revoke(actor=actor, record_id=pk, **incoming.validated_data)
        except ReviewRequired:
            proposal = review.record_change_propose(
                actor=actor, record_id=pk, kind=RecordProposal.Kind.REVOCATION, **incoming.validated_data
            )
            return Response(ProposalSerializer(proposal).data, status=status.HTTP_202_ACCEPTED)
        return Response(RecordSerializer(record).data)


class ChangeFeed(ThrottleFirstMixin, APIView):
    """Every record created, corrected, revoked, expired or restored, in commit order.

    Start with ``cursor=0``; each response gives ``next_cursor`` — keep it and ask again later,
    even when ``changes`` was empty. A correction appears as a later change of the same record, so
    a system that follows the feed replaces wrong data wherever it went."""

    required_capabilities = {"GET": Cap.RECORDS_READ}
    MAX_LIMIT = 1000

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", int, description="next_cursor of the previous response; 0 to start"),
            OpenApiParameter("limit", int, description=f"at most {MAX_LIMIT}; default 200"),
        ],
        responses={
            200: inline_serializer(
                "ChangeFeedPage",
                {
                    "changes": serializers.ListField(child=serializers.DictField()),
                    "next_cursor": serializers.IntegerField(),
                    "has_more": serializers.BooleanField(),
                },
            )
        },
    )
    def get(self, request):
        actor = actor_for_request(request)
        try:
            cursor = int(request.query_params.get("cursor", "0"))
            limit = min(int(request.query_params.get("limit", "200")), self.MAX_LIMIT)
            if cursor < 0 or limit < 1:
                raise ValueError
        except ValueError:
            return Response(
                {
                    "detail": "Invalid cursor or limit.",
                    "errors": {"cursor": ["Give the next_cursor you received, or 0."]},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        visible = selectors.records_visible_to_agencies(actor).values("pk")
        changes = list(
            RecordChange.objects.filter(id__gt=cursor, record_id__in=visible).order_by("id")[: limit + 1]
        )
        has_more = len(changes) > limit
        changes = changes[:limit]
        # The cursor moves past rows this client may not see too, so it never re-reads them.
        next_cursor = changes[-1].pk if changes else cursor
        if not has_more and not changes:
            last = (
                RecordChange.objects.filter(id__gt=cursor)
                .order_by("-id")
                .values_list("id", flat=True)
                .first()
            )
            next_cursor = last or cursor
        body = [
            {
                "id": c.pk,
                "kind": c.kind,
                "record": c.record_id,
                "version": c.version,
                "occurred_at": c.occurred_at,
                "data": c.payload,
            }
            for c in changes
        ]
        return Response({"changes": body, "next_cursor": next_cursor, "has_more": has_more})
