"""The one frozen, typed Settings object, read once from TRIAGE_* environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "TRIAGE_"


class SettingsError(Exception):
    """Settings that the service must not start with; the message says which key and why."""


@dataclass(frozen=True)
class Settings:
    """Every setting the service reads. Defaults are safe for the embedded (one-machine) mode."""

    env: str = "development"  # development | test | production
    instance_path: Path = PROJECT_ROOT / "instance"
    database_url: str = ""  # empty: SQLite under instance_path
    redis_url: str = ""  # empty: background tasks run in-process
    profile: str = "leicestershire"
    secret_key: str = ""
    max_body_bytes: int = 1_000_000
    # Referrals in one partner batch (API or CSV upload), recorded in one transaction.
    max_batch_referrals: int = 500
    sqlite_busy_timeout_ms: int = 30_000
    # PostgreSQL connections each web or worker process keeps (SQLAlchemy's pool): up to
    # db_pool_size kept open, db_max_overflow more opened under a burst and closed after;
    # a request waits db_pool_timeout_seconds for one before failing. Per process, so the
    # database sees processes x (pool + overflow) at most (README, "Sizing").
    db_pool_size: int = 10
    db_max_overflow: int = 20
    db_pool_timeout_seconds: int = 30
    # psycopg 3 prepares a statement on the server after it has run this many times on a
    # connection; 0 never prepares (needed behind PgBouncer in transaction mode before 1.21).
    db_prepare_threshold: int = 5
    outbox_sweep_seconds: int = 30
    outbox_stuck_after_seconds: int = 120
    # Embedded mode: how long the delivery thread lets messages gather before handling them
    # in one transaction (under load, fewer and larger batches; 0 delivers at once).
    outbox_batch_wait_ms: int = 200
    # Email for notifications: smtp://[user:pass@]host[:port] (STARTTLS when the server offers
    # it, required with a password) or smtps:// (TLS from the start). Empty: stored only.
    smtp_url: str = ""
    smtp_timeout_seconds: int = 10
    mail_from: str = "early-help@example.org"
    # How often overdue cases are looked for and escalated to the team's manager (s).
    escalation_sweep_seconds: int = 300
    # When the nightly duplicate finder runs, HH:MM UTC (Celery beat, or the embedded timer).
    duplicate_finder_at: str = "02:30"
    log_level: str = "INFO"
    base_url: str = "http://127.0.0.1:5000"
    # Web sign-in (issue 5): a session ends after this much idle time, and at the latest this
    # long after sign-in; failed passwords are capped per account per hour.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # A password-reset link an administrator emails works once, for this many hours.
    password_reset_hours: int = 24
    signin_max_failures_per_hour: int = 100
    # ...and from any one source address (one address alone cannot lock the owner out);
    # never more than the per-account limit.
    signin_max_failures_per_source_per_hour: int = 10
    # Public self-referral: referrals accepted per source address per hour.
    self_referral_per_ip_per_hour: int = 10
    # How many proxies in front of the app set X-Forwarded-For (0: trust none).
    proxy_hops: int = 0

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.instance_path / 'triage.sqlite3'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def in_process_tasks(self) -> bool:
        return not self.redis_url

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None,
                 env_file: Path | None = None) -> Settings:
        """Read TRIAGE_* from an optional .env file and the environment (which wins).

        An unknown TRIAGE_ key is an error: a typo must not silently fall back to a default.
        """
        values: dict[str, str] = {}
        env_path = env_file if env_file is not None else PROJECT_ROOT / ".env"
        if env_path.exists():
            values.update({k: v for k, v in dotenv_values(env_path).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, object] = {}
        unknown = []
        for key, raw in values.items():
            if not key.startswith(PREFIX) or key.startswith("TRIAGE_TEST_"):
                continue
            name = key[len(PREFIX):].lower()
            if name not in known:
                unknown.append(key)
                continue
            kwargs[name] = _coerce(key, known[name].type, raw)
        if unknown:
            raise SettingsError(
                f"unknown setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(PREFIX + n.upper() for n in sorted(known))}"
            )
        return cls(**kwargs).validated()

    def validated(self) -> Settings:
        if self.env not in ("development", "test", "production"):
            raise SettingsError("TRIAGE_ENV must be development, test or production")
        if self.env == "production":
            if len(self.secret_key) < 32:
                raise SettingsError(
                    "TRIAGE_SECRET_KEY must be set to at least 32 random characters in production"
                )
            if not self.database_url:
                raise SettingsError("TRIAGE_DATABASE_URL must be set in production")
        if self.max_body_bytes < 1024:
            raise SettingsError("TRIAGE_MAX_BODY_BYTES must be at least 1024")
        if self.smtp_url:
            parts = urlsplit(self.smtp_url)
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise SettingsError("TRIAGE_SMTP_URL must look like smtp://user:pass@host:587 "
                                    "or smtps://user:pass@host:465")
        if not 1 <= self.max_batch_referrals <= 5000:
            raise SettingsError("TRIAGE_MAX_BATCH_REFERRALS must be between 1 and 5000")
        if not 1 <= self.db_pool_size <= 500:
            raise SettingsError("TRIAGE_DB_POOL_SIZE must be between 1 and 500")
        if not 0 <= self.db_max_overflow <= 500:
            raise SettingsError("TRIAGE_DB_MAX_OVERFLOW must be between 0 and 500")
        if not 1 <= self.db_pool_timeout_seconds <= 600:
            raise SettingsError("TRIAGE_DB_POOL_TIMEOUT_SECONDS must be between 1 and 600")
        if self.db_prepare_threshold < 0:
            raise SettingsError("TRIAGE_DB_PREPARE_THRESHOLD must be 0 (never prepare) or more")
        if self.smtp_timeout_seconds < 1:
            raise SettingsError("TRIAGE_SMTP_TIMEOUT_SECONDS must be at least 1")
        if not 0 <= self.outbox_batch_wait_ms <= 5000:
            raise SettingsError("TRIAGE_OUTBOX_BATCH_WAIT_MS must be between 0 and 5000")
        if self.signin_max_failures_per_source_per_hour < 1:
            raise SettingsError("TRIAGE_SIGNIN_MAX_FAILURES_PER_SOURCE_PER_HOUR must be at "
                                "least 1")
        if not 1 <= self.password_reset_hours <= 168:
            raise SettingsError("TRIAGE_PASSWORD_RESET_HOURS must be between 1 and 168")
        if self.escalation_sweep_seconds < 1:
            raise SettingsError("TRIAGE_ESCALATION_SWEEP_SECONDS must be at least 1")
        if daily_time(self.duplicate_finder_at) is None:
            raise SettingsError("TRIAGE_DUPLICATE_FINDER_AT must be a time of day, HH:MM (UTC)")
        return self

    def with_secret(self) -> Settings:
        """In development, a secret generated once and kept under instance/ (never committed)."""
        if self.secret_key:
            return self
        self.instance_path.mkdir(parents=True, exist_ok=True)
        path = self.instance_path / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return replace(self, secret_key=path.read_text().strip())


def daily_time(text: str) -> tuple[int, int] | None:
    """(hour, minute) of an HH:MM time of day, or None if it is not one."""
    hour, colon, minute = text.partition(":")
    if not (colon and hour.isdigit() and minute.isdigit() and len(minute) == 2):
        return None
    if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
        return None
    return int(hour), int(minute)


def _coerce(key: str, annotation: object, raw: str) -> object:
    kind = str(annotation)
    if kind == "int":
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(f"{key} must be a whole number, got {raw!r}") from exc
    if kind == "Path":
        return Path(raw)
    return raw
