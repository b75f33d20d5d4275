"""Every door's main pages, on demo data, at a phone's width (390 px) and a desktop's (1280 px): no
page scrolls sideways, none logs a console error, and each leaves a screenshot.

A page that is wider than the window makes a phone user scroll sideways to read every line; a
table is allowed to be wider only inside its own scrolling box (``.table-wrap``) or by turning into
stacked cards (``table.stack``). When a page is too wide, the failure names the elements that stick
out past the window's right edge, outside any scrolling box.

The screenshots (whole pages) are written to ``test-results/screenshots/<width>/<page>.png`` at the
root of the repository (git-ignored); CI keeps them as artefacts (see .ci/run). One browser and one
page serve every URL: each page is loaded once and measured at both widths."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import expect

from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.models import User
from disclosure.models import CreditReport
from disclosure.reports import services as reports
from pledges.models import PermitApplication, Pledge
from records.imports import runner
from records.models import CreditRecord, ImportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-results" / "screenshots"
WIDTHS = (390, 1280)
HEIGHT = 844
DATA = ROOT / "tests" / "data"

# Elements that reach past the window's right edge and are not inside a box that scrolls or clips
# them: what makes the page scroll sideways. A few, described so that a person finds them.
STICKING_OUT = """
() => {
  const width = window.innerWidth;
  // Inside a box that scrolls or clips it: an ancestor with overflow set that is also its
  // containing block (an absolutely positioned element escapes a box that is not positioned).
  const clipped = (el) => {
    let position = getComputedStyle(el).position;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (position === "fixed") return false;
      const style = getComputedStyle(p);
      if (position === "absolute" && style.position === "static" && style.transform === "none") continue;
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return true;
      position = style.position;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 0.5 || clipped(el)) continue;
    if (el.parentElement && el.parentElement.getBoundingClientRect().right > width + 0.5
        && !clipped(el.parentElement) && out.length && out[out.length - 1].el.contains(el)) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.classList.length ? "." + [...el.classList].join(".") : "");
    out.push({el, text: name + " right=" + Math.round(r.right) + " «"
      + (el.innerText || el.textContent || "").trim().slice(0, 60).replace(/\\s+/g, " ") + "»"});
    if (out.length >= 6) break;
  }
  return out.map((o) => o.text);
}
"""

# Text contrast of every status badge and every button (WCAG 2.1 AA: 4.5:1 for normal text):
# its colour against the first opaque background behind it.
LOW_CONTRAST = """
() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll(".badge, button, .button, input[type=submit]")) {
    if (!el.getClientRects().length) continue;
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) out.push(el.outerHTML.slice(0, 120) + " " + ratio.toFixed(2) + ":1");
  }
  return out;
}
"""


# The on-time chart: the drawing and every legend entry inside the figure, each entry with its
# department's whole name.
CHART_NOT_CUT = """
() => {
  const figure = document.querySelector("figure.chart-figure");
  const box = figure.getBoundingClientRect(), out = [];
  const inside = (r) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5;
  if (!inside(figure.querySelector("svg.chart").getBoundingClientRect())) out.push("the drawing sticks out");
  const entries = [...figure.querySelectorAll(".chart-legend li")];
  if (!entries.length) out.push("no legend");
  for (const li of entries) {
    if (!inside(li.getBoundingClientRect())) out.push("legend entry sticks out: " + li.innerText);
    if (li.scrollWidth > li.clientWidth + 0.5) out.push("legend entry cut: " + li.innerText);
  }
  return [out, entries.map((li) => li.innerText.trim())];
}
"""

# The month picker of the on-time form: drawn like the select beside it (border, height), its
# value the month shown, and, on a wide screen, in one row with the select and the button, their
# bottoms aligned.
MONTH_PICKER = """
(wide) => {
  const form = document.querySelector("input[type=month]").form, out = [];
  const month = form.querySelector("input[type=month]"), select = form.querySelector("select");
  const button = form.querySelector("button[type=submit]");
  const m = getComputedStyle(month), s = getComputedStyle(select);
  for (const key of ["borderTopWidth", "borderTopColor", "borderRadius", "fontSize", "height"]) {
    if (m[key] !== s[key]) out.push(key + ": month " + m[key] + ", select " + s[key]);
  }
  if (!/^\\d{4}-\\d{2}$/.test(month.value)) out.push("no month shown: " + JSON.stringify(month.value));
  if (wide) {
    const bottoms = [month, select, button].map((el) => Math.round(el.getBoundingClientRect().bottom));
    if (new Set(bottoms).size !== 1) out.push("bottoms not aligned: " + bottoms.join(", "));
  }
  return out;
}
"""

# Filter tabs: the current one is marked for assistive technology and drawn filled; the others not.
CURRENT_TAB = """
() => {
  const tabs = [...document.querySelectorAll("main nav .tabs a")], out = [];
  const current = tabs.filter((a) => a.getAttribute("aria-current") === "page");
  if (tabs.length < 2 || current.length !== 1) return ["tabs " + tabs.length + ", current " + current.length];
  const fill = (a) => getComputedStyle(a).backgroundColor;
  for (const a of tabs) {
    const filled = !["rgba(0, 0, 0, 0)", "transparent"].includes(fill(a));
    if (filled !== (a === current[0])) out.push((filled ? "filled: " : "not filled: ") + a.innerText);
  }
  return out;
}
"""

# Stacked tables: cards on a phone (header row hidden, each cell labelled), a table on a desktop.
STACKED = """
(wide) => {
  const out = [];
  for (const table of document.querySelectorAll("table.stack")) {
    const display = getComputedStyle(table).display;
    const head = table.tHead.getBoundingClientRect().height;
    if (wide && (display !== "table" || head < 10)) out.push("not a table on a wide screen: " + table.id);
    if (!wide && (display !== "block" || head > 1)) out.push("not cards on a narrow screen: " + table.id);
    const cell = table.querySelector("tbody td[data-label]");
    if (!wide && cell) {
      const label = getComputedStyle(cell, "::before").content;
      if (label !== JSON.stringify(cell.dataset.label)) out.push("cell label " + label);
    }
  }
  return out;
}
"""


@dataclass(frozen=True)
class Visit:
    name: str  # the screenshot's file name
    url: str
    user: str | None  # who is signed in; None: nobody
    language: str = "en"  # Django's language cookie


@pytest.fixture
def demo(live_url, settings, tmp_path):
    """The demo data, plus what it lacks for some pages: a finished import with rejected rows (its
    per-row report) and a ready credit report of the demo company (its verification page)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    clerk = actor_for_user(User.objects.get(username="sz_clerk"))
    job = runner.import_job_create(
        actor=clerk,
        item_code="admin_punishment",
        uploaded_file=SimpleUploadedFile("punishments.csv", (DATA / "punishments_utf8.csv").read_bytes()),
    )
    job = runner.run_import(job.pk)
    assert job.status == ImportJob.Status.DONE, job.status
    application = PermitApplication.objects.select_related("entity").get(applicant__username="demo_company")
    company = actor_for_user(User.objects.get(username="demo_company"))
    report = reports.report_request(actor=company, code=application.entity.code)
    report = reports.report_render(report_id=report.pk)
    assert report.status == CreditReport.Status.READY, report.failure
    return {"job": job, "application": application, "report": report}


def main_pages(demo) -> list[Visit]:
    record = (
        CreditRecord.objects.filter(disclosure="published", department__code="SZ-AMR")
        .select_related("entity")
        .order_by("pk")
        .first()
    )
    application = demo["application"]
    entity = application.entity
    pledge = Pledge.objects.filter(application=application).get()
    draft = CreditRecord.objects.filter(status="draft").order_by("pk").first()
    return [
        Visit("public-home", "/", None),
        Visit("public-search", "/?q=%E6%98%9F%E8%BE%B0", None),  # 星辰
        Visit("public-search-code", f"/?q={record.entity.code}", None),
        Visit("public-entity", f"/entities/{record.entity.code}/", None),
        Visit("public-record", f"/records/{record.pk}/", None),
        Visit("public-pledges", "/pledges/", None),
        Visit("public-pledge", f"/pledges/{pledge.number}/", None),
        Visit("public-matters", "/pledges/matters/", None),
        Visit("public-verify", "/verify/", None),
        Visit("public-verify-report", f"/verify/{demo['report'].number}", None),
        Visit("public-on-time", "/disclosure/on-time/", None),
        Visit("my-home", "/my/", "demo_company"),
        Visit("my-entity", f"/my/entities/{entity.code}/", "demo_company"),
        Visit("my-records", "/my/records/", "demo_company"),
        Visit("my-pledges", "/my/pledges/", "demo_company"),
        Visit("my-application", f"/my/applications/{application.number}/", "demo_company"),
        Visit("my-reports", "/my/reports/", "demo_company"),
        Visit("staff-dashboard", "/staff/", "credit_office"),
        Visit("staff-registry", "/staff/entities/", "credit_office"),
        Visit("staff-entity", f"/staff/entities/{record.entity.code}/", "credit_office"),
        Visit("staff-records", "/staff/records/", "credit_office"),
        Visit("staff-record", f"/staff/records/{record.pk}/", "credit_office"),
        Visit("staff-record-new", "/staff/records/new/?item=admin_punishment", "credit_office"),
        Visit("staff-board", "/staff/disclosure/", "credit_office"),
        Visit("staff-on-time", "/staff/disclosure/on-time/", "credit_office"),
        Visit("staff-catalogue", "/staff/catalogue/", "credit_office"),
        Visit("staff-calendar", "/staff/calendar/", "credit_office"),
        Visit("staff-audit", "/staff/audit/", "credit_office"),
        Visit("staff-imports", "/staff/imports/", "sz_clerk"),
        Visit("staff-import", f"/staff/imports/{demo['job'].pk}/", "sz_clerk"),
        Visit("staff-tokens", "/staff/tokens/", "sz_admin"),
        Visit("staff-dashboard-reviewer", "/staff/", "sz_reviewer"),
        Visit("staff-review", "/staff/records/review/", "sz_reviewer"),
        Visit("staff-draft", f"/staff/records/{draft.pk}/", "sz_reviewer"),
        Visit("staff-claims", "/staff/claims/", "sz_reviewer"),
        # Chinese wraps differently (anywhere between characters, labels of a few characters).
        Visit("zh-public-search", "/?q=%E6%98%9F%E8%BE%B0", None, "zh-hans"),
        Visit("zh-public-on-time", "/disclosure/on-time/", None, "zh-hans"),
        Visit("zh-staff-registry", "/staff/entities/", "credit_office", "zh-hans"),
        Visit("zh-staff-record", f"/staff/records/{record.pk}/", "credit_office", "zh-hans"),
    ]


def sign_in_as(page, live_url: str, username: str | None, language: str) -> None:
    """Put a session of ``username`` (or none) and the language into the browser."""
    context = page.context
    context.clear_cookies()
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_url}]
    if username is not None:
        client = Client()
        client.force_login(User.objects.get(username=username))
        assert client.session[SESSION_KEY]
        cookies.append({"name": "sessionid", "value": client.session.session_key, "url": live_url})
    context.add_cookies(cookies)


def page_checks(page, name: str, width: int) -> list[str]:
    """What a page must show besides fitting the window, by page."""
    wide = width >= 1000
    problems = list(page.evaluate(STACKED, wide))
    if name in ("public-on-time", "staff-on-time", "zh-public-on-time"):
        cut, legend = page.evaluate(CHART_NOT_CUT)
        problems += cut
        whole = (
            "深圳市市场监督管理局"
            if name.startswith("zh-")
            else "Shenzhen Administration for Market Regulation"
        )
        if whole not in legend:
            problems.append(f"legend without the department's whole name: {legend}")
    if name == "staff-on-time":
        problems += page.evaluate(MONTH_PICKER, wide)
    if name == "staff-claims":
        problems += page.evaluate(CURRENT_TAB)
    return problems


def test_no_main_page_scrolls_sideways_at_390_or_1280_px(page, live_url, demo):
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    for width in WIDTHS:
        (SCREENSHOTS / str(width)).mkdir(parents=True)
    console: list[str] = []
    page.on("console", lambda message: message.type == "error" and console.append(message.text))
    failures: list[str] = []
    signed_in = object()
    for visit in main_pages(demo):
        if (visit.user, visit.language) != signed_in:
            sign_in_as(page, live_url, visit.user, visit.language)
            signed_in = (visit.user, visit.language)
        page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
        response = page.goto(visit.url)
        status = response.status if response else None
        if status != 200:
            failures.append(f"{visit.name} {visit.url}: status {status}")
            continue
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
            scroll_width, inner_width = page.evaluate(
                "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
            )
            if scroll_width > inner_width:
                culprits = "; ".join(page.evaluate(STICKING_OUT)) or "(none found)"
                failures.append(
                    f"{visit.name} at {width} px: {scroll_width} px wide, sticking out: {culprits}"
                )
            if low := page.evaluate(LOW_CONTRAST):
                failures.append(f"{visit.name} at {width} px: low contrast: {'; '.join(low[:4])}")
            failures += [f"{visit.name} at {width} px: {p}" for p in page_checks(page, visit.name, width)]
            page.screenshot(path=SCREENSHOTS / str(width) / f"{visit.name}.png", full_page=True)
        if console:
            failures.append(f"{visit.name}: console errors: {'; '.join(console)}")
            console.clear()
    assert not failures, "\n".join(failures)
