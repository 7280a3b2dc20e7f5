"""How a module's tables are named, and the column the host owns in each of them."""

from __future__ import annotations

# The host's own column in every module table: filled and filtered by the host, never
# named by the module (migrations that do are refused, and operations cannot reach it).
TENANT_COLUMN = "trafi_tenant"
RESERVED_COLUMN_PREFIX = "trafi_"


def table_prefix(module: str) -> str:
    """`mod_<module>__`: the module name's dashes become single underscores, then two.

    Module names have no double dash and no trailing dash, so no module's prefix
    starts another's: module `a` (`mod_a__`) can never name a table of module
    `a-b` (`mod_a_b__`), which a single-underscore separator would allow.
    """
    return f"mod_{module.replace('-', '_')}__"


def owns(module: str, table: str) -> bool:
    prefix = table_prefix(module)
    return table.startswith(prefix) and len(table) > len(prefix)


def full_name(module: str, table: str) -> str:
    """The table as written in migrations, from either that name or the part after the prefix."""
    return table if owns(module, table) else table_prefix(module) + table
