"""The agency door for hotline systems: complaints and tip-offs (``/api/v1/complaints/``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from credit_portal.accounts.actors import actor_for_request
from credit_portal.accounts.capabilities import Cap
from credit_portal.api.validation import validated
from credit_portal.api.views import ThrottleFirstMixin
from credit_portal.idempotency.api import idempotent
from credit_portal.workdays import services as workdays
from records import selectors
from records.models import Complaint
from records.services import complaints as complaint_services


class ComplaintInputSerializer(serializers.Serializer):
    """Shape only; the complaints service validates the content (the same rules as the web form)."""

    external_reference = serializers.CharField(
        max_length=64,
        help_text="The hotline's ticket id. Posting the same id again returns the same complaint.",
    )
    kind = serializers.ChoiceField(choices=Complaint.Kind.choices)
    entity_name = serializers.CharField(max_length=200)
    code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="Unified social credit code, if known: a registered entity routes the complaint to "
        "the department that registered it.",
    )
    department = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Code of the department to handle it; required when the code matches no registered entity.",
    )
    description = serializers.CharField(max_length=5000)
    submitter_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    contact = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        default="",
        help_text="Phone or email; stored encrypted.",
    )


class ComplaintSerializer(serializers.ModelSerializer):
    """What a hotline system reads back: progress and answer (the submitter's contact never)."""

    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    entity = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="Null when no registered entity was named.",
    )
    answer_due_on_provisional = serializers.SerializerMethodField(
        help_text="True when answer_due_on falls in a year whose official holidays are not entered yet:"
        " the date counts weekends only and is provisional."
    )

    class Meta:
        model = Complaint
        fields = [
            "tracking_number", "external_reference", "kind", "status", "entity", "entity_name", "department",
            "submitted_at", "answer_due_on", "answer_due_on_provisional", "answered_at", "answer",
        ]  # fmt: skip

    def get_answer_due_on_provisional(self, complaint) -> bool:
        return workdays.is_provisional(complaint.answer_due_on)


class ComplaintCreate(ThrottleFirstMixin, APIView):
    """Record a complaint or tip-off received by a hotline (201). Idempotent on
    ``external_reference``: the same ticket posted again returns the complaint already recorded
    (200) and changes nothing. 400 lists every invalid field."""

    required_capabilities = {"POST": Cap.COMPLAINTS_SUBMIT}

    @idempotent
    @extend_schema(
        request=ComplaintInputSerializer, responses={201: ComplaintSerializer, 200: ComplaintSerializer}
    )
    def post(self, request):
        actor = actor_for_request(request)
        incoming = ComplaintInputSerializer(data=request.data)
        required = {"external_reference": "", "kind": "", "entity_name": "", "description": ""}
        validated(
            incoming,
            check=lambda parsed: complaint_services.complaint_submit(
                actor=actor, **{**required, **parsed}, validate_only=True
            ),
        )
        complaint, created = complaint_services.complaint_submit(actor=actor, **incoming.validated_data)
        return Response(
            ComplaintSerializer(complaint).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ComplaintDetail(ThrottleFirstMixin, APIView):
    """A complaint the token's department submitted through the API, by tracking number (404 for
    any other)."""

    required_capabilities = {"GET": Cap.COMPLAINTS_SUBMIT}

    @extend_schema(responses={200: ComplaintSerializer})
    def get(self, request, tracking_number: str):
        complaint = selectors.complaint_for_hotline(actor_for_request(request), tracking_number)
        return Response(ComplaintSerializer(complaint).data)
