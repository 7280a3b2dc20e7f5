"""What the fakes need from `trafi-module.json`, read as JSON (the SDK never imports the host)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MetricDeclaration:
    name: str
    type: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManifestFacts:
    """The parts of a manifest the host's capabilities check on each call."""

    name: str
    folder: Path
    python_module: str = "app"
    source_dir: str = "."
    kv: bool = False
    db: bool = False
    max_rows_per_tenant: int = 10_000
    core_scopes: frozenset[str] = frozenset()
    subscriptions: frozenset[str] = frozenset()
    dependencies: frozenset[str] = frozenset()
    migrations: str = "migrations"
    metrics: dict[str, MetricDeclaration] = field(default_factory=dict)
    # `configSchema`'s top-level defaults: a first install starts from them, so tests do too.
    config_defaults: dict[str, Any] = field(default_factory=dict)
    # `apiPermissions`: the module's own permissions (`<module>:<action>`).
    api_permissions: tuple[str, ...] = ()


def read_manifest(folder: Path) -> ManifestFacts:
    path = folder / "trafi-module.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no trafi-module.json (the module folder holds one)") from None
    permissions = data.get("permissions") or {}
    build = data.get("build") or {}
    db = permissions.get("db")
    schema = data.get("configSchema") or {}
    return ManifestFacts(
        name=data["name"],
        folder=folder,
        python_module=build.get("pythonModule", "app"),
        source_dir=build.get("sourceDir", "."),
        kv=permissions.get("kv") is not None,
        db=db is not None,
        max_rows_per_tenant=int((db or {}).get("maxRowsPerTenant", 10_000)),
        core_scopes=frozenset(item["scope"] for item in permissions.get("core") or []),
        subscriptions=frozenset(item["event"] for item in data.get("events") or []),
        dependencies=frozenset(data.get("dependencies") or {}),
        migrations=data.get("migrations", "migrations"),
        metrics={
            m["name"]: MetricDeclaration(m["name"], m["type"], tuple(m.get("labels") or ()))
            for m in data.get("metrics") or []
        },
        config_defaults={
            key: spec["default"]
            for key, spec in (schema.get("properties") or {}).items()
            if isinstance(spec, dict) and "default" in spec
        },
        api_permissions=tuple(data.get("apiPermissions") or {}),
    )
