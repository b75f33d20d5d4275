"""The public disclosure search: published records and entities; masking; export; throttling."""

import csv
import io
import re
from datetime import date
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit_portal.accounts.actors import actor_for_user
from disclosure import search
from records import services
from records.services import publication
from tests import factories as f
from tests.test_records import SWEEP, punishment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today):
    """The decisions in these tests are dated in 2026 and their disclosure periods are counted from
    them: run on a fixed day after them, not on whatever day the suite runs."""
    today(date(2026, 12, 4), tick=True)


@pytest.fixture
def published(reviewer, entity, other_entity):
    """Three published records of entity, one of other_entity, and unpublished ones that must not show."""
    actor = actor_for_user(reviewer)
    made = {
        "fine": services.record_create(
            actor=actor, data=punishment(entity, "深市监罚〔2026〕1号"), provenance="api"
        ),
        "older": services.record_create(
            actor=actor,
            data=punishment(entity, "深市监罚〔2026〕2号", decided=date(2026, 6, 1)),
            provenance="api",
        ),
        "person": services.record_create(
            actor=actor,
            data=punishment(
                entity,
                "深市监罚〔2026〕3号",
                fields={"party_category": "natural_person", "legal_rep_name": "王小明"},
            ),
            provenance="api",
        ),
        "other": services.record_create(
            actor=actor, data=punishment(other_entity, "深市监罚〔2026〕4号"), provenance="api"
        ),
    }
    made["person"].party_name = "王小明"
    made["person"].save(update_fields=["party_name"])
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    made["revoked"] = services.record_create(
        actor=actor, data=punishment(entity, "深市监罚〔2026〕5号"), provenance="api"
    )
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    services.record_revoke(actor=actor, record_id=made["revoked"].pk, reason="撤销")
    made["pending"] = services.record_create(
        actor=actor, data=punishment(entity, "深市监罚〔2026〕6号"), provenance="api"
    )
    return made


def numbers(response):
    return [v.decision_number for v in (response.context.get("exact") or [])] + [
        v.decision_number for v in (response.context.get("results") or [])
    ]


def test_two_chinese_characters_find_published_records_newest_first(client, published):
    response = client.get("/", {"q": "腾讯"})
    assert response.status_code == 200
    # No. 3 names a natural person as the party, not the company, so the name search does not find it.
    assert numbers(response) == ["深市监罚〔2026〕1号", "深市监罚〔2026〕2号"]
    assert [e.name_zh for e in response.context["entities"]] == ["深圳市腾讯计算机系统有限公司"]
    hit = response.context["entities"][0]
    assert f"{hit.code}</span> · {hit.entity_type} · {hit.division_name}</div>" in response.content.decode()
    assert hit.entity_type == "Enterprise" and hit.division_name


def test_revoked_and_unpublished_records_are_not_shown(client, published):
    for q in ("深市监罚〔2026〕5号", "深市监罚〔2026〕6号"):
        assert numbers(client.get("/", {"q": q})) == []
    assert client.get(f"/records/{published['revoked'].pk}/").status_code == 404
    assert client.get(f"/records/{published['pending'].pk}/").status_code == 404


def test_exact_decision_number_and_code_come_first(client, published, entity):
    response = client.get("/", {"q": "深市监罚〔2026〕2号"})
    assert [v.decision_number for v in response.context["exact"]] == ["深市监罚〔2026〕2号"]
    assert list(response.context["results"]) == []  # a full decision number runs no text match
    response = client.get("/", {"q": entity.code.lower()})
    assert {v.decision_number for v in response.context["exact"]} == {
        "深市监罚〔2026〕1号", "深市监罚〔2026〕2号", "深市监罚〔2026〕3号"
    }  # fmt: skip


def test_english_words(client, published):
    # The English name is the entity's, carried by each of its records.
    assert numbers(client.get("/", {"q": "Tencent"})) == [
        "深市监罚〔2026〕3号",
        "深市监罚〔2026〕1号",
        "深市监罚〔2026〕2号",
    ]


def test_filters(client, published, department):
    assert numbers(client.get("/", {"q": "有限公司", "date_from": "2026-09-01"})) == [
        "深市监罚〔2026〕4号", "深市监罚〔2026〕1号"
    ]  # fmt: skip
    assert numbers(client.get("/", {"q": "有限公司", "division": "440106"})) == ["深市监罚〔2026〕4号"]
    assert len(numbers(client.get("/", {"item": "admin_punishment", "department": department.code}))) == 4
    assert numbers(client.get("/", {"item": "admin_permit"})) == []
    response = client.get("/", {"q": "x", "date_from": "2026-10-01", "date_to": "2026-09-01"})
    assert "date_to" in response.context["form"].errors


def test_natural_persons_are_masked_and_identity_numbers_never_shown(client, published):
    page = client.get(f"/records/{published['person'].pk}/").content.decode()
    assert "王**" in page and "王小明" not in page
    assert f.resident_id() not in page
    assert "4401**********" not in page  # not even masked
    listing = client.get("/", {"q": "深市监罚"}).content.decode()
    assert "王小明" not in listing


def test_record_under_objection_says_so(client, published):
    from records.models import CreditRecord

    CreditRecord.objects.filter(pk=published["fine"].pk).update(status="under_objection")
    page = client.get(f"/records/{published['fine'].pk}/").content.decode()
    assert "Under objection" in page


def test_markup_in_a_record_is_printed_as_text_on_its_list_lines(client, published, entity):
    from records.models import CreditRecord

    CreditRecord.objects.filter(pk=published["fine"].pk).update(
        party_name='<b>恶意</b>"公司', content="<script>alert(1)</script>罚款"
    )
    pk = published["fine"].pk
    for page, link in (
        # From a search, the link carries the search along (for "Back to search").
        (client.get("/", {"q": "深市监罚"}), f"/records/{pk}/?q=%E6%B7%B1%E5%B8%82%E7%9B%91%E7%BD%9A"),
        (client.get(f"/entities/{entity.code}/"), f"/records/{pk}/"),
    ):
        html = page.content.decode()
        assert "<script>alert(1)</script>" not in html and "<b>恶意</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;罚款" in html
        assert "&lt;b&gt;恶意&lt;/b&gt;&quot;公司" in html
        assert f'<a href="{link}"><strong>' in html
    # The entity lines link to the profiles.
    q = entity.name_zh[:4]
    assert (
        f'<a href="/entities/{entity.code}/?{urlencode({"q": q})}">'
        in client.get("/", {"q": q}).content.decode()
    )


def test_entity_profile_lists_its_published_records(client, published, entity):
    response = client.get(f"/entities/{entity.code}/")
    assert [v.decision_number for v in response.context["results"]] == [
        "深市监罚〔2026〕3号", "深市监罚〔2026〕1号", "深市监罚〔2026〕2号"
    ]  # fmt: skip


def test_csv_export_is_bounded_and_safe_from_formulas(client, published):
    from records.models import CreditRecord

    CreditRecord.objects.filter(pk=published["fine"].pk).update(content='=HYPERLINK("http://x")')
    response = client.get("/search/export.csv", {"q": "腾讯"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[3] for r in rows[1:]] == ["深市监罚〔2026〕1号", "深市监罚〔2026〕2号"]
    assert rows[1][6].startswith("'=")
    assert client.get("/search/export.csv").status_code == 400


def test_search_is_throttled_per_client_with_a_plain_message(client, published, settings):
    from credit_portal import ratelimit

    for _ in range(120):
        ratelimit.allow("public-search:127.0.0.1", limit=120, window=60)
    response = client.get("/", {"q": "腾讯"})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    other = client.get("/", {"q": "腾讯"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_the_search_inputs_keep_their_types_and_what_was_typed_escaped(client):
    body = client.get("/", {"q": '<b>"x', "date_from": "2026-01-01", "division": "abc"}).content.decode()
    assert (
        '<input type="search" name="q" id="id_q" value="&lt;b&gt;&quot;x" autocomplete="off" maxlength="200">'
        in body
    )
    assert '<input type="date" name="date_from" id="id_date_from" value="2026-01-01">' in body
    assert 'name="division" id="id_division" value="abc" maxlength="6" aria-invalid="true"' in body
    assert '<option value="" selected>' in body and "<b>" not in body


def test_a_throttle_window_starts_with_the_first_hit_and_ends_on_time():
    from django.core.cache import cache

    from credit_portal import ratelimit

    assert [ratelimit.allow("probe:10.0.0.1", limit=2, window=30) for _ in range(3)] == [True, True, False]
    client = cache._cache.get_client(write=True)
    key = cache.make_and_validate_key("ratelimit:probe:10.0.0.1")
    assert 0 < client.ttl(key) <= 30  # set once, by the first hit; later hits do not extend it
    client.expire(key, 1)
    ratelimit.allow("probe:10.0.0.1", limit=2, window=30)
    assert 0 < client.ttl(key) <= 1
    client.persist(key)  # a key left without a lifetime gets one at the next hit
    ratelimit.allow("probe:10.0.0.1", limit=2, window=30)
    assert 0 < client.ttl(key) <= 30


def test_a_page_costs_the_same_queries_for_few_or_many_records(client, reviewer, entity):
    actor = actor_for_user(reviewer)

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/", {"q": "腾讯"})
        assert response.status_code == 200
        # Counting every match of a common query costs more than the page: the page is read with one
        # row more instead, and no match is counted. Only the entities above the results are, among
        # their capped candidates: a window over at most ENTITY_CANDIDATES + 1 rows.
        counted = [q["sql"] for q in ctx.captured_queries if "count(" in q["sql"].lower()]
        assert len(counted) == 1
        assert (
            "count(*) OVER () AS total, row_number() OVER () AS n FROM (SELECT id, code, name_zh"
            in counted[0]
        )
        assert f"LIMIT {search.ENTITY_CANDIDATES + 1}) c) e " in counted[0]
        return len(ctx.captured_queries), len(response.context["results"])

    for n in range(5):
        services.record_create(actor=actor, data=punishment(entity, f"N-{n}"), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    count_queries()  # the filter choices are cached after the first request
    few = count_queries()
    for n in range(5, 40):
        services.record_create(actor=actor, data=punishment(entity, f"N-{n}"), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    many = count_queries()
    assert few[1] == 5 and many[1] == 20
    assert few[0] == many[0] <= 8


class TestPublicApi:
    def test_search_without_credentials(self, client, published):
        response = client.get("/api/v1/public/records/", {"q": "腾讯"})
        assert response.status_code == 200
        assert [r["decision_number"] for r in response.json()["results"]] == [
            "深市监罚〔2026〕1号",
            "深市监罚〔2026〕2号",
        ]
        response = client.get("/api/v1/public/records/", {"q": "深市监罚〔2026〕3号"})
        [person] = response.json()["results"]
        assert person["party_name"] == "王**"
        assert person["fields"]["legal_rep_name"] == "王**"
        assert f.resident_id() not in response.content.decode()

    def test_bad_filter_is_400(self, client):
        response = client.get("/api/v1/public/records/", {"date_from": "not-a-date"})
        assert response.status_code == 400
        assert "date_from" in response.json()["errors"]

    def test_throttled_per_client(self, client, published):
        from credit_portal.api.throttling import ClientRateThrottle

        original = ClientRateThrottle.THROTTLE_RATES
        ClientRateThrottle.THROTTLE_RATES = {**original, "anon": "2/min"}
        try:
            codes = [client.get("/api/v1/public/records/").status_code for _ in range(3)]
        finally:
            ClientRateThrottle.THROTTLE_RATES = original
        assert codes == [200, 200, 429]


def test_client_address_behind_a_trusted_proxy(rf, settings):
    from credit_portal.ratelimit import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.2", REMOTE_ADDR="10.0.0.1")
    settings.NUM_PROXIES = 0
    assert client_ip(request) == "10.0.0.1"  # without a trusted proxy the header is not believed
    settings.NUM_PROXIES = 1
    assert client_ip(request) == "10.0.0.2"
    settings.NUM_PROXIES = 2
    assert client_ip(request) == "203.0.113.7"


# --- "Back to search" keeps the search ------------------------------------------------------------


def back_link(html: str) -> str:
    match = re.search(r'<a href="([^"]*)">← Back to search</a>', html)
    assert match, "no Back to search link"
    return match.group(1).replace("&amp;", "&")


def test_search_results_carry_the_query_and_filters_to_the_record_and_back(client, published, entity):
    pk = published["fine"].pk
    search = client.get(
        "/", {"q": "深市监罚", "item": "admin_punishment", "date_from": "2026-01-01", "page": "1"}
    )
    html = search.content.decode()
    carried = "q=%E6%B7%B1%E5%B8%82%E7%9B%91%E7%BD%9A&amp;item=admin_punishment&amp;date_from=2026-01-01"
    assert f'<a href="/records/{pk}/?{carried}"><strong>' in html  # the search's page number is not carried

    record = client.get(
        f"/records/{pk}/", {"q": "深市监罚", "item": "admin_punishment", "date_from": "2026-01-01"}
    )
    assert back_link(record.content.decode()) == (
        "/?q=%E6%B7%B1%E5%B8%82%E7%9B%91%E7%BD%9A&item=admin_punishment&date_from=2026-01-01"
    )
    # The party's profile, reached from the record, still knows the search.
    assert f'<a href="/entities/{entity.code}/?{carried}" lang="zh-Hans">' in record.content.decode()


def test_the_entity_profile_keeps_the_search_in_its_links_and_back(client, published, entity):
    profile = client.get(f"/entities/{entity.code}/", {"q": entity.name_zh[:4], "division": "440305"})
    html = profile.content.decode()
    carried = urlencode({"q": entity.name_zh[:4], "division": "440305"})
    assert back_link(html) == f"/?{carried}"
    assert f'<a href="/records/{published["fine"].pk}/?{carried.replace("&", "&amp;")}"><strong>' in html


def test_back_to_search_drops_what_the_search_form_refuses(client, published):
    pk = published["fine"].pk
    record = client.get(
        f"/records/{pk}/",
        {
            "q": "  深市监罚 ",
            "division": "44",
            "date_to": "yesterday",
            "item": "no-such-item",
            "next": "//evil",
        },
    )
    assert back_link(record.content.decode()) == "/?q=%E6%B7%B1%E5%B8%82%E7%9B%91%E7%BD%9A"


def test_back_to_search_without_a_search_is_the_search_page(client, published, entity):
    assert back_link(client.get(f"/records/{published['fine'].pk}/").content.decode()) == "/"
    assert back_link(client.get(f"/entities/{entity.code}/").content.decode()) == "/"
