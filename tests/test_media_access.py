"""Stored files are never served by their path under MEDIA_URL, in any mode: credit report PDFs,
permit materials, breach-defence attachments, third-party reports and import files. They are served
only by the views that check who asks. (The real gunicorn of `make run` and the image is checked
too, in tests/test_connection_ceiling.py.)"""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import clear_url_caches
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from disclosure.reports import agencies
from disclosure.reports import services as reports
from pledges import services as pledges
from records.imports import runner
from tests import factories as f
from tests.conftest import _member
from tests.pledges.conftest import entity_actor, materials, matter, reviewer_actor  # noqa: F401
from tests.pledges.support import PDF, apply, pdf, sign
from tests.test_imports import csv_bytes, row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def mode(request, settings):
    """The URL configuration as loaded with DEBUG off and on (it is read once, at import)."""
    import credit_portal.urls

    settings.DEBUG = request.param
    importlib.reload(credit_portal.urls)
    clear_url_caches()
    yield request.param
    settings.DEBUG = False
    importlib.reload(credit_portal.urls)
    clear_url_caches()


@pytest.fixture
def stored(entity, entity_user, entity_actor, matter, materials, reviewer_actor, clerk, credit_officer):  # noqa: F811
    """One stored file of each kind, with the checked view that serves it to its owner."""
    report = reports.report_render(report_id=reports.report_request(actor=entity_actor, code=entity.code).pk)
    application = apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())
    submission = application.submissions.first()
    pledge = application.pledge
    pledges.pledge_breach_notify(
        actor=reviewer_actor,
        number=pledge.number,
        grounds="材料逾期未补。",
        severity="general",
        legal_basis="《优化营商环境条例》第四十条",
    )
    notice = pledges.pledge_breach_answer(
        actor=entity_actor, number=pledge.number, defence="已补交。", upload=pdf("申辩.pdf")
    )
    job = runner.import_job_create(
        actor=actor_for_user(clerk),
        item_code="admin_punishment",
        uploaded_file=pdf("records.csv", csv_bytes([row(entity, "MEDIA-1")])),
    )
    agency_entity = f.entity(entity.registering_department, name_zh="深圳市诚信征信服务有限公司")
    agency = agencies.agency_register(
        actor=actor_for_user(credit_officer), code=agency_entity.code, licence="粤征备〔2024〕12号"
    )
    agency_user = _member(f.entity_user("agency_user"), agency_entity, role="agent")
    third_party = reports.third_party_report_upload(
        actor=actor_for_user(agency_user),
        agency_id=agency.pk,
        code=entity.code,
        title="信用评估报告",
        summary="良好。",
        file=pdf("report.pdf", PDF),
        issued_on=timezone.localdate(),
    )
    return {
        "report": (report.pdf, f"/my/reports/{report.number}/pdf/", entity_user),
        "material": (
            submission.file,
            f"/my/applications/{application.number}/materials/{submission.pk}/",
            entity_user,
        ),
        "defence": (
            notice.defence_file,
            f"/my/pledges/{pledge.number}/defence/{notice.pk}/file/",
            entity_user,
        ),
        "third_party_report": (third_party.file, f"/third-party-reports/{third_party.pk}/file/", agency_user),
        "import": (job.file, None, clerk),
        "_report": report,
    }


KINDS = ["report", "material", "defence", "third_party_report", "import"]
CLIENTS = ["anonymous", "owner", "other_entity_user", "credit_officer"]


def client_as(name, owner, request) -> Client:
    if name == "anonymous":
        return Client()
    user = owner if name == "owner" else request.getfixturevalue(name)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("kind", KINDS)
def test_no_stored_file_is_served_at_its_media_url_in_either_mode(mode, stored, kind, request):
    field, _view, owner = stored[kind]
    assert field.name and field.storage.exists(field.name)
    url = django_settings.MEDIA_URL + field.name
    clients = {name: client_as(name, owner, request) for name in CLIENTS}
    before = AuditEvent.objects.count()
    for name, client in clients.items():
        response = client.get(url)
        assert response.status_code == 404, (name, url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"%PDF" not in body and b"MEDIA-1" not in body, (name, url)
    assert AuditEvent.objects.count() == before


def test_a_report_path_guessed_from_its_printed_number_gets_nothing(mode, stored, other_entity_user):
    report = stored["_report"]
    issued = timezone.localtime(report.issued_at) if report.issued_at else timezone.localtime()
    guesses = [
        f"/media/reports/{issued:%Y/%m}/{report.number}.pdf",
        f"/media/reports/{report.number}.pdf",
        f"/media/reports/{issued:%Y/%m}/../{issued:%m}/{report.number}.pdf",
        f"/media//reports/{issued:%Y/%m}/{report.number}.pdf",
        f"/static/../media/reports/{issued:%Y/%m}/{report.number}.pdf",
    ]
    assert f"reports/{issued:%Y/%m}/{report.number}.pdf" == report.pdf.name
    anonymous, stranger = Client(), Client()
    stranger.force_login(other_entity_user)
    before = AuditEvent.objects.count()
    for path in guesses:
        for client in (anonymous, stranger):
            response = client.get(path)
            assert response.status_code == 404, path
            assert not response.content.startswith(b"%PDF")
    # Through the checked doors, the number alone opens nothing either.
    assert stranger.get(f"/my/reports/{report.number}/pdf/").status_code == 404
    assert anonymous.get(f"/my/reports/{report.number}/pdf/").status_code == 302  # to the login page
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("kind", ["report", "material", "defence", "third_party_report"])
def test_the_checked_views_serve_the_owner_and_refuse_other_entities(mode, stored, kind, other_entity_user):
    field, view, owner = stored[kind]
    with field.open("rb") as handle:
        expected = handle.read()
    owner_client = Client()
    owner_client.force_login(owner)
    response = owner_client.get(view)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == expected
    if kind == "third_party_report":
        return  # shown to the public by design while the agency stands by it
    stranger = Client()
    stranger.force_login(other_entity_user)
    before = AuditEvent.objects.count()
    assert stranger.get(view).status_code == 404
    assert AuditEvent.objects.count() == before
