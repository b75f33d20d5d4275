"""The agency door for credit records and the change feed: ``/api/v1/records/``, ``/api/v1/changes/``.

A department writes only its own records (the token's department records them); it reads every
department's public and government-shared records, and its own authorised-use ones."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from credit_portal.accounts.actors import actor_for_request
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.api.validation import validated
from credit_portal.api.views import ThrottleFirstMixin
from credit_portal.idempotency.api import idempotent
from credit_portal.workdays import services as workdays
from records import selectors, services, visibility
from records.fields import RecordInput, public_field_values
from records.identifiers import normalise_uscc, validate_uscc
from records.models import CatalogueItem, CreditRecord, RecordChange, RecordProposal, Severity
from records.services import review
from records.services.credit import ReviewRequired

WITHHELD_HELP = (
    "Null when content_withheld is true: the record was revoked, its disclosure period ended or its"
    " credit was restored, and it is not your department's."
)


class RecordSerializer(serializers.ModelSerializer):
    """A record as an agency reads it. A record that no longer stands (revoked, expired, restored)
    keeps its status, identifiers and dates for every department, but its content only for the
    recording department: for others ``content_withheld`` is true and the content fields are null."""

    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    entity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    legal_basis = serializers.CharField(read_only=True, allow_null=True, help_text=WITHHELD_HELP)
    severity = serializers.ChoiceField(
        choices=Severity.choices, read_only=True, allow_blank=True, allow_null=True, help_text=WITHHELD_HELP
    )
    content = serializers.CharField(read_only=True, allow_null=True, help_text=WITHHELD_HELP)
    remarks = serializers.CharField(read_only=True, allow_null=True, help_text=WITHHELD_HELP)
    # Named for the API; the method is not get_fields, which DRF reserves.
    fields = serializers.SerializerMethodField(
        method_name="structured_fields",
        help_text="The catalogue item's structured fields, identity numbers masked. " + WITHHELD_HELP,
    )
    disclosure_due_on_provisional = serializers.SerializerMethodField(
        help_text="True when disclosure_due_on falls in a year whose official holidays are not entered"
        " yet: the date counts weekends only and is provisional. False when it is firm or there is"
        " no due date."
    )
    content_withheld = serializers.SerializerMethodField(
        help_text="True when the record no longer stands (revoked, expired, restored) and is not your"
        " department's: its status, identifiers and dates are given, its content is not."
    )

    class Meta:
        model = CreditRecord
        fields = [
            "id", "item", "entity", "department", "party_name", "decision_number", "decision_date", "legal_basis",
            "severity", "content", "valid_from", "valid_to", "remarks", "fields", "status", "content_withheld",
            "version", "provenance", "disclosure", "disclosure_due_on", "disclosure_due_on_provisional", "disclosure_ends_on", "published_at",
            "published_late_days", "withdrawn_at", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.DictField(allow_null=True))
    def structured_fields(self, record) -> dict | None:
        return public_field_values(record.item, record.fields)

    def get_disclosure_due_on_provisional(self, record) -> bool:
        return workdays.is_provisional(record.disclosure_due_on)

    def get_content_withheld(self, record) -> bool:
        return visibility.content_withheld(
            self.context.get("actor"), status=record.status, department_id=record.department_id
        )

    def to_representation(self, record):
        data = super().to_representation(record)
        return visibility.withhold(data) if data["content_withheld"] else data


def _reader(request) -> dict:
    """The serializer context that says who reads (``RecordSerializer`` withholds what they may not)."""
    return {"actor": actor_for_request(request)}


class ActorContextMixin:
    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_reader(self.request)}


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

    def to_input(self, parsed: dict | None = None) -> RecordInput:
        """The record as the records service takes it: from the validated data, or from what parsed
        of a refused request (``parsed``, for the service's validate-only call)."""
        data = {"item": "", "code": "", "decision_number": "", "decision_date": None}
        data.update(self.validated_data if parsed is None else parsed)
        data.pop("reason", None)
        return RecordInput(**data)


class CorrectionSerializer(RecordInputSerializer):
    decision_number = serializers.CharField(
        max_length=128, required=False, help_text="Ignored: a record keeps its number"
    )
    reason = serializers.CharField(max_length=2000)

    def to_input(self, parsed: dict | None = None) -> RecordInput:
        data = super().to_input(parsed)
        data.decision_number = ""
        return data


class ProposalSerializer(serializers.ModelSerializer):
    """A clerk's correction or revocation, accepted for review (HTTP 202): nothing changes until a
    reviewer of the department confirms it."""

    class Meta:
        model = RecordProposal
        fields = ["id", "record", "kind", "status", "reason", "revoked_on", "created_at"]


class RevocationSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    revoked_on = serializers.DateField(required=False, allow_null=True, default=None)


class RecordFilterSerializer(serializers.Serializer):
    """The list's query parameters: each invalid one is a 400 naming it, never an empty list that
    looks like an answer. Empty values filter nothing."""

    entity = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="Unified social credit code"
    )
    item = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Catalogue item code"
    )
    status = serializers.ChoiceField(choices=CreditRecord.Status.choices, required=False, allow_blank=True)
    department = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Recording department code"
    )

    def validate_entity(self, value: str) -> str:
        if not value.strip():
            return ""
        code = normalise_uscc(value)
        validate_uscc(code)  # its ValidationError names what is wrong with the code
        return code

    def validate_item(self, value: str) -> str:
        value = value.strip()
        if value and not CatalogueItem.objects.filter(code=value).exists():
            raise serializers.ValidationError(_("Unknown catalogue item."))
        return value

    def validate_department(self, value: str) -> str:
        value = value.strip().upper()
        if value and not Department.objects.filter(code=value).exists():
            raise serializers.ValidationError(_("Unknown department."))
        return value


class RecordListCreate(ThrottleFirstMixin, ActorContextMixin, generics.ListCreateAPIView):
    """Records of an entity (``?entity=CODE``), filtered by item or status; or record a decision for
    the token's department (201; 400 with every invalid field; 409 for a decision number already
    recorded by the department)."""

    required_capabilities = {"GET": Cap.RECORDS_READ, "POST": Cap.RECORDS_WRITE}
    serializer_class = RecordSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no actor
            return CreditRecord.objects.none()
        filters = RecordFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        qs = selectors.records_visible_to_agencies(actor_for_request(self.request))
        if wanted.get("entity"):
            qs = qs.filter(entity__code=wanted["entity"])
        if wanted.get("item"):
            qs = qs.filter(item__code=wanted["item"])
        if wanted.get("status"):
            qs = qs.filter(status=wanted["status"])
        if wanted.get("department"):
            qs = qs.filter(department__code=wanted["department"])
        return qs

    @extend_schema(parameters=[RecordFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @idempotent
    @extend_schema(request=RecordInputSerializer, responses={201: RecordSerializer})
    def post(self, request, *args, **kwargs):
        actor = actor_for_request(request)
        incoming = RecordInputSerializer(data=request.data)
        validated(
            incoming,
            check=lambda parsed: services.record_create(
                actor=actor, data=incoming.to_input(parsed), provenance="api", validate_only=True
            ),
        )
        record = services.record_create(actor=actor, data=incoming.to_input(), provenance="api")
        return Response(
            RecordSerializer(record, context=_reader(request)).data, status=status.HTTP_201_CREATED
        )


class RecordDetail(ThrottleFirstMixin, ActorContextMixin, generics.RetrieveAPIView):
    required_capabilities = {"GET": Cap.RECORDS_READ}
    serializer_class = RecordSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CreditRecord.objects.none()
        return selectors.records_visible_to_agencies(actor_for_request(self.request))


class RecordCorrect(ThrottleFirstMixin, APIView):
    """Correct one of the department's records (a new version; the change feed carries it)."""

    required_capabilities = {"POST": Cap.RECORDS_WRITE}

    @idempotent
    @extend_schema(request=CorrectionSerializer, responses={200: RecordSerializer, 202: ProposalSerializer})
    def post(self, request, pk: int):
        incoming = CorrectionSerializer(data=request.data)
        actor = actor_for_request(request)

        def check(parsed: dict) -> None:
            change = {"record_id": pk, "data": incoming.to_input(parsed), "reason": parsed.get("reason", "")}
            try:
                services.record_correct(actor=actor, **change, validate_only=True)
            except ReviewRequired:
                review.record_change_propose(
                    actor=actor, kind=RecordProposal.Kind.CORRECTION, **change, validate_only=True
                )

        validated(incoming, check=check)
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
        return Response(RecordSerializer(record, context=_reader(request)).data)


class RecordRevoke(ThrottleFirstMixin, APIView):
    """The decision was revoked: the record leaves public view and the feed says so."""

    required_capabilities = {"POST": Cap.RECORDS_WRITE}

    @idempotent
    @extend_schema(request=RevocationSerializer, responses={200: RecordSerializer, 202: ProposalSerializer})
    def post(self, request, pk: int):
        incoming = RevocationSerializer(data=request.data)
        actor = actor_for_request(request)

        def check(parsed: dict) -> None:
            change = {
                "record_id": pk,
                "reason": parsed.get("reason", ""),
                "revoked_on": parsed.get("revoked_on"),
            }
            try:
                services.record_revoke(actor=actor, **change, validate_only=True)
            except ReviewRequired:
                review.record_change_propose(
                    actor=actor, kind=RecordProposal.Kind.REVOCATION, **change, validate_only=True
                )

        validated(incoming, check=check)
        try:
            record = services.record_revoke(actor=actor, record_id=pk, **incoming.validated_data)
        except ReviewRequired:
            proposal = review.record_change_propose(
                actor=actor, record_id=pk, kind=RecordProposal.Kind.REVOCATION, **incoming.validated_data
            )
            return Response(ProposalSerializer(proposal).data, status=status.HTTP_202_ACCEPTED)
        return Response(RecordSerializer(record, context=_reader(request)).data)


MAX_BIGINT = 2**63 - 1


def _whole_number(text: str) -> int | None:
    """A non-negative whole number written in ASCII digits, or None."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    return int(text)


class ChangeFeed(ThrottleFirstMixin, APIView):
    """Every record created, corrected, revoked, expired or restored, in commit order.

    Start with ``cursor=0``; each response gives ``next_cursor`` — keep it and ask again later,
    even when ``changes`` was empty. A correction appears as a later change of the same record, so
    a system that follows the feed replaces wrong data wherever it went. Once a record no longer
    stands (revoked, expired, restored), every entry of it — its older ones too — carries its
    identifiers, dates and status but not its content, unless it is your department's record."""

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
                    "changes": inline_serializer(
                        "ChangeFeedEntry",
                        {
                            "id": serializers.IntegerField(help_text="The entry's place in the feed"),
                            "kind": serializers.ChoiceField(choices=RecordChange.Kind.choices),
                            "record": serializers.IntegerField(help_text="The record's id"),
                            "version": serializers.IntegerField(),
                            "occurred_at": serializers.DateTimeField(),
                            "content_withheld": serializers.BooleanField(
                                help_text="True when the record no longer stands (revoked, expired,"
                                " restored, whatever this entry's kind) and is not your department's:"
                                " the content keys of data are null."
                            ),
                            "data": serializers.DictField(
                                help_text="The record as it stood after this change: identifiers,"
                                " dates, status and content (identity numbers masked). When"
                                " content_withheld is true, legal_basis, severity, content,"
                                " remarks and fields are null."
                            ),
                        },
                        many=True,
                    ),
                    "next_cursor": serializers.IntegerField(),
                    "has_more": serializers.BooleanField(),
                },
            )
        },
    )
    def get(self, request):
        actor = actor_for_request(request)
        errors: dict[str, list[str]] = {}
        cursor = _whole_number(request.query_params.get("cursor", "0"))
        if cursor is None or cursor > MAX_BIGINT:
            errors["cursor"] = [str(_("Give the next_cursor you received, or 0."))]
        limit = _whole_number(request.query_params.get("limit", "200"))
        if limit is None or limit < 1:
            errors["limit"] = [str(_("Give a whole number from 1 to %(max)d.") % {"max": self.MAX_LIMIT})]
        if errors:
            return Response(
                {"detail": str(_("The request has invalid parameters.")), "errors": errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        limit = min(limit, self.MAX_LIMIT)
        changes = list(selectors.change_feed(actor, after=cursor)[: limit + 1])
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
        body = []
        for c in changes:
            withheld = visibility.content_withheld(
                actor, status=c.record_status, department_id=c.record_department_id
            )
            body.append(
                {
                    "id": c.pk,
                    "kind": c.kind,
                    "record": c.record_id,
                    "version": c.version,
                    "occurred_at": c.occurred_at,
                    "content_withheld": withheld,
                    "data": visibility.withhold(c.payload) if withheld else c.payload,
                }
            )
        return Response({"changes": body, "next_cursor": next_cursor, "has_more": has_more})
