"""From what the user typed to a module folder on disk: path, .tgz, git or npm.

`parse_source` decides the kind (git specs by prefix, paths by shape, anything
else is an npm package, as npm itself decides); `fetch_source` brings the
module into a scratch folder and says where it came from exactly (absolute
path, commit, or integrity), which is what the config and the lock record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import TrafiError
from ..project.config import ModuleSource
from .archive import extract_safely
from .git import GitSpec, fetch_git, parse_git_spec
from .npm import NpmSpec, RegistryConfig, fetch_npm, parse_npm_spec

Progress = Callable[[str], None]
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz")


@dataclass(frozen=True)
class PathSpec:
    path: Path
    spec: str


SourceSpec = PathSpec | GitSpec | NpmSpec


@dataclass(frozen=True)
class FetchedModule:
    folder: Path  # the module folder (may be the user's own folder for a path source: never written)
    source: ModuleSource


def _looks_like_path(spec: str) -> bool:
    if spec.startswith((".", "/", "~")) or spec.endswith(ARCHIVE_SUFFIXES):
        return True
    # "modules/hello" is a folder; "@scope/name" is a package.
    return ("/" in spec or "\\" in spec) and not spec.startswith("@")


def parse_source(spec: str, base: Path | None = None) -> SourceSpec:
    spec = spec.strip()
    if not spec:
        raise TrafiError(
            "empty module source; expected a folder, a .tgz, github:user/repo, git+… or a package"
        )
    git = parse_git_spec(spec)
    if git is not None:
        return git
    if spec.startswith("file:"):
        spec = spec.removeprefix("file:")
        return PathSpec((base or Path.cwd()) / Path(spec).expanduser(), spec)
    if _looks_like_path(spec):
        return PathSpec((base or Path.cwd()) / Path(spec).expanduser(), spec)
    npm = parse_npm_spec(spec)
    if npm is None:
        raise TrafiError(f"{spec!r} is not a module source (a folder, a .tgz, a git or an npm spec)")
    return npm


def folder_read_as_package(spec: str, base: Path | None = None) -> Path | None:
    """The module folder `spec` also names when it is read as an npm package (`greeter` with
    `./greeter` present): npm's rule is kept (a bare name is a package), so the caller says so."""
    try:
        parsed = parse_source(spec, base)
    except TrafiError:
        return None
    folder = (base or Path.cwd()) / spec.strip()
    if isinstance(parsed, NpmSpec) and (folder / "trafi-module.json").is_file():
        return folder
    return None


def fetch_source(
    parsed: SourceSpec,
    scratch: Path,
    registries: RegistryConfig,
    *,
    integrity: str | None = None,
    progress: Progress | None = None,
) -> FetchedModule:
    """Bring the module into `scratch` (created; the caller removes it) and describe where it came from."""
    say = progress or (lambda _message: None)
    if isinstance(parsed, PathSpec):
        path = parsed.path.resolve()
        if path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES):
            from ..runtime.artifacts import component_digest

            say(f"unpacking {path.name}")
            digest = component_digest(path)
            if integrity is not None and integrity != f"sha256={digest}":
                raise TrafiError(f"{path}: sha256 is {digest}; the lock file records {integrity}")
            folder = extract_safely(path, scratch / "unpacked")
            return FetchedModule(
                folder,
                ModuleSource(
                    kind="path",
                    spec=parsed.spec,
                    resolved=f"{path}#sha256={digest}",
                    integrity=f"sha256={digest}",
                ),
            )
        if not path.is_dir():
            raise TrafiError(f"module source {path} is not a folder or a .tgz archive")
        return FetchedModule(path, ModuleSource(kind="path", spec=parsed.spec, resolved=str(path)))
    if isinstance(parsed, GitSpec):
        say(f"fetching {parsed.spec}")
        fetched = fetch_git(parsed, scratch / "checkout")
        return FetchedModule(
            fetched.folder, ModuleSource(kind="git", spec=parsed.spec, resolved="git+" + fetched.resolved)
        )
    say(f"downloading {parsed.spec} from {registries.registry_for(parsed.name)}")
    scratch.mkdir(parents=True, exist_ok=True)
    npm = fetch_npm(parsed, registries, scratch / "download", integrity=integrity)
    say(f"unpacking {npm.name}@{npm.version}")
    folder = extract_safely(npm.tarball, scratch / "unpacked")
    return FetchedModule(
        folder,
        ModuleSource(
            kind="npm", spec=parsed.spec, resolved=f"{npm.name}@{npm.version}", integrity=npm.integrity
        ),
    )
