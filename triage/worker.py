"""The Celery worker entry point: `celery -A triage.worker worker` (or `triage worker`)."""

from triage import create_app

app = create_app(background=False)
celery = app.extensions["celery"]
