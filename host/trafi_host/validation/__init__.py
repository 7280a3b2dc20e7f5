"""Security validation of a module before it may run: static source checks, component
import audit, and the decision (with recorded operator overrides)."""

from .findings import Finding, Severity, ValidationReport
from .rules import RULES, Rule
from .validate import validate_module

__all__ = ["RULES", "Finding", "Rule", "Severity", "ValidationReport", "validate_module"]
