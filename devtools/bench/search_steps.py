"""3. The public search, ``GET /?q=...`` in process for each kind of query (search.py measures it):
server time and the time of each SQL statement the view runs, prototypes, pg_trgm and ILIKE over the
same table for comparison; and 4. the slow spots: EXPLAIN ANALYZE of the statement that makes a kind
miss the target."""

from __future__ import annotations

import gc
import math
import re
import time

from django.db import connection

from devtools.bench import machine
from devtools.bench import search as bench_search
from devtools.bench.steps import Steps, fmt_count, fmt_ms
from disclosure.search import ENTITY_CANDIDATES


class SearchSteps(Steps):
    published: int  # published records, for the share a term matches
    direct: bool  # the public index exists: the one-statement prototypes ran
    trgm: tuple[float, str] | None  # the comparison trigram index: seconds to build, size
    search_results: list[bench_search.KindResult]

    def _search(self) -> None:
        w, o = self.w, self.opts
        w("")
        w("== 3. Public search: GET /?q=... in process (django.test.Client, REMOTE_ADDR varied) " + "=" * 10)
        if bench_search.trgm_index_exists():
            bench_search.drop_trgm_index()  # measure the application as deployed
        t0 = time.monotonic()
        terms = bench_search.draw_terms()
        self.published = terms.published
        w(
            f"  terms cut from {terms.sample_size:,} sampled published records of {terms.published:,} "
            f"in {time.monotonic() - t0:.1f}s; distinct terms per kind: "
            + ", ".join(f"{k} {len(v):,}" for k, v in terms.by_kind.items())
        )
        t0 = time.monotonic()
        warm = bench_search.prewarm()
        if not warm.available:
            w(
                "  buffer cache: pg_prewarm is not available here (or needs a superuser to install); the first reads of each page come from disk or the OS"
            )
        else:
            mib = sum(warm.pages.values()) * 8 / 1024
            w(
                f"  buffer cache: pg_prewarm read the public index, the entities and their indexes ({mib:,.0f} MiB) "
                f"into shared_buffers ({warm.shared_buffers_pages * 8 / 1024:,.0f} MiB) in {time.monotonic() - t0:.1f}s, "
                "as a server that has been answering searches holds them"
            )
            if not warm.fits:
                w(
                    "  NOTE: they do not fit in shared_buffers: searches will read pages through the OS cache "
                    "(set shared_buffers to about a quarter of the memory; README)"
                )
        requester = bench_search.Requester()
        for kind, _label in bench_search.KINDS:  # first requests: templates, translations, plans
            for term in terms.by_kind.get(kind, [])[:3]:
                requester.get(term)
        # As credit_portal/wsgi.py does in a web process once it has loaded: what loading made is
        # kept out of the garbage collector's reach (the terms drawn above are part of it here).
        gc.collect()
        gc.freeze()
        w(
            f"  warm-up: {o['warmup']} requests per kind before the measured ones (other terms where there are enough)"
        )
        results: list[bench_search.KindResult] = []
        for kind, label in bench_search.KINDS:
            t1 = time.monotonic()
            result = bench_search.measure_kind(
                requester, kind, label, terms, requests=o["requests"], warmup=o["warmup"]
            )
            results.append(result)
            w(
                f"    {label:<28} {len(result.samples):>4} requests in {time.monotonic() - t1:6.1f}s, "
                f"p95 {fmt_ms(bench_search.pct(result.server(), 95))} ms; load average {machine.loadavg()[0]:.2f}"
            )
        self.search_results = results
        w("  the floor: what a search request pays before it searches (p50 / p95, ms):")
        pct = bench_search.pct
        for label, times in bench_search.floor(requester, requests=o["requests"]):
            w(f"    {label:<68} {fmt_ms(pct(times, 50)):>6} {fmt_ms(pct(times, 95)):>6}")
        self._comparisons(results)
        self._print_search(results)
        self._investigate(results, requester)

    def _comparisons(self, results) -> None:
        w, o = self.w, self.opts
        self.direct = bench_search.public_index_exists()
        if self.direct:
            w(
                "  prototype: the text match as one statement on the public index, newest first, LIMIT 201 "
                f"(up to {o['compare']} terms per kind) ..."
            )
            for r in results:
                if r.samples:
                    bench_search.compare(
                        r, "direct", bench_search.direct_query, o["compare"], timeout_ms=60_000
                    )
                    bench_search.compare_fn(r, "window5k", bench_search.small_window, o["compare"])
        w(
            f"  prototype: the entities, shortest first among the first {ENTITY_CANDIDATES:,} matches (up to {o['compare']} terms) ..."
        )
        for r in results:
            if r.samples and r.sql("entities"):
                bench_search.compare(
                    r, "entities", bench_search.entity_query, o["compare"], timeout_ms=60_000
                )
        if not bench_search.trgm_available():
            w(
                "  pg_trgm is not available on this server (the embedded PostgreSQL ships no contrib): no pg_trgm columns"
            )
            self.trgm = None
            return
        cjk = [r for r in results if r.kind in bench_search.CJK_KINDS and r.samples]
        n_seq = o["ilike_seqscan"]
        w(
            f"  ILIKE '%term%' without a trigram index: {n_seq} queries per Chinese kind (each may scan the table;"
            f" at most {bench_search.COMPARE_BUDGET:.0f}s per kind) ..."
        )
        for r in cjk:
            bench_search.compare(r, "ilike_seq", bench_search.ilike_query, n_seq, timeout_ms=60_000)
        w("  building the trigram index (GIN, gin_trgm_ops on party_name) ...")
        seconds, size = bench_search.create_trgm_index()
        self.trgm = (seconds, size)
        w(f"    built in {seconds:,.1f}s, {size}")
        try:
            for r in cjk:
                bench_search.compare(
                    r, "similarity", bench_search.similarity_query, o["compare"], timeout_ms=60_000
                )
                bench_search.compare(
                    r, "ilike_trgm", bench_search.ilike_query, o["compare"], timeout_ms=60_000
                )
        finally:
            if not o["keep_trgm"]:
                bench_search.drop_trgm_index()
                w("    trigram index dropped again (--keep-trgm keeps it)")

    def _print_search(self, results) -> None:
        w, target = self.w, self.opts["target_ms"]
        p = bench_search.pct
        w("")
        w(f"  Server time of GET /?q= and the main SQL of the view (ms; target: p95 <= {target:g} ms)")
        w(
            f"  {'kind':<27} {'reqs':>4} {'terms':>5} {'match':>6} │ {'server p50':>10} {'p95':>7} {'p99':>7} │"
            f" {'text match p50':>14} {'p95':>7} │ {'count p50':>9} {'p95':>7} │ {'verdict':<7}"
        )
        w("  " + "─" * 122)
        for r in results:
            if not r.samples:
                w(f"  {r.label:<27} no terms of this kind in the data")
                continue
            server = r.server()
            share = fmt_count(r.share_median * self.published) if r.share_median is not None else "exact"
            verdict = "ok" if p(server, 95) <= target else "MISS"
            w(
                f"  {r.label:<27} {len(server):>4} {r.distinct_terms:>5} {share:>6} │ {fmt_ms(p(server, 50)):>10} "
                f"{fmt_ms(p(server, 95)):>7} {fmt_ms(p(server, 99)):>7} │ {fmt_ms(p(r.sql('match'), 50)):>14} "
                f"{fmt_ms(p(r.sql('match'), 95)):>7} │ {fmt_ms(p(r.sql('count'), 50)):>9} "
                f"{fmt_ms(p(r.sql('count'), 95)):>7} │ {verdict:<7}"
            )
        w(
            "  terms: distinct terms measured; match: median number of published records a term matches (estimated"
        )
        w("  from the sample; for 2-char terms over the whole indexed document: names and decision number).")
        w(
            "  text match: the statement(s) matching the text (search_vector @@ query), summed per request; one"
        )
        w("  statement now reads the exact hits, the matches and the page's lines together (its whole time);")
        w(
            "  count: the capped count(s) of the same request. Both timed in the request (connection.execute_wrapper)."
        )
        w("")
        w("  The other statements of the same requests (ms, p50 / p95)")
        w(
            f"  {'kind':<27} │ {'full count':>10} {'':>7} │ {'page rows':>9} {'':>7} │ {'exact':>7} {'':>7} │"
            f" {'entities':>8} {'':>7} │ {'all SQL':>7} {'':>7} │ {'SQL/req':>7} │ {'2 matches':>9} │ {'outside SQL':>11} {'':>6}"
        )
        w("  " + "─" * 136)
        for r in results:
            if not r.samples:
                continue
            outside = [s.server_ms - s.sql_ms.get("all", 0.0) for s in r.samples]
            per_request = sum(len(s.statements) for s in r.samples) / len(r.samples)
            second = sum(1 for s in r.samples if sum(1 for st in s.statements if st[0] == "match") > 1)

            def pair(category: str, r=r) -> str:
                values = r.sql(category)
                return f"{fmt_ms(p(values, 50)):>7} {fmt_ms(p(values, 95)):>7}"

            w(
                f"  {r.label:<27} │ {pair('full_count'):>18} │ {pair('rows'):>17} │ {pair('exact'):>15} │"
                f" {pair('entities'):>16} │ {pair('all'):>15} │ {per_request:>7.1f} │ {second / len(r.samples):>9.0%} │"
                f" {fmt_ms(p(outside, 50)):>11} {fmt_ms(p(outside, 95)):>6}"
            )
        w("  full count: an uncapped COUNT(*) of every match (none when the view only counts up to its cap);")
        w(
            "  page rows: the page's records fetched by id (earlier versions; now read with the search); exact: the"
        )
        w("  exact look-up when it runs alone (a code); 2 matches: share of requests that ran a second text")
        w(
            "  match (the whole index after a window that held too few); outside SQL: server time minus all SQL,"
        )
        w("  p50 and p95 (middleware, form, ORM, templates, the Redis rate-limit counter).")
        if getattr(self, "direct", False):
            w("")
            w(
                "  Prototypes, same terms (ms). View: the text match statements and counts of each request now."
            )
            w(
                "  One statement: the match as one query on the public index, newest first, LIMIT 201 (planner's"
            )
            w(
                f"  choice of index). Window {bench_search.SMALL_WINDOW:,}: the newest {bench_search.SMALL_WINDOW:,} index rows first, the"
            )
            w("  whole index only when they hold fewer than 21 matches, no count of the index.")
            w(
                f"  {'kind':<27} │ {'view p50':>8} {'p95':>6} │ {'one statement p50':>17} {'p95':>6} {'p99':>6} │"
                f" {'window 5k p50':>13} {'p95':>6} {'p99':>6} │ {'rows':>5}"
            )
            w("  " + "─" * 112)
            for r in results:
                direct, window = r.compare.get("direct", []), r.compare.get("window5k", [])
                if not direct:
                    continue
                now = [s.sql_ms.get("match", 0.0) + s.sql_ms.get("count", 0.0) for s in r.samples]
                d = [ms for ms, _n in direct]
                wn = [ms for ms, _n in window]
                rows = [n for _ms_, n in direct if n >= 0]
                w(
                    f"  {r.label:<27} │ {fmt_ms(p(now, 50)):>8} {fmt_ms(p(now, 95)):>6} │ {fmt_ms(p(d, 50)):>17} "
                    f"{fmt_ms(p(d, 95)):>6} {fmt_ms(p(d, 99)):>6} │ {fmt_ms(p(wn, 50)):>13} {fmt_ms(p(wn, 95)):>6} "
                    f"{fmt_ms(p(wn, 99)):>6} │ {sum(rows) / max(len(rows), 1):>5.0f}"
                )
        if any(r.compare.get("entities") for r in results):
            w("")
            w("  Prototype for the entities shown above the results (ms): now (shortest name first over all")
            w(
                f"  matches, through the length index) vs shortest first among the first {ENTITY_CANDIDATES:,} matches"
            )
            w(
                f"  {'kind':<27} │ {'now p50':>8} {'p95':>7} {'p99':>7} │ {'prototype p50':>13} {'p95':>6} {'p99':>6} {'n':>4}"
            )
            w("  " + "─" * 90)
            for r in results:
                values = r.compare.get("entities", [])
                if not values:
                    continue
                now = r.sql("entities")
                t = [ms for ms, _n in values]
                w(
                    f"  {r.label:<27} │ {fmt_ms(p(now, 50)):>8} {fmt_ms(p(now, 95)):>7} {fmt_ms(p(now, 99)):>7} │ "
                    f"{fmt_ms(p(t, 50)):>13} {fmt_ms(p(t, 95)):>6} {fmt_ms(p(t, 99)):>6} {len(values):>4}"
                )
        if getattr(self, "trgm", None) is None:
            return
        w("")
        w("  Against pg_trgm and ILIKE on party_name, same table, same terms (ms; rows = mean rows returned)")
        w(
            f"  {'kind':<27} │ {'app match p50':>17} {'p95':>6} │ {'trgm % similarity p50':>21} {'p95':>6} {'rows':>5} │"
            f" {'ILIKE+trgm p50':>14} {'p95':>6} │ {'ILIKE no index p50':>18} {'p95':>6} {'n':>3}"
        )
        w("  " + "─" * 136)
        for r in results:
            if r.kind not in bench_search.CJK_KINDS or not r.samples:
                continue

            def stats(name: str, r=r) -> tuple[str, str, str, int]:
                values = r.compare.get(name, [])
                times = [ms for ms, _rows in values]
                rows = [n for _ms_, n in values if n >= 0]
                mean_rows = f"{sum(rows) / len(rows):.1f}" if rows else "—"
                return fmt_ms(p(times, 50)), fmt_ms(p(times, 95)), mean_rows, len(values)

            sim, ilike, seq = stats("similarity"), stats("ilike_trgm"), stats("ilike_seq")
            w(
                f"  {r.label:<27} │ {fmt_ms(p(r.sql('match'), 50)):>17} {fmt_ms(p(r.sql('match'), 95)):>6} │ {sim[0]:>21} "
                f"{sim[1]:>6} {sim[2]:>5} │ {ilike[0]:>14} {ilike[1]:>6} │ {seq[0]:>18} {seq[1]:>6} {seq[3]:>3}"
            )
        seconds, size = self.trgm
        w(
            f"  trigram index: built in {seconds:,.1f}s, {size}; English, code and number kinds: not applicable"
        )

    # -----------------------------------------------------------------------------------------
    # 4. Slow spots
    # -----------------------------------------------------------------------------------------
    def _investigate(self, results, requester) -> None:
        w, target = self.w, self.opts["target_ms"]
        p = bench_search.pct
        misses = [r for r in results if r.samples and p(r.server(), 95) > target]
        w("")
        w("== 4. Where the time goes " + "=" * 70)
        if not misses:
            w(f"  Every kind of query meets p95 <= {target:g} ms.")
            return
        for r in misses:
            categories = [c for c in bench_search.CATEGORIES if r.sql(c)]
            worst = max(categories, key=lambda c: p(r.sql(c), 95))
            outside = [s.server_ms - s.sql_ms.get("all", 0.0) for s in r.samples]
            if p(r.sql(worst), 95) < target / 3:
                w("")
                w(
                    f"  {r.label}: server p95 {fmt_ms(p(r.server(), 95))} ms, but no statement is slow (the slowest, "
                    f"the {worst}, p95 {fmt_ms(p(r.sql(worst), 95))} ms; all SQL of a request p95 "
                    f"{fmt_ms(p(r.sql('all'), 95))} ms): the time is spent outside SQL, p50 {fmt_ms(p(outside, 50))} "
                    f"p95 {fmt_ms(p(outside, 95))} ms (middleware, form, ORM, template rendering; CPU shared with the "
                    "other load)"
                )
                continue
            ranked = sorted((s for s in r.samples if worst in s.sql_ms), key=lambda s: s.sql_ms[worst])
            sample = ranked[max(0, math.ceil(0.95 * len(ranked)) - 1)]
            statement = max((st for st in sample.statements if st[0] == worst), key=lambda st: st[1])
            w("")
            w(
                f"  {r.label}: server p95 {fmt_ms(p(r.server(), 95))} ms; the slowest statement is the {worst} "
                f"(p95 {fmt_ms(p(r.sql(worst), 95))} ms). Its p95 request, q={sample.term!r}:"
            )
            with connection.cursor() as cursor:
                text = cursor.cursor.mogrify(statement[2], statement[3]).decode()
            text = re.sub(
                r'^SELECT "records_creditrecord"\."id", .*? FROM "records_creditrecord"',
                'SELECT <record, entity, item, department columns> FROM "records_creditrecord"',
                text,
            )
            w("    " + text[:900] + (" ..." if len(text) > 900 else ""))
            for line in bench_search.explain(statement[2], statement[3])[:28]:
                w("      " + line)
