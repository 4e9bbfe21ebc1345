"""Web app fixtures: the demo users, and a test client that signs in and sends CSRF tokens."""

from __future__ import annotations

import re

import pytest

PASSWORD = "early-help-demo-2026"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """The migrated template with the demo users already in it (Argon2 hashing ten
    passwords per test would dominate these tests' time)."""
    from sqlalchemy import create_engine

    from config.settings import Settings
    from triage import create_app
    from triage.demo import ensure_demo_users
    from triage.migrations import upgrade

    folder = tmp_path_factory.mktemp("web-template")
    path = folder / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    app = create_app(Settings(env="test", instance_path=folder / "instance",
                              database_url=f"sqlite:///{path}", secret_key="t" * 40),
                     background=False)
    ensure_demo_users(app.extensions["triage"])
    app.extensions["triage"].db.dispose()
    return path


@pytest.fixture
def demo_users(rt):
    from triage.demo import ensure_demo_users

    return {u.email: u for u in ensure_demo_users(rt)}


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class Browser:
    """A Flask test client that reads the CSRF token from the last page, like a browser."""

    def __init__(self, client):
        self.client = client
        self.last = ""

    def get(self, path, **kw):
        response = self.client.get(path, **kw)
        self.last = response.get_data(as_text=True)
        return response

    def post(self, path, data=None, *, from_page=None, **kw):
        if from_page is not None:
            self.get(from_page)
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_from(self.last))
        response = self.client.post(path, data=data, **kw)
        self.last = response.get_data(as_text=True)
        return response

    def sign_in(self, email, password=PASSWORD):
        return self.post("/login", {"email": email, "password": password}, from_page="/login")


@pytest.fixture
def web(client, demo_users):
    return Browser(client)


@pytest.fixture
def make_web(app, demo_users):
    def make():
        return Browser(app.test_client())

    return make


def error_links(html: str) -> dict[str, str]:
    """The GOV.UK error summary: {field id: message}."""
    summary = html.split('class="govuk-error-summary', 1)
    if len(summary) < 2:
        return {}
    body = summary[1].split("</ul>", 1)[0]
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r'<a href="[^"#]*#([^"]+)">([^<]+)</a>', body)}
