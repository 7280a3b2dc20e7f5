"""Every rule the validator applies: id, severity, why it matters, how to fix it.

This table is the single source: findings take their text from it, and
`docs/security.md`'s rule list is generated from it (a test fails on drift).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
Phase = Literal["package", "grants", "database", "source", "imports", "dependencies", "routes"]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    phase: Phase
    why: str
    fix: str


_RULES = [
    Rule(
        "TRF-S001",
        "dynamic-code",
        "error",
        "source",
        "eval/exec/compile run code that is not in the reviewed source: whatever reached them "
        "(a config value, a request body) becomes code running with the module's grants.",
        "Express the logic directly; parse data with json, not eval.",
    ),
    Rule(
        "TRF-S002",
        "computed-import",
        "error",
        "source",
        "Importing a module whose name is computed at run time hides what the module uses "
        "from review, and reaches modules the static checks never saw.",
        "Import modules by name with an import statement at the top of the file.",
    ),
    Rule(
        "TRF-S003",
        "computed-attribute",
        "error",
        "source",
        "getattr/setattr/vars/globals/__builtins__ with a computed name can reach any function "
        "(e.g. getattr(__builtins__, 'ev' + 'al')), bypassing every other rule.",
        "Use the attribute by name, or a dict of allowed handlers keyed by literal strings.",
    ),
    Rule(
        "TRF-S004",
        "code-object",
        "error",
        "source",
        "Building functions from code objects (types.FunctionType, CodeType, __code__) runs "
        "bytecode that is not in the reviewed source.",
        "Define functions normally.",
    ),
    Rule(
        "TRF-S005",
        "environment-access",
        "error",
        "source",
        "Reading an environment variable the manifest does not list: at run time the module "
        "only sees the variables granted in permissions.env, so this is either a bug or probing.",
        "Add the variable to permissions.env with a reason, and read it by its literal name.",
    ),
    Rule(
        "TRF-S006",
        "file-path-escape",
        "error",
        "source",
        "Opening an absolute path or one that climbs out with '..' targets files outside the "
        "module's own folders.",
        "Use paths relative to the folders granted in permissions.fs.",
    ),
    Rule(
        "TRF-S007",
        "forbidden-module",
        "error",
        "source",
        "socket, subprocess, ctypes, multiprocessing and process-spawning os functions reach "
        "outside the sandbox (or try to); the host denies them at run time, so using them is "
        "either dead code or an escape attempt.",
        "Use the host's imports: trafi:host/http for outgoing HTTP, services for other modules.",
    ),
    Rule(
        "TRF-S008",
        "unsafe-deserialization",
        "error",
        "source",
        "pickle/marshal loads execute or build arbitrary objects from bytes: a crafted payload runs code.",
        "Use json for data that crosses a trust boundary.",
    ),
    Rule(
        "TRF-S009",
        "encoded-code",
        "error",
        "source",
        "Decoding a blob (base64, zlib, codecs, bytes.fromhex) and executing it is the classic "
        "way to hide a payload from review.",
        "Ship the code as source; remove the encoded payload.",
    ),
    Rule(
        "TRF-S010",
        "obfuscation",
        "warning",
        "source",
        "Very long literals or minified lines cannot be reviewed by a person.",
        "Ship readable source; keep data in files under the module's assets.",
    ),
    Rule(
        "TRF-S011",
        "unparsable-source",
        "error",
        "source",
        "A file that does not parse as Python cannot be reviewed.",
        "Fix the syntax error (the build would fail on it too).",
    ),
    Rule(
        "TRF-I001",
        "unknown-import",
        "error",
        "imports",
        "The component imports an interface this host does not provide or audit: it could be "
        "a capability added behind the reviewer's back.",
        "Build against the trafi:host world with `trafi module build`.",
    ),
    Rule(
        "TRF-I002",
        "wasi-http-import",
        "error",
        "imports",
        "wasi:http gives unfiltered outgoing HTTP; the host allows network only through "
        "trafi:host/http, which enforces the manifest's allowlist.",
        "Use trafi_sdk's HTTP client and list the hosts in permissions.network.",
    ),
    Rule(
        "TRF-I003",
        "ungranted-import",
        "warning",
        "imports",
        "The component imports a host interface its manifest does not grant; every call to it "
        "will be refused with access-denied.",
        "Grant it in permissions (with a reason) or stop using it.",
    ),
    Rule(
        "TRF-I006",
        "ungranted-capability-import",
        "error",
        "imports",
        "The component imports a host capability beyond the base world (such as trafi:host/http) "
        "that its manifest does not grant: the component was not built from this manifest.",
        "Grant it in permissions (e.g. permissions.network) and rebuild with `trafi module build`.",
    ),
    Rule(
        "TRF-I004",
        "denied-wasi-import",
        "info",
        "imports",
        "The component imports WASI sockets or filesystem interfaces (componentize-py links "
        "them all); the host grants no sockets, and no folders beyond permissions.fs.",
        "Nothing to do: listed so a reviewer sees what is linked and denied.",
    ),
    Rule(
        "TRF-I005",
        "missing-export",
        "error",
        "imports",
        "The component does not export the interfaces the host calls (lifecycle, http-handler) "
        "of a world version this host serves.",
        "Build against the trafi:host world with `trafi module build`.",
    ),
]

_RULES += [
    Rule(
        "TRF-D001",
        "vulnerable-dependency",
        "error",
        "dependencies",
        "A locked dependency has a published advisory: the module ships known-exploitable code.",
        "Upgrade to a fixed version in requirements.txt and rebuild.",
    ),
    Rule(
        "TRF-D002",
        "dependencies-not-scanned",
        "warning",
        "dependencies",
        "An advisory source could not be read, so the dependencies are unknown, not clean "
        "(an error in strict mode).",
        "Configure a reachable OSV URL or a local advisory folder, then validate again.",
    ),
    Rule(
        "TRF-D003",
        "unpinned-dependency",
        "warning",
        "dependencies",
        "A dependency without an exact version cannot be checked against advisories, and may "
        "change between builds.",
        "Pin it with == (pip freeze, or pip-compile) in requirements.txt.",
    ),
    Rule(
        "TRF-D004",
        "unreadable-requirement",
        "warning",
        "dependencies",
        "A line the scanner cannot read as name==version (an include, an editable or URL "
        "requirement, a continuation, ===, a wildcard) installs something no advisory was checked "
        "against; skipping it would make the scan look clean.",
        "List every dependency as name==version in requirements.txt (pip-compile writes that).",
    ),
]

_RULES += [
    Rule(
        "TRF-P001",
        "link-leaves-module",
        "error",
        "package",
        "A symbolic link in the module pointing outside it would expose host files through the "
        "module's granted folders, or smuggle them into an install.",
        "Replace the link with the file itself, inside the module folder.",
    ),
    Rule(
        "TRF-P002",
        "special-file",
        "error",
        "package",
        "Device files, sockets and FIFOs have no place in a module and can block or reach the host.",
        "Remove them from the module folder.",
    ),
]

# Each capability's `configure` phase: checks of what a grant says against the module.
_RULES += [
    Rule(
        "TRF-C001",
        "meaningless-grant",
        "error",
        "grants",
        "A grant that cannot mean what it says (a network host with a scheme or a path, a wildcard "
        "over a whole top-level domain, a core scope this host does not have) would be approved by "
        "an operator who reads it one way and enforced another.",
        "Write the grant as the manifest reference shows (docs/manifest.md), e.g. `host: "
        "api.example.com` with `ports`/`schemes`, or a scope from the list.",
    ),
    Rule(
        "TRF-C002",
        "grant-without-target",
        "warning",
        "grants",
        "A read-only folder grant that names no folder of the module gives nothing (the host "
        "skips it), so the module will not find the files it expects.",
        "Ship the folder inside the module, or remove the grant.",
    ),
]

_RULES += [
    Rule(
        "TRF-T001",
        "migration-not-allowed",
        "error",
        "database",
        "A migration runs with the host database's rights: a statement on another module's or the "
        "core's tables, DML, PRAGMA, ATTACH or an extension would reach data no grant covers, and a "
        "malformed file would fail halfway through an install.",
        "Keep migrations to CREATE/ALTER/DROP TABLE and CREATE/DROP INDEX on tables named "
        "mod_<module>__*, one action per ALTER TABLE, each up file with its down file.",
    ),
    Rule(
        "TRF-T002",
        "migrations-without-grant",
        "error",
        "database",
        "Migrations nobody can use (no permissions.db, or a world without the db interface) would "
        "create tables an operator never approved.",
        "Ask for permissions.db with a reason and target world trafi:host/module@0.2.0.",
    ),
]

# The metrics capability's `configure` phase: the manifest's `metrics` against the
# Prometheus/OpenMetrics naming conventions (docs/metrics.md).
_RULES += [
    Rule(
        "TRF-O001",
        "metric-name",
        "error",
        "grants",
        "A metric name outside the conventions (snake_case, base units such as `_seconds` and "
        "`_bytes`, `_total` on counters only) breaks the queries and dashboards written for the "
        "conventional one, and a unit like milliseconds gets mixed with seconds.",
        "Use the name the finding suggests (docs/metrics.md lists the rules).",
    ),
    Rule(
        "TRF-O002",
        "metric-label",
        "error",
        "grants",
        "A label the host or Prometheus sets (`tenant`, `process`, `le`, `job`, `instance`...) "
        "would clash with it: the module could claim another tenant's series or break the export.",
        "Rename the label; the host adds `tenant` and `process` itself.",
    ),
    Rule(
        "TRF-O003",
        "metric-declaration",
        "error",
        "grants",
        "Metrics declared twice, or by a module built for a world without the `metrics` "
        "interface, cannot be recorded as declared.",
        'Declare each name once, and target `"world": "trafi:host/module@0.2.0"`.',
    ),
]

# Read at install from what the module declares when it first starts (world 0.3.0 routes).
_RULES += [
    Rule(
        "TRF-A001",
        "api-version-unserved",
        "warning",
        "routes",
        "An `apiVersions` entry, or its `successor`, names a version the module declares no route "
        "of: its deprecation headers reach no caller, and a successor link would point at nothing.",
        "Declare the version's routes, or remove the entry (and the successor naming it).",
    ),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
