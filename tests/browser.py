"""What the browser tests share: Chromium driven by Playwright, every page checked (Nu HTML
checker and axe-core), the app on a real HTTP server, a real worker, and small helpers.
Loaded for every test module by `pytest_plugins` in conftest."""
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import request
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from tests.factories import PASSWORD
from tests.page_checks import NuChecker, axe_script
from tests.support import ROOT, end_process, env_for, start_worker

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def playwright():
    """One Playwright per module: a second one cannot start beside it in the same thread."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class PageChecks:
    """Every page a browser test visits is checked: the HTML the server sent, by the Nu HTML
    checker, and the page as loaded, by axe-core (run by an init script on each load)."""

    def __init__(self, html_checker: NuChecker):
        self.html_checker = html_checker
        self.sent: dict[str, str] = {}  # "GET /path (200)" → the HTML
        self.audited: dict[str, list[str]] = {}  # path → axe's serious and critical problems
        self.hosts: set[str] = set()  # the portal's (host:port), as the browser addresses it
        self.script = axe_script()

    def record(self, response):
        """after_request: keep each HTML page the portal sends."""
        self.hosts.add(request.host)
        if response.mimetype == "text/html" and response.status_code < 300 and not response.direct_passthrough:
            self.sent[f"{request.method} {request.path} ({response.status_code})"] = response.get_data(as_text=True)
        return response

    def report(self, url: str, problems: list[str]) -> None:
        """axe-core's findings on a page; only the portal's: another site on the way (the university's
        sign-in page) is not ours to check."""
        if urlsplit(url).netloc in self.hosts:
            self.audited.setdefault(urlsplit(url).path, []).extend(problems)

    def watch(self, context) -> None:
        context.add_init_script(script=self.script)
        context.expose_function("portalAxeReport", self.report)

    @staticmethod
    def settle(page) -> None:
        """Wait for the audit of the page on screen (before its context closes)."""
        if not page.url.startswith("http"):
            return  # set_content (an email): no portal page, no audit
        page.wait_for_function("() => window.portalAxeDone === true", timeout=15_000)

    def problems(self) -> list[str]:
        paths = {label.split(" ")[1] for label in self.sent}
        unchecked = sorted(paths - self.audited.keys())
        found = [f"{path}: {problem}" for path, problems in self.audited.items() for problem in problems]
        found += [f"{path}: visited but axe-core never finished (settle the page first)" for path in unchecked]
        return found + self.html_checker.errors(self.sent)


def settles_before_leaving(page):
    """`page.goto` waits first for the audit of the page on screen: a test that goes on to the
    next address right after a click would otherwise cut axe short on the page it left."""
    go = page.goto

    def goto(url, **options):
        PageChecks.settle(page)
        return go(url, **options)

    page.goto = goto
    return page


class CheckedBrowser:
    """The browser as the tests use it: every context it opens runs the page checks."""

    def __init__(self, browser, checks: PageChecks):
        self._browser, self._checks = browser, checks

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        self._checks.watch(context)
        open_page = context.new_page
        context.new_page = lambda: settles_before_leaving(open_page())
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()


@pytest.fixture(scope="session")
def html_checker():
    """The Nu HTML checker, started at its first use and kept for the whole run."""
    checker = NuChecker()
    yield checker
    checker.close()


@pytest.fixture
def page_checks(html_checker):
    checks = PageChecks(html_checker)
    yield checks
    problems = checks.problems()
    assert not problems, "pages failed their checks:\n" + "\n".join(problems)


@pytest.fixture
def browser(chromium, page_checks):
    return CheckedBrowser(chromium, page_checks)


@pytest.fixture
def portal_url(app, page_checks):
    """The test app on a real HTTP server, CSRF protection on, as in production; every HTML
    page it sends is kept for the HTML checker."""
    app.config["WTF_CSRF_ENABLED"] = True
    app.after_request(page_checks.record)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def worker(app, tmp_path):
    process = start_worker(env_for(app), tmp_path / "worker.log", burst=False)
    yield process
    end_process(process)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    PageChecks.settle(page)
    context.close()


def shot(page, name: str) -> Path:
    """A screenshot of the page once it is checked (so the next navigation cannot cut axe short)."""
    PageChecks.settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/sessions")
    PageChecks.settle(page)


def expect_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def link_in_email(smtp_server, email: str) -> str:
    from tests.smtp_servers import parts

    message = next(r.message for r in smtp_server.handler.received if r.recipient == email)
    text = parts(message)["text/plain"]
    return next(line.strip() for line in text.splitlines() if "/attendance?token=" in line)
