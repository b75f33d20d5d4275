"""The agency door for credit reports: ``POST /api/v1/reports/`` (202, prepared asynchronously) and
``GET /api/v1/reports/{number}/`` (status and metadata — the SHA-256 of the document and of the PDF
among them — with the document once ready; the PDF with
``?format=pdf`` or ``Accept: application/pdf``). A token sees only its own department's reports."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from credit_portal import links
from credit_portal.accounts.actors import actor_for_request
from credit_portal.accounts.capabilities import Cap
from credit_portal.api.validation import validated
from credit_portal.api.views import ThrottleFirstMixin
from credit_portal.idempotency.api import idempotent
from disclosure.models import CreditReport
from disclosure.reports import document, qr, selectors, services


class PdfRenderer(renderers.BaseRenderer):
    """Passes the report's PDF bytes through; only successful PDF responses use it."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ReportRequestSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text="The entity's unified social credit code")
    period_from = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="YYYY-MM-DD; at most 5 years back"
    )
    period_to = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="YYYY-MM-DD; not in the future; default today",
    )
    sections = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        allow_null=True,
        default=None,
        max_length=20,
        help_text="Any of: " + ", ".join(document.SECTION_KEYS) + " (default: all)",
    )
    language = serializers.CharField(
        max_length=16,
        required=False,
        allow_null=True,
        default=None,
        help_text="zh (default) or en: the PDF's language",
    )


class ReportSerializer(serializers.ModelSerializer):
    entity = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    verify_url = serializers.SerializerMethodField()

    class Meta:
        model = CreditReport
        fields = [
            "number", "status", "entity", "channel", "period_from", "period_to", "sections", "language",
            "requested_at", "issued_at", "valid_until", "sha256", "pdf_sha256", "failure", "pdf_url",
            "verify_url",
        ]  # fmt: skip
        extra_kwargs = {
            "sha256": {"help_text": "SHA-256 of the canonical JSON document (its fingerprint)"},
            "pdf_sha256": {
                "help_text": "SHA-256 of the PDF file's bytes as issued; empty for a report issued "
                "before it was kept whose file was missing then"
            },
        }

    def get_entity(self, report) -> dict:
        return {
            "code": report.entity.code,
            "name_zh": report.entity.name_zh,
            "name_en": report.entity.name_en,
        }

    def get_pdf_url(self, report) -> str | None:
        """The PDF's full address at the portal's public address (SITE_URL); null until ready."""
        if report.status != CreditReport.Status.READY:
            return None
        return links.absolute(reverse("api:report-detail", args=[report.number]) + "?format=pdf")

    def get_verify_url(self, report) -> str:
        """The public verification page's full address, as printed on the PDF and in its QR code."""
        return qr.verify_url(report.number)


class ReportRequest(ThrottleFirstMixin, APIView):
    """Request a credit report on an entity. The report is prepared asynchronously: poll its URL
    (``Location``) until ``status`` is ``ready`` (or ``failed``, with ``failure``)."""

    required_capabilities = {"POST": Cap.REPORTS_REQUEST}

    @idempotent
    @extend_schema(request=ReportRequestSerializer, responses={202: ReportSerializer})
    def post(self, request):
        actor = actor_for_request(request)
        incoming = ReportRequestSerializer(data=request.data)
        validated(
            incoming,
            check=lambda parsed: services.report_request(
                actor=actor, **{"code": "", **parsed}, validate_only=True
            ),
        )
        report = services.report_request(actor=actor, **incoming.validated_data)
        response = Response(ReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("api:report-detail", args=[report.number])
        return response


class ReportDetail(ThrottleFirstMixin, APIView):
    """A report of the token's department: status and metadata; once ready, the canonical JSON
    document too (``document``), or the PDF (``?format=pdf`` or ``Accept: application/pdf``).
    Returning the document or the PDF is audited as a download. 409 for the PDF of a report that is
    not ready; 404 for a report of another department."""

    required_capabilities = {"GET": Cap.REPORTS_REQUEST}
    renderer_classes = [renderers.JSONRenderer, PdfRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "pdf"])],
        responses={
            200: OpenApiResponse(
                response=ReportSerializer,
                description="JSON metadata with `document`; or the PDF (application/pdf)",
            ),
            (200, "application/pdf"): OpenApiResponse(response=OpenApiTypes.BINARY),
            409: OpenApiResponse(description="The PDF of a report that is not ready yet"),
        },
    )
    def get(self, request, number: str):
        actor = actor_for_request(request)
        wants_pdf = isinstance(request.accepted_renderer, PdfRenderer)
        report = selectors.report_for_actor(actor, number)
        if wants_pdf:
            if report.status != CreditReport.Status.READY:
                return self._json(
                    request,
                    {"detail": "The report is not ready yet.", "status": report.status},
                    status.HTTP_409_CONFLICT,
                )
            report, content = services.report_download(actor=actor, number=report.number, fmt="pdf")
            response = Response(content, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{report.number}.pdf"'
            response["Cache-Control"] = "private, no-store"
            return response
        body = ReportSerializer(report).data
        body["document"] = None
        if report.status == CreditReport.Status.READY:
            report, _content = services.report_download(actor=actor, number=report.number, fmt="json")
            body["document"] = report.document
        return Response(body)

    def _json(self, request, data, code):
        request.accepted_renderer = renderers.JSONRenderer()
        request.accepted_media_type = "application/json"
        return Response(data, status=code)

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors (401/403/404/429...) are JSON even when the PDF was asked for.
        if isinstance(getattr(request, "accepted_renderer", None), PdfRenderer) and not isinstance(
            response.data, bytes
        ):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
