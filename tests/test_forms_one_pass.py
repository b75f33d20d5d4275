"""Every error of a form or an API request in one response: the form's (or serializer's) own
parse errors and the service's, from its validate-only path on what parsed, each field once; and
nothing written while any error stands (``credit_portal.web.submission``,
``credit_portal.api.validation``)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from django import forms
from django.core.exceptions import ValidationError

from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.models import Department
from credit_portal.audit.models import AuditEvent
from credit_portal.web.submission import submit
from records import services
from records.models import CreditRecord, EntityClaim, EntityPerson, MarketEntity, Person, RecordChange
from tests import factories as f
from tests.test_records import punishment
from tests.test_records_staff import form_data

pytestmark = pytest.mark.django_db

UNKNOWN_CODE = f.uscc(n=77)  # a valid code no entity has
NO_ENTITY = "No entity is registered under this unified social credit code."
REQUIRED = "This field is required."


@pytest.fixture(autouse=True)
def _clock(today):
    today(date(2026, 12, 4), tick=True)


def footprint() -> tuple[int, ...]:
    return (
        CreditRecord.objects.count(),
        RecordChange.objects.count(),
        MarketEntity.objects.count(),
        Person.objects.count(),
        EntityPerson.objects.count(),
        EntityClaim.objects.count(),
        AuditEvent.objects.count(),
    )


def post_json(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


class TestRecordForm:
    def test_parse_errors_and_the_records_validation_come_in_one_response(self, client_for, reviewer, entity):
        before = footprint()
        response = client_for(reviewer).post(
            "/staff/records/new/?item=admin_punishment",
            form_data(
                entity,
                decision_date="2026-13-45",  # the form's: not a date
                disclosure_months="many",  # the form's: not a number
                code=UNKNOWN_CODE,  # the service's: no such entity
                f_fine_amount="abc",  # the service's: not an amount
                content="",  # the service's: required for a punishment
            ),
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert errors == {
            "decision_date": ["Enter a valid date."],
            "disclosure_months": ["Enter a whole number."],
            "code": [NO_ENTITY],
            "content": ["Required for an administrative punishment (national field standard)."],
            "f_fine_amount": ["Not a number: abc."],
        }
        assert footprint() == before

    def test_a_field_the_form_refused_keeps_only_the_forms_message(self, client_for, reviewer, entity):
        """The service never saw the value: its "required" would be wrong about it."""
        response = client_for(reviewer).post(
            "/staff/records/new/?item=admin_punishment", form_data(entity, decision_number="号" * 129)
        )
        assert response.context["form"].errors == {
            "decision_number": ["Ensure this value has at most 128 characters (it has 129)."]
        }

    def test_a_decision_number_already_recorded_is_said_with_the_other_errors(
        self, client_for, reviewer, entity
    ):
        client = client_for(reviewer)
        assert client.post("/staff/records/new/?item=admin_punishment", form_data(entity)).status_code == 302
        before = footprint()
        response = client.post(
            "/staff/records/new/?item=admin_punishment",
            form_data(entity, decision_date="", f_fine_amount="x"),
        )
        assert response.context["form"].errors == {
            "decision_date": [REQUIRED],
            "decision_number": [
                "Your department has already recorded this decision number; correct that record instead."
            ],
            "f_fine_amount": ["Not a number: x."],
        }
        assert footprint() == before

    def test_the_columns_an_item_requires_are_marked_required_for_it(self, client_for, reviewer):
        page = client_for(reviewer).get("/staff/records/new/?item=admin_punishment").content.decode()
        note = "Required for an administrative punishment (national field standard)."
        assert f'<p class="required-if" id="id_content_requiredif">{note}</p>' in page
        assert 'aria-describedby="id_content_requiredif"' in page
        assert 'id="id_legal_basis_requiredif"' in page
        assert 'id="id_party_name_requiredif"' not in page


class TestEntityForm:
    def test_parse_errors_and_the_registry_validation_come_in_one_response(self, client_for, clerk):
        before = footprint()
        response = client_for(clerk).post(
            "/staff/entities/new/",
            {
                "code": f.uscc(n=5),
                "name_zh": "",  # the form's: required
                "registered_on": "someday",  # the form's: not a date
                "division": "999999",  # the service's: unknown
                "status": "active",
                "lr_name": "王伟",
                "lr_id_type": "resident_id",
                "lr_id_number": "12345",  # the service's: not a resident identity number
            },
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert set(errors) == {"name_zh", "registered_on", "division", "lr_id_number"}
        assert errors["name_zh"] == [REQUIRED]
        assert errors["registered_on"] == ["Enter a valid date."]
        assert errors["division"] == ["Unknown administrative division code."]
        assert footprint() == before

    def test_a_code_already_registered_is_said_with_the_other_errors(self, client_for, clerk, entity):
        before = footprint()
        response = client_for(clerk).post(
            "/staff/entities/new/",
            {"code": entity.code, "name_zh": "", "division": "440305", "status": "active"},
        )
        assert response.context["form"].errors == {
            "name_zh": [REQUIRED],
            "code": ["An entity with this unified social credit code is already registered."],
        }
        assert footprint() == before

    def test_the_legal_representatives_fields_say_when_they_are_required(self, client_for, clerk):
        page = client_for(clerk).get("/staff/entities/new/").content.decode()
        assert "Required when a legal representative is named." in page
        assert 'aria-describedby="id_lr_id_number_requiredif id_lr_id_number_helptext"' in page


class TestMyForms:
    def test_a_claim_names_the_missing_role_and_the_unknown_code_at_once(self, client_for, db):
        user = f.entity_user("claimant")
        before = footprint()
        response = client_for(user).post("/my/claim/", {"code": UNKNOWN_CODE, "statement": "我是法定代表人"})
        assert response.status_code == 200
        assert response.context["form"].errors == {"role": [REQUIRED], "code": [NO_ENTITY]}
        assert footprint() == before

    def test_a_claim_already_awaiting_review_is_said_with_the_other_errors(self, client_for, entity):
        user = f.entity_user("claimant")
        client = client_for(user)
        assert client.post("/my/claim/", {"code": entity.code, "role": "agent"}).status_code == 302
        before = footprint()
        response = client.post("/my/claim/", {"code": entity.code, "statement": "x" * 2001})
        assert response.context["form"].errors == {
            "role": [REQUIRED],
            "statement": ["Ensure this value has at most 2000 characters (it has 2001)."],
            "code": ["You already have a claim on this entity awaiting review."],
        }
        assert footprint() == before

    def test_a_report_request_names_the_bad_date_and_the_service_refusal_at_once(
        self, client_for, entity_user, entity
    ):
        from disclosure.models import CreditReport

        response = client_for(entity_user).post(
            "/my/reports/",
            {"code": entity.code, "period_from": "not a date", "period_to": "2027-06-01", "language": "en"},
        )
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert errors["period_from"] == ["Enter a valid date."]
        assert set(errors) == {"period_from", "period_to", "sections"}
        assert not CreditReport.objects.exists()


class TestRecordsApi:
    def test_shape_errors_and_the_records_validation_come_in_one_400(self, token_for, department, entity):
        api = token_for(department, "records:write,records:read")
        before = footprint()
        body = punishment(entity)
        response = post_json(
            api,
            "/api/v1/records/",
            {
                "item": "admin_punishment",
                "code": UNKNOWN_CODE,  # the service's
                "decision_number": "深市监罚〔2026〕5号",
                # no decision_date: the serializer's
                "disclosure_months": "many",  # the serializer's
                "legal_basis": body.legal_basis,
                "severity": "general",
                "content": body.content,
                "fields": {**body.fields, "fine_amount": "abc"},  # the service's
            },
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "decision_date": [REQUIRED],
            "disclosure_months": ["A valid integer is required."],
            "code": [NO_ENTITY],
            "fields.fine_amount": ["Not a number: abc."],
        }
        assert footprint() == before

    def test_a_key_the_serializer_refused_is_not_said_again_by_the_service(
        self, token_for, department, entity
    ):
        api = token_for(department, "records:write")
        body = json.loads(json.dumps(punishment(entity).__dict__, default=str))
        body["fields"] = "not an object"
        response = post_json(api, "/api/v1/records/", body)
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert list(errors) == ["fields"]
        assert len(errors["fields"]) == 1

    def test_a_number_already_recorded_is_409_alone_and_among_the_errors_otherwise(
        self, token_for, department, entity
    ):
        api = token_for(department, "records:write")
        body = json.loads(json.dumps(punishment(entity).__dict__, default=str))
        assert post_json(api, "/api/v1/records/", body).status_code == 201
        before = footprint()
        again = post_json(api, "/api/v1/records/", body)
        assert again.status_code == 409
        broken = post_json(api, "/api/v1/records/", {**body, "decision_date": None, "severity": "huge"})
        assert broken.status_code == 400
        assert broken.json()["errors"] == {
            "decision_date": ["This field may not be null."],
            "decision_number": [
                "Your department has already recorded this decision number; correct that record instead."
            ],
            "severity": ["Use minor, general or serious (or their Chinese terms)."],
        }
        assert footprint() == before

    def test_an_entity_registration_names_shape_and_registry_errors_at_once(self, token_for, department):
        api = token_for(department, "entities:write")
        before = footprint()
        response = post_json(
            api,
            "/api/v1/entities/",
            {"code": f.uscc(n=9), "division": "999999", "registered_on": "yesterday"},
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "name_zh": [REQUIRED],
            "registered_on": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "division": ["Unknown administrative division code."],
        }
        assert footprint() == before


class TestValidateOnly:
    def test_a_validate_only_call_leaves_nothing_behind_whatever_it_did(self, db):
        """The savepoint is rolled back even when the service wrote before it refused."""

        class NameForm(forms.Form):
            name = forms.CharField(max_length=3)

        def careless_service(validate_only: bool):
            f.department("WROTE")
            raise ValidationError({"name": ["never shown: the form refused it"], "__all__": ["Refused."]})

        form = NameForm({"name": "toolong"})
        outcome = submit(form, careless_service)
        assert not outcome.ok
        assert not Department.objects.filter(code="WROTE").exists()
        assert form.errors == {
            "name": ["Ensure this value has at most 3 characters (it has 7)."],
            "__all__": ["Refused."],
        }

    def test_each_message_once_per_field(self, db):
        class TwoForm(forms.Form):
            a = forms.CharField(required=False)
            b = forms.IntegerField()

        def service(validate_only: bool):
            raise ValidationError({"a": ["Twice.", "Twice.", "Once."], "x": ["Above."], "y": ["Above."]})

        form = TwoForm({"a": "", "b": "x"})
        submit(form, service)
        assert form.errors == {
            "b": ["Enter a whole number."],
            "a": ["Twice.", "Once."],
            "__all__": ["Above."],
        }

    def test_the_service_is_called_for_real_only_when_the_form_parsed(self, db):
        class NumberForm(forms.Form):
            n = forms.IntegerField()

        calls = []

        def service(validate_only: bool):
            calls.append(validate_only)
            return "done"

        assert submit(NumberForm({"n": "x"}), service).ok is False
        outcome = submit(NumberForm({"n": "3"}), service)
        assert (outcome.ok, outcome.result, calls) == (True, "done", [True, False])

    def test_services_refuse_in_validate_only_mode_as_for_real_and_write_nothing(self, reviewer, entity):
        actor = actor_for_user(reviewer)
        before = footprint()
        assert (
            services.record_create(actor=actor, data=punishment(entity), provenance="api", validate_only=True)
            is None
        )
        assert footprint() == before
        with pytest.raises(ValidationError) as refused:
            services.record_create(
                actor=actor,
                data=replace(punishment(entity), code=UNKNOWN_CODE),
                provenance="api",
                validate_only=True,
            )
        assert refused.value.message_dict == {"code": [NO_ENTITY]}
        assert footprint() == before
