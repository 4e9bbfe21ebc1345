"""Counting requests per source in a sliding window, shared by every web process (the database).

Sources (IP addresses) are stored only as an HMAC with the app's secret: counts can be kept
without keeping addresses.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import select

from triage.models import RateLimitHit
from triage.models.base import utcnow
from triage.runtime import Runtime


def source_key(rt: Runtime, source: str) -> str:
    """A source address as stored: an HMAC with the app's secret, never the address."""
    return hmac.new(rt.settings.secret_key.encode(), source.encode(), hashlib.sha256).hexdigest()


def allow(rt: Runtime, *, bucket: str, source: str, limit: int,
          window: timedelta = timedelta(hours=1), now: datetime | None = None) -> bool:
    """Count one request from `source`; False (and nothing counted) when it is over the limit."""
    now = now or utcnow()
    key = source_key(rt, source)
    with rt.db.unit_of_work() as session:
        session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket,
                                                   RateLimitHit.key == key,
                                                   RateLimitHit.at <= now - window))
        used = session.exec(select(func.count()).select_from(RateLimitHit).where(
            RateLimitHit.bucket == bucket, RateLimitHit.key == key,
            RateLimitHit.at > now - window)).one()
        if used >= limit:
            return False
        session.add(RateLimitHit(bucket=bucket, key=key, at=now))
    return True
