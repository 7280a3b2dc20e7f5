"""No import points up: each module of the host may import only its own layer and those below.

The order is the architecture of docs/architecture.md. A module that matches no
layer fails the test too, so a new module is placed on purpose.
"""

from __future__ import annotations

from pathlib import Path

from tests.architecture.import_graph import import_graph

ROOT = Path(__file__).resolve().parents[2] / "host" / "trafi_host"

# Lowest first. A module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "foundation",
        [
            "trafi_host",
            "version",
            "errors",
            "settings",
            "wit_values",
            "generated_section",
            "reference_tables",
            "broadcast",
        ],
    ),
    (
        "records",
        [
            "db",
            "manifest.base",
            "validation",  # the package: only the findings vocabulary
            "validation.findings",
            "validation.rules",
            "audit_log",
            "auth",
            "rate_limits",
            "load_reports",
            "ui_tree",
            "events",
            "commerce",
        ],
    ),
    ("capabilities", ["capabilities"]),
    ("manifest", ["manifest", "permissions", "compatibility", "dependency_resolution", "scaffold"]),
    ("runtime", ["runtime"]),
    (
        "operations",
        [
            "validation.validate",
            "validation.import_audit",
            "validation.source_checks",
            "validation.package_checks",
            "validation.dependency_scan",
            "validation.sarif",
            "validation.rules_doc",
            "inspection",
            "build",
            "build_checks",
            "build_requirements",
            "module_source_digest",
            "module_settings",
            "sdk_reference",
            "project",
            "sources",
            "delivery",
            "incidents",
            "module_state",
            "start_order",
            "module_list",
            "module_data",
            "permission_catalogue",
            "lifecycle",
            "install",
            "recovery",
            "updates",
            "module_routes",
        ],
    ),
    ("host", ["module_host", "module_state_feed", "change_watch", "devserver", "dev"]),
    ("api", ["api"]),
]


def layer_of(module: str) -> int | None:
    name = module.removeprefix("trafi_host.") if module != "trafi_host" else "trafi_host"
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), index)
    return None if best is None else best[1]


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in import_graph(ROOT) if layer_of(m) is None)
    assert not unplaced, f"modules in no layer of tests/architecture/test_layers.py: {unplaced}"


def test_no_import_points_up() -> None:
    upward = []
    for module, targets in sorted(import_graph(ROOT).items()):
        source = layer_of(module)
        for target in sorted(targets):
            layer = layer_of(target)
            if source is not None and layer is not None and layer > source:
                upward.append(f"{module} ({LAYERS[source][0]}) -> {target} ({LAYERS[layer][0]})")
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def test_the_graph_reader_sees_relative_and_type_only_imports(tmp_path: Path) -> None:
    package = tmp_path / "trafi_host"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("")
    (package / "high.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "user.py").write_text(
        "from typing import TYPE_CHECKING\nfrom .. import low\nif TYPE_CHECKING:\n    from ..high import x\n"
    )
    graph = import_graph(package)
    assert graph["trafi_host.sub.user"] == {"trafi_host", "trafi_host.low"}


def test_the_runtime_composes_capabilities_without_knowing_any() -> None:
    # It is handed a capability list; kv, commerce, events, services... are the host's choice.
    graph = import_graph(ROOT)
    reaching = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith("trafi_host.runtime")
        for target in targets
        if target.startswith("trafi_host.capabilities.")
        and target not in {"trafi_host.capabilities.base", "trafi_host.capabilities.call"}
    )
    assert not reaching, reaching
