"""Read a manifest and report every problem with its JSON path and a did-you-mean."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..capabilities.registry import ALL, Capabilities
from ..errors import ManifestError, ManifestIssue
from .model import (
    ENV_PATTERN,
    EVENT_PATTERN,
    MANIFEST_FILE,
    NAME_PATTERN,
    NOT_YET_SUPPORTED,
    SCOPE_PATTERN,
    Manifest,
    manifest_model,
)

_PATTERN_MEANING = {
    NAME_PATTERN: "must be lowercase kebab-case, e.g. 'loyalty-points'",
    EVENT_PATTERN: "must be a dotted event type such as 'order.created'",
    ENV_PATTERN: "must be an UPPER_SNAKE_CASE variable name",
    SCOPE_PATTERN: "must be a scope such as 'orders:read'",
}


def _json_path(loc: tuple[int | str, ...]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model whose keys are valid at `loc`, to suggest the right spelling."""
    model: Any = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = next(
            (f for n, f in model.model_fields.items() if part in (n, f.alias)),
            None,
        )
        if field is None:
            return None
        model = _first_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def issues_from(error: ValidationError, root: type[BaseModel] = Manifest) -> list[ManifestIssue]:
    issues: list[ManifestIssue] = []
    for item in error.errors():
        loc = tuple(item["loc"])
        kind = item["type"]
        hint = None
        planned = NOT_YET_SUPPORTED.get(tuple(str(part) for part in loc))
        if kind == "extra_forbidden" and planned is not None:
            message, found = f"not supported by this host (yet): {planned}", None
        elif kind == "extra_forbidden":
            parent = _model_at(root, loc[:-1])
            if parent is not None:
                known = [f.alias or n for n, f in parent.model_fields.items()]
                close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(known))}"
            message = "unknown key"
            found = None
        elif kind == "missing":
            message, found = "required key is missing", None
        elif kind == "string_pattern_mismatch":
            pattern = str(item.get("ctx", {}).get("pattern", ""))
            message = _PATTERN_MEANING.get(pattern, f"must match {pattern}")
            found = _describe(item.get("input"))
        else:
            message = item["msg"].removeprefix("Value error, ")
            found = _describe(item.get("input"))
        issues.append(ManifestIssue(_json_path(loc), message, found, hint))
    return issues


def parse_manifest(data: Any, source: str = MANIFEST_FILE, capabilities: Capabilities = ALL) -> Manifest:
    """Validate already-decoded JSON; raises ManifestError listing every problem."""
    if not isinstance(data, dict):
        raise ManifestError(source, [ManifestIssue("$", "must be a JSON object", _describe(data))])
    model = manifest_model(capabilities)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ManifestError(source, issues_from(error, model)) from None


def load_manifest(module_dir: Path, capabilities: Capabilities = ALL) -> Manifest:
    """Read `<module_dir>/trafi-module.json`."""
    path = module_dir / MANIFEST_FILE
    if not path.is_file():
        raise ManifestError(str(path), [ManifestIssue("$", f"no {MANIFEST_FILE} in {module_dir}")])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ManifestError(
            str(path),
            [ManifestIssue("$", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}")],
        ) from None
    except UnicodeDecodeError:
        raise ManifestError(str(path), [ManifestIssue("$", "not UTF-8 text")]) from None
    return parse_manifest(data, str(path), capabilities)
