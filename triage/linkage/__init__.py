"""Record linkage: whether two records describe one person, scored field by field with
Fellegi-Sunter match weights from the council profile, banded and explained in plain English.
Pure Python: no web service, database or Flask."""

from triage.linkage.compare import fold_name
from triage.linkage.score import Comparison, Match, Record, band, score

__all__ = ["Comparison", "Match", "Record", "band", "fold_name", "score"]
