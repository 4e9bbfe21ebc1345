"""The rules engine: load a profile's decision graph, derive facts, evaluate, explain, simulate."""

from rules.checks import check
from rules.engine import (
    Decision,
    Reason,
    Route,
    RuleSet,
    consent_needed,
    decision_as_dict,
    decision_from_dict,
    load,
)
from rules.errors import RuleError
from rules.examples import ExampleResult, run_examples
from rules.facts import Facts, Person, child_domain_contradictions, derive_facts
from rules.simulate import SimulationReport, format_simulation, simulate

__all__ = [
    "Decision", "ExampleResult", "Facts", "Person", "Reason", "Route", "RuleError", "RuleSet",
    "SimulationReport", "check", "child_domain_contradictions", "consent_needed",
    "decision_as_dict", "decision_from_dict", "derive_facts", "format_simulation", "load",
    "run_examples", "simulate",
]
