"""The shared state vocabulary: FHIR Task statuses, and how a pathway's state names are checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

STATE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class TaskStatus(StrEnum):
    """FHIR R4 Task.status: every pathway state says which of these it means."""

    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    ENTERED_IN_ERROR = "entered-in-error"


# A case that has been in one of these has been accepted by the receiving service.
ACCEPTED_STATUSES = frozenset({TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS})


@dataclass(frozen=True)
class StateSpec:
    """One state of a pathway, as the data names it."""

    name: str
    status: TaskStatus
    closed: bool

    @property
    def on_hold(self) -> bool:
        return self.status is TaskStatus.ON_HOLD

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED_STATUSES
