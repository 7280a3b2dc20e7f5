"""The rule list of docs/security.md, generated from `rules.RULES`."""

from __future__ import annotations

from ..generated_section import replace_section
from .rules import RULES


def rules_markdown() -> str:
    lines = ["| rule | name | severity | phase | why | fix |", "|---|---|---|---|---|---|"]
    for rule in RULES.values():
        lines.append(
            f"| `{rule.id}` | {rule.name} | {rule.severity} | {rule.phase} | {rule.why} | {rule.fix} |"
        )
    return "\n".join(lines)


def with_rules(document: str) -> str:
    """`document` with its rules section replaced by the current rule table."""
    return replace_section(document, "rules", rules_markdown())
