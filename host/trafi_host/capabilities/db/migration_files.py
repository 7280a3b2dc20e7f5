"""A module's migrations as it ships them: `NNNN_name.up.sql` and `.down.sql` pairs in its folder.

The folder is the manifest's `migrations` (default `migrations/`). Each pair is
one migration, identified by its file stem (`0001_create_reviews`), ordered by
its number; every statement of both files is parsed and checked here, so a
module with one bad statement is refused as a whole, with file and line.
A `schema.prisma` fragment in the folder is translated to the first migration
(`0000_prisma_schema`), ahead of the SQL ones.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .migration_sql import MigrationSqlError, Problem, Statement, parse_migration

FILE_PATTERN = re.compile(r"^(?P<id>(?P<number>\d{4})_(?P<name>[a-z0-9_]+))\.(?P<direction>up|down)\.sql$")
PRISMA_FILE = "schema.prisma"
PRISMA_MIGRATION_ID = "0000_prisma_schema"
MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class FileProblem:
    file: str  # relative to the module folder
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class MigrationFilesError(ValueError):
    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Migration:
    id: str
    up_sql: str
    down_sql: str
    up: tuple[Statement, ...]
    down: tuple[Statement, ...]
    source: str  # the up file (or the Prisma fragment), relative to the module folder

    @property
    def checksum(self) -> str:
        return hashlib.sha256(f"{self.up_sql}\0{self.down_sql}".encode()).hexdigest()


def read_migrations(module: str, module_dir: Path, folder: str) -> list[Migration]:
    """Every migration of the module, in order; MigrationFilesError lists every problem found."""
    root = module_dir / folder
    if not root.is_dir():
        return []
    problems: list[FileProblem] = []
    pairs: dict[str, dict[str, Path]] = {}
    numbers: dict[str, str] = {}
    for path in sorted(root.iterdir()):
        relative = f"{folder}/{path.name}"
        if path.name == PRISMA_FILE or path.name.startswith(".") or path.name.lower() == "readme.md":
            continue
        match = FILE_PATTERN.match(path.name)
        if match is None or not path.is_file() or path.is_symlink():
            problems.append(
                FileProblem(
                    relative, 1, "not a migration file: expected NNNN_name.up.sql / NNNN_name.down.sql"
                )
            )
            continue
        migration_id, number = match.group("id"), match.group("number")
        if numbers.setdefault(number, migration_id) != migration_id:
            problems.append(FileProblem(relative, 1, f"number {number} is also {numbers[number]}"))
            continue
        pairs.setdefault(migration_id, {})[match.group("direction")] = path
    migrations: list[Migration] = []
    prisma = root / PRISMA_FILE
    if prisma.is_file():
        migrations += _prisma_migration(module, prisma, f"{folder}/{PRISMA_FILE}", problems)
    for migration_id in sorted(pairs):
        files = pairs[migration_id]
        missing = {"up", "down"} - files.keys()
        if missing:
            (present,) = files.values()
            problems.append(
                FileProblem(f"{folder}/{present.name}", 1, f"no {migration_id}.{missing.pop()}.sql beside it")
            )
            continue
        up_text = _read(files["up"], f"{folder}/{files['up'].name}", problems)
        down_text = _read(files["down"], f"{folder}/{files['down'].name}", problems)
        if up_text is None or down_text is None:
            continue
        texts = {"up": up_text, "down": down_text}
        statements = {}
        for direction in ("up", "down"):
            source = f"{folder}/{files[direction].name}"
            try:
                statements[direction] = tuple(parse_migration(module, texts[direction], source))
            except MigrationSqlError as error:
                problems += [FileProblem(source, p.line, p.message) for p in error.problems]
        if len(statements) == 2:
            if not statements["up"]:
                problems.append(FileProblem(f"{folder}/{files['up'].name}", 1, "no statement"))
                continue
            migrations.append(
                Migration(
                    migration_id,
                    texts["up"],
                    texts["down"],
                    statements["up"],
                    statements["down"],
                    f"{folder}/{files['up'].name}",
                )
            )
    if problems:
        raise MigrationFilesError(problems)
    return migrations


def _read(path: Path, relative: str, problems: list[FileProblem]) -> str | None:
    if path.stat().st_size > MAX_FILE_BYTES:
        problems.append(FileProblem(relative, 1, f"larger than {MAX_FILE_BYTES} bytes"))
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problems.append(FileProblem(relative, 1, f"not UTF-8 text: {error.reason}"))
        return None


def _prisma_migration(module: str, path: Path, relative: str, problems: list[FileProblem]) -> list[Migration]:
    from .prisma import PrismaError, prisma_migration

    text = _read(path, relative, problems)
    if text is None:
        return []
    try:
        generated = prisma_migration(module, text, relative)
    except PrismaError as error:
        problems += [FileProblem(relative, p.line, p.message) for p in error.problems]
        return []
    try:
        up = tuple(parse_migration(module, generated.up, relative))
        down = tuple(parse_migration(module, generated.down, relative))
    except MigrationSqlError as error:  # a translator bug, reported like any other problem
        problems += [FileProblem(relative, 1, f"generated SQL refused: {p.message}") for p in error.problems]
        return []
    return [Migration(PRISMA_MIGRATION_ID, generated.up, generated.down, up, down, relative)]


def problems_of(module: str, module_dir: Path, folder: str) -> list[FileProblem]:
    try:
        read_migrations(module, module_dir, folder)
    except MigrationFilesError as error:
        return error.problems
    return []


__all__ = [
    "PRISMA_MIGRATION_ID",
    "FileProblem",
    "Migration",
    "MigrationFilesError",
    "Problem",
    "problems_of",
    "read_migrations",
]
