"""Case workflows: one state machine per pathway (profile data), timescales and case history."""

from workflows.calendar import WorkingCalendar
from workflows.errors import EventNotAllowed, HistoryDoesNotReplay, MissingFields, WorkflowError
from workflows.history import CaseLike, Transition, TransitionLike
from workflows.machine import EventSpec, Pathway, Pathways, load_pathways, replay
from workflows.states import TaskStatus
from workflows.timescales import Due

__all__ = [
    "CaseLike",
    "Due",
    "EventNotAllowed",
    "EventSpec",
    "HistoryDoesNotReplay",
    "MissingFields",
    "Pathway",
    "Pathways",
    "TaskStatus",
    "Transition",
    "TransitionLike",
    "WorkflowError",
    "WorkingCalendar",
    "load_pathways",
    "replay",
]
