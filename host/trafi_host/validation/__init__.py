"""Security validation of a module before it may run: static source checks, component
import audit, each capability's grant checks, and the decision (with recorded operator
overrides).

Only the vocabulary (findings, rules) is imported here: capabilities report
findings too, and they sit below the checks that import them.
"""

from .findings import Finding, Severity, ValidationReport
from .rules import RULES, Rule

__all__ = ["RULES", "Finding", "Rule", "Severity", "ValidationReport"]
