"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, never a downloaded
browser) against a real server started here (werkzeug in a thread, SQLite in a temp folder)."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from config.settings import Settings

CHROMIUM = os.environ.get("TRIAGE_TEST_CHROMIUM", "/usr/bin/chromium")
VENDOR = Path(__file__).resolve().parent / "vendor"
PASSWORD = "early-help-demo-2026"  # the demo users' development-only password
REQUIRE = os.environ.get("TRIAGE_TEST_REQUIRE_SERVICES") == "1"

pytestmark = pytest.mark.browser


def _unavailable(why: str) -> None:
    if REQUIRE:
        pytest.fail(f"browser tests are required in CI but cannot run: {why}")
    pytest.skip(f"browser tests skipped: {why}")


@contextmanager
def _serving(folder: Path, profile: str) -> Iterator[dict]:
    """The app for `profile` on a free local port, with its demo users and a few demo
    referrals (every case where routing left it: the journeys need open cases in each team)."""
    from werkzeug.serving import make_server

    from triage import create_app
    from triage.demo import load_demo
    from triage.migrations import upgrade

    url = f"sqlite:///{folder / 'triage.sqlite3'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(env="test", instance_path=folder / "instance", database_url=url,
                        secret_key="browser-test-secret-" + "x" * 32,
                        self_referral_per_ip_per_hour=1000, profile=profile)
    app = create_app(settings, background=False, synchronous_tasks=True)
    rt = app.extensions["triage"]
    load_demo(rt, referrals=25, history=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, "rt": rt}
    finally:
        server.shutdown()
        thread.join(timeout=10)
        rt.relay.stop()
        rt.db.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[dict]:
    """The default profile's app (Leicestershire)."""
    with _serving(tmp_path_factory.mktemp("browser"), "leicestershire") as server:
        yield server


@pytest.fixture(scope="session")
def lancashire_server(tmp_path_factory) -> Iterator[dict]:
    """The second council's app: the journeys that prove it runs as pure data."""
    with _serving(tmp_path_factory.mktemp("browser-lancashire"), "lancashire") as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
    except Exception as exc:  # noqa: BLE001
        playwright.stop()
        _unavailable(f"Chromium did not start: {type(exc).__name__}: {exc}")
    yield chromium
    chromium.close()
    playwright.stop()


@contextmanager
def _tab(browser, server: dict) -> Iterator:
    """A fresh browser context (no cookies) on `server`. CSP is bypassed only so that axe-core
    can be injected; the app's own pages never need inline scripts."""
    context = browser.new_context(base_url=server["url"], bypass_csp=True,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh tab per test on the default profile's app."""
    with _tab(browser, live_server) as tab:
        yield tab


@pytest.fixture
def lancashire_page(browser, lancashire_server):
    """A fresh tab per test on Lancashire's app."""
    with _tab(browser, lancashire_server) as tab:
        yield tab


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")
    # The click only starts the POST: wait until it has answered (a signed-in page is never
    # the sign-in form), so a goto() that follows cannot cancel it.
    page.wait_for_url(lambda url: not url.split("?")[0].endswith("/login"))
    page.wait_for_load_state()


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now (once the document a
    click navigated to has finished loading: a click returns when the new page starts, and
    axe on a half-parsed document would check only part of it)."""
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(VENDOR / "axe.min.js"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page) -> None:
    found = axe_violations(page)
    assert not found, f"axe-core on {page.url}:\n{json.dumps(found, indent=2)}"
