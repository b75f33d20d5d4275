"""Every page of every door renders for the roles that may see it, in both languages, on demo data."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import User
from credit_portal.web.registry import staff_nav
from pledges.models import PermitApplication, Pledge
from records.models import CreditRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", "--quiet", stdout=StringIO(), stderr=StringIO())


def client_as(username: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(User.objects.get(username=username))
    return client


def staff_urls(username: str) -> list[str]:
    from django.urls import reverse

    actor = actor_for_user(User.objects.get(username=username))
    urls = ["/staff/", *(reverse(item.url_name) for item in staff_nav.visible_to(actor))]
    record = CreditRecord.objects.filter(department=actor.department).first() or CreditRecord.objects.first()
    urls += [
        f"/staff/records/{record.pk}/",
        "/staff/records/new/",
        "/staff/records/new/?item=admin_punishment",
    ]
    urls += [f"/staff/entities/{record.entity.code}/"]
    if actor.can(Cap.PLEDGES_MANAGE) and actor.department.code == "SZ-AMR":  # the demo matters' department
        application = PermitApplication.objects.filter(matter__department=actor.department).first()
        pledge = Pledge.objects.filter(department=actor.department).first()
        urls += [f"/staff/pledges/applications/{application.number}/", f"/staff/pledges/{pledge.number}/"]
    return urls


def test_every_staff_page_renders(demo):
    for username in ["credit_office", "sz_admin", "sz_reviewer", "sz_clerk", "gz_clerk"]:
        for language in ["en", "zh-hans"]:
            client = client_as(username, language)
            for url in staff_urls(username):
                response = client.get(url)
                assert response.status_code == 200, (username, language, url, response.status_code)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_public_and_business_page_renders(demo, language):
    record = CreditRecord.objects.filter(disclosure="published").first()
    public = Client(HTTP_ACCEPT_LANGUAGE=language)
    for url in [
        "/", "/?q=星辰", "/?q=Xingchen+Technology", f"/?q={record.entity.code}", f"/?q={record.decision_number}",
        f"/records/{record.pk}/", f"/entities/{record.entity.code}/", "/disclosure/on-time/",
        "/complaints/new/", "/complaints/track/", "/objections/track/", f"/objections/new/?record={record.pk}",
        "/my/login/", "/my/signup/", "/staff/login/", "/api/docs/",
    ]:  # fmt: skip
        response = public.get(url)
        assert response.status_code == 200, (url, response.status_code)
    application = PermitApplication.objects.select_related("matter__department").get(
        applicant__username="demo_company"
    )
    matter = application.matter
    pledge = Pledge.objects.filter(application=application).get()
    for url in [
        "/pledges/", "/pledges/matters/", f"/pledges/matters/{matter.department.code}/{matter.code}/",
        f"/pledges/{pledge.number}/", "/verify/",
    ]:  # fmt: skip
        response = public.get(url)
        assert response.status_code == 200, (url, response.status_code)
    business = client_as("demo_company", language)
    for url in [
        "/my/", "/my/records/", "/my/objections/", "/my/claim/", "/my/pledges/", "/my/pledges/apply/",
        f"/my/pledges/apply/{matter.department.code}/{matter.code}/", "/my/pledges/public/new/",
        f"/my/applications/{application.number}/", f"/my/pledges/{pledge.number}/", "/my/reports/",
    ]:  # fmt: skip
        response = business.get(url)
        assert response.status_code == 200, (url, response.status_code)
