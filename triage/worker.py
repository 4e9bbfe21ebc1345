"""The Celery worker entry point: `celery -A triage.worker worker` (or `triage worker`)."""

from triage import create_app

flask_app = create_app(background=False)
celery = flask_app.extensions["celery"]
