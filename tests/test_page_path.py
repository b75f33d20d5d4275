"""The search page's fast path: values escaped by ``markup`` exactly as ``format_html`` would, page
pieces kept per language, the exact hits read from the public index with the filters, the rate-limit
script surviving a flushed script cache, and the benchmark's records arriving in decision order."""

import itertools
from datetime import date

import pytest
from django.core.cache import cache, caches
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from credit_portal.web.markup import markup, markup_join
from tests.test_public_search import numbers, published  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def _clock(today):
    """The decisions in these tests are dated in 2026 and their disclosure periods are counted from
    them: run on a fixed day after them, not on whatever day the suite runs."""
    today(date(2026, 12, 4), tick=True)


# --- markup ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ['<script>alert("x")</script>', "a & b", "it's", 42, True, mark_safe("<b>kept</b>")]
)
def test_markup_writes_what_format_html_writes(value):
    assert markup("<p title='{}'>{}</p>", value, value) == format_html("<p title='{}'>{}</p>", value, value)
    assert isinstance(markup("{}", value), SafeString)


def test_markup_refuses_what_it_cannot_vouch_for():
    with pytest.raises(TypeError):
        markup("{}", gettext_lazy("All"))  # a lazy string: format_html would translate it first
    with pytest.raises(TypeError):
        markup("{}", None)
    assert markup_join("", "<li>{}</li>", [("<a>",), (1,)]) == "<li>&lt;a&gt;</li><li>1</li>"


# --- pieces of the page kept per process -------------------------------------------------------


def test_unchanging_page_pieces_are_kept_per_language(client, db):
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Public credit information search" in english and "Report misconduct" in english
    assert "Report misconduct" not in chinese and "Public credit information search" not in chinese
    assert 'aria-current="page">Public disclosure' in english  # the door's own link is marked
    assert "Public credit information search" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_kept_pieces_are_kept_in_the_process_not_in_redis(client, db):
    client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert caches["template_fragments"]._cache  # the footer, the search page's intro and filters, ...
    assert not [k for k in cache._cache.get_client().keys("*") if b"template.cache" in k]


def test_chosen_filters_are_not_taken_from_the_kept_filters(client, published, department):  # noqa: F811
    plain = client.get("/", {"q": "腾讯"}).content.decode()
    assert '<option value="" selected>' in plain and '<details class="filters" open>' not in plain
    chosen = client.get("/", {"q": "腾讯", "department": department.code}).content.decode()
    assert f'<option value="{department.code}" selected>' in chosen
    assert '<details class="filters" open>' in chosen
    again = client.get("/", {"q": "腾讯"}).content.decode()
    assert f'<option value="{department.code}" selected>' not in again


# --- exact hits ----------------------------------------------------------------------------------


def test_exact_hits_keep_to_the_filters(client, published, entity):  # noqa: F811
    everything = client.get("/", {"q": entity.code})
    assert len(everything.context["exact"]) == 3
    recent = client.get("/", {"q": entity.code, "date_from": "2026-09-01"})
    assert "深市监罚〔2026〕2号" not in numbers(recent)  # decided 2026-06-01
    assert {row.decision_number for row in recent.context["exact"]} == {
        "深市监罚〔2026〕1号",
        "深市监罚〔2026〕3号",
    }
    nothing = client.get("/", {"q": "91440300MA5G000000"})  # well formed, no such entity
    assert nothing.status_code == 200 and not nothing.context["exact"]


# --- the rate limit -------------------------------------------------------------------------------


def test_the_rate_limit_counts_on_after_redis_forgets_its_script():
    from credit_portal import ratelimit

    assert ratelimit.allow("probe:10.0.0.2", limit=2, window=30)
    cache._cache.get_client(write=True).script_flush()
    assert ratelimit.allow("probe:10.0.0.2", limit=2, window=30)
    assert not ratelimit.allow("probe:10.0.0.2", limit=2, window=30)


# --- the benchmark's data ------------------------------------------------------------------------


def test_bench_records_arrive_in_the_order_of_their_decisions():
    from devtools.bench import data

    entities = data.build_entities(500)
    context = data.Context(
        departments={code: i for i, code in enumerate(data.NUMBER_PREFIX, start=1)},
        department_names={code: code for code in data.NUMBER_PREFIX},
        punishment_item=1,
        permit_item=2,
        today=date(2026, 11, 28),
    )
    data.prepare(entities, context, records_total=data.CHUNK, history=4 * data.CHUNK)
    _chunk, text, rows = data.record_chunk(0)
    assert rows == data.CHUNK
    column = data.RECORD_COLUMNS.index("decision_date")
    dates = [date.fromisoformat(line.split("\t")[column]) for line in text.decode().splitlines()]
    # The first quarter of a four-chunk history: in order give or take a week, from the first
    # decisions on, and only its share of the years.
    assert max(abs((b - a).days) for a, b in itertools.pairwise(dates)) <= 7
    assert dates[0] < date(2019, 1, 15) and date(2020, 1, 1) < dates[-1] < date(2022, 1, 1)


# --- Latin words: whole words first ---------------------------------------------------------------


@pytest.fixture
def pinyin_names(reviewer, department):
    """Two entities whose English names share a start: Chengmin and Chengming."""
    from credit_portal.accounts.actors import actor_for_user
    from records import services
    from records.services import publication
    from tests import factories as f
    from tests.test_records import SWEEP, punishment

    actor = actor_for_user(reviewer)
    made = {}
    for n, (zh, en) in enumerate(
        [("深圳市诚民贸易有限公司", "Shenzhen Chengmin Trading Co., Ltd."),
         ("深圳市诚明科技有限公司", "Shenzhen Chengming Technology Co., Ltd.")], start=11,
    ):  # fmt: skip
        entity = f.entity(department, code=f.uscc(n=n), name_zh=zh, name_en=en)
        made[en.split()[1]] = services.record_create(
            actor=actor, data=punishment(entity, f"深市监罚〔2026〕{n}号"), provenance="api"
        )
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    return made


def test_a_latin_word_matches_whole_words_when_it_can(client, pinyin_names):
    whole = client.get("/", {"q": "chengmin"})
    assert numbers(whole) == ["深市监罚〔2026〕11号"]  # not Chengming's
    assert [e.name_en for e in whole.context["entities"]] == ["Shenzhen Chengmin Trading Co., Ltd."]
    start = client.get("/", {"q": "chengmi"})  # no whole word: the start of words
    assert sorted(numbers(start)) == ["深市监罚〔2026〕11号", "深市监罚〔2026〕12号"]
    assert len(start.context["entities"]) == 2
    assert numbers(client.get("/", {"q": "Chengming tech"})) == ["深市监罚〔2026〕12号"]  # "tech": a start


def test_the_public_api_matches_latin_words_as_the_page_does(client, pinyin_names):
    def api(q):
        return sorted(
            r["decision_number"] for r in client.get("/api/v1/public/records/", {"q": q}).json()["results"]
        )

    assert api("chengmin") == ["深市监罚〔2026〕11号"]
    assert api("chengmi") == ["深市监罚〔2026〕11号", "深市监罚〔2026〕12号"]


def test_whole_words_first_within_the_filters(client, pinyin_names, department):
    assert numbers(client.get("/", {"q": "chengmin", "date_from": "2026-01-01"})) == ["深市监罚〔2026〕11号"]
    both = numbers(client.get("/", {"q": "chengmi", "department": department.code, "date_to": "2026-12-31"}))
    assert sorted(both) == ["深市监罚〔2026〕11号", "深市监罚〔2026〕12号"]
    assert numbers(client.get("/", {"q": "chengmi", "date_from": "2026-10-01"})) == []  # decided 2026-09-30


# --- very common tokens left out of the index look-up ----------------------------------------------


def test_the_index_look_up_leaves_out_very_common_tokens():
    from records.search import index_tsquery

    common = frozenset({"深圳", "ltd"})
    assert index_tsquery("深圳泰佳", whole=False, leave_out=common) == "'圳泰' & '泰佳'"
    assert index_tsquery("Shenzhen Tencent Ltd", whole=True, leave_out=common) == "'shenzhen' & 'tencent'"
    assert index_tsquery("深圳", whole=False, leave_out=common) is None  # nothing rarer to go by
    assert index_tsquery("泰佳", whole=False, leave_out=common) is None  # nothing left out


def test_results_are_the_same_when_common_tokens_are_left_out(client, published, monkeypatch):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from disclosure import search

    asked = ["腾讯计算机", "腾讯科技", "深圳市腾讯", "Tencent Computer", "Tencent Ltd"]
    plain = {q: numbers(client.get("/", {"q": q})) for q in asked}
    monkeypatch.setattr(search, "_common_tokens", lambda: frozenset({"腾讯", "深圳", "ltd"}))
    with CaptureQueriesContext(connection) as statements:
        narrowed = {q: numbers(client.get("/", {"q": q})) for q in asked}
    assert narrowed == plain
    assert plain["腾讯计算机"] and plain["Tencent Ltd"] and not plain["腾讯科技"]  # adjacency still checked
    assert any("ts_match_vq(search_vector" in s["sql"] for s in statements.captured_queries)


def test_a_page_past_the_last_counts_what_there_is(client, published):  # noqa: F811
    from disclosure import search

    assert search.search_records(search.PublicQuery(q="腾讯"), page=1, page_size=1).capped
    past = search.search_records(search.PublicQuery(q="腾讯"), page=5, page_size=1, load=False)
    assert (past.ids, past.count, past.capped) == ([], 2, False)
    browse = search.search_records(
        search.PublicQuery(item="admin_punishment"), page=9, page_size=1, load=False
    )
    assert (browse.ids, browse.count) == ([], 4)
    response = client.get("/", {"q": "腾讯", "page": 7})
    assert response.context["count"] == 2 and not response.context["results"]
