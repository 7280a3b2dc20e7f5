"""Who an /api request acts as: resolved from its credential, never from anything the caller says."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .permissions import allows, resolved

CallerKind = Literal["api-key", "user"]
Credential = Literal["api-key", "session", "token"]


@dataclass(frozen=True)
class Caller:
    id: str  # the API key's id, or the user's id
    kind: CallerKind
    name: str  # the key's label, or the username
    tenant_id: str
    # Permissions and wildcards: the key's scopes, or the union of the user's roles'.
    grants: tuple[str, ...]
    credential: Credential
    credential_id: str

    def allows(self, permission: str) -> bool:
        return allows(self.grants, permission)

    def permissions_in(self, catalogue: Iterable[str]) -> tuple[str, ...]:
        """The permissions of `catalogue` this caller holds, wildcards expanded."""
        return resolved(self.grants, catalogue)

    def describe(self) -> str:
        """How the audit log names this caller."""
        if self.kind == "api-key":
            return f"api key {self.id} ({self.name}) of tenant {self.tenant_id}"
        return f"user {self.name} ({self.credential} {self.credential_id}) of tenant {self.tenant_id}"
