"""The public disclosure search: published records and entities, by Chinese name (two characters
are enough), English words, unified social credit code or decision document number.

Relevance first, then date: exact hits on a code or a decision number come first, then text matches
newest first. Text matches are read from the public index (``disclosure.models.PublicIndexEntry``),
a narrow table in publication order, in one statement that asks for one row more than the page:
PostgreSQL walks the date index for a common query (a page is a few pages of the table) and reads
the GIN index for a rare one. Its choice rests on detailed statistics of the index's tokens. An exact
total is given when the results fit the page; otherwise "more than N", because counting every match
of a common query costs more than the page. See docs/adr/0002.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from credit_portal.accounts.models import Department
from credit_portal.accounts.selectors import division_and_children
from credit_portal.memo import per_process
from credit_portal.web.markup import markup
from credit_portal.web.reversing import url_maker
from records import search as text_search
from records.identifiers import normalise_uscc
from records.models import CatalogueItem, CreditRecord, EntityType, MarketEntity

LONE_CHARACTER_WINDOW = 5_000
# Entities ranked by name length: among this many matches (a common bigram has tens of thousands;
# at 1M entities, reading 1,000 of them cost 17 ms a search, 300 cost 6 and, for a term of a few
# thousand entities, 3–7 ms at p95 with every page in memory; 100 cost a third of that). The page
# shows ten: among a term's thousands of entities, any hundred are as good a sample as three hundred.
ENTITY_CANDIDATES = 100
COUNT_CAP = 200  # rows of a search export
EXACT_HITS = 50  # exact hits on a code or a decision number, newest first; an entity's page lists all
# The full list of the entities matching a search (/entities/?q=): the first this many matches by
# registration, shortest names first, in pages; beyond, it says "more than" and asks to narrow.
ENTITY_LIST_CAP = 1000
PUBLIC_STATUSES = CreditRecord.LIVE_STATUSES
_RELATED = ("entity", "item", "department")


@dataclass(frozen=True)
class PublicQuery:
    q: str = ""
    item: str = ""
    department: str = ""
    division: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def is_empty(self) -> bool:
        return not any(
            (self.q.strip(), self.item, self.department, self.division, self.date_from, self.date_to)
        )

    @property
    def text(self) -> str:
        return " ".join(self.q.split())[:200]


def published() -> QuerySet[CreditRecord]:
    """Records the public may see: public items, published, and standing."""
    return CreditRecord.objects.filter(
        disclosure=CreditRecord.Disclosure.PUBLISHED, status__in=PUBLIC_STATUSES
    )


def _filtered(qs: QuerySet[CreditRecord], query: PublicQuery) -> QuerySet[CreditRecord]:
    if query.item:
        qs = qs.filter(item__code=query.item)
    if query.department:
        qs = qs.filter(department__code=query.department)
    if query.division:
        qs = qs.filter(entity__division_id__in=division_and_children(query.division))
    if query.date_from:
        qs = qs.filter(decision_date__gte=query.date_from)
    if query.date_to:
        qs = qs.filter(decision_date__lte=query.date_to)
    return qs


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def exact_condition(text: str) -> Q:
    """Records whose decision number is ``text``, or whose entity has the code ``text``. The entity
    is resolved first, so that the condition stays on indexed columns of the records table alone
    (an OR across a join would scan every record)."""
    condition = Q(decision_number=text)
    code = normalise_uscc(text)
    if len(code) == 18:
        entity_id = MarketEntity.objects.filter(code=code).values_list("pk", flat=True).first()
        if entity_id is not None:
            condition |= Q(entity_id=entity_id)
    return condition


@dataclass
class SearchPage:
    """One page of results: exact hits, then text matches newest first. ``exact`` and ``records``
    are loaded only when asked for (``load=True``); ``exact_ids`` and ``ids`` always say which."""

    exact: list[CreditRecord]
    records: list[CreditRecord]
    count: int  # text matches: exact when not ``capped``, else those up to the end of this page
    capped: bool  # there are more matches than this page shows
    has_next: bool
    number: int
    page_size: int
    ids: list[int] = field(default_factory=list, repr=False)
    exact_ids: list[int] = field(default_factory=list, repr=False)
    lines: list[tuple] = field(default_factory=list, repr=False)  # with line_columns: the ids' rows
    exact_lines: list[tuple] = field(default_factory=list, repr=False)  # and the exact hits'

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1


def _index_conditions(query: PublicQuery) -> list[tuple[str, str, object]]:
    """The filters as conditions on the public index's columns, ``(column, operator, value)``, the
    codes of an item or a department resolved to ids once (a search states them up to three times)."""
    conditions: list[tuple[str, str, object]] = []
    if query.item:
        item = CatalogueItem.objects.filter(code=query.item).values_list("pk", flat=True).first()
        conditions.append(("item_id", "= %s", item or 0))
    if query.department:
        department = Department.objects.filter(code=query.department).values_list("pk", flat=True).first()
        conditions.append(("department_id", "= %s", department or 0))
    if query.division:
        conditions.append(("division_id", "= ANY(%s)", division_and_children(query.division)))
    if query.date_from:
        conditions.append(("decision_date", ">= %s", query.date_from))
    if query.date_to:
        conditions.append(("decision_date", "<= %s", query.date_to))
    return conditions


def _where(conditions: list[tuple[str, str, object]], alias: str = "") -> tuple[list[str], list]:
    """SQL conditions and their values, the columns qualified by ``alias`` when given."""
    p = f"{alias}." if alias else ""
    return [f"{p}{column} {operator}" for column, operator, _ in conditions], [v for _, _, v in conditions]


# A token in more of the public index's rows than this is left out of a GIN look-up that has rarer
# tokens to go by (the rows found are checked against the whole query).
COMMON_TOKEN_SHARE = 0.02


@per_process(seconds=3600)
def _common_tokens() -> frozenset[str]:
    """The public index's tokens in more than COMMON_TOKEN_SHARE of its rows, from PostgreSQL's
    statistics of the column (kept detailed: migration 0005; refreshed by autovacuum's ANALYZE).
    Empty before the table is first analysed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = 'disclosure_publicindexentry' "
            "AND attname = 'search_vector'"
        )
        row = cursor.fetchone()
    if not row or not row[0]:
        return frozenset()
    elements, frequencies = row
    return frozenset(e for e, share in zip(elements, frequencies, strict=False) if share > COMMON_TOKEN_SHARE)


def _exact_sql(text: str, conditions: list) -> tuple[str, list]:
    """The published records whose decision number is ``text`` or whose entity has the code
    ``text``, newest first, at most EXACT_HITS: ``record_id, decision_date, decision_number``. On the public
    index joined to the records: the index holds exactly the published, standing records, and its
    columns carry the filters. (The condition of ``exact_condition``, written out: this is the search
    page's path, and the ORM's compilation of it cost more than running it.)"""
    condition, params = "r.decision_number = %s", [text]
    code = normalise_uscc(text)
    if len(code) == 18:
        condition = (
            "(r.decision_number = %s OR r.entity_id = (SELECT id FROM records_marketentity WHERE code = %s))"
        )
        params.append(code)
    where, filter_params = _where(conditions, alias="p")
    sql = (
        "SELECT p.record_id, p.decision_date, r.decision_number FROM records_creditrecord r "  # noqa: S608 - fixed fragments, values bound
        "JOIN disclosure_publicindexentry p ON p.record_id = r.id "
        f"WHERE {' AND '.join([condition, *where])} "
        f"ORDER BY p.decision_date DESC, p.record_id DESC LIMIT {int(EXACT_HITS)}"
    )
    return sql, [*params, *filter_params]


def _match_sql(
    query: PublicQuery, parsed: text_search.ParsedQuery, conditions: list, *, whole: bool = False
) -> tuple[str, list] | None:
    """The text matches newest first: ``record_id, decision_date`` with its WHERE conditions open
    for more (the caller adds ``AND ...``, then the order and the limit). PostgreSQL walks the date
    index for a common query and reads the GIN index for a rare one (its statistics on the index's
    tokens are kept detailed for that: migration 0005). With ``whole``, Latin words match whole
    words only. None when nothing in the text can match."""
    where, params = _where(conditions)
    if parsed.tsquery:
        full = parsed.whole_tsquery if whole else parsed.tsquery
        narrow = text_search.index_tsquery(query.text, whole=whole, leave_out=_common_tokens())
        if narrow:
            # The GIN look-up without the very common tokens ("深圳" in "深圳泰佳": a tenth of the
            # index, hundreds of its pages); the whole query, a function call the planner does not
            # take to the index, checked on the rows found.
            where += ["search_vector @@ %s::tsquery", "ts_match_vq(search_vector, %s::tsquery)"]
            params += [narrow, full]
        else:
            where.append("search_vector @@ %s::tsquery")
            params.append(full)
        source = "disclosure_publicindexentry"
    elif parsed.needs_substring_scan:
        # A lone Chinese character: no bigram holds it. Look at the party names of the newest
        # published rows only, never the whole table.
        where.append(
            "EXISTS (SELECT 1 FROM records_creditrecord r WHERE r.id = w.record_id AND r.party_name LIKE %s)"
        )
        params.append(contains_pattern(query.text))
        source = (
            "(SELECT * FROM disclosure_publicindexentry ORDER BY decision_date DESC, record_id DESC "  # noqa: S608
            f"LIMIT {int(LONE_CHARACTER_WINDOW)}) w"
        )
    else:
        return None
    return f"SELECT record_id, decision_date FROM {source} WHERE {' AND '.join(where)}", params  # noqa: S608


def _line_sql(line_columns: str) -> tuple[str, str]:
    """The select-list addition and the joins that bring ``line_columns`` (of the record ``r`` and its
    entity ``e``) to rows of the public index aliased ``h``; nothing for the ids alone."""
    if not line_columns:
        return "", ""
    return (
        f", {line_columns}",
        " JOIN records_creditrecord r ON r.id = h.record_id JOIN records_marketentity e ON e.id = r.entity_id",
    )


def _exact_and_matches(
    query: PublicQuery, *, limit: int, offset: int, line_columns: str
) -> tuple[list[tuple], list[tuple]]:
    """(exact hits, text matches) in one statement. Exact hits: rows of ``(id, decision number,
    *line_columns)``, at most EXACT_HITS. Text matches: ``limit`` rows of ``(id, *line_columns)`` after the
    first ``offset``, leaving out the exact hits; none at all when the text is a unified social credit
    code or a decision number that an exact hit has in full (matching the common bigrams of a number,
    "市监", "2024", across the index would cost more than the page and add nothing).
    ``line_columns``: columns of the record (``r``) and its entity (``e``) for each row, or "" for
    the ids alone."""
    text = query.text
    parsed = text_search.parse(text)
    conditions = _index_conditions(query)
    exact_sql, params = _exact_sql(text, conditions)
    ctes = [f"exact AS MATERIALIZED ({exact_sql})"]
    match = None if parsed.code else _match_sql(query, parsed, conditions)
    if match is not None:
        tail = (
            "AND record_id <> ALL(ARRAY(SELECT record_id FROM exact)) "
            "AND NOT EXISTS (SELECT 1 FROM exact WHERE decision_number = %s) "
            "ORDER BY decision_date DESC, record_id DESC LIMIT %s OFFSET %s"
        )
        if parsed.has_prefixes:
            # Latin words match whole words; only when the words match no whole word, with the
            # filters, do they match words that begin with them ("tech" -> "technology"). A prefix
            # that is itself a word expands to every longer word ("chengmin" -> "chengming", fifteen
            # times the rows), which a person who typed the whole word did not ask for.
            whole_sql, whole_params = _match_sql(query, parsed, conditions, whole=True)
            prefix_sql, prefix_params = match
            body = f"({whole_sql} {tail}) UNION ALL ({prefix_sql} AND NOT EXISTS ({whole_sql}) {tail})"
            params += [*whole_params, text, limit, offset, *prefix_params, *whole_params, text, limit, offset]
        else:
            body = f"{match[0]} {tail}"
            params += [*match[1], text, limit, offset]
        ctes.append(f"matches AS MATERIALIZED ({body})")
    columns, joins = _line_sql(line_columns)
    # Fixed fragments: the columns are the caller's constant, the values all bound.
    branches = [f"SELECT true, h.record_id, h.decision_date, h.decision_number{columns} FROM exact h{joins}"]  # noqa: S608
    if match is not None:
        branches.append(f"SELECT false, h.record_id, h.decision_date, NULL{columns} FROM matches h{joins}")  # noqa: S608
    sql = f"WITH {', '.join(ctes)} {' UNION ALL '.join(branches)} ORDER BY 1 DESC, 3 DESC, 2 DESC"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    exact = [(row[1], row[3], *row[4:]) for row in rows if row[0]]
    matches = [(row[1], *row[4:]) for row in rows if not row[0]]
    return exact, matches


def _in_order(ids: list[int]) -> list[CreditRecord]:
    found = CreditRecord.objects.select_related(*_RELATED).in_bulk(ids)
    return [found[i] for i in ids if i in found]


def search_records(
    query: PublicQuery, *, page: int = 1, page_size: int = 20, load: bool = True, line_columns: str = ""
) -> SearchPage:
    """A page of published records for ``query``: exact hits (page 1 only), then text matches.

    The page is read with one row more than it shows, which says whether there is a next page; the
    total is known only when there is not (a common query's exact total would cost more than the
    page), so a full page says "more than N". With ``load=False`` only the ids are returned; with
    ``line_columns`` too (see ``_exact_and_matches``), the rows come with those columns in
    ``exact_lines`` and ``lines``, read in the same statement as the search (the search page's
    lines, ``disclosure.presentation``)."""
    offset = (page - 1) * page_size

    def read(limit: int, offset: int, line_columns: str = "") -> tuple[list[tuple], list[tuple]]:
        if query.text:
            return _exact_and_matches(query, limit=limit, offset=offset, line_columns=line_columns)
        return [], _browse(query, limit=limit, offset=offset, line_columns=line_columns)

    exact, rows = read(page_size + 1, offset, line_columns)
    count = offset + min(len(rows), page_size)
    if offset and not rows:
        # A page past the last one (an old link, a number typed in): count what there is, so that
        # the page does not claim the matches of the pages before it.
        count = len(read(offset, 0)[1])
    has_next = len(rows) > page_size
    rows = rows[:page_size]
    page_ids = [row[0] for row in rows]
    shown_exact = exact if page == 1 else []
    exact_ids = [row[0] for row in shown_exact]
    with_lines = bool(line_columns)
    return SearchPage(
        exact=_in_order(exact_ids) if load else [],
        records=_in_order(page_ids) if load else [],
        count=count,
        capped=has_next,
        has_next=has_next,
        number=page,
        page_size=page_size,
        ids=page_ids,
        exact_ids=exact_ids,
        lines=rows if with_lines else [],
        exact_lines=[(row[0], *row[2:]) for row in shown_exact] if with_lines else [],
    )


def _browse(query: PublicQuery, *, limit: int, offset: int, line_columns: str) -> list[tuple]:
    """Filters without text: the newest matching index rows, ``(id, *line_columns)``, ``limit`` of
    them after the first ``offset``."""
    where, params = _where(_index_conditions(query))
    columns, joins = _line_sql(line_columns)
    sql = (
        f"SELECT h.record_id{columns} FROM (SELECT record_id, decision_date FROM disclosure_publicindexentry "  # noqa: S608 - fixed fragments, values bound
        f"WHERE {' AND '.join(where) or 'true'} ORDER BY decision_date DESC, record_id DESC LIMIT %s OFFSET %s) h"
        f"{joins} ORDER BY h.decision_date DESC, h.record_id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        return cursor.fetchall()


@dataclass(frozen=True)
class EntityHit:
    """An entity as the search page lists it."""

    code: str
    name_zh: str
    name_en: str
    entity_type: str  # its label in the active language
    division_name: str
    url: str  # its public profile

    def html(self) -> SafeString:
        """The entity as a line of the search page's list, every value escaped."""
        english = markup('<span lang="en"> · {}</span>', self.name_en) if self.name_en else ""
        return markup(
            '<li><a href="{}"><strong lang="zh-Hans">{}</strong></a>{}\n'
            '  <div class="meta"><span class="code">{}</span> · {} · {}</div></li>\n',
            self.url, self.name_zh, english, self.code, self.entity_type, self.division_name,
        )  # fmt: skip


@dataclass(frozen=True)
class EntityMatches:
    """The entities matching a search as a page lists them: ``hits``, the page's; ``count``, how
    many match among the first ``cap`` read (the exact number unless ``more``: then more than
    ``cap`` match, and ``count`` is ``cap``)."""

    hits: list[EntityHit]
    count: int
    more: bool
    cap: int


def search_entities(text: str, *, division: str = "", limit: int = 10) -> list[EntityHit]:
    """The entities of ``entity_matches``, without their count."""
    return entity_matches(text, division=division, limit=limit).hits


def entity_matches(
    text: str,
    *,
    division: str = "",
    limit: int = 10,
    offset: int = 0,
    cap: int | None = None,
    registry_order: bool = False,
) -> EntityMatches:
    """Entities for the search box: the exact code, else names, shortest first, in one statement,
    with the number of matches among the candidates.

    Shortest first among the first ``cap`` matches (ENTITY_CANDIDATES on the search page): ranking
    every match of a common word ("有限") would read the whole registry. The candidates are read
    with the columns the page shows, so ordering and counting them needs no second visit to the
    table. With ``registry_order`` the candidates are the first ``cap`` matches by registration
    (id), so that the pages of the full list (``offset``) are pages of one and the same set."""
    text = " ".join(text.split())[:200]
    cap = ENTITY_CANDIDATES if cap is None else cap
    none = EntityMatches(hits=[], count=0, more=False, cap=cap)
    if not text:
        return none
    where, params = [], []
    if division:
        where.append("division_id = ANY(%s)")
        params.append(division_and_children(division))
    code = normalise_uscc(text)
    parsed = text_search.parse(text)
    options = {"limit": limit, "offset": offset, "cap": cap, "registry_order": registry_order}
    if len(code) == 18:
        found = _entity_hits(
            [*where, "code = %s"], [*params, code], limit=1, offset=0, cap=1, registry_order=False
        )
        if found.hits:
            return EntityMatches(hits=found.hits if not offset else [], count=1, more=False, cap=cap)
    if parsed.tsquery and parsed.has_prefixes:
        # As for the records: Latin words whole, or as the start of words when none matches whole.
        whole = [*where, "search_vector @@ %s::tsquery"], [*params, parsed.whole_tsquery]
        prefix = [*where, "search_vector @@ %s::tsquery"], [*params, parsed.tsquery]
        return _entity_hits(*whole, else_prefix=prefix, **options)
    if parsed.tsquery:
        where.append("search_vector @@ %s::tsquery")
        params.append(parsed.tsquery)
    elif parsed.needs_substring_scan:
        where.append("name_zh LIKE %s")
        params.append(contains_pattern(text))
    else:
        return none
    return _entity_hits(where, params, **options)


_ENTITY_CANDIDATE = (
    "SELECT id, code, name_zh, name_en, entity_type, division_id FROM records_marketentity WHERE "
)


def _entity_hits(
    where: list[str],
    params: list,
    *,
    limit: int,
    offset: int,
    cap: int,
    registry_order: bool,
    else_prefix: tuple[list[str], list] | None = None,
) -> EntityMatches:
    """The entities matching ``where``; or, with ``else_prefix`` and none matching ``where``, those
    matching ``else_prefix``. One more candidate than ``cap`` is read, which says whether there are
    more; they are counted by a window over the candidates, never over every match."""
    order = " ORDER BY id" if registry_order else ""
    candidates = f"{_ENTITY_CANDIDATE}{' AND '.join(where)}{order} LIMIT %s"
    values = [*params, cap + 1]
    if else_prefix is not None:
        prefix_where, prefix_params = else_prefix
        candidates = (
            f"({candidates}) UNION ALL ({_ENTITY_CANDIDATE}{' AND '.join(prefix_where)} "  # noqa: S608 - fixed fragments, values bound
            f"AND NOT EXISTS (SELECT 1 FROM records_marketentity WHERE {' AND '.join(where)}){order} LIMIT %s)"
        )
        values += [*prefix_params, *params, cap + 1]
    # The candidates numbered (by registration when that is their order) and counted; the one read
    # beyond ``cap`` only says that there are more, and is not shown.
    numbered = f"SELECT c.*, count(*) OVER () AS total, row_number() OVER ({order.strip()}) AS n FROM ({candidates}) c"  # noqa: S608 - fixed fragments
    sql = (
        "SELECT e.code, e.name_zh, e.name_en, e.entity_type, d.name_zh, d.name_en, e.total "  # noqa: S608 - fixed fragments, values bound
        f"FROM ({numbered}) e "
        "LEFT JOIN accounts_division d ON d.code = e.division_id "
        "WHERE e.n <= %s ORDER BY length(e.name_zh), e.id LIMIT %s OFFSET %s"
    )
    english = (get_language() or "").startswith("en")
    profile = url_maker("public:entity")
    kinds = {value: str(label) for value, label in EntityType.choices}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, cap, limit, offset])
        rows = cursor.fetchall()
    hits = [
        EntityHit(
            code=code,
            name_zh=zh,
            name_en=en or "",
            entity_type=kinds.get(kind, kind),
            division_name=(d_en if english and d_en else d_zh) or "",
            url=profile(code),
        )
        for code, zh, en, kind, d_zh, d_en, _total in rows
    ]
    total = rows[0][-1] if rows else 0
    return EntityMatches(hits=hits, count=min(total, cap), more=total > cap, cap=cap)


def entity_records(entity: MarketEntity) -> QuerySet[CreditRecord]:
    return (
        published()
        .filter(entity=entity)
        .select_related("item", "department")
        .order_by("-decision_date", "-id")
    )
