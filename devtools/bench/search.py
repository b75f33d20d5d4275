"""The public search measured in process: ``GET /?q=...`` through ``django.test.Client`` (every request
from a different REMOTE_ADDR, so the per-client rate limit never triggers), with the time of every SQL
statement the view runs taken by a ``connection.execute_wrapper``; and, over the same records table,
pg_trgm and ILIKE for comparison."""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, OperationalError, connection, transaction
from django.test import Client

from disclosure.search import ENTITY_CANDIDATES, contains_pattern
from records import search as text_search

LIVE = ("effective", "under_objection", "corrected")

KINDS: list[tuple[str, str]] = [
    ("zh2_rare", "zh 2-char, rare"),
    ("zh2_medium", "zh 2-char, medium"),
    ("zh2_common", "zh 2-char, very common"),
    ("zh4", "zh 4-char"),
    ("zh4_common", "zh 4-char, very common"),
    ("en", "English word"),
    ("en_common", "English word, very common"),
    ("uscc", "credit code (exact)"),
    ("decision", "decision number (exact)"),
]
CJK_KINDS = ("zh2_rare", "zh2_medium", "zh2_common", "zh4", "zh4_common")
WARMUP_BUDGET = 30.0  # seconds of warm-up per kind at most
COMPARE_BUDGET = 90.0  # seconds per comparison column and kind at most

# Which statement of the view a SQL text is. The view has changed shape over time (a paginator over
# the records table; then a public index read through a window), so this goes by what a statement
# reads and how, not by its exact text:
#   match       the text match: ``search_vector @@ query`` on the records table or the public index
#               (since the search reads exact hits, matches and the page's lines in one statement,
#               that statement: its time is the whole search's)
#   count       a count of matches or of index rows, capped by a LIMIT inside
#   full_count  an uncapped COUNT(*) of every match (a Paginator's)
#   rows        the page's records fetched by id (earlier versions: now the search's statement reads them)
#   exact       the exact match on a decision number or a credit code (LIMIT 50), alone: the same
#               one statement when the text is a code or matches nothing by its tokens
#   entities    the market entities shown above the results
#   other       the rest (the form's choices, the registry look-up of a code, ...)
CATEGORIES = ("match", "count", "full_count", "rows", "exact", "entities", "other")
_FROM = re.compile(r'\bFROM\s+"?([a-z_]+)"?')
_LIMIT = re.compile(r"LIMIT (\d+)(?:\s+OFFSET \d+)?\s*$")


def classify(sql: str) -> str:
    text = sql.lstrip()
    head = text[:60].upper()
    table = _FROM.search(text)
    table = table.group(1) if table else ""
    if head.startswith('SELECT COUNT(*) AS "__COUNT"'):
        return "full_count"
    if head.startswith("SELECT COUNT(*) FROM (SELECT"):
        return "count"
    if table == "records_marketentity":
        return "entities"
    if head.startswith("WITH EXACT AS"):  # exact hits, text matches and lines in one statement
        return "match" if " matches AS " in text else "exact"
    if "@@" in text and table in ("records_creditrecord", "disclosure_publicindexentry"):
        return "match"
    if table == "records_creditrecord":
        limit = _LIMIT.search(text)
        if limit and int(limit.group(1)) == 50:
            return "exact"
        if '"records_creditrecord"."id" IN (' in text or "WHERE r.id = ANY(" in text:
            return "rows"
    return "other"


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


# ---------------------------------------------------------------------------------------------
# Terms, drawn from the data
# ---------------------------------------------------------------------------------------------
@dataclass
class Terms:
    by_kind: dict[str, list[str]]
    share: dict[str, dict[str, float]]  # kind -> term -> share of published records matching (sample)
    sample_size: int
    published: int


def _cjk_runs(text: str) -> list[str]:
    return re.findall(f"[{text_search.CJK}]+", text)


def draw_terms(seed: int = 42, sample_target: int = 60_000) -> Terms:
    """Sample published records and cut query terms from them, bucketed by how many records match."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM records_creditrecord WHERE disclosure = 'published' AND status = ANY(%s)",
            [list(LIVE)],
        )
        published = cursor.fetchone()[0]
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'records_creditrecord'::regclass")
        total = max(cursor.fetchone()[0], published, 1)
        percent = min(100.0, 100.0 * sample_target * 1.3 / total)
        cursor.execute(
            f"""
            SELECT r.party_name, r.party_name_en, r.decision_number, e.code
              FROM records_creditrecord r TABLESAMPLE SYSTEM ({percent:.4f}) REPEATABLE (7)
              JOIN records_marketentity e ON e.id = r.entity_id
             WHERE r.disclosure = 'published' AND r.status = ANY(%s)
             LIMIT %s
            """,  # noqa: S608 - a number formatted here
            [list(LIVE), sample_target],
        )
        rows = cursor.fetchall()
    n = max(len(rows), 1)
    bigram_df: Counter[str] = Counter()
    quad_df: Counter[str] = Counter()
    word_df: Counter[str] = Counter()
    for name, name_en, _number, _code in rows:
        bigrams, quads = set(), set()
        for run in _cjk_runs(name):
            bigrams.update(run[i : i + 2] for i in range(len(run) - 1))
            quads.update(run[i : i + 4] for i in range(len(run) - 3))
        bigram_df.update(bigrams)
        quad_df.update(quads)
        word_df.update(
            {w for w in re.findall(r"[a-z0-9]+", name_en.lower()) if len(w) >= 3 and not w.isdigit()}
        )

    # Share of records whose whole document (name, English name, decision number) matches a token.
    doc_df: Counter[str] = Counter()
    for name, name_en, number, _code in rows:
        doc_df.update(set(text_search.tokens(f"{name} {name_en} {number}")))

    def bucket(
        df: Counter[str], low: float, high: float, *, max_count: int | None = None
    ) -> dict[str, float]:
        out = {}
        for term, count in df.items():
            share = count / n
            if low <= share < high and (max_count is None or count <= max_count):
                out[term] = share
        return out

    share = {
        "zh2_rare": bucket(bigram_df, 0, 1, max_count=2),
        "zh2_medium": bucket(bigram_df, 0.002, 0.05),
        "zh2_common": bucket(bigram_df, 0.15, 1.01),
        "zh4": bucket(quad_df, 0, 0.05),
        "zh4_common": bucket(quad_df, 0.15, 1.01),
        "en": bucket(word_df, 0, 0.05),
        "en_common": bucket(word_df, 0.15, 1.01),
    }
    # The bigram estimate counts the document's tokens, including the decision number (市监, 监罚...).
    for term in share["zh2_rare"] | share["zh2_medium"] | share["zh2_common"]:
        for kind in ("zh2_rare", "zh2_medium", "zh2_common"):
            if term in share[kind]:
                share[kind][term] = doc_df.get(term, 0) / n or share[kind][term]
    rng = random.Random(seed)  # noqa: S311 - choosing benchmark queries
    by_kind: dict[str, list[str]] = {}
    for kind, terms in share.items():
        pool = sorted(terms)
        rng.shuffle(pool)
        by_kind[kind] = pool
    by_kind["uscc"] = rng.sample(sorted({r[3] for r in rows}), min(5000, len({r[3] for r in rows})))
    by_kind["decision"] = rng.sample(sorted({r[2] for r in rows}), min(5000, len({r[2] for r in rows})))
    share["uscc"] = {}
    share["decision"] = {}
    return Terms(by_kind=by_kind, share=share, sample_size=len(rows), published=published)


# ---------------------------------------------------------------------------------------------
# The buffer cache
# ---------------------------------------------------------------------------------------------
# What every search reads: the public index with its text and date indexes, and the entities with
# their text index. A server that has been answering searches holds them in shared_buffers; a
# database just generated (or a server just restarted) holds the generator's last pages instead.
HOT_RELATIONS = (
    "disclosure_publicindexentry", "public_index_search_gin", "public_index_date_idx",
    "disclosure_publicindexentry_pkey", "records_marketentity", "entity_search_gin",
)  # fmt: skip


@dataclass
class Prewarm:
    available: bool
    pages: dict[str, int] = field(default_factory=dict)
    shared_buffers_pages: int = 0

    @property
    def fits(self) -> bool:
        return sum(self.pages.values()) <= self.shared_buffers_pages


def prewarm() -> Prewarm:
    """Load HOT_RELATIONS into shared_buffers with pg_prewarm (PostgreSQL's contrib module), when
    the server has it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting::bigint FROM pg_settings WHERE name = 'shared_buffers'")
        buffers = cursor.fetchone()[0]
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm'")
        if cursor.fetchone() is None:
            return Prewarm(available=False, shared_buffers_pages=buffers)
        try:
            with transaction.atomic():
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except DatabaseError:  # installing it needs a superuser: measure without
            return Prewarm(available=False, shared_buffers_pages=buffers)
        pages = {}
        for relation in HOT_RELATIONS:
            cursor.execute("SELECT pg_prewarm(%s::regclass)", [relation])
            pages[relation] = cursor.fetchone()[0]
    return Prewarm(available=True, pages=pages, shared_buffers_pages=buffers)


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------
@dataclass
class Sample:
    term: str
    server_ms: float
    status: int
    sql_ms: dict[str, float]
    statements: list[tuple[str, float, str, object]]


@dataclass
class KindResult:
    kind: str
    label: str
    samples: list[Sample] = field(default_factory=list)
    distinct_terms: int = 0
    share_median: float | None = None
    compare: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # name -> (ms, rows)

    def server(self) -> list[float]:
        return [s.server_ms for s in self.samples]

    def sql(self, category: str) -> list[float]:
        return [s.sql_ms[category] for s in self.samples if category in s.sql_ms]


class SqlTimer:
    def __init__(self) -> None:
        self.statements: list[tuple[str, float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((classify(sql), (time.perf_counter() - t0) * 1000, sql, params))


class Requester:
    """``GET /?q=term`` with a new client address every time."""

    def __init__(self) -> None:
        self.client = Client(HTTP_HOST="localhost")
        self.counter = 0

    def address(self) -> str:
        self.counter += 1
        k = self.counter
        return f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"

    def get(self, term: str, *, path: str = "/") -> Sample:
        """``GET path?q=term`` (no query string when ``term`` is empty)."""
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            t0 = time.perf_counter()
            query = {"q": term} if term else {}
            response = self.client.get(path, query, REMOTE_ADDR=self.address(), secure=True)
            server_ms = (time.perf_counter() - t0) * 1000
        sql_ms: dict[str, float] = {}
        for category, ms, _sql, _params in timer.statements:
            sql_ms[category] = sql_ms.get(category, 0.0) + ms
        sql_ms["all"] = sum(ms for _c, ms, _s, _p in timer.statements)
        return Sample(term, server_ms, response.status_code, sql_ms, timer.statements)


def cycle(terms: list[str], start: int, count: int) -> list[str]:
    if not terms:
        return []
    return [terms[(start + i) % len(terms)] for i in range(count)]


def measure_kind(
    requester: Requester, kind: str, label: str, terms: Terms, *, requests: int, warmup: int
) -> KindResult:
    pool = terms.by_kind.get(kind, [])
    result = KindResult(kind, label)
    if not pool:
        return result
    # Warm-up terms first, then the measured ones: different terms where the pool is large enough.
    # The warm-up stops early after WARMUP_BUDGET seconds (it is there for the caches, not for counting).
    started = time.monotonic()
    for term in cycle(pool, 0, warmup):
        requester.get(term)
        if time.monotonic() - started > WARMUP_BUDGET:
            break
    measured = cycle(pool, warmup if len(pool) > warmup + requests else 0, requests)
    result.distinct_terms = len(set(measured))
    shares = [terms.share.get(kind, {}).get(t) for t in measured]
    shares = [s for s in shares if s is not None]
    result.share_median = sorted(shares)[len(shares) // 2] if shares else None
    for term in measured:
        sample = requester.get(term)
        if sample.status != 200:
            raise RuntimeError(f"GET /?q={term} answered {sample.status}")
        result.samples.append(sample)
    return result


FLOOR_PATHS = (
    ("/healthz", "GET /healthz: one SQL and one Redis round trip"),
    ("/", "GET / without a query: the page, its form, middleware, rate limit"),
)


def floor(requester: Requester, *, requests: int) -> list[tuple[str, list[float]]]:
    """Server times of what every search request pays before it searches, on this machine: the
    framework's round trip (``/healthz``) and the search page without a query."""
    out = []
    for path, label in FLOOR_PATHS:
        for _ in range(min(requests, 30)):
            requester.get("", path=path)
        samples = [requester.get("", path=path) for _ in range(requests)]
        if any(sample.status != 200 for sample in samples):
            raise RuntimeError(f"GET {path} did not answer 200")
        out.append((label, [sample.server_ms for sample in samples]))
    return out


# ---------------------------------------------------------------------------------------------
# pg_trgm and ILIKE over the same table
# ---------------------------------------------------------------------------------------------
TRGM_INDEX = "bench_trgm_party_name_idx"
SIMILARITY_SQL = (
    "SELECT id FROM records_creditrecord WHERE party_name %% %s "
    "ORDER BY similarity(party_name, %s) DESC LIMIT 20"
)
# The records page query of the view with the text match replaced by ILIKE on the party name.
ILIKE_SQL = (
    "SELECT id FROM records_creditrecord WHERE disclosure = 'published' "
    "AND status IN ('effective', 'under_objection', 'corrected') AND party_name ILIKE %s "
    "ORDER BY decision_date DESC, id DESC LIMIT 20"
)


# A prototype: the text match as one statement on the public index, ordered by date, the planner
# choosing between the GIN index and the date index (no window first, no count of the index).
DIRECT_SQL = (
    "SELECT record_id FROM disclosure_publicindexentry WHERE search_vector @@ %s::tsquery "
    "ORDER BY decision_date DESC, record_id DESC LIMIT 201"
)


def public_index_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('disclosure_publicindexentry')")
        return cursor.fetchone()[0] is not None


def direct_query(term: str) -> tuple[str, list]:
    parsed = text_search.parse(term)
    return DIRECT_SQL, [parsed.tsquery or "''"]


# Prototype: the window of the newest index rows made smaller (no count of the index rows: with no
# filters the index always holds more than the window); the whole index asked only when the window
# holds too few matches for the page, as the view does.
SMALL_WINDOW = 5_000
WINDOW_SQL = (
    "SELECT record_id FROM (SELECT record_id, decision_date, search_vector FROM disclosure_publicindexentry "
    "ORDER BY decision_date DESC, record_id DESC LIMIT %s) w WHERE search_vector @@ %s::tsquery "
    "ORDER BY decision_date DESC, record_id DESC LIMIT 201"
)


def small_window(term: str) -> tuple[float, int]:
    tsquery = text_search.parse(term).tsquery or "''"
    ms, rows = timed_sql(WINDOW_SQL, [SMALL_WINDOW, tsquery])
    if 0 <= rows < 21:
        more, rows = timed_sql(DIRECT_SQL, [tsquery])
        ms += more
    return ms, rows


# Prototype: the entities above the results, shortest name first among the first ENTITY_CANDIDATES matches
# (for a common word the planner stops a scan early; for a rare one it uses the GIN index) instead
# of walking the length index until ten names match.
ENTITY_SQL = (
    "SELECT s.id FROM (SELECT id, name_zh FROM records_marketentity WHERE search_vector @@ %s::tsquery "
    "LIMIT %s) s ORDER BY length(s.name_zh), s.id LIMIT 10"
)


def entity_query(term: str) -> tuple[str, list]:
    return ENTITY_SQL, [text_search.parse(term).tsquery or "''", ENTITY_CANDIDATES]


def compare_fn(result: KindResult, name: str, run: Callable[[str], tuple[float, int]], count: int) -> None:
    """As :func:`compare`, for a prototype that runs more than one statement."""
    started = time.monotonic()
    out = result.compare[name] = []
    for term in [s.term for s in result.samples][:count]:
        out.append(run(term))
        if time.monotonic() - started > COMPARE_BUDGET:
            break


def trgm_available() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        return cursor.fetchone() is not None


def trgm_index_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [TRGM_INDEX])
        return cursor.fetchone()[0] is not None


def create_trgm_index() -> tuple[float, str]:
    t0 = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON records_creditrecord USING gin (party_name gin_trgm_ops)"
        )
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE records_creditrecord")
        cursor.execute("SELECT pg_size_pretty(pg_relation_size(%s::regclass))", [TRGM_INDEX])
        size = cursor.fetchone()[0]
    return time.monotonic() - t0, size


def drop_trgm_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


def timed_sql(statement: str, params: list, *, timeout_ms: int = 0) -> tuple[float, int]:
    """(milliseconds, rows) of one statement; rows -1 when it hit ``timeout_ms``."""
    with transaction.atomic(), connection.cursor() as cursor:
        if timeout_ms:
            cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
        t0 = time.perf_counter()
        try:
            with transaction.atomic():
                cursor.execute(statement, params)
                rows = len(cursor.fetchall())
        except OperationalError as exc:
            if "statement timeout" not in str(exc):
                raise
            rows = -1
        return (time.perf_counter() - t0) * 1000, rows


def compare(
    result: KindResult, name: str, make: Callable[[str], tuple[str, list]], count: int, timeout_ms: int = 0
) -> None:
    """Time ``make(term)`` for the first ``count`` measured terms (fewer when COMPARE_BUDGET runs out)."""
    started = time.monotonic()
    out = result.compare[name] = []
    for term in [s.term for s in result.samples][:count]:
        out.append(timed_sql(*make(term), timeout_ms=timeout_ms))
        if time.monotonic() - started > COMPARE_BUDGET:
            break


def similarity_query(term: str) -> tuple[str, list]:
    return SIMILARITY_SQL, [term, term]


def ilike_query(term: str) -> tuple[str, list]:
    return ILIKE_SQL, [contains_pattern(term)]


def explain(sql: str, params) -> list[str]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]
