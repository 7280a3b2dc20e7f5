"""The module-status decision: run, disabled, quarantined or failed with why, and the start order."""

from __future__ import annotations

from trafi_host.lifecycle.module_state import DesiredState
from trafi_host.lifecycle.status import DISABLED, RUN, Decision, decide, failed
from trafi_host.manifest.load import parse_manifest
from trafi_host.manifest.model import Manifest

ENABLED = DesiredState(True, None)


def manifest(name: str, dependencies: dict[str, str] | None = None, trafi: str = "^0.1.0") -> Manifest:
    return parse_manifest(
        {
            "name": name,
            "version": "0.1.0",
            "description": "A module for the decision tests.",
            "author": "Trafi <modules@trafi.dev>",
            "license": "MIT",
            "trafi": trafi,
            "entry": {"backend": f"dist/{name}.wasm"},
            "dependencies": dependencies or {},
        }
    )


def all_enabled(*manifests: Manifest) -> dict[str, Decision]:
    return decide(
        {m.name: m.version for m in manifests},
        {m.name: ENABLED for m in manifests},
        {m.name: m for m in manifests},
    ).modules


def test_everything_runs_dependencies_first() -> None:
    decisions = decide(
        {"loyalty": "0.1.0", "tiers": "0.1.0", "customers": "0.1.0"},
        {"loyalty": ENABLED, "tiers": ENABLED, "customers": ENABLED},
        {
            "loyalty": manifest("loyalty", {"tiers": "^0.1.0"}),
            "tiers": manifest("tiers", {"customers": "^0.1.0"}),
            "customers": manifest("customers"),
        },
    )
    assert decisions.modules == {"customers": RUN, "tiers": RUN, "loyalty": RUN}
    assert decisions.start_order == ["customers", "tiers", "loyalty"]


def test_a_cycle_fails_every_member_and_what_needs_them() -> None:
    decisions = all_enabled(
        manifest("cycle-a", {"cycle-b": "*"}),
        manifest("cycle-b", {"cycle-a": "*"}),
        manifest("needs-cycle", {"cycle-a": "*"}),
        manifest("alone"),
    )
    cycle = "dependency cycle: cycle-a -> cycle-b -> cycle-a"
    assert decisions == {
        "cycle-a": failed(cycle),
        "cycle-b": failed(cycle),
        "needs-cycle": failed(f"dependency cycle-a failed: {cycle}"),
        "alone": RUN,
    }


def test_a_missing_dependency() -> None:
    decisions = all_enabled(manifest("needs-ghost", {"ghost": "^1.0.0"}))
    assert decisions == {"needs-ghost": failed("dependency ghost is not installed")}


def test_a_disabled_dependency() -> None:
    decisions = decide(
        {"base": "0.1.0", "uses-base": "0.1.0"},
        {"base": DesiredState(False, None), "uses-base": ENABLED},
        {"uses-base": manifest("uses-base", {"base": "^0.1.0"})},  # a disabled module's is not needed
    )
    assert decisions.modules == {"base": DISABLED, "uses-base": failed("dependency base is disabled")}
    assert decisions.start_order == []


def test_a_failed_dependency_passes_its_reason_on() -> None:
    decisions = decide(
        {"broken": "0.1.0", "newer": "0.1.0", "uses-broken": "0.1.0", "uses-newer": "0.1.0"},
        dict.fromkeys(["broken", "newer", "uses-broken", "uses-newer"], ENABLED),
        {
            "broken": "trafi-module.json: not valid JSON",
            "newer": manifest("newer", trafi="^9.0.0"),
            "uses-broken": manifest("uses-broken", {"broken": "*"}),
            "uses-newer": manifest("uses-newer", {"newer": "*"}),
        },
    ).modules
    incompatible = "module newer 0.1.0 needs trafi ^9.0.0; this host is 0.1.0"
    assert decisions == {
        "broken": failed("trafi-module.json: not valid JSON"),
        "newer": failed(incompatible),
        "uses-broken": failed("dependency broken failed: trafi-module.json: not valid JSON"),
        "uses-newer": failed(f"dependency newer failed: {incompatible}"),
    }


def test_a_dependency_out_of_range() -> None:
    decisions = all_enabled(manifest("base"), manifest("needs-newer", {"base": "^2.0.0"}))
    assert decisions == {"base": RUN, "needs-newer": failed("needs base ^2.0.0; installed is 0.1.0")}


def test_quarantine_wins_over_disabled_and_over_a_broken_manifest() -> None:
    decisions = decide(
        {"flaky": "0.1.0", "off": "0.1.0", "uses-flaky": "0.1.0"},
        {
            "flaky": DesiredState(True, "5 incidents in 60 s"),
            "off": DesiredState(False, "3 incidents in 60 s"),
            "uses-flaky": ENABLED,
        },
        {"flaky": "unreadable", "uses-flaky": manifest("uses-flaky", {"flaky": "*"})},
    ).modules
    assert decisions == {
        "flaky": Decision("quarantined", "5 incidents in 60 s"),
        "off": Decision("quarantined", "3 incidents in 60 s"),
        "uses-flaky": failed("dependency flaky is quarantined"),
    }


def test_apply_sees_what_cannot_run_first_then_the_start_order_and_a_failed_start_fails_dependents() -> None:
    applied: list[tuple[str, Decision]] = []

    def apply(name: str, decision: Decision) -> Decision:
        applied.append((name, decision))
        return failed("init trapped") if name == "base" else decision

    decisions = decide(
        {"base": "0.1.0", "uses-base": "0.1.0", "off": "0.1.0", "alone": "0.1.0"},
        {"base": ENABLED, "uses-base": ENABLED, "off": DesiredState(False, None), "alone": ENABLED},
        {
            "base": manifest("base"),
            "uses-base": manifest("uses-base", {"base": "^0.1.0"}),
            "alone": manifest("alone"),
        },
        apply=apply,
    )
    assert applied == [
        ("off", DISABLED),
        ("alone", RUN),
        ("base", RUN),
        ("uses-base", failed("dependency base failed: init trapped")),
    ]
    assert decisions.modules["base"] == failed("init trapped")
    assert decisions.start_order == ["alone"]


def test_compatibility_is_the_callers_to_give() -> None:
    only = manifest("only")
    decisions = decide({"only": "0.1.0"}, {"only": ENABLED}, {"only": only}, compatibility=lambda m: "no")
    assert decisions.modules == {"only": failed("no")}
