"""JSON as the service writes it: into JSON columns and onto the API (triage/json_wire.py),
and Flask's cookie session, which the service does not keep (triage/web/security.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from flask import Flask, session
from hypothesis import given
from hypothesis import strategies as st

from triage.json_wire import IsoDatesJSONProvider, column_json
from triage.web.security import NoCookieSession

# What a JSON column holds: str keys, lists, 64-bit integers, finite floats, text, bools, null.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(JSON_VALUES)
def test_a_column_value_reads_back_as_the_standard_library_would_have_written_it(value):
    assert json.loads(column_json(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize("value", [
    2**70,  # beyond 64 bits: orjson refuses it
    {1: "one", "two": [2**64]},  # a key that is not a string
])
def test_what_orjson_refuses_is_written_as_before(value):
    assert column_json(value) == json.dumps(value)


def test_a_float_that_is_not_a_number_is_written_as_null_which_postgresql_accepts():
    assert column_json([float("nan"), float("inf"), 1.5]) == "[null,null,1.5]"


@pytest.fixture
def json_app():
    app = Flask(__name__)
    app.json = IsoDatesJSONProvider(app)

    @app.get("/thing")
    def thing():
        return {"reference": "EH-1", "born": date(1932, 3, 1),
                "at": datetime(2026, 5, 1, 9, 0, tzinfo=UTC), "name": "Zoë Ó Súilleabháin",
                "big": 2**70}

    @app.get("/plain")
    def plain():
        return {"z": 1, "a": [date(2026, 1, 2)], "name": "Siân"}

    return app


def test_responses_write_dates_as_iso_8601_in_the_schema_order_and_utf_8(json_app):
    response = json_app.test_client().get("/plain")
    assert response.mimetype == "application/json"
    assert response.data == '{"z":1,"a":["2026-01-02"],"name":"Siân"}\n'.encode()
    assert response.get_json() == {"z": 1, "a": ["2026-01-02"], "name": "Siân"}


def test_a_response_orjson_refuses_is_written_by_flask_with_the_same_dates(json_app):
    body = json_app.test_client().get("/thing").get_json()
    assert body == {"reference": "EH-1", "born": "1932-03-01",
                    "at": "2026-05-01T09:00:00+00:00", "name": "Zoë Ó Súilleabháin",
                    "big": 2**70}


def test_debug_mode_indents_as_flask_does(json_app):
    json_app.debug = True
    data = json_app.test_client().get("/plain").data.decode()
    assert data.startswith('{\n  "z": 1,')
    assert json.loads(data)["a"] == ["2026-01-02"]


def test_flask_cookie_session_is_never_opened_or_written():
    app = Flask(__name__)
    app.secret_key = "s" * 40
    app.testing = True  # the view's error reaches the test
    app.session_interface = NoCookieSession()

    @app.get("/write")
    def write():
        session["user"] = "someone"
        return "written"

    @app.get("/read")
    def read():
        return {"empty": not session}

    client = app.test_client()
    assert client.get("/read").get_json() == {"empty": True}
    with pytest.raises(RuntimeError, match="cookie session is not used"):
        client.get("/write")
    assert "Set-Cookie" not in client.get("/read").headers
