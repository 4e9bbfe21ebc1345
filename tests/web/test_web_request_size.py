"""A partner's spreadsheet upload over the size limit is refused whole, also when the
browser or a proxy sends it chunked (no Content-Length): a GOV.UK page says so, nothing is
recorded."""

from __future__ import annotations

import io

from sqlmodel import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.api.test_request_size import csv_batch
from tests.web.conftest import csrf_from
from triage.models import Referral


def test_a_chunked_upload_over_the_limit_is_a_page_saying_so(make_web, rt):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    fire.get("/partner/batches/new")
    boundary, data = encode_multipart({
        "csrf_token": csrf_from(fire.last), "batch_key": "k1",
        "file": FileStorage(io.BytesIO(csv_batch(450)), filename="visits.csv",
                            content_type="text/csv")})
    assert len(data) > rt.settings.max_body_bytes
    response = fire.client.post(
        "/partner/batches/new", input_stream=io.BytesIO(data),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert "larger than 1 MB" in response.get_data(as_text=True)
    with rt.db.reader() as session:
        assert session.exec(select(func.count()).select_from(Referral)).one() == 0
