"""Chinese and English search on core PostgreSQL (CJK bigrams in a simple tsvector)."""

import pytest
from django.db import connection

from records import search, selectors
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    [
        "深圳市腾讯计算机系统有限公司",
        "Shenzhen Tencent Computer Systems Co., Ltd.",
        "腾 讯 A1 b2 3号楼",
        "㐀㐁 豈更 mixed中文and English 2024年",
        "",
    ],
)
def test_python_tokens_match_the_sql_function(text):
    with connection.cursor() as cursor:
        cursor.execute("SELECT cp_search_tokens(%s)", [text])
        assert cursor.fetchone()[0] == search.tokens(text)


def test_query_parsing():
    assert search.parse("腾讯").tsquery == "('腾讯')"
    assert search.parse("腾讯科技").tsquery == "('腾讯' <-> '讯科' <-> '科技')"
    assert search.parse("Tencent tech").tsquery == "'tencent':* & 'tech':*"
    assert search.parse("腾").needs_substring_scan
    assert search.parse("  ").is_empty
    assert search.parse("'); DROP TABLE x; --").tsquery == "'drop':* & 'table':* & 'x':*"
    code = f.uscc()
    assert search.parse(code.lower()).code == code


@pytest.fixture
def entities(department):
    return {
        "tencent": f.entity(
            department,
            name_zh="深圳市腾讯计算机系统有限公司",
            name_en="Shenzhen Tencent Computer Systems Co., Ltd.",
        ),
        "tengxun_split": f.entity(department, name_zh="腾飞讯达贸易有限公司", name_en=""),
        "xingchen": f.entity(
            department,
            name_zh="广州市星辰科技有限公司",
            name_en="Guangzhou Xingchen Technology Co., Ltd.",
            division="440106",
        ),
        "ending": f.entity(department, name_zh="东方飞腾", name_en=""),
    }


def _names(qs):
    return [e.name_zh for e in qs]


def test_two_chinese_characters_find_the_name(entities):
    assert _names(selectors.entity_search("腾讯")) == ["深圳市腾讯计算机系统有限公司"]


def test_characters_must_be_adjacent(entities):
    # 腾飞讯达 has both characters but not next to each other.
    assert "腾飞讯达贸易有限公司" not in _names(selectors.entity_search("腾讯"))
    assert _names(selectors.entity_search("腾讯计算机")) == ["深圳市腾讯计算机系统有限公司"]
    assert _names(selectors.entity_search("腾讯科技")) == []


def test_english_words_and_prefixes(entities):
    assert _names(selectors.entity_search("tencent")) == ["深圳市腾讯计算机系统有限公司"]
    assert _names(selectors.entity_search("Xingchen Tech")) == ["广州市星辰科技有限公司"]
    assert _names(selectors.entity_search("COMPUTER systems")) == ["深圳市腾讯计算机系统有限公司"]


def test_exact_code(entities):
    code = entities["xingchen"].code
    assert _names(selectors.entity_search(code)) == ["广州市星辰科技有限公司"]
    assert _names(selectors.entity_search(code.lower())) == ["广州市星辰科技有限公司"]


def test_single_character_falls_back_to_a_substring_scan(entities):
    assert set(_names(selectors.entity_search("腾"))) == {
        "深圳市腾讯计算机系统有限公司",
        "腾飞讯达贸易有限公司",
        "东方飞腾",
    }


def test_division_filter_includes_children(entities):
    assert _names(selectors.entity_search("有限公司", division="440106")) == ["广州市星辰科技有限公司"]
    assert set(_names(selectors.entity_search("有限公司", division="440100"))) == {"广州市星辰科技有限公司"}


def test_shorter_names_rank_first_for_equal_matches(department):
    f.entity(department, name_zh="深圳市星辰科技有限公司第一分公司", name_en="")
    f.entity(department, name_zh="星辰科技", name_en="")
    assert _names(selectors.entity_search("星辰科技"))[0] == "星辰科技"


def test_the_gin_index_serves_the_query(entities):
    with connection.cursor() as cursor:
        # A handful of rows: forbid the scans a tiny table would prefer, leaving the bitmap scans an
        # index condition can drive.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        qs = selectors.entity_search("腾讯")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "entity_search_gin" in plan


def test_public_search_page_lists_matching_entities(client, entities):
    response = client.get("/", {"q": "腾讯"})
    assert response.status_code == 200
    assert [e.name_zh for e in response.context["entities"]] == ["深圳市腾讯计算机系统有限公司"]
    assert "深圳市腾讯计算机系统有限公司" in response.content.decode()
    assert client.get("/", {"q": "x" * 500}).status_code == 200  # over-long input: a form error, not a crash
