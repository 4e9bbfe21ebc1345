"""A body over the limit (TRIAGE_MAX_BODY_BYTES, 1 MB) is a 413 and records nothing however
it is sent: with a Content-Length, or chunked (Transfer-Encoding: chunked, no length),
through the test client, werkzeug's server and gunicorn alike. A chunked body within the
limit is read whole."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from triage.models import FormDraft, Referral

ROOT = Path(__file__).resolve().parents[2]
both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
HEADING = "postcode,consent,subject_date_of_birth,subject_given_name,subject_family_name,concerns"


def csv_batch(rows: int, concerns_length: int = 2400) -> bytes:
    """A partner's batch file: `rows` referrals, each with a long concerns cell."""
    lines = [HEADING] + [f"LE11 1AB,given,2015-05-05,Amy,Ward{i},{'x' * concerns_length}"
                         for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def count(rt, model) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(model)).scalar_one()


def chunked(client, url: str, data: bytes, content_type: str, headers: dict | None = None):
    """POST `data` as a server hands on a chunked body: no Content-Length, the stream ends
    where the body ends (wsgi.input_terminated)."""
    return client.post(url, input_stream=io.BytesIO(data), content_type=content_type,
                       headers={"Transfer-Encoding": "chunked", **(headers or {})},
                       environ_overrides={"wsgi.input_terminated": True})


@both_databases
def test_a_chunked_csv_batch_over_the_limit_is_refused_whole(client, auth, rt):
    data = csv_batch(450)
    assert 1_000_000 < len(data) < 1_200_000
    response = chunked(client, "/api/v1/referrals/batch", data, "text/csv", auth("partner"))
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert "larger than" in response.json["message"]
    assert count(rt, Referral) == 0


def test_a_chunked_json_body_over_the_limit_is_a_413_not_bad_json(client, auth, referral_body,
                                                                 rt):
    body = referral_body(concerns="x" * 4000)
    data = json.dumps({"referrals": [body] * 1300}).encode()
    assert len(data) > 5_000_000
    response = chunked(client, "/api/v1/referrals/batch", data, "application/json",
                       auth("partner"))
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    one = json.dumps(referral_body(concerns="y" * 3000) | {"x": "z" * 1_000_000}).encode()
    response = chunked(client, "/api/v1/referrals", one, "application/json", auth("partner"))
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert count(rt, Referral) == 0


def test_a_chunked_body_within_the_limit_is_read_whole(client, auth, rt):
    data = csv_batch(3)
    response = chunked(client, "/api/v1/referrals/batch", data, "text/csv", auth("partner"))
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert count(rt, Referral) == 3


def test_a_chunked_body_of_exactly_the_limit_is_read_whole(client, auth, rt, referral_body):
    limit = rt.settings.max_body_bytes
    data = json.dumps(referral_body()).encode()
    data = data + b" " * (limit - len(data))
    assert len(data) == limit
    response = chunked(client, "/api/v1/referrals", data, "application/json",
                       auth("front_door"))
    assert response.status_code == 201, response.get_data(as_text=True)[:300]


def test_a_chunked_form_over_the_limit_is_refused_on_the_web_too(client, rt):
    from tests.web.conftest import Browser, csrf_from
    from tests.web.test_web_public import start

    web = Browser(client)
    start(web)
    web.get("/self-referral/more")
    data = f"csrf_token={csrf_from(web.last)}&concerns={'x' * 1_100_000}".encode()
    response = chunked(client, "/self-referral/more", data,
                       "application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "larger than 1 MB" in response.get_data(as_text=True)
    with rt.db.reader() as session:
        assert "xxxx" not in str(session.exec(select(FormDraft)).scalar_one().data)


def _pieces(data: bytes, size: int = 64 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _send_chunked(base_url: str, token: str, data: bytes) -> requests.Response:
    """What a partner's system does with a file it streams: a generator body, which
    requests sends with Transfer-Encoding: chunked."""
    return requests.post(f"{base_url}/api/v1/referrals/batch", data=_pieces(data),
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "text/csv"}, timeout=60)


def test_werkzeug_s_server_refuses_a_chunked_batch_over_the_limit(app, make_user, rt):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _, token = make_user("partner")
        _over_the_limit_is_413_within_it_is_recorded(f"http://127.0.0.1:{server.port}",
                                                     token, rt)
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _over_the_limit_is_413_within_it_is_recorded(base: str, token: str, rt) -> None:
    """A chunked 450-row batch (over 1 MB) records nothing; a 3-row one records 3."""
    response = _send_chunked(base, token, csv_batch(450))
    assert response.status_code == 413, response.text[:300]
    assert count(rt, Referral) == 0
    response = _send_chunked(base, token, csv_batch(3))
    assert response.status_code == 201, response.text[:300]
    assert count(rt, Referral) == 3


def _healthy(base: str) -> bool:
    """Whether the server answers its health check yet (refused while it is starting)."""
    try:
        return requests.get(f"{base}/healthz", timeout=10).status_code == 200
    except requests.RequestException:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_refuses_a_chunked_batch_over_the_limit(settings, make_user, rt, tmp_path):
    """`triage serve`, as production runs it (gunicorn sets wsgi.input_terminated)."""
    _, token = make_user("partner")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update({"TRIAGE_DATABASE_URL": settings.database_url,
                "TRIAGE_SECRET_KEY": settings.secret_key, "TRIAGE_LOG_LEVEL": "WARNING",
                "TRIAGE_INSTANCE_PATH": str(tmp_path / "served")})
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below
    triage = str(Path(sys.executable).parent / "triage")
    proc = subprocess.Popen([triage, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(base):
            assert time.monotonic() < deadline and proc.poll() is None, \
                (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        _over_the_limit_is_413_within_it_is_recorded(base, token, rt)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()
