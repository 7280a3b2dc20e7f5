"""`trafi module new`: a module folder from the SDK's template."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import trafi_sdk

from .errors import TrafiError
from .manifest.model import NAME_PATTERN
from .version import HOST_VERSION, WIT_VERSION

TEMPLATE_DIR = Path(trafi_sdk.__file__).parent / "templates" / "module"


def scaffold_module(name: str, target: Path) -> Path:
    if not re.match(NAME_PATTERN, name):
        raise TrafiError(f"module name {name!r} must be lowercase kebab-case, e.g. 'loyalty-points'")
    if target.exists() and any(target.iterdir()):
        raise TrafiError(f"{target} already exists and is not empty")
    target.mkdir(parents=True, exist_ok=True)
    values = {"name": name, "host_version": HOST_VERSION, "wit_version": WIT_VERSION}
    for template in sorted(TEMPLATE_DIR.rglob("*.tmpl")):
        written = target / template.relative_to(TEMPLATE_DIR).with_suffix("")
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_text(Template(template.read_text()).substitute(values))
    return target.resolve()
