"""The markup that keeps pages readable on a narrow screen, checked in every template: each table
scrolls inside its own box or becomes stacked cards whose every cell says what it is, and every
button is one of the portal's three kinds. (tests/browser/test_narrow_screens.py measures the
rendered pages.)"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The credit report is a PDF (WeasyPrint, its own stylesheet), not a page of the site.
NOT_PAGES = {"reports/credit_report.html"}
TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.S)
BUTTON_KINDS = {"primary", "secondary", "danger"}


def pages() -> list[tuple[str, str]]:
    out = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name not in NOT_PAGES:
            out.append((name, path.read_text(encoding="utf-8")))
    return out


def test_every_table_is_in_its_own_scrolling_box():
    outside = []
    for name, text in pages():
        for match in TABLE.finditer(text):
            before = text[: match.start()].rstrip()
            if not before.endswith('<div class="table-wrap">') and not re.search(
                r'<div class="table-wrap">\s*$', before
            ):
                outside.append(f"{name}:{text[: match.start()].count(chr(10)) + 1}")
    assert outside == [], f"tables outside a .table-wrap (each its own): {outside}"


def test_every_cell_of_a_stacked_table_is_labelled():
    unlabelled = []
    stacked = 0
    for name, text in pages():
        for match in TABLE.finditer(text):
            attributes, body = match.groups()
            if not re.search(r'class="[^"]*\bstack\b', attributes):
                continue
            stacked += 1
            head = re.search(r"<thead>(.*?)</thead>", body, re.S).group(1)
            # Columns without a visible heading (actions) need no label; neither does a row's own
            # heading (th scope="row", the card's title) nor a cell across the row ("Nothing here").
            unnamed = head.count('<span class="visually-hidden">')
            rows = re.search(r"<tbody>(.*?)(\{% empty %\}|</tbody>)", body, re.S).group(1)
            cells = re.findall(r"<t[dh]\b[^>]*>", rows)
            bare = [
                c for c in cells if "data-label=" not in c and "colspan=" not in c and 'scope="row"' not in c
            ]
            if len(bare) > unnamed:
                unlabelled.append(f"{name}: {bare}")
    assert stacked >= 15, stacked  # the main lists of every door
    assert unlabelled == [], unlabelled


def test_every_button_is_primary_secondary_or_danger():
    odd = []
    for name, text in pages():
        for match in re.finditer(r"<button\b[^>]*>", text):
            tag = match.group(0)
            if name == "base.html" and 'name="language"' in tag:
                continue  # the language switch, drawn on the header bar
            classes = set(re.search(r'class="([^"]*)"', tag).group(1).split()) if "class=" in tag else set()
            if not classes & BUTTON_KINDS:
                odd.append(f"{name}: {tag}")
    assert odd == [], odd
