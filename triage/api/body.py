"""Reading a JSON request body, with a 422 that says what is wrong when it is not JSON or holds
text that cannot be stored (a NUL, a lone surrogate), naming the field."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from triage.errors import ValidationFailed
from triage.schemas.text import problems_in


def json_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw:
        raise ValidationFailed({"_body": ["The request has no body; send a JSON object."]})
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        raise ValidationFailed({"_body": [f"Not valid JSON{where}."]}) from None
    except RecursionError:
        raise ValidationFailed({"_body": ["The JSON is nested too deeply."]}) from None
    problems = problems_in(body)
    if problems:
        raise ValidationFailed(problems)
    return body
