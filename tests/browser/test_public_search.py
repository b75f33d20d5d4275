"""The public door in a real browser: search by a Chinese name, open the profile, and get there by
keyboard; switch the page to Chinese.

The locators are what a person uses (roles, accessible names, visible text), not ids or layout, so
the tests hold while the look of the results changes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from records import services
from records.models import Person
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TENCENT_ZH = "深圳市腾讯计算机系统有限公司"
TENCENT_EN = "Shenzhen Tencent Computer Systems Co., Ltd."
NEIGHBOURS = ("腾飞讯达贸易有限公司", "广州市星辰科技有限公司")
# The search box's label; it names what can be searched, which may grow ("... or English name",
# "... or decision number"), so only its stable start is matched.
SEARCH_BOX = re.compile(r"^Name, unified social credit code")
Q_TENGXUN = re.compile(r"[?&]q=%E8%85%BE%E8%AE%AF(&|$)")  # ?q=腾讯


@pytest.fixture
def tencent(live_url):
    """The entity to find, and two neighbours that have its characters but not the word "腾讯"."""
    department = f.department("SZ-BROWSER")
    legal_rep_id = f.resident_id()
    entity = f.entity(
        department,
        code=f.uscc(),
        name_zh=TENCENT_ZH,
        name_en=TENCENT_EN,
        legal_representative=services.PersonInput(
            name="马某某", id_type=Person.IdType.RESIDENT_ID, id_number=legal_rep_id
        ),
    )
    f.entity(department, code=f.uscc(), name_zh=NEIGHBOURS[0], name_en="")
    f.entity(
        department,
        code=f.uscc(division="440106"),
        name_zh=NEIGHBOURS[1],
        name_en="Guangzhou Xingchen Technology Co., Ltd.",
        division="440106",
    )
    return entity, legal_rep_id


def test_search_by_chinese_name_and_open_the_public_profile(page, live_url, tencent):
    entity, legal_rep_id = tencent
    page.goto("/")

    search_box = page.get_by_role("search").get_by_role("searchbox", name=SEARCH_BOX)
    search_box.press_sequentially("腾讯")
    search_box.press("Enter")

    expect(page).to_have_url(Q_TENGXUN)
    main = page.get_by_role("main")
    profile_links = main.locator("a[href*='/entities/']")
    expect(profile_links).to_have_count(1)  # exactly the one entity, not its neighbours
    # The link carries the search along, for the profile's "Back to search".
    expect(profile_links).to_have_attribute("href", f"/entities/{entity.code}/?q=%E8%85%BE%E8%AE%AF")
    expect(profile_links).to_have_text(TENCENT_ZH)
    for name in NEIGHBOURS:
        expect(main.get_by_text(name)).to_have_count(0)

    main.get_by_role("link", name=TENCENT_ZH, exact=True).click()

    expect(page).to_have_url(f"{live_url}/entities/{entity.code}/?q=%E8%85%BE%E8%AE%AF")
    expect(page.get_by_role("heading", level=1)).to_have_text(TENCENT_ZH)
    expect(page.get_by_text(TENCENT_EN, exact=True).first).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text(entity.code)
    expect(main).to_contain_text("马某某")  # the legal representative by name and role, no number
    masked = legal_rep_id[:4] + "*" * 10 + legal_rep_id[-4:]
    expect(main).not_to_contain_text(masked)
    assert legal_rep_id not in page.content(), "the clear identity number reached the public page"

    # Back to the same search, not to an empty search box.
    main.get_by_role("link", name="← Back to search").click()
    expect(page).to_have_url(Q_TENGXUN)
    expect(page.get_by_role("search").get_by_role("searchbox", name=SEARCH_BOX)).to_have_value("腾讯")
    expect(page.get_by_role("main").locator("a[href*='/entities/']")).to_have_count(1)


def test_keyboard_reaches_skip_link_search_box_and_button(page, live_url):
    page.goto("/")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()  # shown when focused, not left off-screen

    search_box = page.get_by_role("search").get_by_role("searchbox", name=SEARCH_BOX)
    presses = _tab_until(page, search_box)
    assert presses <= 12, f"the search box took {presses} presses of Tab after the skip link"
    page.keyboard.type("腾讯")
    _tab_until(page, page.get_by_role("search").get_by_role("button", name="Search", exact=True))
    page.keyboard.press("Enter")  # the button, operated from the keyboard, runs the search

    expect(page).to_have_url(Q_TENGXUN)
    expect(search_box).to_have_value("腾讯")


def test_language_switch_turns_the_page_chinese(page, live_url):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="简体中文").click()

    expect(page.locator("html[lang='zh-Hans']")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("公共信用信息查询")
    expect(page.get_by_role("link", name="跳至主要内容")).to_be_attached()
    expect(page.get_by_role("button", name="简体中文")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "false")


def _tab_until(page, target, limit: int = 30) -> int:
    """Press Tab until ``target`` has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{target} was not reached in {limit} presses of Tab")
