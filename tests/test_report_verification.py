"""The public verification page of a credit report: the report's key content as issued (from the
stored document, not today's data, and only what anyone holding the number may see), the check of
an uploaded PDF file against the SHA-256 of the PDF issued, the PDF's SHA-256 in the API, and the
backfill of that SHA-256 for reports issued before it was kept.

One report is rendered for the whole module, through the agency API door and the render task's
service; each test runs in a savepoint of the module's transaction, so what a test changes is gone
for the next."""

from __future__ import annotations

import hashlib
import html
import importlib
import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.services import token_issue
from credit_portal.audit.models import AuditEvent
from disclosure.models import CreditReport
from disclosure.reports import numbers, services, verification
from records import services as record_services
from records.fields import RecordInput
from records.models import CatalogueItem, CreditRecord, Person
from records.services import objections, publication
from tests import factories as f
from tests.test_records import punishment

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
SYSTEM = system_actor("tests")
REQUEST = "reports:request"
LEGAL_REP_ID = f.resident_id(seq="271")


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def permit(entity, number: str, decided: date) -> RecordInput:
    return RecordInput(
        item="admin_permit",
        code=entity.code,
        decision_number=number,
        decision_date=decided,
        content="食品经营许可",
        valid_from=decided,
        valid_to=decided + timedelta(days=5 * 365),
        fields={
            "party_category": "legal_person",
            "decision_doc_name": "食品经营许可决定书",
            "permit_category": "普通",
            "certificate_name": "食品经营许可证",
            "certificate_number": "JY14403050001",
        },
    )


@pytest.fixture(scope="module")
def issued(django_db_setup, django_db_blocker, tmp_path_factory):
    """One report, rendered once: an entity with a published permit, a published punishment, one
    under objection, one restored and one still awaiting publication when the report was issued.
    Requested by an agency through ``POST /api/v1/reports/`` and rendered by the task's service."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    media.enable()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            department = f.department("SZ-VERIFY")
            reviewer = actor_for_user(f.staff(department, StaffRole.REVIEWER, "verify_reviewer"))
            entity = f.entity(
                department,
                name_zh="深圳市验证科技有限公司",
                name_en="Shenzhen Verification Technology Co., Ltd.",
                legal_representative=record_services.PersonInput(
                    name="马某某", id_type=Person.IdType.RESIDENT_ID, id_number=LEGAL_REP_ID
                ),
            )
            user = f.entity_user("verify_entity_user")
            claim = record_services.claim_submit(actor=actor_for_user(user), code=entity.code, role="agent")
            record_services.claim_decide(actor=SYSTEM, claim_id=claim.pk, approve=True)

            def add(data):
                return record_services.record_create(actor=reviewer, data=data, provenance="api")

            r = {
                "permit": add(permit(entity, "深市监许〔2025〕8号", days_ago(400))),
                "punishment": add(punishment(entity, "深市监罚〔2026〕1号", decided=days_ago(60))),
                "objected": add(punishment(entity, "深市监罚〔2026〕3号", decided=days_ago(20))),
                "restored": add(punishment(entity, "深市监罚〔2025〕7号", decided=days_ago(500))),
            }
            publication.publish_due(actor=SYSTEM, today=TODAY)
            r["pending"] = add(punishment(entity, "深市监罚〔2026〕6号", decided=days_ago(2)))
            objections.objection_submit(
                actor=actor_for_user(user), record_id=r["objected"].pk, grounds="处罚金额有误"
            )
            # The restoration workflow is not built yet: the state it leaves, directly.
            CreditRecord.objects.filter(pk=r["restored"].pk).update(
                status=CreditRecord.Status.RESTORED, disclosure=CreditRecord.Disclosure.WITHDRAWN
            )
            _, secret = token_issue(actor=SYSTEM, department=department, scopes=[REQUEST], name="verify")
            api = Client(headers={"Authorization": f"Bearer {secret}"})
            response = api.post(
                "/api/v1/reports/",
                {"code": entity.code, "language": "zh"},
                content_type="application/json",
            )
            assert response.status_code == 202, response.content
            report = CreditReport.objects.get(number=response.json()["number"])
            report = services.report_render(report_id=report.pk)
            assert report.status == CreditReport.Status.READY, report.failure
            with report.pdf.open("rb") as handle:
                pdf = handle.read()
            yield SimpleNamespace(
                report=report, pdf=pdf, entity=entity, records=r, api=api, user=user, reviewer=reviewer
            )
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            media.disable()


@pytest.fixture
def report(issued):
    return CreditReport.objects.get(pk=issued.report.pk)


def page(number: str, language: str = "en", client: Client | None = None, **post):
    client = client or Client()
    client.cookies["django_language"] = language
    if post:
        return client.post(f"/verify/{number}", post, HTTP_ACCEPT_LANGUAGE=language)
    return client.get(f"/verify/{number}", HTTP_ACCEPT_LANGUAGE=language)


def rows(body: str) -> list[list[str]]:
    """The table rows of a page, each as the text of its cells."""

    def text(cell: str) -> str:
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())

    return [
        [text(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def upload(content: bytes, name: str = "report.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def counts() -> dict[str, int]:
    return {"reports": CreditReport.objects.count(), "audit": AuditEvent.objects.count()}


def media_files(settings) -> list[str]:
    return sorted(str(p) for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


# --- the content as issued --------------------------------------------------------------------------


def test_the_page_shows_the_report_as_issued_with_exact_decision_numbers_dates_and_standing(issued):
    report, entity, doc = issued.report, issued.entity, issued.report.document
    response = page(report.number)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Authentic and current." in body
    for text in (
        entity.name_zh,
        entity.name_en,
        entity.code,
        report.number,
        timezone.localtime(report.issued_at).strftime("%Y-%m-%d %H:%M") + " (UTC+08)",
        report.valid_until.isoformat(),
        f"{doc['report']['period']['from']} – {TODAY.isoformat()}",
        "Basic registration information · Administrative permits · Administrative punishments, compulsory",
        "Simplified Chinese",  # the language of the PDF
        report.sha256,
        report.pdf_sha256,
    ):
        assert text in body, text
    permit_name = CatalogueItem.objects.get(code="admin_permit").name_en
    assert rows(body) == [
        ["#", "Decided on", "Decision number", "Kind", "Standing as issued"],
        ["1", days_ago(400).isoformat(), "深市监许〔2025〕8号", permit_name, "Effective"],
        ["#", "Decided on", "Decision number", "Kind", "Standing as issued"],
        ["1", "Not shown here: not in public view now."],  # awaiting publication at issue
        ["2", days_ago(20).isoformat(), "深市监罚〔2026〕3号", "Punishment", "Under objection"],
        ["3", days_ago(60).isoformat(), "深市监罚〔2026〕1号", "Punishment", "Effective"],
        ["4", "Not shown here: not in public view now."],  # restored
    ]
    assert "The report lists 4 records here. 2 of them are not shown here" in body
    assert "The report lists 1 record here." in body
    assert "changed since issue" not in body
    assert body.count("None in the period.") == 3  # lists, pledges, voluntary
    # Registration as issued, without the persons.
    assert "<dt>Entity type</dt><dd>Enterprise</dd>" in body
    assert "<dt>Administrative division</dt><dd>Nanshan District (440305)</dd>" in body


def test_nothing_beyond_what_the_public_may_see_appears(issued):
    body = page(issued.report.number).content.decode()
    masked = Person.objects.get(name="马某某").id_number_masked
    for secret in (
        LEGAL_REP_ID,
        masked,
        masked[:4] + "*",
        "马某某",  # the persons behind the entity
        "罚款5.5万元",  # a record's content
        "产品质量法",  # its legal basis
        "销售不合格产品",  # its facts
        "深市监罚〔2026〕6号",  # awaiting publication
        "深市监罚〔2025〕7号",  # restored
        issued.report.requester_label,
        "SZ-VERIFY",
        "处罚金额有误",  # the objection's grounds
    ):
        assert secret not in body, secret


def test_the_page_shows_the_report_as_issued_not_as_it_stands_today(issued, report):
    """Renamed entity, a record objected to after issue: the page keeps the issued name and
    standing, marks the record and says the report is superseded."""
    record_services.entity_update(
        actor=issued.reviewer,
        code=issued.entity.code,
        data=record_services.EntityInput(
            code=issued.entity.code, name_zh="深圳市改名科技有限公司", name_en="", division="440305"
        ),
    )
    objections.objection_submit(
        actor=actor_for_user(issued.user), record_id=issued.records["punishment"].pk, grounds="不服"
    )
    body = page(report.number).content.decode()
    assert "it has been superseded" in body
    assert "深圳市验证科技有限公司" in body and "深圳市改名科技有限公司" not in body
    lines = rows(body)
    assert lines[5] == [
        "3",
        days_ago(60).isoformat(),
        "深市监罚〔2026〕1号",
        "Punishment",
        "Effective changed since issue",
    ]
    assert lines[4][-1] == "Under objection"  # unchanged since issue: no mark


def test_a_line_hidden_at_issue_is_shown_once_its_record_is_published_and_one_revoked_since_is_hidden(
    issued, report
):
    publication.publish_due(actor=SYSTEM, today=TODAY)
    record_services.record_revoke(actor=issued.reviewer, record_id=issued.records["permit"].pk, reason="撤销")
    lines = rows(page(report.number).content.decode())
    assert lines[1] == ["1", "Not shown here: not in public view now."]
    # Published after issue: shown, with its standing as issued; publication alone changes nothing.
    assert lines[3] == ["1", days_ago(2).isoformat(), "深市监罚〔2026〕6号", "Punishment", "Effective"]


def test_both_languages_render(issued):
    report = issued.report
    zh = page(report.number, "zh-hans")
    assert zh.status_code == 200
    body = zh.content.decode()
    assert 'lang="zh-Hans"' in body
    for text in (
        "统一社会信用代码",
        "报告编号",
        "行政许可",
        "处罚",
        "异议处理中",
        "已生效",
        "深市监罚〔2026〕3号",
    ):
        assert text in body, text
    assert "Under objection" not in body
    en = page(report.number, "en").content.decode()
    assert "Unified social credit code" in en and "统一社会信用代码" not in en


# --- the PDF file ------------------------------------------------------------------------------------


def test_the_pdf_sha256_is_kept_at_render_audited_and_in_the_api(issued):
    report = issued.report
    assert report.pdf_sha256 == hashlib.sha256(issued.pdf).hexdigest()
    assert issued.pdf.startswith(b"%PDF-")
    event = AuditEvent.objects.get(action="disclosure.report.issued", target_id=str(report.pk))
    assert event.after["pdf_sha256"] == report.pdf_sha256
    body = issued.api.get(f"/api/v1/reports/{report.number}/").json()
    assert (body["sha256"], body["pdf_sha256"]) == (report.sha256, report.pdf_sha256)
    pdf = issued.api.get(f"/api/v1/reports/{report.number}/?format=pdf")
    assert hashlib.sha256(pdf.content).hexdigest() == body["pdf_sha256"]


def test_the_genuine_pdf_is_confirmed_and_nothing_is_kept(issued, settings):
    before, files = counts(), media_files(settings)
    response = page(issued.report.number, pdf=upload(issued.pdf), check="pdf")
    assert response.status_code == 200
    body = response.content.decode()
    assert "This file is the report issued under this number." in body
    assert "NOT the report issued" not in body
    assert (counts(), media_files(settings)) == (before, files)


def test_a_pdf_with_one_byte_changed_is_not_the_report(issued):
    doctored = bytearray(issued.pdf)
    doctored[len(doctored) // 2] ^= 0x01
    response = page(issued.report.number, pdf=upload(bytes(doctored)), check="pdf")
    assert response.status_code == 200
    body = response.content.decode()
    assert "This file is NOT the report issued under this number." in body
    assert "This file is the report issued under this number." not in body


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"GIF89a not a pdf at all", "The file is not a PDF."),
        (b"%PDF", "The file is not a PDF."),
        (b"", "The submitted file is empty."),
        (b"%PDF-1.7\n" + b"0" * (verification.PDF_CHECK_MAX_BYTES), "The file is larger than 5 MB"),
    ],
    ids=["not-pdf", "short", "empty", "oversized"],
)
def test_a_file_that_is_not_an_issued_pdf_gets_a_clear_400(issued, settings, content, error):
    before, files = counts(), media_files(settings)
    response = page(issued.report.number, pdf=upload(content), check="pdf")
    assert response.status_code == 400
    body = response.content.decode()
    assert error in body
    assert "This file is NOT" not in body and "This file is the report" not in body
    assert (counts(), media_files(settings)) == (before, files)


def test_no_file_at_all_gets_a_clear_400(issued):
    response = page(issued.report.number, check="pdf")
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_the_upload_form_needs_its_csrf_token_and_works_without_javascript(issued):
    client = Client(enforce_csrf_checks=True)
    number = issued.report.number
    refused = page(number, client=client, pdf=upload(issued.pdf), check="pdf")
    assert refused.status_code == 403
    form = page(number, client=client).content.decode()
    assert 'enctype="multipart/form-data"' in form and 'accept="application/pdf,.pdf"' in form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    ok = page(number, client=client, pdf=upload(issued.pdf), check="pdf", csrfmiddlewaretoken=token)
    assert ok.status_code == 200
    assert "This file is the report issued under this number." in ok.content.decode()


def test_the_json_document_check_still_works(issued):
    from disclosure.reports import document

    genuine = document.canonical_bytes(issued.report.document).decode()
    response = page(issued.report.number, document=genuine, check="json")
    assert response.status_code == 200
    assert "its fingerprint matches" in response.content.decode()


def test_the_upload_is_throttled_as_the_page_is(issued):
    client = Client()
    for _ in range(60):
        assert page(issued.report.number, client=client).status_code == 200
    response = page(issued.report.number, client=client, pdf=upload(issued.pdf), check="pdf")
    assert response.status_code == 429


def test_an_unknown_number_reveals_nothing_whatever_is_posted(issued):
    entity = issued.entity
    before = counts()
    for number in (numbers.new_number(TODAY), "CR123"):
        for response in (
            page(number),
            page(number, pdf=upload(issued.pdf), check="pdf"),
            page(number, "zh-hans", pdf=upload(b"not a pdf"), check="pdf"),
        ):
            assert response.status_code == 404, number
            body = response.content.decode()
            for secret in (entity.name_zh, entity.code, "深市监", issued.report.pdf_sha256, "issued under"):
                assert secret not in body
            assert "No such report" in body or "报告不存在" in body
    assert counts() == before


# --- reports issued before the PDF's SHA-256 was kept -----------------------------------------------


def backfill():
    migration = importlib.import_module("disclosure.migrations.0008_credit_report_pdf_sha256")
    from django.apps import apps

    migration.fill_pdf_sha256(apps, SimpleNamespace(connection=connection))


def test_the_migration_computes_the_pdf_sha256_from_the_stored_file(issued, report):
    CreditReport.objects.filter(pk=report.pk).update(pdf_sha256="")
    backfill()
    report.refresh_from_db()
    assert report.pdf_sha256 == hashlib.sha256(issued.pdf).hexdigest()


def test_without_the_stored_file_the_check_is_unavailable_and_says_so(issued, report):
    CreditReport.objects.filter(pk=report.pk).update(pdf_sha256="", pdf="reports/gone/missing.pdf")
    backfill()
    report.refresh_from_db()
    assert report.pdf_sha256 == ""
    body = page(report.number).content.decode()
    assert "The check of the PDF file is not available for this report" in body
    assert 'enctype="multipart/form-data"' not in body
    posted = page(report.number, pdf=upload(issued.pdf), check="pdf")
    assert posted.status_code == 200
    text = posted.content.decode()
    assert "is the report issued" not in text and "NOT the report issued" not in text
    assert "Check the JSON document" in text and report.sha256 in text  # the JSON check stays
