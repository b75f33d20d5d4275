"""Registering entities: one validation for the form, the API and the service; nothing half-written."""

import json

import pytest
from django.core.exceptions import ValidationError

from credit_portal import personal_data
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import Conflict
from records import services
from records.models import EntityPerson, MarketEntity, MarketEntityGroupObjectPermission, Person
from tests import factories as f

pytestmark = pytest.mark.django_db


def _counts():
    return (
        MarketEntity.objects.count(),
        Person.objects.count(),
        EntityPerson.objects.count(),
        MarketEntityGroupObjectPermission.objects.count(),
        AuditEvent.objects.count(),
    )


def _body(**overrides):
    body = {
        "code": f.uscc(),
        "name_zh": "深圳市测试科技有限公司",
        "name_en": "Shenzhen Test Technology Co., Ltd.",
        "division": "440305",
        "industry": "I",
        "registered_on": "2020-05-01",
        "legal_representative": {"name": "王伟", "id_type": "resident_id", "id_number": f.resident_id()},
    }
    body.update(overrides)
    return body


def _post(client, body):
    return client.post("/api/v1/entities/", data=json.dumps(body), content_type="application/json")


class TestService:
    def test_register_keeps_the_identity_number_only_hashed_and_encrypted(
        self, department, clerk, legal_rep_id
    ):
        from credit_portal.accounts.actors import actor_for_user

        entity = services.entity_register(
            actor=actor_for_user(clerk),
            data=services.EntityInput(
                code=f.uscc(),
                name_zh="深圳市测试有限公司",
                division="440305",
                legal_representative=services.PersonInput("王伟", "resident_id", legal_rep_id),
            ),
        )
        person = entity.person_links.get().person
        assert person.id_number_masked == legal_rep_id[:4] + "*" * 10 + legal_rep_id[-4:]
        assert person.id_number_hash == personal_data.lookup_hash(legal_rep_id)
        assert personal_data.decrypt(person.id_number_cipher) == legal_rep_id
        # The clear number is nowhere in the row, nor in the audit trail.
        row = Person.objects.filter(pk=person.pk).values().get()
        assert legal_rep_id not in json.dumps(row, default=str)
        assert not AuditEvent.objects.filter(after__icontains=legal_rep_id).exists()
        assert entity.registering_department == department
        assert entity.entity_type == "enterprise"

    def test_every_field_error_is_reported_at_once_and_nothing_written(self, department):
        before = _counts()
        with pytest.raises(ValidationError) as exc:
            f.entity(
                department,
                code="91440300MA5D1234X0",
                name_zh="x" * 201,
                division="999999",
                supervising_department="NOPE",
                legal_representative=services.PersonInput("王伟", "resident_id", "123"),
            )
        errors = exc.value.message_dict
        assert set(errors) >= {
            "code",
            "name_zh",
            "division",
            "supervising_department",
            "legal_representative.id_number",
        }
        assert _counts() == before

    def test_duplicate_code_is_a_conflict_and_nothing_written(self, entity, department):
        before = _counts()
        with pytest.raises(Conflict):
            f.entity(department, code=entity.code.lower())
        assert _counts() == before

    def test_public_sector_needs_its_supervising_department(self, department):
        with pytest.raises(ValidationError) as exc:
            f.entity(department, public_sector="state_owned")
        assert "supervising department" in str(exc.value)
        entity = f.entity(department, public_sector="state_owned", supervising_department=department.code)
        assert entity.supervising_department == department

    def test_nul_characters_are_refused(self, department):
        before = _counts()
        with pytest.raises(ValidationError) as exc:
            f.entity(department, name_zh="深圳\x00公司", address="a\x00b")
        assert set(exc.value.message_dict) == {"name_zh", "address"}
        assert _counts() == before

    def test_update_changes_fields_and_audits_the_difference(self, entity, clerk):
        from credit_portal.accounts.actors import actor_for_user

        services.entity_update(
            actor=actor_for_user(clerk),
            code=entity.code,
            data=services.EntityInput(code=entity.code, name_zh="深圳市新名称有限公司", division="440306"),
        )
        entity.refresh_from_db()
        assert (entity.name_zh, entity.division_id) == ("深圳市新名称有限公司", "440306")
        event = AuditEvent.objects.filter(action="records.entity.updated").get()
        assert event.before["name_zh"] == "深圳市腾讯计算机系统有限公司"
        assert event.after["name_zh"] == "深圳市新名称有限公司"

    def test_new_legal_representative_ends_the_previous_one(self, entity, clerk):
        from credit_portal.accounts.actors import actor_for_user

        services.entity_update(
            actor=actor_for_user(clerk),
            code=entity.code,
            data=services.EntityInput(
                code=entity.code,
                name_zh=entity.name_zh,
                division=entity.division_id,
                legal_representative=services.PersonInput("李娜", "resident_id", f.resident_id(seq="456")),
            ),
        )
        links = EntityPerson.objects.filter(entity=entity, role="legal_representative").order_by("id")
        assert [(link.person.name, link.until is None) for link in links] == [
            ("马某某", False),
            ("李娜", True),
        ]


class TestApiBadInput:
    @pytest.fixture
    def api(self, token_for, department):
        return token_for(department, "entities:read,entities:write")

    def test_valid_post_creates_the_entity(self, api, department):
        body = _body()
        response = _post(api, body)
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["code"] == body["code"]
        assert data["registering_department"] == department.code
        assert data["persons"][0]["id_number_masked"].startswith(
            body["legal_representative"]["id_number"][:4] + "*"
        )
        assert body["legal_representative"]["id_number"] not in response.content.decode()

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"code": "91440300MA5D1234X0"}, "code"),  # bad check character
            ({"code": "12345"}, "code"),
            ({"name_zh": "x" * 201}, "name_zh"),
            ({"name_zh": "公司\x00"}, "name_zh"),
            ({"division": "999999"}, "division"),
            ({"supervising_department": "NO-SUCH"}, "supervising_department"),
            ({"registered_on": "2020-13-45"}, "registered_on"),
            ({"registered_on": "2999-01-01"}, "registered_on"),
            ({"status": "flying"}, "status"),
            ({"industry": "Z"}, "industry"),
            (
                {"legal_representative": {"name": "王伟", "id_number": "110101199003071234"}},
                "legal_representative.id_number",
            ),
        ],
    )
    def test_bad_field_is_400_with_a_message_for_that_field_and_nothing_written(self, api, overrides, field):
        before = _counts()
        response = _post(api, _body(**overrides))
        assert response.status_code == 400, response.content
        errors = response.json()["errors"]
        assert field in errors, errors
        assert _counts() == before

    def test_missing_fields_are_listed(self, api):
        response = _post(api, {"name_en": "x"})
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"code", "name_zh", "division"}

    def test_malformed_json_is_400(self, api):
        response = api.post("/api/v1/entities/", data="{not json", content_type="application/json")
        assert response.status_code == 400

    def test_duplicate_is_409_and_nothing_written(self, api, entity):
        before = _counts()
        response = _post(api, _body(code=entity.code))
        assert response.status_code == 409
        assert response.json()["errors"] == {
            "code": ["An entity with this unified social credit code is already registered."]
        }
        assert _counts() == before

    def test_script_in_a_name_is_stored_as_text_and_escaped_in_html(self, api, client):
        body = _body(name_zh="<script>alert(1)</script>有限公司")
        assert _post(api, body).status_code == 201
        page = client.get(f"/entities/{body['code']}/").content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;有限公司" in page


class TestStaffForm:
    def test_form_shows_the_service_errors_per_field(self, client_for, clerk):
        client = client_for(clerk)
        before = _counts()
        response = client.post(
            "/staff/entities/new/",
            {
                "code": "91440300MA5D1234X0",
                "name_zh": "测试",
                "division": "999999",
                "status": "active",
                "lr_name": "王伟",
                "lr_id_type": "resident_id",
                "lr_id_number": "123",
            },
        )
        assert response.status_code == 200
        form = response.context["form"]
        assert set(form.errors) == {"code", "division", "lr_id_number"}
        assert _counts() == before

    def test_form_duplicate_is_a_code_error(self, client_for, clerk, entity):
        response = client_for(clerk).post(
            "/staff/entities/new/",
            {"code": entity.code, "name_zh": "测试", "division": "440305", "status": "active"},
        )
        assert response.context["form"].errors == {
            "code": ["An entity with this unified social credit code is already registered."]
        }

    def test_form_registers_and_redirects(self, client_for, clerk):
        code = f.uscc()
        response = client_for(clerk).post(
            "/staff/entities/new/",
            {"code": code, "name_zh": "深圳市表单有限公司", "division": "440305", "status": "active"},
        )
        assert response.status_code == 302
        assert response["Location"] == f"/staff/entities/{code}/"
        assert MarketEntity.objects.get(code=code).name_zh == "深圳市表单有限公司"


class TestPersons:
    def test_api_registers_controllers_and_responsible_persons(self, token_for, department):
        api = token_for(department, "entities:write,entities:read")
        body = _body(
            persons=[
                {
                    "role": "actual_controller",
                    "name": "赵六",
                    "id_type": "resident_id",
                    "id_number": f.resident_id(seq="111"),
                },
                {
                    "role": "responsible_person",
                    "name": "钱七",
                    "id_type": "passport",
                    "id_number": "E12345678",
                },
            ]
        )
        response = _post(api, body)
        assert response.status_code == 201, response.content
        roles = sorted((p["role"], p["name"], p["id_number_masked"]) for p in response.json()["persons"])
        assert roles == [
            (
                "actual_controller",
                "赵六",
                f.resident_id(seq="111")[:4] + "*" * 10 + f.resident_id(seq="111")[-4:],
            ),
            ("legal_representative", "王伟", roles[1][2]),
            ("responsible_person", "钱七", "E*******8"),
        ]

    def test_unknown_role_is_a_field_error(self, token_for, department):
        api = token_for(department, "entities:write")
        before = _counts()
        response = _post(api, _body(persons=[{"role": "boss", "name": "x", "id_number": f.resident_id()}]))
        assert response.status_code == 400
        assert response.json()["errors"] == {"persons.0.role": ['"boss" is not a valid choice.']}
        assert _counts() == before

    def test_staff_link_and_end_a_person_keeps_history(self, client_for, clerk, entity):
        client = client_for(clerk)
        number = f.resident_id(seq="222")
        response = client.post(
            f"/staff/entities/{entity.code}/persons/add/",
            {"role": "actual_controller", "name": "孙八", "id_type": "resident_id", "id_number": number},
        )
        assert response.status_code == 302
        link = EntityPerson.objects.get(entity=entity, role="actual_controller")
        assert link.until is None and link.person.name == "孙八"
        response = client.post(f"/staff/entities/{entity.code}/person-links/{link.pk}/end/")
        assert response.status_code == 302
        link.refresh_from_db()
        assert link.until is not None
        actions = set(AuditEvent.objects.filter(target_id=str(entity.pk)).values_list("action", flat=True))
        assert {"records.entity.person_linked", "records.entity.person_ended"} <= actions

    def test_staff_person_form_errors_and_nothing_written(self, client_for, clerk, entity):
        before = _counts()
        response = client_for(clerk).post(
            f"/staff/entities/{entity.code}/persons/add/",
            {"role": "actual_controller", "name": "孙八", "id_type": "resident_id", "id_number": "12345"},
        )
        assert response.status_code == 400
        assert "id_number" in response.context["person_form"].errors
        assert _counts() == before

    def test_other_department_cannot_link_or_end(self, client_for, other_department_clerk, entity):
        client = client_for(other_department_clerk)
        link = EntityPerson.objects.get(entity=entity)
        before = _counts()
        assert (
            client.post(
                f"/staff/entities/{entity.code}/persons/add/",
                {
                    "role": "actual_controller",
                    "name": "孙八",
                    "id_type": "resident_id",
                    "id_number": f.resident_id(seq="333"),
                },
            ).status_code
            == 404
        )
        assert client.post(f"/staff/entities/{entity.code}/person-links/{link.pk}/end/").status_code == 404
        link.refresh_from_db()
        assert link.until is None
        assert _counts() == before
