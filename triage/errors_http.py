"""The one place errors become HTTP responses: JSON with a human-readable message."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from triage.errors import TriageError

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    @app.errorhandler(TriageError)
    def _triage_error(exc: TriageError):
        return jsonify(exc.body()), exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return jsonify({"message": f"The request body is larger than {limit} bytes. "
                                   "Send large batches in smaller parts."}), 413

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return jsonify({"message": exc.description or exc.name}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        error_id = uuid.uuid4().hex[:12]
        log.exception("request.failed", extra={"error_id": error_id, "path": request.path,
                                               "method": request.method})
        return jsonify({"message": "Something went wrong on our side. Nothing was saved. "
                                   f"Quote error id {error_id} if you contact us.",
                        "error_id": error_id}), 500
