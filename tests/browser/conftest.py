"""Browser tests: Playwright for Python driving Debian's chromium against pytest-django's live server.

The browser is the machine's own (`/usr/bin/chromium` from the Debian package that .ci/run installs,
or whatever $CHROMIUM names). `playwright install` is never run: the pip package brings only its
driver, and browser downloads fail on this network anyway. A missing browser fails these tests when
$CI is set and skips them, saying why, elsewhere. (The playwright package itself is a dev dependency:
without it the test modules do not import, which fails the run everywhere.)

Every page the tests open must load nothing from another host and log no console error: the portal
promises to serve everything itself (static/css/portal.css), so either is a failure.

Playwright and Django in one thread: while Playwright's sync API is started it marks its asyncio
loop as running in the main thread (between its calls too; the test runs in a greenlet it switches
away from only during its own calls). Django takes that for an async context, and so
- refuses ORM calls there (SynchronousOnlyOperation): DJANGO_ALLOW_ASYNC_UNSAFE is set while
  Playwright runs, which is safe here because no code of this thread really runs inside the loop;
- keeps a second set of database connections for that "async context" (asgiref's Local), which do
  not carry the serialized database contents that the test database setup stored on the main
  thread's connections: `playwright` copies them over, so that serialized rollback (below) works.
Both last only as long as this package's tests: Playwright and the browser are started once for
all of them and stopped before the rest of the suite runs (pytest-django runs the transactional
tests together, after the others, so they are not split up), with the second connections closed.

Database: the live server answers from its own thread and connection, so the tests need committed
data (transactional_db), whose flush after each test would also wipe the reference data that the
migrations load (accounts_division). Serialized rollback (`django_db_serialized_rollback`, which
`live_url` requests) restores it before each test. It also keeps the flush from recreating content
types and permissions, which the restore of the next serialized-rollback test (in test_audit.py, say)
would then collide with.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> None:
    """Fail on CI, where the browser tests must run; skip, saying why, on a developer's machine."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="package")
def playwright(django_db_setup) -> Iterator[object]:
    from django.db import connections
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    # TMPDIR: the driver makes each browser's fresh --user-data-dir (and any other scratch file) in
    # its temporary directory; this one is new for the run and removed with everything in it.
    with (
        tempfile.TemporaryDirectory(prefix="cp-playwright-") as tmp,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("TMPDIR", tmp)
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        serialized = {
            alias: connections[alias]._test_serialized_contents
            for alias in connections
            if hasattr(connections[alias], "_test_serialized_contents")
        }
        with sync_playwright() as pw:
            # From here on this thread gets the connections of the "async context": see above.
            for alias, contents in serialized.items():
                connections[alias]._test_serialized_contents = contents
            try:
                yield pw
            finally:
                connections.close_all()


@pytest.fixture(scope="package")
def browser(playwright) -> Iterator[object]:
    from playwright.sync_api import Error

    executable = Path(CHROMIUM)
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        _unavailable(
            f"no chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM to a chromium binary)"
        )
    # launch() gives chromium a new, empty --user-data-dir (it refuses one passed in the arguments)
    # under the driver's TMPDIR, set above, and deletes it on close.
    try:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
    except Error as exc:
        _unavailable(f"{CHROMIUM} did not start: {exc.message.strip()}")
    yield browser
    browser.close()


@pytest.fixture
def live_url(live_server, django_db_serialized_rollback) -> str:
    """The live server's root URL, without the trailing slash. Requesting this makes the test
    transactional with serialized rollback (see the module docstring)."""
    return live_server.url


class PageProblems:
    """What a page did that the portal must never do."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.page = None
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.foreign_requests: list[str] = []

    def route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.fallback()
        else:
            self.foreign_requests.append(f"{route.request.method} {url}")
            route.abort("blockedbyclient")

    def console(self, message) -> None:
        if message.type == "error":
            location = message.location
            self.console_errors.append(
                f"{message.text} ({location.get('url', '?')}:{location.get('lineNumber', '?')})"
            )

    def page_error(self, error) -> None:
        self.page_errors.append(str(error))

    def describe_page(self) -> str:
        """Where the page was and what it said, for the report of a failed test."""
        page = self.page
        if page is None or page.is_closed():
            return "(no page)"
        try:
            text = page.locator("body").inner_text(timeout=2_000)
        except Exception as exc:  # the report must not hide the failure it describes
            text = f"(the text could not be read: {exc})"
        return f"{page.url}\n{text[:2_000]}"

    def take_report(self) -> str:
        """What went wrong since the last call, as text ("" for nothing)."""
        lines = []
        for title, items in (
            ("requests to other hosts", self.foreign_requests),
            ("console errors", self.console_errors),
            ("uncaught page errors", self.page_errors),
        ):
            if items:
                lines.append(f"{title}:")
                lines.extend(f"  {item}" for item in items)
                items.clear()
        return "\n".join(lines)


PAGE_PROBLEMS = pytest.StashKey[PageProblems]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail the test itself (not only its teardown) when its page misbehaved while it ran."""
    problems = item.stash.get(PAGE_PROBLEMS, None)
    try:
        result = yield
    except BaseException:
        if problems:
            if report := problems.take_report():
                item.add_report_section("call", "page problems", report)
            item.add_report_section("call", "page", problems.describe_page())
        raise
    if problems and (report := problems.take_report()):
        pytest.fail(f"the page misbehaved:\n{report}", pytrace=False)
    return result


@pytest.fixture
def page(request, browser, live_url) -> Iterator[object]:
    """A fresh page in a fresh context (no cookies), in English, that fails the test on a console
    error, an uncaught script error or any request to a host other than the live server."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(live_url))
    problems = request.node.stash[PAGE_PROBLEMS] = PageProblems(origin)
    context = browser.new_context(
        base_url=live_url, locale="en-US", viewport={"width": 1280, "height": 800}, service_workers="block"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.route("**/*", problems.route)
    page = problems.page = context.new_page()
    page.on("console", problems.console)
    page.on("pageerror", problems.page_error)
    try:
        yield page
    finally:
        context.close()  # also delivers the events still on their way
    if report := problems.take_report():
        pytest.fail(f"the page misbehaved:\n{report}", pytrace=False)
