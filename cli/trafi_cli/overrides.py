"""`--allow RULE --reason TEXT`: an operator accepting a validation rule, with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from trafi_host.validation.findings import Override

AllowOption = typer.Option(
    [], "--allow", help="Accept findings of this rule (repeatable); needs --reason.", show_default=False
)
ReasonOption = typer.Option(None, "--reason", help="Why the rule is accepted; recorded in the audit log.")


def overrides_from(allow: list[str], reason: str | None) -> list[Override]:
    if allow and not reason:
        raise typer.BadParameter("--allow needs --reason TEXT", param_hint="--reason")
    from trafi_host.validation.findings import Override

    return [Override(rule=rule, reason=reason or "") for rule in allow]
