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

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
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
        urls += [f"/staff/imports/{world['job'].pk}/", f"/staff/entities/{code}/", f"/staff/reports/entities/{code}/"]
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
