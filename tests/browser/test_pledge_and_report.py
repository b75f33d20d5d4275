"""The self-service door in a real browser: a business signs a credit pledge with its permit
application (materials to follow), then requests its credit report, waits while a real Celery worker
renders it on the ``pdf`` queue, and downloads the PDF, which shows the pledge and the report's
fingerprint.

The locators are what a person uses (labels, roles, visible text)."""

from __future__ import annotations

import io
import re

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect
from pypdf import PdfReader

from credit_portal.accounts.actors import actor_for_user
from credit_portal.celery import app
from disclosure.models import CreditReport
from pledges import services
from pledges.models import PermitApplication, Pledge
from tests import factories as f
from tests.conftest import _member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ENTITY_ZH = "深圳市承诺示范餐饮有限公司"
PASSWORD = "a-long-test-password"  # tests.factories.entity_user
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def world(live_url, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    department = f.department("SZ-BROWSER")
    reviewer = f.staff(department, "reviewer", username="browser_reviewer")
    actor = actor_for_user(reviewer)
    matter = services.matter_save(
        actor=actor,
        data=services.MatterInput(
            code="food-business",
            name_zh="食品经营许可",
            name_en="Food business licence",
            materials_due_days=20,
        ),
        materials=[
            services.MaterialInput(name_zh="申请书", name_en="Application form"),
            services.MaterialInput(name_zh="设备布局图", name_en="Equipment layout", pledge_may_replace=True),
        ],
    )
    services.pledge_template_publish(
        actor=actor,
        matter_id=matter.pk,
        text_zh="本申请人承诺所提交材料真实，暂缺材料在规定期限内补齐。",
        text_en="The applicant pledges that its materials are true and that missing ones follow in time.",
        consequences_zh="承诺不实或逾期未补齐材料的，撤销许可并记入信用记录。",
        consequences_en="An untrue pledge or late materials: the permit is revoked and the breach recorded.",
    )
    entity = f.entity(
        department, code=f.uscc(), name_zh=ENTITY_ZH, name_en="Shenzhen Pledge Catering Co., Ltd."
    )
    user = _member(f.entity_user("browser_company"), entity)
    document = tmp_path / "application-form.pdf"
    document.write_bytes(PDF)
    return {"department": department, "matter": matter, "entity": entity, "user": user, "document": document}


@pytest.fixture
def pdf_worker(world):
    """A Celery worker on the real Redis broker, consuming the ``pdf`` queue like the deployed one."""
    with start_worker(app, pool="solo", queues=["pdf"], perform_ping_check=False, shutdown_timeout=20):
        yield


def test_sign_a_pledge_in_my_then_download_the_credit_report(page, live_url, world, pdf_worker):
    entity, matter, user = world["entity"], world["matter"], world["user"]

    page.goto("/my/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/my/login/"))

    # Apply for the matter: upload the form, mark the layout to follow, sign the pledge.
    page.goto(f"/my/pledges/apply/{world['department'].code}/{matter.code}/?entity={entity.code}")
    form = page.locator("form[enctype='multipart/form-data']")
    form.get_by_role("group", name="Application form").get_by_label("File").set_input_files(world["document"])
    form.get_by_role("group", name="Equipment layout").get_by_label(
        re.compile("I cannot supply it now")
    ).check()
    form.get_by_label("Sign the pledge with this application").check()
    form.get_by_label("Your full name").fill(user.full_name)
    form.get_by_label(re.compile("I have read the pledge")).check()
    form.get_by_role("button", name="Submit the application").click()

    application = PermitApplication.objects.get(entity=entity)
    pledge = Pledge.objects.get(application=application)
    assert application.status == PermitApplication.Status.ACCEPTED_PENDING_MATERIALS
    assert pledge.signer_name == user.full_name
    assert "暂缺材料在规定期限内补齐" in pledge.text_signed
    expect(page).to_have_url(re.compile(rf"/my/applications/{application.number}/$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text(pledge.number)
    expect(main).to_contain_text(f"{pledge.materials_due_on:%Y-%m-%d}")
    expect(main).to_contain_text("撤销许可并记入信用记录")  # what breaking it means, shown to the entity

    # Request the credit report; the page shows its progress and reloads itself when it is ready.
    page.goto("/my/reports/")
    page.get_by_role("button", name="Request the report").click()
    report = CreditReport.objects.get(entity=entity)
    download_link = page.get_by_role("link", name=f"PDF {report.number}")
    expect(download_link).to_be_visible(timeout=60_000)

    with page.expect_download() as download_info:
        download_link.click()
    path = download_info.value.path()
    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    report.refresh_from_db()
    assert report.status == CreditReport.Status.READY
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    squeezed = re.sub(r"\s+", "", text)
    assert ENTITY_ZH in squeezed
    assert pledge.number in squeezed
    assert report.sha256 in squeezed
