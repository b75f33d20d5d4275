"""Performance benchmark of the public disclosure search and the deadline sweep, at scale.

    make bench                                                 # 1,000,000 entities, 5,000,000 records
    make bench BENCH_ARGS='--entities 100000 --records 500000'  # a quicker run

It runs on a database of its own: ``make bench`` (``python -m devtools.devstack bench``) migrates
``credit_portal_bench`` and runs ``python -m devtools.bench`` there; the database is kept, so that a
second run skips the generation and only measures. Any other database is refused before anything is
touched (guard.py): the benchmark truncates tables and drops indexes.

1. Generation: COPY in chunks of 50,000 rows (generated in worker processes while other connections
   copy), secondary indexes and constraints dropped for the load and rebuilt after it when a trial
   load says that is faster. Bench entities get no guardian grants (no department edits them here).
2. The deadline sweep: ``publish_due`` looped until nothing is due, for exactly ``--due`` records, in
   a table of ``--sweep-small`` records and in the full table.
3. The public search: ``GET /?q=...`` in process for each kind of query, server time and the time of
   each SQL statement the view runs; pg_trgm and ILIKE over the same table for comparison.
5. Credit reports (``--only-reports`` for these alone): median and p95 per report beside WeasyPrint
   alone, reports per second through a Celery worker at concurrency 2, its memory over the run.
4. Slow spots: EXPLAIN ANALYZE of the statement that makes a kind miss the target, and prototype
   indexes measured in this database (dropped again; the application's code is not changed).
6. Database connections under load (``--only-connections`` for these alone): a real gunicorn with
   the portal's configuration, ``--connection-clients`` (200) concurrent HTTP clients for
   ``--connection-seconds`` (60) on the public pages, pg_stat_activity sampled every 50 ms: the web
   server's connections against its ceiling of workers × threads.

One module per benchmark, each with its steps (``...Steps``, put together in run.py):

    generation.py       1. the data (data.py: the synthetic rows; load.py: COPY, indexes dropped and rebuilt)
    sweep.py            2. the deadline sweep
    search.py           3. the public search measured, and search_steps.py: 3. and 4. printed
    reports.py          5. credit reports
    connections.py      6. database connections under load
    machine.py          the conditions a measurement ran under
    cli.py, guard.py    the command line, and the refusal of any database but the benchmark's
"""
