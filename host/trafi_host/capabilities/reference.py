"""The capability table of docs/manifest.md, generated from the registry.

One row per capability: its WIT interface, the manifest key it owns and what
that key grants, so the documented permissions are exactly the implemented ones.
"""

from __future__ import annotations

from ..generated_section import replace_section
from .registry import ALL, Capabilities


def _alias(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def capabilities_markdown(capabilities: Capabilities = ALL) -> str:
    lines = [
        "| capability | WIT interface | manifest key | what a module gets | what the key says |",
        "|---|---|---|---|---|",
    ]
    for capability in capabilities:
        interface = f"`{capability.interface}`" if capability.interface else "WASI"
        if capability.section is None:
            key, grant = "none: always granted", ""
        else:
            key, grant = f"`permissions.{_alias(capability.section.key)}`", capability.section.description
        lines.append(f"| {capability.name} | {interface} | {key} | {capability.summary} | {grant} |")
    return "\n".join(lines)


def with_capabilities(document: str, capabilities: Capabilities = ALL) -> str:
    """`document` with its capabilities section replaced by the current table."""
    return replace_section(document, "capabilities", capabilities_markdown(capabilities))
