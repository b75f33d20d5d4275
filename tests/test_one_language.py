"""One language per page: what the system writes is in the reader's language.

Every main page of every door, rendered in English over a world with Chinese names, records,
pledges, objections, complaints, imports with rejected rows, notices and audit events, has no
Chinese text of its own: what Chinese remains is user data or a proper name (an entity's or a
person's name, a decision number, what a record or a file says), and the templates mark it
``lang="zh-Hans"``. The English credit report likewise. Also: the import report and its rejected
rows in the reader's language (older reports still shown), a label for every audit action, and
Chinese punctuation in the Chinese catalogue."""

from __future__ import annotations

import ast
import csv
import io
import re
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from credit_portal.accounts.actors import PUBLIC, actor_for_user, system_actor
from credit_portal.accounts.models import User
from credit_portal.accounts.services import token_issue
from credit_portal.audit.labels import action_labels
from credit_portal.audit.models import AuditEvent
from credit_portal.i18n import CJK_TEXT, has_cjk
from records.imports import report as import_report
from records.imports import runner
from records.models import CreditRecord, EntityMembership, ImportJob, MarketEntity
from records.services import complaints, objections
from tests.test_every_page import staff_urls

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- reading a page as a reader of English -------------------------------------------------------


class _PageText(HTMLParser):
    """The text a reader meets on a page — its text and the attributes that are read out or shown
    (title, aria-label, placeholder, alt, a button's value) — leaving out scripts, styles, what is
    typed in a text area and every element marked as Chinese (``lang="zh-Hans"``: quoted user data
    and proper names), whose text is kept apart (``marked``). The page's <title> and attributes
    cannot hold a marked element: there, text the page marks elsewhere is quoted too."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, str]] = []  # (tag, "" | "skip" | "marked")
        self.parts: list[str] = []
        self.unmarkable: list[str] = []  # the <title>, attributes
        self.marked: list[str] = []

    @property
    def state(self) -> str:
        return self.open[-1][1] if self.open else ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        state = self.state
        if not state:
            if (attributes.get("lang") or "").lower().startswith("zh"):
                state = "marked"
            elif tag in ("script", "style", "textarea"):
                state = "skip"
            elif tag == "title":
                state = "title"
        if state in ("", "title"):
            self.unmarkable.extend(attributes[a] for a in self.SHOWN_ATTRIBUTES if attributes.get(a))
            if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
                self.unmarkable.append(attributes["value"])
        if tag not in self.VOID:
            self.open.append((tag, state))
        self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break
        self.parts.append("\n")

    def handle_data(self, data):
        state = self.state
        if state == "":
            self.parts.append(data)
        elif state == "title":
            self.unmarkable.append(data)
        elif state == "marked":
            self.marked.append(data.strip())


def chinese_fragments(html: str, typed: tuple[str, ...] = ()) -> list[str]:
    """The Chinese a reader of the page meets outside the elements marked ``lang="zh-Hans"``, each
    fragment with the words around it. ``typed``: what the reader typed (the query string), which
    the page may quote where nothing can be marked (its title, a field's value)."""
    parser = _PageText()
    parser.feed(html)
    parser.close()
    quoted = sorted({m for m in [*parser.marked, *typed] if m}, key=len, reverse=True)
    lines = "".join(parser.parts).splitlines()
    for text in parser.unmarkable:
        for name in quoted:
            text = text.replace(name, "")
        lines.append(text)
    found = []
    for line in lines:
        line = " ".join(line.split())
        if has_cjk(line):
            found.append(line[:120])
    return found


def test_the_reader_of_a_page_skips_marked_chinese_and_keeps_the_rest():
    html = (
        '<html lang="en"><head><title>深圳市星辰科技有限公司 · 标题</title><script>var a = "脚本";</script>'
        '</head><body><p>Party: <span lang="zh-Hans">深圳市星辰科技有限公司</span></p>'
        '<button lang="zh-hans">中文</button><input type="submit" value="提交"><textarea>输入</textarea>'
        '<p title="提示">Fine</p><div lang="zh-Hans"><p>整段<br>文字</p></div><p>尚未翻译</p></body></html>'
    )
    assert chinese_fragments(html) == ["尚未翻译", "· 标题", "提交", "提示"]


# --- a world with Chinese in it --------------------------------------------------------------------

REJECTED_CSV = (
    "统一社会信用代码,行政相对人名称,行政处罚决定书文号,处罚决定日期,处罚依据,违法行为严重程度,处罚内容,"
    "行政相对人类别,违法事实,处罚类别,内部编号\r\n"
    "{code},{name},深市监罚〔2026〕901号,{decided},《中华人民共和国产品质量法》第四十九条,一般,罚款5万元,"
    "法人及非法人组织,销售不合格产品,罚款,甲-1\r\n"
    "BAD,{name},深市监罚〔2026〕902号,2099-01-01,《中华人民共和国产品质量法》,很重,罚款,法人及非法人组织,"
    "销售不合格产品,没收,甲-2\r\n"
    "{code},{name},深市监罚〔2026〕901号,{decided},《中华人民共和国产品质量法》第四十九条,一般,罚款5万元,"
    "法人及非法人组织,销售不合格产品,罚款,甲-3\r\n"
)


def upload_rejected_rows(actor, entity) -> ImportJob:
    from django.utils import timezone

    content = REJECTED_CSV.format(
        code=entity.code, name=entity.name_zh, decided=timezone.localdate().isoformat()
    ).encode("utf-8-sig")
    job = runner.import_job_create(
        actor=actor, item_code="admin_punishment", uploaded_file=SimpleUploadedFile("十月处罚.csv", content)
    )
    return runner.run_import(job.pk)


@pytest.fixture
def world():
    """The demo data (departments, staff of every role, 300 entities with Chinese names, records,
    pledge matters, applications and pledges), and on top of it what a working portal accumulates:
    an import by a clerk with rejected rows, objections from the public and from a company, a
    complaint, an API token, a credit report, and the notices and audit events they leave."""
    call_command("seed_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    clerk = actor_for_user(User.objects.get(username="sz_clerk"))
    sz_entity = MarketEntity.objects.filter(registering_department__code="SZ-AMR").order_by("code").first()
    job = upload_rejected_rows(clerk, sz_entity)
    published = CreditRecord.objects.filter(
        disclosure=CreditRecord.Disclosure.PUBLISHED, department__code="SZ-AMR"
    ).order_by("pk")
    objection = objections.objection_submit(
        actor=PUBLIC,
        record_id=published.first().pk,
        grounds="该处罚已被行政复议撤销，请更正。",
        name="王小明",
        id_number="11010519491231002X",
        contact="13800000000",
    )
    company = User.objects.get(username="demo_company")
    own = CreditRecord.objects.filter(
        entity__in=EntityMembership.objects.filter(user=company).values("entity"),
        status=CreditRecord.Status.EFFECTIVE,
    ).first()
    if own is not None and not own.objections.exists():
        objections.objection_submit(actor=actor_for_user(company), record_id=own.pk, grounds="罚款金额有误。")
    complaint, _created = complaints.complaint_submit(
        actor=PUBLIC,
        kind="complaint",
        entity_name=sz_entity.name_zh,
        code=sz_entity.code,
        description="销售过期食品，请予查处。",
        submitter_name="李四",
    )
    admin = User.objects.get(username="sz_admin")
    token_issue(
        actor=actor_for_user(admin),
        department=admin.department,
        scopes=["records:read"],
        name="市场监管系统对接",
    )
    return {"job": job, "objection": objection, "complaint": complaint, "entity": sz_entity}


def english(username: str | None = None) -> Client:
    """A client that reads the portal in English, as the language switch leaves it (the cookie)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies["django_language"] = "en"
    if username:
        client.force_login(User.objects.get(username=username))
    return client


def crawl(client: Client, urls: list[str]) -> dict[str, list[str]]:
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Language"] == "en", url
        typed = tuple(value for _key, value in parse_qsl(urlsplit(url).query))
        fragments = chinese_fragments(response.content.decode(), typed)
        if fragments:
            found[url] = fragments
    return found


def _staff_pages(username: str, world) -> list[str]:
    actor = actor_for_user(User.objects.get(username=username))
    urls = [*staff_urls(username), "/staff/notices/", "/staff/imports/new/", "/staff/entities/new/"]
    code = world["entity"].code
    if actor.department.code == "SZ-AMR" or actor.can("departments:all"):
        urls += [
            f"/staff/imports/{world['job'].pk}/",
            f"/staff/entities/{code}/",
            f"/staff/reports/entities/{code}/",
        ]
    if actor.can("objections:answer") and actor.department.code == "SZ-AMR":
        urls.append(f"/staff/objections/{world['objection'].pk}/")
    if actor.can("complaints:handle") and actor.department.code == "SZ-AMR":
        urls.append(f"/staff/complaints/{world['complaint'].pk}/")
    return list(dict.fromkeys(urls))


def test_english_pages_have_no_chinese_but_user_data_and_names(world):
    found: dict[str, list[str]] = {}
    for username in ["credit_office", "sz_admin", "sz_reviewer", "sz_clerk", "gz_clerk"]:
        for url, fragments in crawl(english(username), _staff_pages(username, world)).items():
            found[f"{username} {url}"] = fragments

    record = CreditRecord.objects.filter(disclosure=CreditRecord.Disclosure.PUBLISHED).order_by("pk").first()
    from pledges.models import PermitApplication, Pledge

    application = PermitApplication.objects.select_related("matter__department").get(
        applicant__username="demo_company"
    )
    matter = application.matter
    pledge = Pledge.objects.filter(application=application).get()
    public_pages = [
        "/", "/?q=星辰", "/?q=Xingchen+Technology", f"/?q={record.entity.code}", f"/?q={record.decision_number}",
        f"/records/{record.pk}/", f"/entities/{record.entity.code}/", "/disclosure/on-time/",
        "/complaints/new/", f"/complaints/track/?tracking={world['complaint'].tracking_number}",
        "/objections/track/", f"/objections/new/?record={record.pk}", "/my/login/", "/my/signup/",
        "/staff/login/", "/account/password-reset/", "/pledges/", "/pledges/matters/",
        f"/pledges/matters/{matter.department.code}/{matter.code}/", f"/pledges/{pledge.number}/", "/verify/",
        "/audit/anchors/",
    ]  # fmt: skip
    for url, fragments in crawl(english(), public_pages).items():
        found[f"public {url}"] = fragments

    company = User.objects.get(username="demo_company")
    own = EntityMembership.objects.filter(user=company).select_related("entity").first().entity
    my_pages = [
        "/my/", "/my/records/", "/my/objections/", "/my/claim/", "/my/pledges/", "/my/pledges/apply/",
        f"/my/pledges/apply/{matter.department.code}/{matter.code}/", "/my/pledges/public/new/",
        f"/my/applications/{application.number}/", f"/my/pledges/{pledge.number}/", "/my/reports/",
        f"/my/entities/{own.code}/", "/my/third-party-reports/",
    ]  # fmt: skip
    for url, fragments in crawl(english("demo_company"), my_pages).items():
        found[f"demo_company {url}"] = fragments

    report = "\n".join(f"{page}:\n    " + "\n    ".join(fragments) for page, fragments in found.items())
    assert not found, f"Chinese on English pages outside lang=zh-Hans:\n{report}"
    # And every audit event the world left has a label on the audit page.
    written = set(AuditEvent.objects.values_list("action", flat=True).distinct())
    assert len(written) > 20 and {code for code in written if code not in action_labels} == set()


# --- the English credit report ----------------------------------------------------------------------


def _english_report(world):
    from disclosure.reports import document
    from disclosure.reports import services as report_services

    company = User.objects.get(username="demo_company")
    entity = EntityMembership.objects.filter(user=company).select_related("entity").first().entity
    report = report_services.report_request(
        actor=actor_for_user(company), code=entity.code, language="en", sections=list(document.SECTION_KEYS)
    )
    report_services.report_render(report_id=report.pk)
    report.refresh_from_db()
    return report


def test_the_english_credit_report_has_no_chinese_but_names_and_recorded_data(world):
    from pypdf import PdfReader

    from disclosure.reports import render

    report = _english_report(world)
    html = render.render_html(report.document, sha256=report.sha256)
    assert chinese_fragments(html) == []
    # The pledge lines say in English what the portal wrote in Chinese on their records.
    pledge_lines = [r for r in report.document["sections"]["pledges"]["records"] if r.get("content_en")]
    assert pledge_lines, report.document["sections"]["pledges"]
    assert all(has_cjk(r["content"]) for r in pledge_lines)
    assert "made a credit pledge on “Food business licence”" in html

    parser = _PageText()
    parser.feed(html)
    quoted = "".join("".join(text.split()) for text in parser.marked)
    with report.pdf.open("rb") as handle:
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
    assert "Public Credit Information Report" in text
    # Each stretch of Chinese on each line of the PDF is (a part of) what the HTML marks as quoted.
    runs = [run for line in text.splitlines() for run in re.findall(CJK_TEXT.pattern + "+", line)]
    assert runs, "the report names the entity in Chinese"
    assert [run for run in runs if run not in quoted] == []


# --- audit actions ----------------------------------------------------------------------------------


def _string_values(node: ast.AST, constants: dict[str, str]) -> list[str]:
    """The action codes an expression may give: a string, either branch of a conditional, a module
    constant; an f-string as its pattern (``{}`` for each placeholder)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _string_values(node.body, constants) + _string_values(node.orelse, constants)
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)]
    return []


def written_action_codes() -> dict[str, str]:
    """Every audit action code the tree writes, with where: ``action=...`` in any call (an audit
    event built in a migration too), and the argument given to a helper's ``action`` parameter."""
    found: dict[str, str] = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", ".local", "tests", "node_modules"):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        helpers = {
            node.name: [a.arg for a in node.args.args].index("action")
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and "action" in [a.arg for a in node.args.args]
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            values = [k.value for k in node.keywords if k.arg == "action"]
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in helpers and len(node.args) > helpers[name]:
                values.append(node.args[helpers[name]])
            for value in values:
                for code in _string_values(value, constants):
                    if "." in code:  # not argparse's "store_true"
                        found.setdefault(code, f"{relative}:{node.lineno}")
    return found


def test_every_audit_action_the_code_writes_has_a_label():
    codes = written_action_codes()
    assert len(codes) > 80 and "records.record.revoked" in codes and "records.complaint.submitted" in codes
    patterns = {code for code in codes if "{}" in code}
    assert patterns == {"admin.{}.{}", "admin.{}.deleted"}, patterns
    missing = {code: where for code, where in codes.items() if "{}" not in code and code not in action_labels}
    assert missing == {}, "audit actions without a label in credit_portal.audit.labels: " + str(missing)


def test_every_model_edited_in_the_admin_has_labels_for_its_actions():
    from django.contrib import admin

    with translation.override("en"):
        for model in admin.site._registry:
            for verb in ("added", "changed", "deleted"):
                code = f"admin.{model._meta.label_lower}.{verb}"
                assert code in action_labels, code
        assert str(action_labels.label("admin.accounts.user.changed")) == "Changed in the admin site: user"
    assert action_labels.label("records.unheard_of.thing") == "records.unheard_of.thing"


def test_the_audit_page_names_each_action_and_keeps_its_code_as_tooltip(entity, department_admin, reviewer):
    from tests.test_records import punishment

    record = services_record_create(reviewer, punishment(entity, "深市监罚〔2026〕77号"))
    client = english()
    client.force_login(department_admin)
    page = client.get("/staff/audit/").content.decode()
    assert '<span class="audit-action" title="records.record.created">Record created</span>' in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/staff/records/{record.pk}/").content.decode()
    assert '<span class="audit-action" title="records.record.created">' in page
    assert ">records.record.created<" not in page


def services_record_create(user, data):
    from records import services

    return services.record_create(actor=actor_for_user(user), data=data, provenance="api")


# --- the import report ------------------------------------------------------------------------------


def page_in(client: Client, language: str, url: str) -> str:
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_import_report_is_told_in_the_language_of_whoever_reads_it(clerk, entity):
    job = upload_rejected_rows(actor_for_user(clerk), entity)
    assert (job.status, job.created_count, job.rejected_count) == ("done", 1, 2)
    client = Client()
    client.force_login(clerk)
    url = reverse("staff:import_detail", args=[job.pk])

    chinese = page_in(client, "zh-hans", url)
    assert "统一社会信用代码应为 18 位，当前输入为 3 位。" in chinese
    assert "本文件第 2 行已有相同的决定文书号。" in chinese
    assert "以下列不属于该目录事项的字段结构，已忽略：" in chinese
    assert "A unified social credit code has 18 characters" not in chinese

    english_page = page_in(client, "en", url)
    assert "A unified social credit code has 18 characters; this one has 3." in english_page
    assert "The same decision number is already on row 2 of this file." in english_page
    assert "Columns not in the layout of this catalogue item were ignored:" in english_page
    # Columns by their English names, the file's own header quoted beside them.
    assert (
        '<td>Decision document number <span class="meta">(file column: <span lang="zh-Hans">行政处罚决定书文号</span>)'
        in english_page
    )
    assert (
        '<td>Unified social credit code <span class="meta">(file column: <span lang="zh-Hans">统一社会信用代码</span>)'
        in english_page
    )
    assert '<span lang="zh-Hans">内部编号</span>' in english_page
    assert "统一社会信用代码应为" not in english_page
    assert chinese_fragments(english_page) == []

    rows = import_report.rejected_rows(job, "zh-hans")
    assert sorted(rows) == [3, 4]
    assert rows[3]["统一社会信用代码"] == ["统一社会信用代码应为 18 位，当前输入为 3 位。"]
    assert rows[4] == {"行政处罚决定书文号": ["本文件第 2 行已有相同的决定文书号。"]}


def test_the_rejected_rows_file_is_in_the_language_of_whoever_downloads_it(clerk, entity):
    job = upload_rejected_rows(actor_for_user(clerk), entity)
    client = Client()
    client.force_login(clerk)
    url = reverse("staff:import_rejected_csv", args=[job.pk])

    def lines(language):
        client.cookies["django_language"] = language
        content = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(content)))

    english_lines = lines("en")
    assert english_lines[0][:3] == ["Row", "Problems", "统一社会信用代码"]
    assert [line[0] for line in english_lines[1:]] == ["3", "4"]
    assert (
        english_lines[2][1]
        == "行政处罚决定书文号: The same decision number is already on row 2 of this file."
    )
    chinese_lines = lines("zh-hans")
    assert chinese_lines[0][0] == "行号"
    assert chinese_lines[2][1] == "行政处罚决定书文号: 本文件第 2 行已有相同的决定文书号。"


def test_an_import_report_written_in_one_language_before_is_still_shown(clerk, entity):
    job = upload_rejected_rows(actor_for_user(clerk), entity)
    ImportJob.objects.filter(pk=job.pk).update(
        report=[
            {"row": 1, "warning": "以下列不属于该目录事项的字段结构，已忽略：", "columns": ["内部编号"]},
            {"row": 3, "errors": {"处罚决定日期": ["不是日期：2026/13/45（请使用 YYYY-MM-DD）。"]}},
            {"row": 5, "errors": {"": ["此行有 3 个单元格，但标题行有 11 个。"]}, "record": None},
        ]
    )
    client = Client()
    client.force_login(clerk)
    page = page_in(client, "en", reverse("staff:import_detail", args=[job.pk]))
    job.refresh_from_db()
    assert '<td>3</td><td><span lang="zh-Hans">处罚决定日期</span></td>' in page
    assert "不是日期：2026/13/45（请使用 YYYY-MM-DD）。" in page
    assert "<td>5</td><td><em>whole row</em></td>" in page
    assert "以下列不属于该目录事项的字段结构，已忽略：" in page
    assert import_report.rejected_rows(job) == {
        3: {"处罚决定日期": ["不是日期：2026/13/45（请使用 YYYY-MM-DD）。"]},
        5: {"": ["此行有 3 个单元格，但标题行有 11 个。"]},
    }


def test_a_failed_import_says_why_in_the_language_of_whoever_reads_it(clerk, entity, other_department):
    content = REJECTED_CSV.format(code=entity.code, name=entity.name_zh, decided="2026-09-30").encode(
        "utf-8-sig"
    )
    job = runner.import_job_create(
        actor=actor_for_user(clerk),
        item_code="admin_punishment",
        uploaded_file=SimpleUploadedFile("f.csv", content),
    )
    User.objects.filter(pk=clerk.pk).update(department=other_department)  # moved before the worker ran it
    job = runner.run_import(job.pk)
    assert job.status == "failed"
    clerk.refresh_from_db()
    User.objects.filter(pk=clerk.pk).update(department=job.department)
    client = Client()
    client.force_login(clerk)
    url = reverse("staff:import_detail", args=[job.pk])
    assert "user:clerk 已无权为" in page_in(client, "zh-hans", url)
    english_page = page_in(client, "en", url)
    assert "user:clerk may no longer record credit information for" in english_page
    status = client.get(reverse("staff:import_status", args=[job.pk])).json()
    assert status["failure"].startswith("user:clerk may no longer record credit information for")


# --- Chinese punctuation ----------------------------------------------------------------------------

HAN = "[\u3400-\u9fff\uf900-\ufaff]"


def _catalogue(path: Path) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every entry of a PO file, plural forms included."""
    entries, current, key = [], {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
        if match:
            key = match.group(1)
            current[key] = match.group(2)
        elif line.startswith('"') and key:
            current[key] += line[1:-1]
        elif not line.strip():
            entries += [(current.get("msgid", ""), v) for k, v in current.items() if k.startswith("msgstr")]
            current, key = {}, None
    return [(msgid, msgstr) for msgid, msgstr in entries if msgid]


def ascii_punctuation_in_chinese(text: str) -> list[str]:
    """ASCII colons, commas, semicolons, brackets and full stops where Chinese text needs its own
    (：，；（）。), placeholders, markup, addresses and bracketed code left aside."""
    text = text.replace('\\"', '"')
    if not re.search(HAN, text):
        return []
    text = re.sub(
        r"%\([a-z_]+\)[sd]|%[sd]|\{\{[^}]*\}\}|<[^>]+>|https?://\S+|\[[^\]]*\]|\{[^}]*\}", "X", text
    )
    found = []
    for match in re.finditer(r"[:,;!?]", text):
        before, after = text[: match.start()].rstrip()[-1:], text[match.end() :].lstrip()[:1]
        if re.match(HAN, before or "a") or re.match(HAN, after or "a") or before in "）”" or after in "（“":
            found.append(text[max(0, match.start() - 8) : match.end() + 8])
    found += [m.group(0) for m in re.finditer(r"\([^()]*\)", text) if re.search(HAN, m.group(0))]
    found += [text[max(0, m.start() - 8) : m.end()] for m in re.finditer(HAN + r"\.(\s|$)", text)]
    return found


def test_the_chinese_catalogue_uses_chinese_punctuation():
    assert ascii_punctuation_in_chinese("请填写日期: 2026-09-30, 或留空") == [
        "请填写日期: 2026-09",
        "26-09-30, 或留空",
    ]
    assert (
        ascii_punctuation_in_chinese("共 %(n)s 条（按时 %(on_time)d/%(due)d）：见 https://a.b/c?d=1,2") == []
    )
    catalogue = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    wrong = {
        msgid: found
        for msgid, msgstr in _catalogue(catalogue)
        if (found := ascii_punctuation_in_chinese(msgstr))
    }
    assert wrong == {}


def test_a_page_puts_chinese_punctuation_between_its_parts_in_chinese(department_admin, entity, reviewer):
    from credit_portal.notices.services import notify_user

    notify_user(
        actor=system_actor("tests"), user=department_admin, kind="tests.notice", subject_zh="测试通知",
        subject_en="A test notice", body_zh="", body_en="", link="/staff/", dedupe_key="t-1",
    )  # fmt: skip
    client = Client()
    client.force_login(department_admin)
    assert "通知（1" in page_in(client, "zh-hans", "/staff/")
    assert "Notices (1" in page_in(client, "en", "/staff/")


def test_the_token_page_says_what_each_scope_allows_in_the_readers_language(department_admin):
    token_issue(
        actor=system_actor("tests"),
        department=department_admin.department,
        scopes=["records:read"],
        name="对接",
    )
    client = Client()
    client.force_login(department_admin)
    assert '<span class="code">records:read</span> 查阅信用记录' in page_in(
        client, "zh-hans", "/staff/tokens/"
    )
    english_page = page_in(client, "en", "/staff/tokens/")
    assert '<span class="code">records:read</span> Read credit records' in english_page
    assert '<td><span lang="zh-Hans">对接</span></td>' in english_page
