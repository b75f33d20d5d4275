"""Credit reports: the document's content (sections, restored labelled, revoked absent, masking),
its schema and fingerprint, the PDF (Chinese name and hash in its text, markup printed as text),
verification (genuine, expired, superseded, forged), the render task, and bad requests."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import date, timedelta

import jsonschema
import pytest
import tinycss2
import zxingcpp
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from credit_portal.accounts.actors import PUBLIC, actor_for_user, system_actor
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import NotFound
from credit_portal.notices.models import Notice
from credit_portal.outbox.models import OutboxTask
from disclosure import tasks
from disclosure.models import CreditReport
from disclosure.reports import document, numbers, render, schema, selectors, services, verification
from records import services as record_services
from records.fields import RecordInput
from records.models import CreditRecord, Person
from records.services import complaints
from tests import factories as f
from tests.test_records import punishment

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
SYSTEM = system_actor("tests")


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


def generic(entity, item: str, number: str, decided: date, content: str = "", **kw) -> RecordInput:
    return RecordInput(
        item=item, code=entity.code, decision_number=number, decision_date=decided, content=content, **kw
    )


def permit(entity, number: str, decided: date, **kw) -> RecordInput:
    return RecordInput(
        item="admin_permit",
        code=entity.code,
        decision_number=number,
        decision_date=decided,
        content="食品经营许可",
        valid_from=decided,
        valid_to=kw.pop("valid_to", decided + timedelta(days=5 * 365)),
        fields={
            "party_category": "legal_person",
            "decision_doc_name": "食品经营许可决定书",
            "permit_category": "普通",
            "certificate_name": "食品经营许可证",
            "certificate_number": "JY14403050001",
        },
        **kw,
    )


def add(actor, data: RecordInput) -> CreditRecord:
    return record_services.record_create(actor=actor, data=data, provenance="api")


def add_by_workflow(actor, data: RecordInput) -> CreditRecord:
    """List designations and pledge performance are written by their own procedures, not the API."""
    return record_services.record_create(actor=actor, data=data, provenance="system")


@pytest.fixture
def full_record(reviewer_actor, reviewer, entity, legal_rep_id):
    """An entity with something in every section, including what must be labelled or left out."""
    r = {
        "permit": add(reviewer_actor, permit(entity, "深市监许〔2025〕8号", days_ago(400))),
        "old_permit": add(
            reviewer_actor, permit(entity, "深市监许〔2019〕1号", date(2019, 3, 1), valid_to=date(2021, 3, 1))
        ),
        "punishment": add(reviewer_actor, punishment(entity, "深市监罚〔2026〕1号", decided=days_ago(60))),
        "restored": add(
            reviewer_actor, punishment(entity, "深市监罚〔2025〕7号", decided=days_ago(500), severity="general")
        ),
        "revoked": add(reviewer_actor, punishment(entity, "深市监罚〔2026〕2号", decided=days_ago(30))),
        "objected": add(reviewer_actor, punishment(entity, "深市监罚〔2026〕3号", decided=days_ago(20))),
        "person": add(
            reviewer_actor,
            punishment(
                entity,
                "深市监罚〔2026〕4号",
                decided=days_ago(10),
                party_name="张三丰",
                fields={"party_category": "自然人", "legal_rep_name": "张三丰", "legal_rep_id_number": legal_rep_id},
            ),
        ),
        "too_old": add(reviewer_actor, punishment(entity, "深市监罚〔2022〕9号", decided=days_ago(4 * 365))),
        "listed": add_by_workflow(reviewer_actor, generic(entity, "abnormal_list", "深市监异〔2026〕5号", days_ago(90), "未按期公示年报")),
        "pledge": add_by_workflow(reviewer_actor, generic(entity, "pledge_performance", "承诺〔2026〕11号", days_ago(45), "已按期补交材料")),
        "voluntary": add(reviewer_actor, generic(entity, "voluntary", "自愿〔2026〕3号", days_ago(15), "ISO 9001 认证")),
        "contract": add(reviewer_actor, generic(entity, "contract_performance", "合同〔2026〕1号", days_ago(15))),
    }  # fmt: skip
    record_services.record_revoke(actor=reviewer_actor, record_id=r["revoked"].pk, reason="复议撤销")
    # The restoration workflow (restoration/) does not exist yet: the state it will leave, directly.
    CreditRecord.objects.filter(pk=r["restored"].pk).update(
        status=CreditRecord.Status.RESTORED, disclosure=CreditRecord.Disclosure.WITHDRAWN
    )
    CreditRecord.objects.filter(pk=r["objected"].pk).update(status=CreditRecord.Status.UNDER_OBJECTION)
    complaint, _ = complaints.complaint_submit(
        actor=PUBLIC,
        kind="complaint",
        entity_name=entity.name_zh,
        description="售卖过期食品，联系人李四",
        code=entity.code,
        submitter_name="李四",
        contact="13800138000",
    )
    complaints.complaint_answer(actor=reviewer_actor, complaint_id=complaint.pk, answer="已核查处理")
    complaints.complaint_submit(
        actor=PUBLIC, kind="tip_off", entity_name=entity.name_zh, description="未回复", code=entity.code
    )
    return r


def request_report(actor, entity, **kw) -> CreditReport:
    return services.report_request(actor=actor, code=entity.code, **kw)


def issue(actor, entity, *, now=None, **kw) -> CreditReport:
    report = request_report(actor, entity, **kw)
    return services.report_render(report_id=report.pk, now=now)


# --- content ---------------------------------------------------------------------------------------


class TestContent:
    def test_every_section_with_restored_labelled_revoked_absent_and_personal_data_masked(
        self, full_record, entity, entity_user, legal_rep_id
    ):
        report = issue(actor_for_user(entity_user), entity)
        doc = report.document
        assert report.status == CreditReport.Status.READY
        assert doc["schema_version"] == document.SCHEMA_VERSION
        assert doc["report"]["sections"] == list(document.SECTION_KEYS)
        assert doc["report"]["period"] == {
            "from": document.default_period(TODAY).since.isoformat(),
            "to": TODAY.isoformat(),
        }
        assert doc["entity"] == {"code": entity.code, "name_zh": entity.name_zh, "name_en": entity.name_en}

        registration = doc["sections"]["registration"]
        assert registration["entity_type"] == "enterprise"
        assert registration["persons"] == [
            {
                "role": "legal_representative",
                "name": "马某某",
                "id_type": Person.IdType.RESIDENT_ID,
                "id_number_masked": Person.objects.get().id_number_masked,
            }
        ]

        def numbers_in(section):
            return [r["decision_number"] for r in doc["sections"][section]["records"]]

        assert numbers_in("permits") == ["深市监许〔2025〕8号"]  # the 2019 permit expired before the period
        assert numbers_in("punishments") == [
            "深市监罚〔2026〕4号", "深市监罚〔2026〕3号", "深市监罚〔2026〕1号", "深市监罚〔2025〕7号",
        ]  # fmt: skip
        assert numbers_in("lists") == ["深市监异〔2026〕5号"]
        assert numbers_in("pledges") == ["承诺〔2026〕11号"]
        assert numbers_in("voluntary") == ["自愿〔2026〕3号"]

        by_number = {r["decision_number"]: r for r in doc["sections"]["punishments"]["records"]}
        restored = by_number["深市监罚〔2025〕7号"]
        assert restored["labels"] == ["restored"]
        assert restored["restoration"] == {"restored": True, "may_apply_from": None}
        assert by_number["深市监罚〔2026〕3号"]["labels"] == ["under_objection"]
        current = by_number["深市监罚〔2026〕1号"]
        assert current["labels"] == []
        assert current["disclosure"]["state"] == "pending"
        assert current["disclosure"]["ends_on"] == full_record["punishment"].disclosure_ends_on.isoformat()
        assert current["restoration"]["restored"] is False
        # General violation under NDRC Order 36: at least 3 months before restoration.
        assert (
            current["restoration"]["may_apply_from"]
            == record_services.credit.add_months(days_ago(60), 3).isoformat()
        )
        fine = {f["key"]: f for f in current["fields"]}["punishment_category"]
        assert (fine["value"], fine["value_zh"], fine["value_en"]) == ("fine", "罚款", "Fine")
        assert doc["sections"]["voluntary"]["records"][0]["labels"] == ["self_declared"]
        assert doc["sections"]["pledges"]["records"][0]["restoration"] is None

        person = by_number["深市监罚〔2026〕4号"]
        assert person["party_name"] == "张**"
        shown = {f["key"]: f["value"] for f in person["fields"]}
        assert shown["legal_rep_name"] == "张**"
        assert shown["legal_rep_id_number"].startswith("4401") and "*" in shown["legal_rep_id_number"]

        assert doc["sections"]["complaints"] == {
            "count": 1,
            "complaints": [
                {
                    "kind": "complaint",
                    "submitted_on": TODAY.isoformat(),
                    "answered_on": TODAY.isoformat(),
                    "department": {
                        "code": entity.registering_department.code,
                        "name_zh": entity.registering_department.name_zh,
                        "name_en": entity.registering_department.name_en,
                    },
                }
            ],
        }
        assert doc["sections"]["appraisal"] == {"status": "not_available", "level": None}

        text = document.canonical_bytes(doc).decode()
        for secret in (legal_rep_id, "张三丰", "李四", "13800138000", "售卖过期食品", "深市监罚〔2026〕2号", "合同〔2026〕1号", "深市监罚〔2022〕9号"):  # fmt: skip
            assert secret not in text

    def test_chosen_sections_and_period_only(self, full_record, entity, clerk):
        report = issue(
            actor_for_user(clerk),
            entity,
            sections=["punishments", "complaints"],
            period_from=days_ago(100),
            period_to=days_ago(15),
        )
        doc = report.document
        assert list(doc["sections"]) == ["punishments", "complaints"]
        assert [r["decision_number"] for r in doc["sections"]["punishments"]["records"]] == [
            "深市监罚〔2026〕3号",
            "深市监罚〔2026〕1号",
        ]
        assert doc["sections"]["complaints"]["count"] == 0

    def test_the_document_validates_against_its_published_schema(self, full_record, entity, clerk):
        report = issue(actor_for_user(clerk), entity, language="en")
        jsonschema.Draft202012Validator.check_schema(schema.schema())
        jsonschema.validate(report.document, schema.schema(), format_checker=jsonschema.FormatChecker())
        assert schema.errors(report.document) == []
        broken = json.loads(json.dumps(report.document))
        broken["sections"]["punishments"]["records"][0]["status"] = "revoked"
        assert schema.errors(broken) == [
            "sections/punishments/records/0/status: 'revoked' is not one of "
            "['effective', 'under_objection', 'corrected', 'expired', 'restored']"
        ]

    def test_the_compiled_check_agrees_with_the_reference_validator(self, full_record, entity, clerk):
        # Keywords that draft 7 (the compiled check) and draft 2020-12 (the reference) read alike;
        # a new one in the schema needs a look at both before it is added here.
        shared = {
            "$defs", "$id", "$ref", "$schema", "additionalProperties", "anyOf", "const", "description",
            "enum", "format", "items", "minItems", "minLength", "minimum", "pattern", "properties",
            "required", "title", "type", "uniqueItems",
        }  # fmt: skip
        used: set[str] = set()

        def walk(node, names_only=False):
            if isinstance(node, dict):
                for key, value in node.items():
                    if not names_only:
                        used.add(key)
                        assert key != "$ref" or set(node) <= {"$ref", "description"}, node
                    walk(value, names_only=not names_only and key in ("properties", "$defs"))
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(schema.schema())
        assert used <= shared, used - shared
        report = issue(actor_for_user(clerk), entity)
        assert schema.problems(report.document) == []
        mutations = {
            "a status not in the enum": lambda d: d["sections"]["punishments"]["records"][0].update(
                status="x"
            ),
            "a missing required key": lambda d: d["report"].pop("number"),
            "an unknown key": lambda d: d["entity"].update(extra=1),
            "a wrong type": lambda d: d["sections"]["complaints"].update(count="1"),
            "a bad date": lambda d: d["report"].update(valid_until="2026-13-40"),
            "an unknown section": lambda d: d["report"]["sections"].append("gossip"),
        }
        for name, mutate in mutations.items():
            broken = json.loads(json.dumps(report.document))
            mutate(broken)
            assert schema.errors(broken), name
            assert schema.problems(broken) == schema.errors(broken), name

    def test_fingerprint_is_the_sha256_of_the_canonical_serialisation(self, full_record, entity, clerk):
        import hashlib

        report = issue(actor_for_user(clerk), entity)
        canonical = document.canonical_bytes(report.document)
        assert report.sha256 == hashlib.sha256(canonical).hexdigest()
        assert b"\n" not in canonical and b'": ' not in canonical
        assert canonical == json.dumps(json.loads(canonical), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()  # fmt: skip
        assert "深圳市腾讯计算机系统有限公司".encode() in canonical  # UTF-8, not \\u escapes


# --- PDF ---------------------------------------------------------------------------------------------


def decoded_qr_codes(image: Image.Image) -> list[str]:
    """What a QR decoder reads in ``image``. The PDF embeds the code at one pixel per module
    (the page scales it up): enlarged without smoothing and set on a white margin, as printed."""
    image = image.convert("L")
    if image.width < 200:
        image = image.resize((image.width * 8, image.height * 8), Image.Resampling.NEAREST)
        framed = Image.new("L", (image.width + 64, image.height + 64), 255)
        framed.paste(image, (32, 32))
        image = framed
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def pdf_text(report: CreditReport) -> str:
    with report.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


class TestPdf:
    def test_pdf_text_has_the_chinese_name_the_hash_the_number_and_the_verification_address(
        self, full_record, entity, clerk
    ):
        report = issue(actor_for_user(clerk), entity)
        assert report.pdf.name.endswith(f"{report.number}.pdf")
        text = pdf_text(report)
        assert "深圳市腾讯计算机系统有限公司" in text
        assert report.sha256 in text
        assert report.number in text
        assert f"https://credit.example.gov.cn/verify/{report.number}" in text
        assert "深市监罚〔2026〕1号" in text
        # Labelled on their lines: restored, under objection, self-declared; the revoked not there.
        assert "已完成信用修复 · 已撤下公示" in text
        assert "异议处理中" in text and "自主申报" in text
        assert "深市监罚〔2026〕2号" not in text
        assert report.render_seconds > 0

    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_the_qr_code_in_the_pdf_decodes_to_the_full_verification_address(
        self, entity, clerk, settings, language
    ):
        """The image in the PDF, read by a QR decoder (zxing-cpp) as a phone reads it."""
        settings.SITE_URL = "https://xinyong.example.gov.cn:8443"
        requested = request_report(actor_for_user(clerk), entity, language=language)
        assert tasks.render_credit_report(requested.pk) == CreditReport.Status.READY
        report = CreditReport.objects.get(pk=requested.pk)
        with report.pdf.open("rb") as handle:
            (image,) = PdfReader(io.BytesIO(handle.read())).pages[0].images
        assert decoded_qr_codes(image.image) == [
            f"https://xinyong.example.gov.cn:8443/verify/{report.number}"
        ]
        assert f"https://xinyong.example.gov.cn:8443/verify/{report.number}" in pdf_text(report)

    def test_the_qr_code_on_the_printed_page_decodes_to_the_full_verification_address(
        self, entity, clerk, tmp_path
    ):
        """The first page rasterised as a printer would (poppler's pdftoppm, 150 dpi), then decoded."""
        pdftoppm = shutil.which("pdftoppm")
        if pdftoppm is None:
            pytest.skip("pdftoppm is not installed (Debian: apt-get install poppler-utils)")
        report = issue(actor_for_user(clerk), entity)
        pdf = tmp_path / "report.pdf"
        with report.pdf.open("rb") as handle:
            pdf.write_bytes(handle.read())
        subprocess.run(  # noqa: S603 - a fixed command line
            [
                pdftoppm,
                "-r",
                "150",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(tmp_path / "page"),
            ],
            check=True,
            timeout=60,
        )
        with Image.open(tmp_path / "page.png") as page:
            assert decoded_qr_codes(page) == [f"https://credit.example.gov.cn/verify/{report.number}"]

    def test_the_html_is_xml_with_a_cjk_font_stack_and_no_element_without_its_defaults(
        self, full_record, entity, clerk
    ):
        report = issue(actor_for_user(clerk), entity)
        assert "@page" in render_to_string("reports/credit_report.css")
        assert '"WenQuanYi Micro Hei", "Noto Sans CJK SC"' in render_to_string("reports/credit_report.css")
        # Every element the report uses has its defaults in the report's user-agent stylesheet
        # (a span is inline, the default of any element).
        rules = tinycss2.parse_stylesheet(render_to_string("reports/user_agent.css"), skip_comments=True)
        given = {
            token.value
            for rule in rules
            if rule.type == "qualified-rule"
            for token in rule.prelude
            if token.type == "ident"
        }
        for language in ("zh-hans", "en"):
            report.document["report"]["language"] = language
            html = render.render_html(
                report.document, verify_url="/verify/" + report.number, sha256=report.sha256
            )
            tree = render.xml_tree(html)
            assert tree is not None, "the report's HTML is read by the XML parser"
            assert tree.get("lang") == ("en" if language == "en" else "zh-Hans")
            used = {element.tag for element in tree.iter()}
            assert used - given == {"span"}
            assert report.sha256 in html and "data:image/png;base64," in html

    def test_html_that_is_not_xml_is_read_by_weasyprints_html_parser(self):
        # An entity XML does not know, an element left open.
        html = "<!doctype html><html><body><p>名称&nbsp;A<br>行</p></body></html>"
        assert render.xml_tree(html) is None
        text = PdfReader(io.BytesIO(render.html_to_pdf(html))).pages[0].extract_text()
        assert "名称" in text and "行" in text

    def test_markup_in_a_name_is_escaped_in_the_html_and_literal_text_in_the_pdf(self, department, clerk):
        evil = f.entity(department, name_zh="<script>alert(1)</script>恶意公司", name_en="<b>Evil</b> & Co")
        report = issue(actor_for_user(clerk), evil, language="en")
        html = render.render_html(report.document)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;恶意公司" in html
        assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in html
        text = pdf_text(report)
        assert "<script>alert(1)</script>恶意公司" in text
        assert "<b>Evil</b> & Co" in text

    def test_fifty_records_fit_on_two_pages_one_line_each_with_the_details_left_to_the_json(
        self, reviewer_actor, entity, clerk
    ):
        for i in range(25):
            add(reviewer_actor, permit(entity, f"深市监许〔2025〕{i + 1}号", days_ago(30 + 20 * i)))
            add(
                reviewer_actor,
                punishment(entity, f"深市监罚〔2025〕{i + 1}号", decided=days_ago(40 + 20 * i)),
            )
        report = issue(actor_for_user(clerk), entity)
        with report.pdf.open("rb") as handle:
            reader = PdfReader(io.BytesIO(handle.read()))
        assert len(reader.pages) == 2
        # Each page's head and foot: the title, the report's number, the fingerprint, the page.
        for page, text in enumerate((page.extract_text() for page in reader.pages), start=1):
            assert "公共信用信息报告" in text and report.number in text
            assert f"SHA-256 {report.sha256}" in text and f"{page} / 2" in text
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert "深市监许〔2025〕25号" in text and "深市监罚〔2025〕25号" in text
        # A line: its number, date and decision number, then what, who, its standing and disclosure.
        newest = report.document["sections"]["permits"]["records"][0]
        assert f"1. {newest['decision_date']} {newest['decision_number']}" in text
        assert newest["disclosure"]["state"] == "pending"  # (published by the daily sweep, not yet run)
        assert "· 已生效 · 待公示" in text
        # A punishment still disclosed says from when the entity may seek restoration.
        latest = report.document["sections"]["punishments"]["records"][0]
        assert "申请信用修复" in text and latest["restoration"]["may_apply_from"] in text
        # The facts and the legal basis are in the JSON document, not on the summary line.
        assert latest["legal_basis"] == "《中华人民共和国产品质量法》第四十九条"
        assert "产品质量法" not in text and "销售不合格产品" not in text
        assert "每条记录以一行摘要列示" in text


# --- verification -------------------------------------------------------------------------------------


class TestVerification:
    def test_a_genuine_report_is_authentic_valid_and_current(self, full_record, entity, clerk):
        report = issue(actor_for_user(clerk), entity)
        result = verification.report_verify(report.number)
        assert (result.report, result.expired, result.superseded, result.valid) == (
            report,
            False,
            False,
            True,
        )
        response = Client().get(f"/verify/{report.number}")
        assert response.status_code == 200
        body = response.content.decode()
        assert report.sha256 in body and "Authentic and current." in body
        # Typed by a person: lower case, with spaces; and the trailing-slash form.
        sloppy = report.number.lower()[:10] + " " + report.number.lower()[10:]
        assert verification.report_verify(sloppy).report == report
        assert Client().get(f"/verify/{report.number}/").status_code == 200

    def test_an_expired_report_says_so(self, entity, clerk):
        issued = timezone.now() - timedelta(days=40)
        report = issue(actor_for_user(clerk), entity, now=issued)
        assert report.valid_until == timezone.localdate(issued) + timedelta(days=30)
        assert verification.report_verify(report.number, today=report.valid_until).expired is False
        later = verification.report_verify(report.number, today=report.valid_until + timedelta(days=1))
        # (Superseded too: the entity was registered after this back-dated issue.)
        assert (later.expired, later.valid) == (True, False)
        response = Client().get(f"/verify/{report.number}")
        assert response.status_code == 200 and "it expired" in response.content.decode()

    def test_a_report_is_superseded_when_a_record_of_the_entity_changes_after_issue(
        self, full_record, entity, clerk, reviewer_actor
    ):
        report = issue(actor_for_user(clerk), entity)
        assert verification.report_verify(report.number).superseded is False
        record_services.record_revoke(actor=reviewer_actor, record_id=full_record["pledge"].pk, reason="错误")
        result = verification.report_verify(report.number)
        assert (result.superseded, result.expired, result.valid) == (True, False, False)
        assert "it has been superseded" in Client().get(f"/verify/{report.number}").content.decode()

    def test_a_report_is_superseded_when_the_registry_data_changes_after_issue(self, entity, clerk):
        report = issue(actor_for_user(clerk), entity)
        record_services.entity_update(
            actor=actor_for_user(clerk),
            code=entity.code,
            data=record_services.EntityInput(
                code=entity.code,
                name_zh=entity.name_zh,
                name_en=entity.name_en,
                division="440305",
                address="新地址",
            ),
        )
        assert verification.report_verify(report.number).superseded is True

    def test_a_report_is_superseded_when_a_person_behind_the_entity_changes(self, entity, clerk):
        report = issue(actor_for_user(clerk), entity)
        assert verification.report_verify(report.number).superseded is False
        record_services.entity_person_add(
            actor=actor_for_user(clerk),
            code=entity.code,
            person=record_services.PersonInput(
                name="李四", id_type=Person.IdType.RESIDENT_ID, id_number=f.resident_id(seq="456"),
                role="actual_controller",
            ),
        )  # fmt: skip
        assert verification.report_verify(report.number).superseded is True

    def test_forged_tampered_malformed_and_unissued_numbers_get_the_same_404(self, entity, clerk):
        report = issue(actor_for_user(clerk), entity)
        queued = request_report(actor_for_user(clerk), entity)
        forged = numbers.new_number(TODAY)
        last = numbers.ALPHABET[(numbers.ALPHABET.index(report.number[-2]) + 1) % len(numbers.ALPHABET)]
        tampered = report.number[:-2] + last + report.number[-1]
        assert not numbers.is_well_formed(tampered)
        for number in (forged, tampered, queued.number, "CR123", "x" * 300, "CR20261340ABCDEFGHJK0"):
            assert verification.report_verify(number) is None
            response = Client().get(f"/verify/{number}")
            assert response.status_code == 404, number
            body = response.content.decode()
            assert "No such report" in body
            assert entity.name_zh not in body and entity.code not in body
        assert Client().get("/verify/", {"number": tampered}).status_code == 404
        assert Client().get("/verify/", {"number": report.number.lower()}).status_code == 302

    def test_a_pasted_json_document_is_checked_against_the_fingerprint(self, entity, clerk, client_for):
        report = issue(actor_for_user(clerk), entity)
        genuine = json.dumps(report.document, indent=2, ensure_ascii=True)  # any formatting will do
        altered = json.loads(genuine)
        altered["entity"]["name_zh"] = "别的公司"
        client = Client()
        ok = client.post(f"/verify/{report.number}", {"document": genuine})
        assert "its fingerprint matches" in ok.content.decode()
        bad = client.post(f"/verify/{report.number}", {"document": json.dumps(altered)})
        assert "is NOT the report" in bad.content.decode()
        junk = client.post(f"/verify/{report.number}", {"document": "not json"})
        assert junk.status_code == 400


# --- the task ------------------------------------------------------------------------------------


class TestTask:
    def test_the_render_task_is_recorded_with_the_request_and_enqueued_on_commit_to_the_pdf_queue(
        self, entity, clerk, django_capture_on_commit_callbacks, settings, published
    ):
        from credit_portal.celery import app

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            report = request_report(actor_for_user(clerk), entity)
            assert published == []  # not before the commit
            assert selectors.waits_for_broker(report)
        assert len(callbacks) == 1
        assert published == [(tasks.render_credit_report.name, [report.pk])]
        assert not selectors.waits_for_broker(report)
        assert tasks.render_credit_report.name == services.RENDER_TASK
        assert settings.CELERY_TASK_ROUTES["disclosure.tasks.render_credit_report"] == {"queue": "pdf"}
        assert app.amqp.router.route({}, tasks.render_credit_report.name)["queue"].name == "pdf"

    def test_rendering_twice_renders_once_and_notifies_once(self, entity, entity_user):
        report = request_report(actor_for_user(entity_user), entity)
        assert tasks.render_credit_report(report.pk) == "ready"
        report.refresh_from_db()
        first = (report.pdf.name, report.sha256, report.issued_at)
        assert tasks.render_credit_report(report.pk) == "ready"
        report.refresh_from_db()
        assert (report.pdf.name, report.sha256, report.issued_at) == first
        assert AuditEvent.objects.filter(action="disclosure.report.issued").count() == 1
        notice = Notice.objects.get(recipient=entity_user, kind="reports.ready")
        assert notice.link == "/my/reports/" and report.number in notice.subject_en
        assert report.valid_until == timezone.localdate(report.issued_at) + timedelta(days=30)

    def test_a_failure_marks_the_report_failed_with_the_reason_and_tells_the_requester(
        self, entity, entity_user, monkeypatch
    ):
        def broken(html):
            raise OSError("Pango is missing")

        monkeypatch.setattr(render, "html_to_pdf", broken)
        report = request_report(actor_for_user(entity_user), entity)
        assert tasks.render_credit_report(report.pk) == "failed"
        report.refresh_from_db()
        assert report.status == CreditReport.Status.FAILED
        assert report.failure == "OSError: Pango is missing"
        assert not report.pdf and report.sha256 == "" and report.document is None
        assert Notice.objects.filter(recipient=entity_user, kind="reports.failed").count() == 1
        monkeypatch.undo()
        assert tasks.render_credit_report(report.pk) == "ready"  # a retry may succeed

    def test_the_validity_comes_from_the_setting(self, entity, clerk, settings):
        settings.CREDIT_REPORT_VALID_DAYS = 90
        report = issue(actor_for_user(clerk), entity)
        assert report.valid_until == timezone.localdate(report.issued_at) + timedelta(days=90)
        assert report.document["report"]["valid_until"] == report.valid_until.isoformat()


# --- bad input ---------------------------------------------------------------------------------------


def nothing_written():
    return (CreditReport.objects.count(), AuditEvent.objects.count())


class TestBadRequests:
    @pytest.mark.parametrize(
        ("kwargs", "field", "message"),
        [
            ({"code": "91440300MA5FXXXX0X"}, "code", None),
            ({"code": "\x00"}, "code", "Null characters are not allowed."),
            ({"period_from": TODAY - timedelta(days=5 * 366)}, "period_from", "A report covers at most 5 years back"),
            ({"period_from": days_ago(10), "period_to": days_ago(20)}, "period_from", "The period starts after it ends."),
            ({"period_to": TODAY + timedelta(days=1)}, "period_to", "The period cannot end in the future."),
            ({"period_from": "2026-02-30"}, "period_from", "Not a date: use YYYY-MM-DD."),
            ({"sections": ["registration", "credit_score"]}, "sections", "Unknown section(s): credit_score."),
            ({"sections": []}, "sections", "Choose at least one section."),
            ({"sections": ["registration\x00"]}, "sections", "Null characters are not allowed."),
            ({"language": "fr"}, "language", "Choose zh"),
        ],
    )  # fmt: skip
    def test_bad_requests_are_refused_with_a_clear_error_and_nothing_written(
        self, entity, clerk, kwargs, field, message
    ):
        kwargs = {"code": entity.code, **kwargs}
        actor = actor_for_user(clerk)
        before = nothing_written()
        with pytest.raises(ValidationError) as exc:
            services.report_request(actor=actor, **kwargs)
        assert field in exc.value.message_dict
        if message:
            assert any(m.startswith(message) for m in exc.value.message_dict[field]), exc.value.message_dict
        assert nothing_written() == before

    def test_unknown_code_says_so(self, department, clerk):
        with pytest.raises(ValidationError) as exc:
            services.report_request(actor=actor_for_user(clerk), code=f.uscc())
        assert exc.value.message_dict["code"] == [
            "No entity is registered under this unified social credit code."
        ]

    def test_every_error_at_once(self, entity, clerk):
        with pytest.raises(ValidationError) as exc:
            services.report_request(
                actor=actor_for_user(clerk),
                code="",
                period_to=TODAY + timedelta(days=3),
                sections=["x"],
                language="de",
            )
        assert sorted(exc.value.message_dict) == ["code", "language", "period_to", "sections"]

    def test_a_self_service_user_cannot_ask_about_another_entity(self, entity, other_entity, entity_user):
        before = nothing_written()
        with pytest.raises(NotFound):
            services.report_request(actor=actor_for_user(entity_user), code=other_entity.code)
        with pytest.raises(PermissionDenied):
            services.report_request(actor=PUBLIC, code=entity.code)
        assert nothing_written() == before

    def test_a_period_of_exactly_five_years_is_accepted(self, entity, clerk):
        start = document.earliest_start(TODAY)
        report = services.report_request(actor=actor_for_user(clerk), code=entity.code, period_from=start)
        assert (report.period_from, report.period_to) == (start, TODAY)
        assert report.sections == list(document.SECTION_KEYS) and report.language == "zh-hans"

    def test_too_many_reports_in_preparation_are_refused(self, entity, clerk):
        from credit_portal.errors import Conflict

        actor = actor_for_user(clerk)
        for _ in range(services.MAX_IN_PREPARATION):
            services.report_request(actor=actor, code=entity.code)
        before = nothing_written()
        with pytest.raises(Conflict):
            services.report_request(actor=actor, code=entity.code)
        assert nothing_written() == before


def test_report_numbers_have_a_check_character():
    number = numbers.new_number(date(2026, 11, 27))
    assert len(number) == numbers.LENGTH == 21 and number.startswith("CR20261127")
    assert numbers.is_well_formed(number)
    swapped = number[:12] + number[13] + number[12] + number[14:]
    assert number[12] == number[13] or not numbers.is_well_formed(swapped)
    assert not numbers.is_well_formed("CR20261127" + "I" * 11)


def test_selectors_scope_reports_to_the_department(entity, clerk, other_department_clerk, credit_officer):
    report = request_report(actor_for_user(clerk), entity)
    assert list(selectors.reports_for_actor(actor_for_user(clerk))) == [report]
    assert list(selectors.reports_for_actor(actor_for_user(other_department_clerk))) == []
    assert list(selectors.reports_for_actor(actor_for_user(credit_officer))) == [report]


class TestLostTasks:
    """A report whose render task was lost (worker killed mid-render, message lost by the broker)
    is queued again by beat, and no longer counts against the requester's limit. A render still
    waiting in the outbox (broker down at request time) is not lost: the outbox sweep sends it."""

    def test_stale_reports_are_queued_again_and_fresh_ones_left_alone(self, entity, clerk):
        actor = actor_for_user(clerk)
        stale = services.report_request(actor=actor, code=entity.code)
        rendering = services.report_request(actor=actor, code=entity.code)
        waiting = services.report_request(actor=actor, code=entity.code)
        fresh = services.report_request(actor=actor, code=entity.code)
        ready = issue(actor, entity)
        old = timezone.now() - services.STALE_AFTER - timedelta(minutes=1)
        CreditReport.objects.filter(pk__in=[stale.pk, rendering.pk, waiting.pk, ready.pk]).update(
            requested_at=old
        )
        CreditReport.objects.filter(pk=rendering.pk).update(status=CreditReport.Status.RENDERING)
        # Every render was handed to the broker long ago, except the one still waiting for it.
        OutboxTask.objects.exclude(args=[waiting.pk]).update(dispatched_at=old)

        assert tasks.requeue_stale_reports() == 2
        queued = OutboxTask.objects.filter(dispatched_at__isnull=True)
        assert sorted(queued.values_list("args", flat=True)) == sorted(
            [[stale.pk], [rendering.pk], [waiting.pk]]
        )
        assert queued.filter(args=[waiting.pk]).count() == 1
        assert tasks.requeue_stale_reports() == 0  # still waiting: not recorded twice
        assert not OutboxTask.objects.filter(
            args__in=[[fresh.pk], [ready.pk]], dispatched_at__isnull=True
        ).exists()
        # The task queued again renders the report as usual.
        assert services.report_render(report_id=stale.pk).status == CreditReport.Status.READY

    def test_stale_reports_do_not_block_new_requests(self, entity, clerk):
        actor = actor_for_user(clerk)
        for _ in range(services.MAX_IN_PREPARATION):
            services.report_request(actor=actor, code=entity.code)
        CreditReport.objects.update(requested_at=timezone.now() - services.STALE_AFTER - timedelta(minutes=1))
        assert services.report_request(actor=actor, code=entity.code).status == CreditReport.Status.QUEUED

    def test_beat_runs_it_every_ten_minutes(self, settings):
        entry = settings.CELERY_BEAT_SCHEDULE["requeue-stale-reports"]
        assert entry["task"] == tasks.requeue_stale_reports.name
