"""File imports of credit records: CSV (UTF-8, GBK) and XLSX in the national layout, streamed,
batched through the one validator, idempotent, resumable, with a per-row report; the staff door."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import psycopg2
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.models import Department
from credit_portal.audit.models import AuditEvent
from credit_portal.outbox.models import OutboxTask
from records import tasks
from records.imports import parsing, report, runner, templates
from records.models import CreditRecord, ImportJob, RecordChange, RecordVersion
from tests import factories as f

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
ITEM = "admin_punishment"
# The national punishment layout, with some of its aliases (处罚决定书文号, 处罚决定日期...).
HEADERS = [
    "行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "处罚决定日期", "处罚依据", "违法行为严重程度",
    "处罚内容", "行政相对人类别", "违法事实", "处罚类别", "罚款金额（万元）", "备注",
]  # fmt: skip


def cell_datetime(*args) -> datetime:
    """What openpyxl reads from a date cell: spreadsheets know no time zones."""
    return datetime(*args)  # noqa: DTZ001


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clerk_actor(clerk):
    return actor_for_user(clerk)


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


def row(entity, number, decided="2026-09-30", **kw):
    values = {
        "行政相对人名称": entity.name_zh,
        "统一社会信用代码": entity.code,
        "行政处罚决定书文号": number,
        "处罚决定日期": decided,
        "处罚依据": "《中华人民共和国产品质量法》第四十九条",
        "违法行为严重程度": "一般",
        "处罚内容": "罚款5.5万元",
        "行政相对人类别": "法人及非法人组织",
        "违法事实": "销售不合格产品",
        "处罚类别": "罚款",
        "罚款金额（万元）": "5.5",
        "备注": "",
    }
    values.update(kw)
    return [values[h] for h in HEADERS]


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig", delimiter=",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(actor, content: bytes, name="records.csv", item=ITEM) -> ImportJob:
    return runner.import_job_create(
        actor=actor, item_code=item, uploaded_file=SimpleUploadedFile(name, content)
    )


def run(actor, content: bytes, name="records.csv", **kw) -> ImportJob:
    job = upload(actor, content, name)
    return runner.run_import(job.pk, **kw)


def outcome(job):
    return (
        job.status,
        job.total_rows,
        job.processed_rows,
        job.created_count,
        job.unchanged_count,
        job.rejected_count,
    )


def rejected(job, language="en"):
    return report.rejected_rows(job, language)


def footprint():
    return (
        CreditRecord.objects.count(),
        RecordVersion.objects.count(),
        RecordChange.objects.count(),
        AuditEvent.objects.filter(action__startswith="records.record.").count(),
    )


class TestFormats:
    def test_utf8_and_gbk_files_with_chinese_headers_import_the_same_records(self, clerk_actor, entity):
        utf8 = run(clerk_actor, (DATA / "punishments_utf8.csv").read_bytes())
        assert outcome(utf8) == ("done", 3, 3, 3, 0, 0), utf8.failure or utf8.report
        records = list(CreditRecord.objects.order_by("decision_number"))
        assert [r.decision_number for r in records] == [
            "深市监罚〔2026〕101号",
            "深市监罚〔2026〕102号",
            "深市监罚〔2026〕103号",
        ]
        assert [r.decision_date for r in records] == [
            date(2026, 9, 30),
            date(2026, 10, 8),
            date(2026, 10, 12),
        ]
        assert [r.severity for r in records] == ["general", "serious", "minor"]
        assert records[0].fields["fine_amount"] == "5.5"
        assert records[0].fields["punishment_category"] == "fine"
        assert records[1].remarks == "含逗号, 的备注"
        assert {r.provenance for r in records} == {"file"}
        before = footprint()

        gbk = run(clerk_actor, (DATA / "punishments_gbk.csv").read_bytes(), name="gbk.csv")
        assert outcome(gbk) == ("done", 3, 3, 0, 3, 0), gbk.failure or gbk.report
        assert footprint() == before

    def test_gbk_is_read_as_gb18030_and_the_values_are_the_same(self):
        def values(path):
            with open(path, "rb") as source, parsing.TableReader(source) as reader:
                return reader.encoding, reader.headers, [r.cells for r in reader.data_rows()]

        utf8, gbk = values(DATA / "punishments_utf8.csv"), values(DATA / "punishments_gbk.csv")
        assert (utf8[0], gbk[0]) == ("utf-8", "gb18030")
        assert utf8[1:] == gbk[1:]

    @pytest.mark.parametrize(
        ("delimiter", "encoding"),
        [("\t", "gb18030"), (";", "gb18030"), ("\t", "utf-16")],  # utf-16: Excel's "Unicode text"
    )
    def test_tab_and_semicolon_separated_files(self, clerk_actor, entity, delimiter, encoding):
        job = run(clerk_actor, csv_bytes([row(entity, "T-1")], delimiter=delimiter, encoding=encoding))
        assert outcome(job) == ("done", 1, 1, 1, 0, 0), job.failure or job.report

    def test_xlsx_with_real_excel_dates_and_numbers(self, clerk_actor, entity):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append([*HEADERS, "公示期限（月）"])
        sheet.append([*row(entity, "X-1", decided=cell_datetime(2026, 9, 30))[:10], 5.5, "", 6])
        sheet.append([*row(entity, 20260930, decided=cell_datetime(2026, 10, 8, 0, 0))[:10], 20, None, 12.0])
        sheet.append([])  # an empty row is skipped
        sheet.append([*row(entity, "X-3", decided=cell_datetime(2026, 2, 28))[:10], 1.25])  # a short row
        buffer = io.BytesIO()
        workbook.save(buffer)

        job = run(clerk_actor, buffer.getvalue(), name="records.xlsx")
        assert outcome(job) == ("done", 3, 3, 3, 0, 0), job.failure or job.report
        first, second = (CreditRecord.objects.get(decision_number=n) for n in ("X-1", "20260930"))
        assert (first.decision_date, first.fields["fine_amount"], first.disclosure_months) == (
            date(2026, 9, 30),
            "5.5",
            6,
        )
        assert (second.decision_date, second.disclosure_months) == (date(2026, 10, 8), 12)
        assert CreditRecord.objects.get(decision_number="X-3").decision_date == date(2026, 2, 28)

    def test_whole_number_amounts_are_stored_as_written(self, clerk_actor, entity):
        job = run(clerk_actor, csv_bytes([row(entity, "AM-1", **{"罚款金额（万元）": "20"})]))
        assert job.created_count == 1
        assert CreditRecord.objects.get().fields["fine_amount"] == "20"

    def test_excel_values_become_text_as_excel_shows_them(self):
        assert parsing.excel_value(5.5) == "5.5"
        assert parsing.excel_value(20260930) == "20260930"
        assert parsing.excel_value(20260930.0) == "20260930"
        assert parsing.excel_value(0.1 + 0.2) == "0.3"
        assert parsing.excel_value(cell_datetime(2026, 9, 30)) == date(2026, 9, 30)
        assert parsing.excel_value(None) == ""

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_downloaded_template_filled_in_imports(self, client_for, clerk, entity, fmt):
        client = client_for(clerk)
        response = client.get(reverse("staff:import_template", args=[ITEM, fmt]))
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        if fmt == "csv":
            assert response.content.startswith(b"\xef\xbb\xbf")
            lines = response.content.decode("utf-8-sig").splitlines()
            assert lines[0].startswith("# 行政处罚信息")
            assert any("罚款 = Fine (fine)" in line for line in lines)  # allowed values, both languages
            headers = next(csv.reader([lines[-1]]))
            values = {
                "统一社会信用代码": entity.code, "决定文书号": "TPL-1", "决定日期": "2026-09-30",
                "严重程度": "一般", "行政相对人类别": "法人及非法人组织", "违法事实": "销售不合格产品",
                "处罚类别": "罚款", "罚款金额（万元）": "5.5", "法定代表人证件号码": f.resident_id(),
                "依据": "《中华人民共和国产品质量法》第四十九条", "内容": "罚款5.5万元",
            }  # fmt: skip
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\r\n").writerow([values.get(h, "") for h in headers])
            filled = response.content + buffer.getvalue().encode()
        else:
            workbook = openpyxl.load_workbook(io.BytesIO(response.content))
            assert workbook.sheetnames[:2] == ["数据 Data", "说明 README"]
            readme = [c for r in workbook["说明 README"].iter_rows(values_only=True) for c in r if c]
            assert any("罚款 / Fine (fine)" in str(c) for c in readme)
            sheet = workbook.worksheets[0]
            headers = [c.value for c in sheet[1]]
            values = {
                "统一社会信用代码": entity.code, "决定文书号": "TPL-1", "决定日期": cell_datetime(2026, 9, 30),
                "严重程度": "一般", "行政相对人类别": "法人及非法人组织", "违法事实": "销售不合格产品",
                "处罚类别": "罚款", "罚款金额（万元）": 5.5, "依据": "《中华人民共和国产品质量法》第四十九条",
                "内容": "罚款5.5万元",
            }  # fmt: skip
            sheet.append([values.get(h) for h in headers])
            buffer = io.BytesIO()
            workbook.save(buffer)
            filled = buffer.getvalue()
        response = client.post(
            reverse("staff:import_new"),
            {"item": ITEM, "file": SimpleUploadedFile(f"filled.{fmt}", filled)},
        )
        assert response.status_code == 302, response.content.decode()
        job = ImportJob.objects.get()
        job = runner.run_import(job.pk)
        assert outcome(job)[0] == "done" and job.created_count == 1, job.failure or job.report
        record = CreditRecord.objects.get()
        assert (record.decision_number, record.decision_date) == ("TPL-1", date(2026, 9, 30))

    def test_every_active_item_has_both_templates(self, client_for, clerk):
        from records.models import CatalogueItem

        client = client_for(clerk)
        for item in CatalogueItem.objects.filter(is_active=True):
            for fmt in ("csv", "xlsx"):
                assert client.get(reverse("staff:import_template", args=[item.code, fmt])).status_code == 200
        assert client.get(reverse("staff:import_template", args=["nope", "csv"])).status_code == 404

    def test_templates_header_maps_onto_every_column(self):
        from records.models import CatalogueItem

        for item in CatalogueItem.objects.filter(is_active=True):
            headers = [c.header for c in parsing.columns_for(item)]
            header_map = parsing.map_headers(item, headers)
            assert header_map.unknown == [] and None not in header_map.targets

    def test_a_title_row_above_the_header_is_skipped(self, clerk_actor, entity):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["2026年第三季度行政处罚信息汇总表"])
        sheet.append([])
        sheet.append(HEADERS)
        sheet.append(row(entity, "H-1"))
        sheet.append(row(entity, "H-2", decided="bad"))
        buffer = io.BytesIO()
        workbook.save(buffer)
        job = run(clerk_actor, buffer.getvalue(), name="title.xlsx")
        assert outcome(job) == ("done", 2, 2, 1, 0, 1), job.failure or job.report
        assert list(rejected(job)) == [5]
        [warning] = [e for e in job.report if "warning" in e]
        assert warning["row"] == 1 and "1" in warning["warning"]["en"]

    def test_english_keys_are_accepted_as_headers(self, clerk_actor, entity):
        headers = [
            "code",
            "decision_number",
            "decision date",
            "severity",
            "party_category",
            "facts",
            "punishment_category",
            "legal_basis",
            "content",
        ]
        content = csv_bytes(
            [
                [
                    entity.code,
                    "EN-1",
                    "2026-09-30",
                    "general",
                    "legal_person",
                    "x",
                    "fine",
                    "《产品质量法》",
                    "罚款",
                ]
            ],
            headers,
        )
        assert outcome(run(clerk_actor, content)) == ("done", 1, 1, 1, 0, 0)


class TestIdempotence:
    def test_reimporting_the_same_file_changes_nothing(self, clerk_actor, entity):
        content = csv_bytes([row(entity, f"R-{n}") for n in range(5)])
        first = run(clerk_actor, content)
        assert outcome(first) == ("done", 5, 5, 5, 0, 0)
        before = footprint()
        again = run(clerk_actor, content)
        assert outcome(again) == ("done", 5, 5, 0, 5, 0)
        assert footprint() == before

    def test_a_job_runs_once_however_often_the_task_is_delivered(self, clerk_actor, entity):
        job = upload(clerk_actor, csv_bytes([row(entity, "D-1")]))
        assert tasks.import_file(job.pk) == "done"
        before = footprint()
        assert tasks.import_file(job.pk) == "done"
        assert footprint() == before
        assert ImportJob.objects.get().created_count == 1

    def test_a_job_another_worker_holds_is_left_to_it(self, clerk_actor, entity):
        job = upload(clerk_actor, csv_bytes([row(entity, "L-1")]))
        params = connection.get_connection_params()
        other = psycopg2.connect(**params)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [runner._LOCK_CLASS, job.pk])
            assert runner.run_import(job.pk) is None
            job.refresh_from_db()
            assert job.status == "queued"
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [runner._LOCK_CLASS, job.pk])
        finally:
            other.close()
        assert runner.run_import(job.pk).status == "done"

    def test_a_job_left_running_by_a_dead_worker_resumes_without_duplicates(
        self, reviewer_actor, entity, monkeypatch
    ):
        # A reviewer's import is effective at once, so the change feed is written batch by batch too.
        content = csv_bytes(
            [row(entity, f"C-{n}") for n in range(5)] + [row(entity, "C-0")]  # a duplicate in the last batch
        )
        job = upload(reviewer_actor, content)
        real_write = runner._Run._write
        calls = []

        def dies_on_second_batch(self, batch):
            calls.append(len(batch))
            if len(calls) == 2:
                raise OperationalError("the worker's connection dropped")
            return real_write(self, batch)

        monkeypatch.setattr(runner._Run, "_write", dies_on_second_batch)
        with pytest.raises(OperationalError):
            runner.run_import(job.pk, batch_size=2)
        job.refresh_from_db()
        assert (job.status, job.processed_rows, job.created_count) == ("running", 2, 2)
        assert CreditRecord.objects.count() == 2
        monkeypatch.setattr(runner._Run, "_write", real_write)

        job = runner.run_import(job.pk, batch_size=2)
        assert outcome(job) == ("done", 6, 6, 5, 0, 1)
        assert CreditRecord.objects.count() == 5
        assert RecordVersion.objects.count() == 5 and RecordChange.objects.count() == 5
        assert "row 2" in rejected(job)[7]["行政处罚决定书文号"][0]

    def test_a_job_restarted_from_the_beginning_writes_nothing_twice(self, clerk_actor, entity):
        content = csv_bytes([row(entity, f"S-{n}") for n in range(3)])
        run(clerk_actor, content)
        before = footprint()
        job = upload(clerk_actor, content)
        ImportJob.objects.filter(pk=job.pk).update(status="running")  # died before its first batch
        job = runner.run_import(job.pk)
        assert outcome(job) == ("done", 3, 3, 0, 3, 0)
        assert footprint() == before

    def test_the_sweep_queues_jobs_no_worker_runs(self, clerk_actor, entity, published):
        job = upload(clerk_actor, csv_bytes([row(entity, "W-1")]))
        ImportJob.objects.filter(pk=job.pk).update(status="running")
        # Its task was handed over a while ago, and its worker died.
        long_ago = timezone.now() - timedelta(minutes=11)
        OutboxTask.objects.update(created_at=long_ago, dispatched_at=long_ago)
        assert runner.stale_jobs_resume() == [job.pk]
        assert runner.stale_jobs_resume() == []  # not again within the window
        waiting = OutboxTask.objects.filter(dispatched_at__isnull=True)
        assert list(waiting.values_list("name", "args")) == [(runner.IMPORT_TASK, [job.pk])]
        runner.run_import(job.pk)
        assert ImportJob.objects.get().status == "done"


class TestRefusedFiles:
    def test_missing_columns_refuse_the_file_before_anything_is_written(self, clerk_actor, entity):
        headers = [h for h in HEADERS if h not in ("统一社会信用代码", "处罚类别")]
        content = csv_bytes(
            [[v for h, v in zip(HEADERS, row(entity, "M-1"), strict=True) if h in headers]], headers
        )
        with pytest.raises(ValidationError) as exc:
            upload(clerk_actor, content)
        message = exc.value.message_dict["file"][0]
        assert message == (
            "Required columns are missing: Unified social credit code (统一社会信用代码); "
            "Punishment category (处罚类别)."
        )
        assert (ImportJob.objects.count(), CreditRecord.objects.count()) == (0, 0)

    def test_the_runner_refuses_such_a_file_too(self, clerk_actor, entity):
        from django.core.files.base import ContentFile

        job = upload(clerk_actor, csv_bytes([row(entity, "M-2")]))
        content = csv_bytes([row(entity, "M-2")[2:]], HEADERS[2:])
        job.file.save("replaced.csv", ContentFile(content), save=False)
        ImportJob.objects.filter(pk=job.pk).update(
            file=job.file.name, sha256=hashlib.sha256(content).hexdigest()
        )
        job = runner.run_import(job.pk)
        assert job.status == "failed" and "统一社会信用代码" in job.failure
        assert CreditRecord.objects.count() == 0

    def test_a_file_over_the_limit_is_refused_in_the_form_with_its_size(
        self, client_for, clerk, clerk_actor, entity, settings
    ):
        settings.IMPORT_MAX_BYTES = 100
        content = csv_bytes([row(entity, "BIG-1")])
        with pytest.raises(ValidationError) as exc:
            upload(clerk_actor, content)
        assert f"{len(content)}" in exc.value.message_dict["file"][0].replace("\xa0", " ")
        response = client_for(clerk).post(
            reverse("staff:import_new"), {"item": ITEM, "file": SimpleUploadedFile("big.csv", content)}
        )
        assert response.status_code == 400
        assert "100\xa0bytes" in response.content.decode()
        assert ImportJob.objects.count() == 0

    @pytest.mark.parametrize(
        ("content", "says"),
        [
            (random.Random(7).randbytes(4096), "neither UTF-8 nor GBK"),
            (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), ".xls"),
            (b"PK\x03\x04" + bytes(100), "not a CSV or XLSX"),
            (b"", "empty"),
            ("统一社会信用代码,决定文书号\n".encode("utf-16-le") * 20, "not a CSV or XLSX"),
        ],
    )
    def test_files_that_are_not_csv_or_xlsx_are_refused(self, clerk_actor, content, says):
        with pytest.raises(ValidationError) as exc:
            upload(clerk_actor, content, name="records.csv")
        assert says in exc.value.message_dict["file"][0]
        assert ImportJob.objects.count() == 0

    def test_a_file_that_turns_out_not_utf8_after_its_start_fails_before_writing(self, clerk_actor, entity):
        good = csv_bytes([row(entity, f"E-{n}") for n in range(400)], encoding="utf-8")
        assert len(good) > parsing.CHUNK  # the encoding is judged on the first chunk
        bad = good + ",".join(row(entity, "E-GBK")).encode("gbk") + b"\r\n"
        job = run(clerk_actor, bad)
        assert job.status == "failed" and "UTF-8" in job.failure
        assert CreditRecord.objects.count() == 0

    def test_uploader_who_may_no_longer_record_fails_the_job(self, clerk, clerk_actor, entity):
        job = upload(clerk_actor, csv_bytes([row(entity, "P-1")]))
        Department.objects.filter(pk=clerk.department_id).update(is_active=False)
        job = runner.run_import(job.pk)
        assert job.status == "failed" and "may no longer record" in job.failure
        assert CreditRecord.objects.count() == 0


class TestRowErrors:
    def test_bad_rows_are_reported_by_file_row_and_column_and_good_rows_kept(
        self, clerk_actor, client_for, clerk, entity
    ):
        rows = [
            row(entity, "G-1", 处罚内容="<script>alert(1)</script>"),  # row 2: kept, as text
            row(entity, "G-2", decided="<script>alert(2)</script>"),  # row 3: not a date
            row(entity, "G-3", 统一社会信用代码="91440300MA5D1234X0"),  # row 4: invalid code
            row(entity, "G-4", 统一社会信用代码=f.uscc(n=9_999_999)),  # row 5: nobody registered
            [],  # row 6: empty line, skipped
            row(entity, "G-1"),  # row 7: same decision number as row 2
            row(entity, "G-5", 违法事实="销售\x00不合格产品"),  # row 8: NUL byte
            row(entity, "G-6")[:5],  # row 9: too few cells
            row(entity, "G-7", 处罚决定日期="2099-01-01"),  # row 10: in the future
            row(entity, "G-8"),  # row 11: fine
        ]
        rows = [r if len(r) < len(HEADERS) else [*r, "内部"] for r in rows]  # an extra column
        content = csv_bytes(rows, headers=[*HEADERS, "内部编号"])
        job = run(clerk_actor, content)
        assert outcome(job) == ("done", 9, 9, 2, 0, 7), job.failure
        errors = rejected(job)
        assert sorted(errors) == [3, 4, 5, 7, 8, 9, 10]
        assert "Not a date" in errors[3]["处罚决定日期"][0]
        assert "统一社会信用代码" in errors[4]
        assert errors[5]["统一社会信用代码"] == [
            "No entity is registered under this unified social credit code."
        ]
        assert "row 2" in errors[7]["行政处罚决定书文号"][0]
        assert "null character" in errors[8]["违法事实"][0]
        assert "cells" in errors[9][""][0]
        assert "future" in errors[10]["处罚决定日期"][0]
        [warning] = [e for e in job.report if "warning" in e]
        assert (warning["row"], warning["columns"]) == (1, ["内部编号"])
        assert CreditRecord.objects.get(decision_number="G-1").content == "<script>alert(1)</script>"

        page = client_for(clerk).get(reverse("staff:import_detail", args=[job.pk])).content.decode()
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
        assert "<script>alert" not in page
        assert "内部编号" in page

    def test_the_report_is_capped_and_says_how_many_more(
        self, clerk_actor, entity, monkeypatch, client_for, clerk
    ):
        monkeypatch.setattr(runner, "REPORT_CAP", 3)
        job = run(
            clerk_actor, csv_bytes([row(entity, f"Z-{n}", decided="bad") for n in range(5)]), batch_size=2
        )
        assert (job.rejected_count, len(rejected(job))) == (5, 3)
        page = client_for(clerk).get(reverse("staff:import_detail", args=[job.pk])).content.decode()
        assert "2 more rejected rows are not listed" in page

    def test_rejected_rows_csv_escapes_formulas_and_can_be_uploaded_again(
        self, clerk_actor, client_for, clerk, entity
    ):
        rows = [
            row(entity, '=HYPERLINK("http://evil","x")', decided="bad"),
            row(entity, "F-2", decided="bad", 处罚内容="+1+2", 备注="@SUM(A1)"),
            row(entity, "F-3", decided="bad", 处罚内容="-3", 违法事实="\tTAB"),
            row(entity, "F-4"),
        ]
        job = run(clerk_actor, csv_bytes(rows))
        assert job.rejected_count == 3
        response = client_for(clerk).get(reverse("staff:import_rejected_csv", args=[job.pk]))
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert lines[0][:2] == ["Row", "Problems"]
        assert lines[0][2:] == HEADERS
        cells = [c for line in lines[1:] for c in line]
        assert '\'=HYPERLINK("http://evil","x")' in cells
        assert {"'+1+2", "'@SUM(A1)", "'-3", "'\tTAB"} <= set(cells)
        assert not any(c.startswith(("=", "+", "-", "@", "\t")) for c in cells)
        # Corrected and uploaded again: the quote is stripped, the extra columns ignored.
        fixed = content.replace(b",bad,", b",2026-09-30,")
        again = run(clerk_actor, fixed, name="fixed.csv")
        assert outcome(again) == ("done", 3, 3, 3, 0, 0), again.report
        assert CreditRecord.objects.filter(decision_number__startswith="=HYPERLINK").exists()
        assert CreditRecord.objects.get(decision_number="F-2").content == "+1+2"

    def test_csv_safe(self):
        assert [templates.csv_safe(v) for v in ["=1", "+1", "-1", "@x", "\tx", "\rx", "ok", None, 5]] == [
            "'=1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok", "", "5",
        ]  # fmt: skip


class TestQueueing:
    def test_the_task_is_recorded_with_the_job_and_queued_on_commit_with_an_audit_event(
        self, clerk_actor, entity, django_capture_on_commit_callbacks, published
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            job = upload(clerk_actor, csv_bytes([row(entity, "Q-1")]))
            task = OutboxTask.objects.get()
            assert (task.name, task.args, task.dispatched_at) == ("records.tasks.import_file", [job.pk], None)
            assert published == []
        assert len(callbacks) == 1
        assert published == [("records.tasks.import_file", [job.pk])]
        task.refresh_from_db()
        assert task.dispatched_at is not None and task.attempts == 1
        assert job.status == "queued" and job.size_bytes > 0 and len(job.sha256) == 64
        assert job.file.name.startswith("imports/") and job.original_name == "records.csv"
        event = AuditEvent.objects.get(action="records.import.queued")
        assert event.target_id == str(job.pk) and event.data["item"] == ITEM

    def test_the_task_acknowledges_late_and_is_known_to_the_worker(self):
        from credit_portal.celery import app

        app.loader.import_default_modules()
        assert tasks.import_file.name == runner.IMPORT_TASK and tasks.import_file.name in app.tasks
        assert tasks.import_file.acks_late and tasks.import_file.reject_on_worker_lost
        assert tasks.resume_stale_imports.name in app.tasks

    def test_progress_json(self, clerk_actor, client_for, clerk, entity):
        job = upload(clerk_actor, csv_bytes([row(entity, "J-1"), row(entity, "J-2", decided="bad")]))
        url = reverse("staff:import_status", args=[job.pk])
        client = client_for(clerk)
        data = client.get(url).json()
        assert (data["status"], data["finished"], data["percent"]) == ("queued", False, 0)
        page = client.get(reverse("staff:import_detail", args=[job.pk])).content.decode()
        assert 'aria-live="polite"' in page and "<progress" in page and url in page
        runner.run_import(job.pk)
        data = client.get(url).json()
        assert {
            k: data[k] for k in ("status", "finished", "percent", "total_rows", "created", "rejected")
        } == {
            "status": "done",
            "finished": True,
            "percent": 100,
            "total_rows": 2,
            "created": 1,
            "rejected": 1,
        }


class TestAccess:
    @pytest.fixture
    def job(self, clerk_actor, entity):
        return runner.run_import(upload(clerk_actor, csv_bytes([row(entity, "A-1", decided="bad")])).pk)

    def test_the_department_and_the_credit_office_see_the_job(self, client_for, clerk, credit_officer, job):
        for user in (clerk, credit_officer):
            client = client_for(user)
            assert client.get(reverse("staff:import_list")).content.decode().count("records.csv") == 1
            for name in ("import_detail", "import_status", "import_rejected_csv"):
                assert client.get(reverse(f"staff:{name}", args=[job.pk])).status_code == 200

    def test_another_department_gets_404(self, client_for, other_department_clerk, job):
        client = client_for(other_department_clerk)
        assert "records.csv" not in client.get(reverse("staff:import_list")).content.decode()
        for name in ("import_detail", "import_status", "import_rejected_csv"):
            assert client.get(reverse(f"staff:{name}", args=[job.pk])).status_code == 404

    def test_entity_users_get_403_and_the_anonymous_the_login_page(self, client_for, entity_user, job):
        urls = [
            reverse("staff:import_list"),
            reverse("staff:import_new"),
            reverse("staff:import_detail", args=[job.pk]),
            reverse("staff:import_status", args=[job.pk]),
            reverse("staff:import_rejected_csv", args=[job.pk]),
            reverse("staff:import_template", args=[ITEM, "csv"]),
        ]
        for url in urls:
            assert client_for(entity_user).get(url).status_code == 403
            response = client_for(None).get(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("staff:login"))

    def test_staff_without_records_write_cannot_upload(self, client_for, department, entity):
        user = f.staff(department, StaffRole.CLERK, "closed_clerk")
        Department.objects.filter(pk=department.pk).update(is_active=False)
        user.refresh_from_db()
        content = csv_bytes([row(entity, "N-1")])
        response = client_for(user).post(
            reverse("staff:import_new"), {"item": ITEM, "file": SimpleUploadedFile("x.csv", content)}
        )
        assert response.status_code == 403
        with pytest.raises(PermissionDenied):
            upload(actor_for_user(user), content)
        assert ImportJob.objects.count() == 0

    def test_the_upload_form_lists_the_items_with_their_templates(self, client_for, clerk):
        page = client_for(clerk).get(reverse("staff:import_new")).content.decode()
        assert 'enctype="multipart/form-data"' in page
        assert reverse("staff:import_template", args=[ITEM, "xlsx"]) in page


class TestScale:
    """Needs records_import() to read the publication deadline rule once per batch
    (workdays.DeadlineSchedule), not once per row."""

    def _content(self, entity, n, start=0):
        days = [date(2026, 1, 1) + timedelta(days=d) for d in range(200)]  # many decision dates
        return csv_bytes(
            [row(entity, f"S{start + i:07d}", decided=days[i % 200].isoformat()) for i in range(n)]
        )

    def test_queries_do_not_grow_with_the_number_of_rows(self, clerk_actor, entity):
        run(clerk_actor, self._content(entity, 10, 900_000))  # warm the per-process calendar cache
        counts = {}
        for n, start in ((1000, 0), (5000, 100_000)):
            job = upload(clerk_actor, self._content(entity, n, start))
            with CaptureQueriesContext(connection) as queries:
                job = runner.run_import(job.pk, batch_size=10_000)
            assert outcome(job) == ("done", n, n, n, 0, 0)
            counts[n] = len(queries)
        assert counts[5000] == counts[1000], counts

    def test_batches_of_two_thousand_cost_a_bounded_number_of_queries(self, clerk_actor, entity):
        job = upload(clerk_actor, self._content(entity, 5000))
        with CaptureQueriesContext(connection) as queries:
            job = runner.run_import(job.pk)
        assert job.created_count == 5000
        # About 20 queries a batch (validator's reference data, entities, existing decisions, bulk
        # inserts, audit, the job's counters) and a few for the job: none per row.
        assert len(queries) <= 15 + 20 * 3, len(queries)


def test_uploaded_files_are_purged_after_the_retention_period(clerk_actor, entity):
    from datetime import timedelta

    from django.utils import timezone

    from records.imports import runner as import_runner

    job = run(clerk_actor, csv_bytes([row(entity, "PURGE-1")]))
    path = job.file.path
    assert os.path.exists(path)
    assert import_runner.purge_old_files(older_than=timedelta(days=30)) == []
    type(job).objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=31))
    assert import_runner.purge_old_files(older_than=timedelta(days=30)) == [job.pk]
    job.refresh_from_db()
    assert not job.file and not os.path.exists(path)
    assert (job.status, job.created_count) == ("done", 1)
