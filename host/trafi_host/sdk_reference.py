"""docs/sdk.md's reference: every public name of `trafi_sdk`, from its signature and docstring.

The public names are each documented module's `__all__`, in the order of
`SDK_MODULES`; a class brings its public methods and properties. Each entry
shows the signature and the docstring, whose indented blocks become Python
examples. `undocumented()` lists the names without a docstring or without an
example: tests/docs/test_sdk_docs.py fails on any, and on a stale document.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .generated_section import replace_section

# (module, what a reader looks for there); the top-level names first.
SDK_MODULES: tuple[tuple[str, str], ...] = (
    ("trafi_sdk", "The module, requests and responses, events, errors, outgoing HTTP"),
    ("trafi_sdk.kv", "Key-value state per tenant"),
    ("trafi_sdk.config", "The module's settings"),
    ("trafi_sdk.log", "Logging into the host's log"),
    ("trafi_sdk.events", "Emitting the module's own events"),
    ("trafi_sdk.services", "Calling other modules' services"),
    ("trafi_sdk.commerce", "The commerce core's orders, products, customers"),
    ("trafi_sdk.db", "The module's own tables"),
    ("trafi_sdk.metrics", "Metrics the manifest declares"),
    ("trafi_sdk.testing", "Testing handlers without a build"),
    ("trafi_sdk.testing.records", "Records for tests: commerce data and event payloads"),
)
# Plain data shapes, documented by their fields (their module's docstring has the example).
DATA_MODULES = {"trafi_sdk.testing.records"}


@dataclass(frozen=True)
class Entry:
    qualified: str  # e.g. `kv.get`, `Request.json`
    heading: str  # the qualified name with its signature
    doc: str
    needs_example: bool


def _doc(value: Any) -> str:
    """The docstring with its indentation relative to the closing quotes' line kept.

    `inspect.getdoc` removes the margin common to the lines after the first: in a
    docstring whose only other lines are an example, that strips the example's own
    indentation, which is what marks it as code.
    """
    raw = value.__doc__ if isinstance(getattr(value, "__doc__", None), str) else None
    if raw is None:
        return inspect.getdoc(value) or ""
    lines = raw.expandtabs().split("\n")
    if len(lines) < 2 or lines[-1].strip():
        return inspect.cleandoc(raw)
    margin = len(lines[-1])
    rest = [line[margin:] if not line[:margin].strip() else line.lstrip() for line in lines[1:]]
    return "\n".join([lines[0].strip(), *rest]).strip()


def _short(module: str) -> str:
    return module.removeprefix("trafi_sdk").lstrip(".")


def _annotation(annotation: Any) -> str:
    # The SDK postpones annotations: they are the source's own text (`Handler`, `Value`).
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _signature(value: Any) -> str:
    """`(name: type = default, ...) -> type` as written in the source, without `self`/`cls`."""
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return ""
    parts: list[str] = []
    starred = False
    for parameter in signature.parameters.values():
        if parameter.name in ("self", "cls"):
            continue
        kind = parameter.kind
        if kind is inspect.Parameter.KEYWORD_ONLY and not starred:
            parts.append("*")
        starred = starred or kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_POSITIONAL)
        text = "*" if kind is inspect.Parameter.VAR_POSITIONAL else ""
        text = "**" if kind is inspect.Parameter.VAR_KEYWORD else text
        text += parameter.name
        if parameter.annotation is not inspect.Parameter.empty:
            text += f": {_annotation(parameter.annotation)}"
        if parameter.default is not inspect.Parameter.empty:
            text += f" = {parameter.default!r}"
        parts.append(text)
    returned = signature.return_annotation
    arrow = "" if returned is inspect.Signature.empty else f" -> {_annotation(returned)}"
    return f"({', '.join(parts)}){arrow}"


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    """A class's own public methods, classmethods and properties, in source order."""
    # A fake's functions shaped like the generated bindings are the SDK's to call, not a test's.
    internal: frozenset[str] = getattr(cls, "_binding_functions", frozenset())
    for name, value in vars(cls).items():
        if name.startswith("_") or name in internal:
            continue
        if isinstance(value, classmethod | staticmethod):
            yield name, value.__func__
        elif isinstance(value, property) or inspect.isfunction(value):
            yield name, value


def entries_of(module_name: str) -> list[Entry]:
    module: ModuleType = importlib.import_module(module_name)
    prefix = _short(module_name)
    found: list[Entry] = []
    for name in getattr(module, "__all__", ()):
        value = getattr(module, name)
        if inspect.ismodule(value):
            continue  # documented in its own section
        qualified = f"{prefix}.{name}" if prefix else name
        data = module_name in DATA_MODULES
        if inspect.isclass(value):
            fields = (
                ", ".join(f.name for f in dataclasses.fields(value))
                if dataclasses.is_dataclass(value)
                else ""
            )
            heading = f"class {qualified}" + (f"({fields})" if data and fields else "")
            found.append(Entry(qualified, heading, _doc(value), not data))
            if data:
                continue
            for member, attribute in _members(value):
                target = attribute.fget if isinstance(attribute, property) else attribute
                signature = "" if isinstance(attribute, property) else _signature(target)
                found.append(
                    Entry(
                        f"{qualified}.{member}",
                        f"{qualified}.{member}{signature}",
                        _doc(target),
                        True,
                    )
                )
        elif callable(value):
            found.append(Entry(qualified, f"{qualified}{_signature(value)}", _doc(value), True))
        else:
            found.append(Entry(qualified, qualified, "", False))
    return found


def all_entries() -> list[Entry]:
    return [entry for module, _ in SDK_MODULES for entry in entries_of(module)]


def _has_example(doc: str) -> bool:
    return any(line.startswith("    ") and line.strip() for line in doc.splitlines())


def undocumented() -> list[str]:
    """Public names whose docstring is missing, or has no example (an indented code block)."""
    problems = []
    for entry in all_entries():
        if not entry.doc:
            problems.append(f"{entry.qualified}: no docstring")
        elif entry.needs_example and not _has_example(entry.doc):
            problems.append(f"{entry.qualified}: no example (an indented code block in the docstring)")
    return problems


def _markdown(doc: str) -> str:
    """A docstring as Markdown: indented blocks become fenced Python."""
    out: list[str] = []
    code: list[str] = []

    def flush() -> None:
        if code:
            while code and not code[-1].strip():
                code.pop()
            out.extend(["```python", *code, "```"])
            code.clear()

    for line in doc.splitlines():
        if line.startswith("    ") or (code and not line.strip()):
            code.append(line[4:])
            continue
        flush()
        out.append(line)
    flush()
    return "\n".join(out).strip()


def sdk_markdown() -> str:
    parts: list[str] = []
    for module_name, summary in SDK_MODULES:
        module = importlib.import_module(module_name)
        parts.append(f"## `{module_name}`: {summary}\n")
        intro = inspect.getdoc(module) or ""
        if intro:
            parts.append(_markdown(intro) + "\n")
        for entry in entries_of(module_name):
            parts.append(f"### `{entry.heading}`\n")
            if entry.doc:
                parts.append(_markdown(entry.doc) + "\n")
    return "\n".join(parts).rstrip()


def with_sdk_reference(document: str) -> str:
    """`document` with its `sdk` section replaced by the generated reference."""
    return replace_section(document, "sdk", sdk_markdown())
