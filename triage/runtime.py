"""What a running service needs at hand: settings, database, council policy, the task relay."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.profile import Profile
from config.settings import Settings
from triage.db import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    profile: Profile
    ruleset: Any = None
    pathways: Any = None
    relay: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
