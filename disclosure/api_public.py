"""The public read API: the disclosure search for other websites and researchers, throttled per
client. Only published records, personal data masked, identity numbers left out, no credentials
needed."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from credit_portal.api.pagination import CheckedCursorPagination
from credit_portal.api.views import ThrottleFirstMixin
from disclosure import search
from disclosure.forms import PublicSearchForm
from disclosure.presentation import mask_person_name, party_name
from records import search as text_search
from records.fields import public_field_values
from records.models import CreditRecord
from records.visibility import without_identity


class PublicRecordSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item_name = serializers.CharField(source="item.name_zh")
    entity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    party_name = serializers.SerializerMethodField()
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.name_zh")
    fields = serializers.SerializerMethodField(method_name="structured_fields")

    class Meta:
        model = CreditRecord
        fields = [
            "id", "item", "item_name", "entity", "party_name", "decision_number", "decision_date", "department",
            "department_name", "legal_basis", "severity", "content", "valid_from", "valid_to", "fields", "status",
            "version", "disclosure_ends_on", "published_at",
        ]  # fmt: skip

    def get_party_name(self, record) -> str:
        return party_name(record)

    def structured_fields(self, record) -> dict:
        values = public_field_values(record.item, without_identity(record.item, record.fields))
        if record.fields.get("party_category") == "natural_person" and "legal_rep_name" in values:
            values["legal_rep_name"] = mask_person_name(values["legal_rep_name"])
        return values


class DatePagination(CheckedCursorPagination):
    ordering = ("-decision_date", "-id")
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"


class PublicRecordList(ThrottleFirstMixin, generics.ListAPIView):
    """Published credit records matching ``q`` (Chinese name characters, English words, a unified
    social credit code or a decision number), newest first."""

    required_capabilities = {"GET": None}
    authentication_classes = []
    serializer_class = PublicRecordSerializer
    pagination_class = DatePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CreditRecord.objects.none()
        form = PublicSearchForm(self.request.query_params)
        if not form.is_valid():
            from rest_framework.exceptions import ValidationError

            raise ValidationError(form.errors)
        d = form.cleaned_data
        query = search.PublicQuery(
            q=d.get("q", ""), item=d.get("item", ""), department=d.get("department", ""),
            division=d.get("division", ""), date_from=d.get("date_from"), date_to=d.get("date_to"),
        )  # fmt: skip
        qs = search._filtered(search.published(), query).select_related("entity", "item", "department")
        text = " ".join(query.q.split())
        if text:
            condition = search.exact_condition(text)
            parsed = text_search.parse(text)
            if parsed.tsquery:
                # As the search page: Latin words whole, or as the start of words when none matches whole.
                whole = text_search.matches(parsed, whole=True)
                use_whole = not parsed.has_prefixes or qs.filter(whole).exists()
                condition |= whole if use_whole else text_search.matches(parsed)
            elif parsed.needs_substring_scan:
                condition |= Q(party_name__contains=text)
            qs = qs.filter(condition)
        return qs

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q", str, description="Name characters, English words, a code or a decision number"
            ),
            OpenApiParameter("item", str, description="Catalogue item code"),
            OpenApiParameter("department", str, description="Department code"),
            OpenApiParameter("division", str, description="Administrative division code (six digits)"),
            OpenApiParameter("date_from", str, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
