"""End-to-end fixtures: one headless Chromium (Debian's, never a downloaded one) per session, a fresh
browser context per test, pytest-django's live server, and axe-core on every page a scenario visits.

Chromium is looked for at /usr/bin/chromium (or PORTAL_CHROMIUM). Without it, or without the
playwright package, every test here is skipped with a clear reason; with PORTAL_REQUIRE_SERVICES=1
(CI) it fails instead.
"""

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

from tests.conftest import services_required
from tests.e2e.ui import VIEWPORT

CHROMIUM_PATH = os.environ.get("PORTAL_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_REASON = "Chromium not installed: apt-get install chromium"
PLAYWRIGHT_REASON = "Playwright not installed: .venv/bin/pip install -r requirements-dev.txt"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCALES = {"ar": "ar", "en": "en"}

# axe-core: WCAG 2.1 A and AA rules only; serious and critical violations fail a test.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
AXE_FAILING_IMPACTS = ("serious", "critical")

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # the skip below says what to install
    sync_playwright = Axe = None
    PlaywrightError = Exception


def _missing_requirement():
    if sync_playwright is None:
        return PLAYWRIGHT_REASON
    if not (os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK)):
        return CHROMIUM_REASON
    return None


_skipped_for = set()


def pytest_runtest_setup(item):
    """Runs before tests/conftest.py's own `browser` check, so the reason is the one below."""
    reason = _missing_requirement()
    if reason is None:
        return
    if services_required():
        pytest.fail(f"{reason} (PORTAL_REQUIRE_SERVICES=1, so a missing browser is a failure)", pytrace=False)
    _skipped_for.add(reason)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter):
    for reason in sorted(_skipped_for):
        terminalreporter.write_line(f"End-to-end browser tests were SKIPPED: {reason}", yellow=True, bold=True)


# ---------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------


ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="package")
def playwright_driver():
    """Playwright's sync API, for the tests of this folder only (it stops before the rest of the suite).

    It leaves its event loop marked as running in this thread, and Django's ORM refuses to run beside a
    running loop ("You cannot call this from an async context"); the tests' queries are synchronous and
    never run inside that loop, so the check is switched off while Playwright is up, and back after.
    """
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    driver = sync_playwright().start()
    yield driver
    driver.stop()
    if previous is None:
        os.environ.pop(ASYNC_UNSAFE, None)
    else:
        os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="package")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


FAILURE_DIR = Path(os.environ.get("PORTAL_E2E_ARTIFACTS") or Path(tempfile.gettempdir()) / "hukoomi-e2e")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


def _save_failure_screenshots(request, contexts):
    """On failure, a PNG of every open page, so that one can see what the browser saw."""
    if not getattr(request.node, "e2e_failed", False):
        return
    FAILURE_DIR.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::")[-1])
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            target = FAILURE_DIR / f"{name}-{c}-{p}.png"
            try:
                page.screenshot(path=str(target), full_page=True)
            except PlaywrightError:
                continue
            print(f"screenshot of {page.url}: {target}")


@pytest.fixture
def new_context(browser, live_server, request):
    """new_context(lang, javascript=True): a fresh context (cookies, storage) on the live server."""
    contexts = []

    def make(lang="ar", *, javascript=True, viewport=VIEWPORT, **options):
        """A context; `javascript=False` is a browser with JavaScript turned off; `viewport` a phone's, say."""
        context = browser.new_context(
            base_url=live_server.url,
            locale=LOCALES[lang],
            viewport=viewport,
            java_script_enabled=javascript,
            accept_downloads=True,
            reduced_motion="reduce",
            **options,
        )
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(20_000)
        contexts.append(context)
        if not javascript:
            make.without_javascript.add(id(context))
        return context

    make.without_javascript = set()
    yield make
    _save_failure_screenshots(request, contexts)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context, lang):
    """A page in a new context whose browser language is the test's language."""
    return new_context(lang).new_page()


# ---------------------------------------------------------------------------
# Accessibility
# ---------------------------------------------------------------------------


@dataclass
class A11yReport:
    """axe-core results of every page a test visited; the test asserts at the end (assert_clean)."""

    lang: str
    new_context: object
    problems: list = field(default_factory=list)
    checked: list = field(default_factory=list)
    asserted: bool = False
    _copy_page: object = None

    def check(self, page, label=None):
        """Run axe on the page as it is now, and check the direction of the document."""
        label = label or _path(page.url)
        self.checked.append(label)
        page.wait_for_load_state("load")
        self._check_direction(page, label)
        if id(page.context) in self.new_context.without_javascript:
            # axe needs JavaScript (its promise never settles without it): audit a copy of the very DOM
            # the page without JavaScript shows, in a page that has JavaScript.
            page = self._copy_of(page)
        results = Axe().run(page, options=AXE_OPTIONS)
        for violation in results.response["violations"]:
            if violation.get("impact") not in AXE_FAILING_IMPACTS:
                continue
            nodes = violation.get("nodes", [])
            targets = "; ".join(
                f"{' '.join(map(str, node.get('target', [])))} :: {node.get('html', '')[:160]}" for node in nodes[:4]
            )
            more = f" (+{len(nodes) - 4} more)" if len(nodes) > 4 else ""
            self.problems.append(
                f"[{self.lang}] {label}: axe {violation['id']} ({violation['impact']}): {violation['help']}"
                f" -> {targets}{more}"
            )

    def _copy_of(self, page):
        if self._copy_page is None:
            self._copy_page = self.new_context(self.lang).new_page()
            self._copy_page.goto("/healthz")  # same origin, so the page's stylesheets load
        html = re.sub(r"(?is)<script\b.*?</script>", "", page.content())
        self._copy_page.set_content(html, wait_until="load")
        return self._copy_page

    def _check_direction(self, page, label):
        expected = "rtl" if self.lang == "ar" else "ltr"
        html = page.evaluate(
            "() => ({dir: document.documentElement.getAttribute('dir'),"
            " lang: document.documentElement.getAttribute('lang'),"
            " direction: getComputedStyle(document.body).direction})"
        )
        if html["dir"] != expected or html["direction"] != expected:
            self.problems.append(
                f"[{self.lang}] {label}: <html dir={html['dir']!r}>, body direction {html['direction']!r}; expected {expected}"
            )
        if not (html["lang"] or "").startswith(self.lang):
            self.problems.append(f"[{self.lang}] {label}: <html lang={html['lang']!r}>; expected {self.lang}")

    def assert_clean(self):
        self.asserted = True
        assert self.checked, "no page was checked with axe"
        assert not self.problems, "Accessibility problems (WCAG 2.1 A/AA, serious or critical):\n" + "\n".join(
            self.problems
        )


def _path(url):
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def a11y(lang, new_context, request):
    report = A11yReport(lang, new_context)
    yield report
    if report.problems and not report.asserted:
        problems = "\n".join(report.problems)
        if getattr(request.node, "e2e_failed", False):  # the test failed before its axe assertion: say what axe saw
            print(f"Accessibility problems seen before the failure:\n{problems}")
        else:
            pytest.fail(f"Accessibility problems found but not asserted:\n{problems}", pytrace=False)


# ---------------------------------------------------------------------------
# Texts in the page's language
# ---------------------------------------------------------------------------


@pytest.fixture
def t(lang):
    """t("Send my vote"): the message as the portal shows it in the test's language."""

    def translate(message, **values):
        with translation.override(lang):
            text = str(translation.gettext(message))
        return text % values if values else text

    return translate
