"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from triage import create_app

app = create_app()
