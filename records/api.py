"""The agency door for the registry: ``/api/v1/entities/``."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from credit_portal.accounts.actors import actor_for_request
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Division
from credit_portal.api.validation import validated
from credit_portal.api.views import ThrottleFirstMixin
from credit_portal.idempotency.api import idempotent
from records import selectors, services
from records.models import EntityPerson, MarketEntity, Person


class PersonLinkSerializer(serializers.Serializer):
    role = serializers.CharField()
    name = serializers.CharField(source="person.name")
    id_type = serializers.CharField(source="person.id_type")
    id_number_masked = serializers.CharField(source="person.id_number_masked")
    since = serializers.DateField(allow_null=True)


class EntitySerializer(serializers.ModelSerializer):
    division = serializers.CharField(source="division_id")
    division_name = serializers.CharField(source="division.name_zh")
    supervising_department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    registering_department = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = MarketEntity
        fields = [
            "code", "name_zh", "name_en", "entity_type", "division", "division_name", "industry", "registered_on",
            "status", "address", "public_sector", "supervising_department", "registering_department",
            "created_at", "updated_at",
        ]  # fmt: skip


class EntityDetailSerializer(EntitySerializer):
    persons = serializers.SerializerMethodField()

    class Meta(EntitySerializer.Meta):
        fields = [*EntitySerializer.Meta.fields, "persons"]

    def get_persons(self, entity) -> list[dict]:
        links = getattr(entity, "current_persons", None)
        if links is None:
            links = EntityPerson.objects.filter(entity=entity, until__isnull=True).select_related("person")
        return PersonLinkSerializer(links, many=True).data


class PersonInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    id_type = serializers.ChoiceField(choices=Person.IdType.choices, default=Person.IdType.RESIDENT_ID)
    id_number = serializers.CharField(max_length=40, write_only=True)


class RolePersonInputSerializer(PersonInputSerializer):
    role = serializers.ChoiceField(choices=EntityPerson.Role.choices)


class EntityCreateSerializer(serializers.Serializer):
    """Shape only; the registry service validates the content (the same rules as the staff form)."""

    code = serializers.CharField(max_length=40)
    name_zh = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    division = serializers.CharField(max_length=6, help_text="Administrative division code (six digits).")
    industry = serializers.CharField(max_length=1, required=False, allow_blank=True, default="")
    registered_on = serializers.DateField(required=False, allow_null=True, default=None)
    status = serializers.CharField(max_length=16, required=False, default=MarketEntity.Status.ACTIVE)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    public_sector = serializers.CharField(max_length=24, required=False, allow_blank=True, default="")
    supervising_department = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )
    legal_representative = PersonInputSerializer(required=False, allow_null=True, default=None)
    persons = RolePersonInputSerializer(
        many=True, required=False, default=list, help_text="Actual controllers and responsible persons."
    )

    def to_input(self, parsed: dict | None = None) -> services.EntityInput:
        """The entity as the registry service takes it: from the validated data, or from what parsed
        of a refused request (``parsed``, for the service's validate-only call)."""
        data = {
            "code": "",
            "name_zh": "",
            "division": "",
            **(self.validated_data if parsed is None else parsed),
        }
        person = data.pop("legal_representative", None)
        others = [services.PersonInput(**p) for p in data.pop("persons", [])]
        return services.EntityInput(
            **data, legal_representative=services.PersonInput(**person) if person else None, persons=others
        )


class EntityFilterSerializer(serializers.Serializer):
    """The registry search's query parameters; an invalid one is a 400 naming it."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        trim_whitespace=False,
        help_text="Chinese characters (2+), English words, or an exact code",
    )
    division = serializers.RegexField(
        r"^\d{6}$",
        required=False,
        allow_blank=True,
        help_text="Administrative division code (six digits); includes its children",
    )

    def validate_division(self, value: str) -> str:
        if value and not Division.objects.filter(code=value).exists():
            raise serializers.ValidationError(_("Unknown administrative division code."))
        return value


class EntityListCreate(ThrottleFirstMixin, generics.ListCreateAPIView):
    """Search the registry (``?q=`` name in Chinese or English, or a code) or register an entity."""

    required_capabilities = {"GET": Cap.ENTITIES_READ, "POST": Cap.ENTITIES_WRITE}
    serializer_class = EntitySerializer

    def get_queryset(self):
        filters = EntityFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        q = filters.validated_data.get("q", "")
        division = filters.validated_data.get("division", "")
        qs = MarketEntity.objects.select_related(
            "division", "supervising_department", "registering_department"
        )
        if q.strip():
            # Cursor pages run over ids; relevance order is for the public search page.
            qs = selectors.entity_search(q, division=division, qs=qs).order_by()
        elif division:
            qs = selectors.entity_search("", division=division, qs=qs).order_by()
        return qs

    @extend_schema(parameters=[EntityFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @idempotent
    @extend_schema(
        request=EntityCreateSerializer,
        responses={201: EntityDetailSerializer},
        description="Register an entity for the token's department. 400 lists every invalid field; "
        "409 when the code is already registered.",
    )
    def post(self, request, *args, **kwargs):
        actor = actor_for_request(request)
        incoming = EntityCreateSerializer(data=request.data)
        validated(
            incoming,
            check=lambda parsed: services.entity_register(
                actor=actor, data=incoming.to_input(parsed), validate_only=True
            ),
        )
        entity = services.entity_register(actor=actor, data=incoming.to_input())
        entity = selectors.entity_public_profile(entity.code)
        return Response(EntityDetailSerializer(entity).data, status=status.HTTP_201_CREATED)


class EntityDetail(ThrottleFirstMixin, generics.RetrieveAPIView):
    """One entity by its unified social credit code, with its current persons (numbers masked)."""

    required_capabilities = {"GET": Cap.ENTITIES_READ}
    serializer_class = EntityDetailSerializer

    def get_object(self):
        entity = selectors.entity_public_profile(self.kwargs["code"])
        if entity is None:
            raise Http404
        return entity
