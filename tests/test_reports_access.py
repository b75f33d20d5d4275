"""Who gets a credit report, and through which door: the permission matrix of every report page and
endpoint (self-service, staff, agency API, verification, third-party reports, agency register).
Every refusal also checks that nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.models import Department
from credit_portal.audit.models import AuditEvent
from credit_portal.outbox.models import OutboxTask
from disclosure.models import CreditReport, ThirdPartyReport
from disclosure.reports import agencies, services
from records import services as record_services
from records.models import CreditServiceAgency
from tests import factories as f

pytestmark = pytest.mark.django_db
REQUEST = "reports:request"
TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n% a third-party report\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def closed_staff(db):
    """Staff of a department that was closed: a staff account holding no capability at all."""
    department = f.department("CLOSED-TEST")
    user = f.staff(department, StaffRole.DEPARTMENT_ADMIN, "closed_staff")
    Department.objects.filter(pk=department.pk).update(is_active=False)
    return user


def member(user, entity):
    claim = record_services.claim_submit(actor=actor_for_user(user), code=entity.code, role="agent")
    record_services.claim_decide(actor=system_actor("tests"), claim_id=claim.pk, approve=True)
    return user


@pytest.fixture
def agency(department, credit_officer):
    entity = f.entity(
        department, name_zh="深圳市诚信征信服务有限公司", name_en="Shenzhen Chengxin Credit Services"
    )
    return agencies.agency_register(
        actor=actor_for_user(credit_officer), code=entity.code, licence="粤征备〔2024〕12号"
    )


@pytest.fixture
def agency_user(agency):
    return member(f.entity_user("agency_user"), agency.entity)


USERS = (
    "entity_user", "other_entity_user", "clerk", "other_department_clerk", "credit_officer", "closed_staff",
    "agency_user",
)  # fmt: skip
TOKENS = {
    "token": ("department", [REQUEST]),
    "token_without_scope": ("department", ["records:read"]),
    "other_department_token": ("other_department", [REQUEST]),
}


@pytest.fixture
def as_actor(request, client_for, token_for):
    def make(name: str) -> Client:
        if name == "anonymous":
            return Client()
        if name in USERS:
            return client_for(request.getfixturevalue(name))
        department, scopes = TOKENS[name]
        return token_for(request.getfixturevalue(department), scopes)

    return make


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (CreditReport, AuditEvent, ThirdPartyReport, CreditServiceAgency)
    }


def ready(report: CreditReport) -> CreditReport:
    return services.report_render(report_id=report.pk)


@pytest.fixture
def my_report(entity, entity_user):
    return ready(services.report_request(actor=actor_for_user(entity_user), code=entity.code))


@pytest.fixture
def staff_report(entity, clerk):
    return ready(services.report_request(actor=actor_for_user(clerk), code=entity.code))


@pytest.fixture
def api_report(entity, department):
    from credit_portal.accounts.actors import actor_for_token
    from credit_portal.accounts.services import token_issue

    token, _ = token_issue(actor=system_actor("tests"), department=department, scopes=[REQUEST], name="r")
    return ready(services.report_request(actor=actor_for_token(token), code=entity.code))


def assert_unchanged(before, response, expected):
    assert response.status_code == expected, response.content[:300]
    assert counts() == before


# --- self-service ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),  # to the login page
        ("entity_user", 302),
        ("other_entity_user", 400),  # not one of their entities: the form refuses it
        ("clerk", 403),
        ("token", 302),  # a token does not open the web doors
    ],
)
def test_my_report_request(as_actor, entity, actor, expected):
    client = as_actor(actor)
    before = counts()
    response = client.post(
        "/my/reports/", {"code": entity.code, "sections": ["registration", "punishments"], "language": "en"}
    )
    if actor != "entity_user":
        assert_unchanged(before, response, expected)
        if actor in ("anonymous", "token"):
            assert response["Location"].startswith("/my/login/")
        return
    assert response.status_code == 302 and response["Location"] == "/my/reports/"
    report = CreditReport.objects.get()
    assert (report.channel, report.sections, report.language) == ("my", ["registration", "punishments"], "en")
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1
    assert AuditEvent.objects.filter(action="disclosure.report.requested", target_id=str(report.pk)).exists()


def test_my_report_request_form_errors_write_nothing(client_for, entity, entity_user):
    client = client_for(entity_user)
    before = counts()
    response = client.post(
        "/my/reports/",
        {"code": entity.code, "sections": ["registration"], "language": "zh-hans", "period_to": "2999-01-01"},
    )
    assert_unchanged(before, response, 400)
    assert "The period cannot end in the future." in response.content.decode()


@pytest.mark.parametrize(
    ("actor", "expected", "listed"),
    [
        ("anonymous", 302, False),
        ("entity_user", 200, True),
        ("other_entity_user", 200, False),
        ("clerk", 403, False),
    ],
)
def test_my_report_list(as_actor, my_report, actor, expected, listed):
    response = as_actor(actor).get("/my/reports/")
    assert response.status_code == expected
    assert (my_report.number in response.content.decode()) is listed


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("entity_user", 200),
        ("other_entity_user", 404),
        ("clerk", 403),
        ("credit_officer", 403),
    ],
)
@pytest.mark.parametrize("fmt", ["pdf", "json"])
def test_my_report_download(as_actor, my_report, actor, expected, fmt):
    client = as_actor(actor)
    before = counts()
    response = client.get(f"/my/reports/{my_report.number}/{fmt}/")
    if expected != 200:
        assert_unchanged(before, response, expected)
        return
    assert response.status_code == 200
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1
    event = AuditEvent.objects.filter(action="disclosure.report.downloaded").get()
    assert event.data["format"] == fmt
    if fmt == "pdf":
        assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    else:
        import hashlib

        assert hashlib.sha256(response.content).hexdigest() == my_report.sha256


@pytest.mark.parametrize(
    ("actor", "expected"), [("entity_user", 200), ("other_entity_user", 404), ("clerk", 403)]
)
def test_my_report_status(as_actor, entity, entity_user, actor, expected):
    report = services.report_request(actor=actor_for_user(entity_user), code=entity.code)
    OutboxTask.objects.update(dispatched_at=timezone.now())  # its render was handed to the broker
    response = as_actor(actor).get(f"/my/reports/{report.number}/status/")
    assert response.status_code == expected
    if expected == 200:
        assert response.json() == {
            "number": report.number, "status": "queued", "status_label": "Queued", "in_preparation": True,
        }  # fmt: skip


def test_a_staff_report_is_not_downloadable_through_the_entity_door(client_for, staff_report, entity_user):
    assert client_for(entity_user).get(f"/my/reports/{staff_report.number}/pdf/").status_code == 404


# --- staff -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected", "created"),
    [
        ("anonymous", 302, False),
        ("entity_user", 403, False),
        ("closed_staff", 403, False),
        ("clerk", 302, True),
        ("other_department_clerk", 302, True),  # any entity, by code
        ("credit_officer", 302, True),
    ],
)
def test_staff_report_request(as_actor, entity, actor, expected, created):
    client = as_actor(actor)
    before = counts()
    response = client.post("/staff/reports/", {"code": entity.code.lower(), "sections": ["registration"], "language": "zh-hans"})  # fmt: skip
    if not created:
        assert_unchanged(before, response, expected)
        return
    assert response.status_code == 302 and response["Location"] == "/staff/reports/"
    report = CreditReport.objects.get()
    assert report.channel == "staff" and report.requested_by_department is not None
    assert counts()["CreditReport"] == before["CreditReport"] + 1


def test_staff_report_request_for_an_unknown_code_says_so(client_for, clerk):
    before = counts()
    response = client_for(clerk).post(
        "/staff/reports/", {"code": f.uscc(), "sections": ["registration"], "language": "en"}
    )
    assert_unchanged(before, response, 400)
    assert "No entity is registered under this unified social credit code." in response.content.decode()


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("entity_user", 403),
        ("closed_staff", 403),
        ("clerk", 200),
        ("other_department_clerk", 404),  # another department's report
        ("credit_officer", 200),
    ],
)
def test_staff_report_download(as_actor, staff_report, actor, expected):
    client = as_actor(actor)
    before = counts()
    response = client.get(f"/staff/reports/{staff_report.number}/pdf/")
    if expected != 200:
        assert_unchanged(before, response, expected)
        return
    assert response.content.startswith(b"%PDF-")
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1


@pytest.mark.parametrize(
    ("actor", "expected", "listed"),
    [
        ("clerk", 200, True),
        ("other_department_clerk", 200, False),
        ("credit_officer", 200, True),
        ("entity_user", 403, False),
    ],
)
def test_staff_report_list(as_actor, staff_report, actor, expected, listed):
    response = as_actor(actor).get("/staff/reports/")
    assert response.status_code == expected
    assert (staff_report.number in response.content.decode()) is listed


# --- the agency API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 401),
        ("token_without_scope", 403),
        ("entity_user", 403),
        ("token", 202),
        ("other_department_token", 202),
    ],
)
def test_api_report_request(as_actor, entity, actor, expected):
    client = as_actor(actor)
    before = counts()
    response = client.post(
        "/api/v1/reports/",
        {"code": entity.code, "sections": ["punishments", "lists"], "language": "en"},
        content_type="application/json",
    )
    if expected != 202:
        assert_unchanged(before, response, expected)
        return
    assert response.status_code == 202
    body = response.json()
    report = CreditReport.objects.get(number=body["number"])
    assert (body["status"], body["entity"]["code"], body["pdf_url"]) == ("queued", entity.code, None)
    assert response["Location"] == f"/api/v1/reports/{report.number}/"
    assert (report.channel, report.requested_by, report.sections) == ("api", None, ["punishments", "lists"])
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "91440300MA5FXXXX0X"}, "code"),
        ({"code": "ENTITY", "period_from": "2019-01-01"}, "period_from"),
        ({"code": "ENTITY", "period_from": "2026-05-01", "period_to": "2026-04-01"}, "period_from"),
        ({"code": "ENTITY", "period_to": "2999-01-01"}, "period_to"),
        ({"code": "ENTITY", "sections": ["registration", "<script>"]}, "sections"),
        ({"code": "ENTITY", "language": "fr"}, "language"),
        ({"code": "ENTITY\x00"}, "code"),
        ({"code": "ENTITY", "period_from": "yesterday"}, "period_from"),
    ],
)
def test_api_bad_requests_get_400_with_the_field_and_write_nothing(
    token_for, department, entity, body, field
):
    client = token_for(department, [REQUEST])
    body = {k: (v.replace("ENTITY", entity.code) if isinstance(v, str) else v) for k, v in body.items()}
    before = counts()
    response = client.post("/api/v1/reports/", body, content_type="application/json")
    assert_unchanged(before, response, 400)
    assert field in response.json()["errors"], response.json()
    assert "<script>" not in response.content.decode() or field == "sections"


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 401),
        ("token_without_scope", 403),
        ("other_department_token", 404),
        ("entity_user", 403),
        ("token", 200),
        ("clerk", 200),  # staff of the same department, through a session
    ],
)
def test_api_report_detail(as_actor, api_report, actor, expected):
    client = as_actor(actor)
    before = counts()
    response = client.get(f"/api/v1/reports/{api_report.number}/")
    if expected != 200:
        assert_unchanged(before, response, expected)
        return
    body = response.json()
    assert (body["number"], body["status"], body["sha256"]) == (api_report.number, "ready", api_report.sha256)
    assert body["document"] == api_report.document
    assert body["pdf_url"] == f"https://credit.example.gov.cn/api/v1/reports/{api_report.number}/?format=pdf"
    assert body["verify_url"] == f"https://credit.example.gov.cn/verify/{api_report.number}"
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1


@pytest.mark.parametrize("how", ["query", "accept"])
def test_api_returns_the_pdf(token_for, department, api_report, how):
    client = token_for(department, [REQUEST])
    if how == "query":
        response = client.get(f"/api/v1/reports/{api_report.number}/", {"format": "pdf"})
    else:
        response = client.get(f"/api/v1/reports/{api_report.number}/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert AuditEvent.objects.filter(action="disclosure.report.downloaded", data__format="pdf").count() == 1


def test_api_pdf_of_another_department_or_not_ready(
    token_for, department, other_department, entity, api_report
):
    other = token_for(other_department, [REQUEST])
    response = other.get(f"/api/v1/reports/{api_report.number}/", {"format": "pdf"})
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    own = token_for(department, [REQUEST])
    created = own.post("/api/v1/reports/", {"code": entity.code}, content_type="application/json").json()
    pending = own.get(f"/api/v1/reports/{created['number']}/", {"format": "pdf"})
    assert pending.status_code == 409 and pending.json()["status"] == "queued"
    polled = own.get(f"/api/v1/reports/{created['number']}/")
    assert polled.status_code == 200 and polled.json()["document"] is None
    assert own.get("/api/v1/reports/CR123/").status_code == 404


# --- verification is public ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["anonymous", "entity_user", "other_entity_user", "clerk", "token"])
def test_anyone_may_verify(as_actor, staff_report, actor):
    client = as_actor(actor)
    before = counts()
    response = client.get(f"/verify/{staff_report.number}")
    assert_unchanged(before, response, 200)
    assert staff_report.sha256 in response.content.decode()
    assert client.get("/verify/").status_code == 200


# --- credit service agencies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("entity_user", 403),
        ("clerk", 403),
        ("other_department_clerk", 403),
        ("credit_officer", 302),
    ],
)
def test_agency_register(as_actor, department, actor, expected):
    candidate = f.entity(department, name_zh="广州信用评级有限公司")
    client = as_actor(actor)
    before = counts()
    response = client.post("/staff/reports/agencies/", {"code": candidate.code, "licence": "备案123"})
    if actor != "credit_officer":
        assert_unchanged(before, response, expected)
        return
    assert response.status_code == 302
    assert CreditServiceAgency.objects.get(entity=candidate).licence == "备案123"
    again = client.post("/staff/reports/agencies/", {"code": candidate.code, "licence": "备案123"})
    assert again.status_code == 400 and "already registered" in again.content.decode()


def test_a_suspended_agency_cannot_upload_and_its_reports_are_hidden(
    client_for, credit_officer, agency, agency_user, entity
):
    services.third_party_report_upload(
        actor=actor_for_user(agency_user), agency_id=agency.pk, code=entity.code, title="信用评估报告",
        summary="", file=SimpleUploadedFile("r.pdf", PDF), issued_on=TODAY,
    )  # fmt: skip
    assert (
        client_for(credit_officer)
        .post(f"/staff/reports/agencies/{agency.pk}/active/", {"active": "0"})
        .status_code
        == 302
    )
    assert (
        "信用评估报告" not in Client().get(f"/entities/{entity.code}/third-party-reports/").content.decode()
    )
    before = counts()
    response = client_for(agency_user).post(
        "/my/third-party-reports/",
        {"code": entity.code, "title": "t", "file": SimpleUploadedFile("r.pdf", PDF), "issued_on": TODAY},
    )
    assert_unchanged(before, response, 403)


# --- third-party reports -------------------------------------------------------------------------------


def upload_data(entity, agency, **kw):
    return {
        "agency": agency.pk,
        "code": entity.code,
        "title": kw.pop("title", "企业信用评估报告（2026年度）"),
        "summary": "评估等级：A。<b>不是标签</b>",
        "file": kw.pop("file", SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")),
        "issued_on": kw.pop("issued_on", TODAY - timedelta(days=3)).isoformat(),
        "valid_until": (TODAY + timedelta(days=365)).isoformat(),
        **kw,
    }


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 302), ("entity_user", 403), ("clerk", 403), ("agency_user", 302)],
)
def test_third_party_upload(as_actor, entity, agency, actor, expected):
    client = as_actor(actor)
    before = counts()
    response = client.post("/my/third-party-reports/", upload_data(entity, agency))
    if actor != "agency_user":
        assert_unchanged(before, response, expected)
        return
    assert response.status_code == 302
    report = ThirdPartyReport.objects.get()
    assert (report.agency, report.entity, report.withdrawn_at) == (agency, entity, None)
    assert AuditEvent.objects.filter(action="disclosure.third_party_report.registered").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"file": SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>")}, "The file is not a PDF."),
        ({"title": "报告\x00"}, "Null characters are not allowed."),
        ({"issued_on": TODAY + timedelta(days=1)}, "The issue date cannot be in the future."),
        ({"code": "91440300MA5FXXXX0X"}, "unified social credit code"),
    ],
)
def test_third_party_upload_bad_input(client_for, entity, agency, agency_user, change, field):
    before = counts()
    response = client_for(agency_user).post("/my/third-party-reports/", upload_data(entity, agency, **change))
    assert_unchanged(before, response, 400)
    assert field in response.content.decode()


def test_third_party_upload_over_20_mb_is_refused(agency, agency_user, entity):
    from django.core.exceptions import ValidationError

    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (20 * 1024 * 1024))
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.third_party_report_upload(
            actor=actor_for_user(agency_user), agency_id=agency.pk, code=entity.code, title="大文件", summary="",
            file=big, issued_on=TODAY,
        )  # fmt: skip
    assert exc.value.message_dict == {"file": ["The file is larger than 20 MB."]}
    assert counts() == before


def test_third_party_reports_are_shown_marked_and_the_agency_withdraws_its_own(
    client_for, entity, agency, agency_user, other_entity_user, clerk, entity_user
):
    client_for(agency_user).post("/my/third-party-reports/", upload_data(entity, agency))
    report = ThirdPartyReport.objects.get()
    public = Client().get(f"/entities/{entity.code}/third-party-reports/").content.decode()
    assert "企业信用评估报告（2026年度）" in public
    assert "Third-party report, not issued by the portal" in public
    assert "深圳市诚信征信服务有限公司" in public
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in public
    assert Client().get(f"/third-party-reports/{report.pk}/file/").content == PDF
    assert "企业信用评估报告" in client_for(entity_user).get("/my/reports/").content.decode()
    assert (
        "企业信用评估报告"
        in client_for(clerk).get(f"/staff/reports/entities/{entity.code}/").content.decode()
    )

    before = counts()
    response = client_for(other_entity_user).post(f"/my/third-party-reports/{report.pk}/withdraw/")
    assert_unchanged(before, response, 404)
    assert client_for(clerk).post(f"/my/third-party-reports/{report.pk}/withdraw/").status_code == 403

    assert client_for(agency_user).post(f"/my/third-party-reports/{report.pk}/withdraw/").status_code == 302
    report.refresh_from_db()
    assert report.withdrawn_at is not None
    assert (
        "企业信用评估报告"
        not in Client().get(f"/entities/{entity.code}/third-party-reports/").content.decode()
    )
    assert Client().get(f"/third-party-reports/{report.pk}/file/").status_code == 404
    staff_page = client_for(clerk).get(f"/staff/reports/entities/{entity.code}/").content.decode()
    assert "企业信用评估报告" in staff_page and "withdrawn by the agency" in staff_page
    assert client_for(clerk).get(f"/third-party-reports/{report.pk}/file/").status_code == 200


@pytest.mark.parametrize(
    ("actor", "expected"), [("anonymous", 302), ("entity_user", 403), ("clerk", 200), ("closed_staff", 403)]
)
def test_staff_entity_reports_page(as_actor, entity, actor, expected):
    assert as_actor(actor).get(f"/staff/reports/entities/{entity.code}/").status_code == expected


def test_pages_render_in_both_languages(
    client_for, entity_user, clerk, credit_officer, agency_user, my_report, entity
):
    for language in ("en", "zh-hans"):
        for user, urls in (
            (entity_user, ["/my/reports/", "/my/third-party-reports/"]),
            (agency_user, ["/my/third-party-reports/"]),
            (clerk, ["/staff/reports/", f"/staff/reports/entities/{entity.code}/"]),
            (credit_officer, ["/staff/reports/agencies/"]),
            (
                None,
                ["/verify/", f"/verify/{my_report.number}", f"/entities/{entity.code}/third-party-reports/"],
            ),
        ):
            client = client_for(user)
            client.cookies["django_language"] = language
            for url in urls:
                response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
                assert response.status_code == 200, (url, language)
