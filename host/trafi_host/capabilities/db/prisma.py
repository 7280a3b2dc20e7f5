"""A module's tables declared as a Prisma schema fragment, translated to the SQL migration the host runs.

A module may ship `schema.prisma` (models and enums only) instead of hand-written
`migrations/*.sql`. This file reads the models-only subset of the Prisma Schema
Language with a small tokenizer and a recursive-descent parser, checks it, and
writes the same PostgreSQL-flavoured, portable SQL a module author would write
by hand: the host then treats both alike (tenant column, transpiling to SQLite
or PostgreSQL). Whatever cannot be the same on SQLite and PostgreSQL is refused
with a problem naming its line, never translated approximately.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from . import naming

# --- public results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PrismaProblem:
    """One thing wrong with a fragment: the 1-based line of the offending token and what to change."""

    line: int
    message: str


class PrismaError(ValueError):
    """Every problem of a fragment at once, so an author fixes them in one pass."""

    def __init__(self, problems: list[PrismaProblem], source: str = "schema.prisma") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(f"{source}:{problem.line}: {problem.message}" for problem in problems))


@dataclass(frozen=True)
class PrismaMigration:
    """`up` creates the module's tables and indexes; `down` drops them, dependents first."""

    up: str
    down: str


# --- the parse tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PrismaString:
    value: str
    line: int


@dataclass(frozen=True)
class PrismaNumber:
    text: str  # as written: the SQL default keeps it exactly
    line: int


@dataclass(frozen=True)
class PrismaName:
    """A bare name: a field reference, an enum value, true/false, a referential action."""

    name: str
    line: int


@dataclass(frozen=True)
class PrismaCall:
    name: str
    arguments: tuple[PrismaArgument, ...]
    line: int


@dataclass(frozen=True)
class PrismaList:
    items: tuple[PrismaValue, ...]
    line: int


PrismaValue = PrismaString | PrismaNumber | PrismaName | PrismaCall | PrismaList


@dataclass(frozen=True)
class PrismaArgument:
    name: str | None  # None for a positional argument
    value: PrismaValue
    line: int


@dataclass(frozen=True)
class PrismaAttribute:
    name: str  # without its @ or @@: "id", "default", "db.VarChar", "index"
    arguments: tuple[PrismaArgument, ...]
    line: int


@dataclass(frozen=True)
class PrismaField:
    name: str
    type: str
    optional: bool
    is_list: bool
    attributes: tuple[PrismaAttribute, ...]
    line: int


@dataclass(frozen=True)
class PrismaModel:
    name: str
    fields: tuple[PrismaField, ...]
    attributes: tuple[PrismaAttribute, ...]
    line: int


@dataclass(frozen=True)
class PrismaEnumValue:
    name: str
    attributes: tuple[PrismaAttribute, ...]
    line: int


@dataclass(frozen=True)
class PrismaEnum:
    name: str
    values: tuple[PrismaEnumValue, ...]
    attributes: tuple[PrismaAttribute, ...]
    line: int


@dataclass(frozen=True)
class PrismaSchema:
    models: tuple[PrismaModel, ...]
    enums: tuple[PrismaEnum, ...]


# --- tokenizer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "string", "number", "@", "@@", "end", or the punctuation character itself
    text: str
    line: int


_PUNCTUATION = frozenset("{}()[],:?=.")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def _is_name_start(char: str) -> bool:
    return char.isascii() and (char.isalpha() or char == "_")


def _is_name_part(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _tokenize(text: str, problems: list[PrismaProblem]) -> list[_Token]:
    tokens: list[_Token] = []
    line, index, length = 1, 0, len(text)
    while index < length:
        char = text[index]
        if char == "\n":
            line += 1
            index += 1
        elif char in " \t\r\ufeff":
            index += 1
        elif text.startswith("//", index):  # `//` and `///` alike: documentation has no SQL meaning
            end = text.find("\n", index)
            index = length if end < 0 else end
        elif text.startswith("@@", index):
            tokens.append(_Token("@@", "@@", line))
            index += 2
        elif char == "@" or char in _PUNCTUATION:
            tokens.append(_Token(char, char, line))
            index += 1
        elif char == '"':
            value, index = _read_string(text, index, line, problems)
            tokens.append(_Token("string", value, line))
        elif _is_name_start(char):
            start = index
            while index < length and _is_name_part(text[index]):
                index += 1
            tokens.append(_Token("name", text[start:index], line))
        elif char.isdigit() or (char == "-" and text[index + 1 : index + 2].isdigit()):
            start = index
            index += 1
            while index < length and text[index].isdigit():
                index += 1
            if text[index : index + 1] == "." and text[index + 1 : index + 2].isdigit():
                index += 1
                while index < length and text[index].isdigit():
                    index += 1
            tokens.append(_Token("number", text[start:index], line))
        else:
            problems.append(PrismaProblem(line, f"unexpected character {char!r}"))
            index += 1
    tokens.append(_Token("end", "", line))
    return tokens


def _read_string(text: str, index: int, line: int, problems: list[PrismaProblem]) -> tuple[str, int]:
    chars: list[str] = []
    index += 1
    while True:
        if index >= len(text) or text[index] == "\n":
            problems.append(
                PrismaProblem(line, 'a string is not closed: missing " before the end of the line')
            )
            return "".join(chars), index
        char = text[index]
        if char == '"':
            return "".join(chars), index + 1
        if char == "\\":
            escaped = text[index + 1 : index + 2]
            if escaped in _ESCAPES:
                chars.append(_ESCAPES[escaped])
            else:
                problems.append(
                    PrismaProblem(
                        line, f'unknown escape \\{escaped} in a string (known: \\" \\\\ \\n \\t \\r)'
                    )
                )
            index += 2
            continue
        chars.append(char)
        index += 1


# --- parser -------------------------------------------------------------------------------------


_Member = PrismaField | PrismaEnumValue | PrismaAttribute


class _SyntaxProblem(Exception):
    def __init__(self, line: int, message: str, resume_after: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.resume_after = line if resume_after is None else resume_after  # the line to skip past


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the file"
    if token.kind == "string":
        return json.dumps(token.text)
    return f"`{token.text}`"


_REFUSED_BLOCKS = {
    "datasource": "a datasource block is refused: a module fragment declares models only; "
    "the host owns the datasource",
    "generator": "a generator block is refused: a module fragment declares models only; "
    "the host owns the datasource and no Prisma Client is generated",
    "type": "a type block (composite type) is refused: composite types exist only on MongoDB; "
    "declare a model",
    "view": "a view block is refused: a module fragment declares tables (models) only",
}


class _Parser:
    """Recursive descent over the tokens; a broken field or block is reported and skipped, not fatal."""

    def __init__(self, tokens: list[_Token], problems: list[PrismaProblem]) -> None:
        self.tokens = tokens
        self.position = 0
        self.last_line = 1  # of the last consumed token: a field ends with its line
        self.problems = problems
        # A refused block is not a syntax problem: the models can still be checked beside it.
        self.refusals: list[PrismaProblem] = []

    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.position + offset, len(self.tokens) - 1)]

    def at(self, kind: str) -> bool:
        return self.peek().kind == kind

    def advance(self) -> _Token:
        token = self.peek()
        if token.kind != "end":
            self.position += 1
            self.last_line = token.line
        return token

    def expect(self, kind: str, what: str) -> _Token:
        if not self.at(kind):
            raise _SyntaxProblem(self.peek().line, f"expected {what}, found {_describe(self.peek())}")
        return self.advance()

    def schema(self) -> PrismaSchema:
        models: list[PrismaModel] = []
        enums: list[PrismaEnum] = []
        while not self.at("end"):
            token = self.peek()
            try:
                if token.kind == "name" and token.text == "model":
                    model = self.model()
                    if model is not None:
                        models.append(model)
                elif token.kind == "name" and token.text == "enum":
                    enum = self.enum()
                    if enum is not None:
                        enums.append(enum)
                elif token.kind == "name" and token.text in _REFUSED_BLOCKS:
                    self.refusals.append(PrismaProblem(token.line, _REFUSED_BLOCKS[token.text]))
                    self.skip_block()
                else:
                    raise _SyntaxProblem(
                        token.line, f"expected a model or enum block, found {_describe(token)}"
                    )
            except _SyntaxProblem as problem:
                self.problems.append(PrismaProblem(problem.line, problem.message))
                self.skip_block()
        return PrismaSchema(tuple(models), tuple(enums))

    def skip_block(self) -> None:
        """Past the next `{ ... }` (balanced), or to the end: the next block starts clean."""
        while not self.at("end") and not self.at("{"):
            if self.at("}"):  # the close of a block whose head was broken
                self.advance()
                return
            self.advance()
        depth = 0
        while not self.at("end"):
            kind = self.advance().kind
            depth += kind == "{"
            depth -= kind == "}"
            if depth == 0:
                return

    def skip_rest_of_line(self, line: int) -> None:
        # A `}` ends the block even on the broken line, so the block's end is not lost.
        while not self.at("end") and not self.at("}") and self.peek().line <= line:
            self.advance()

    def end_of_line(self, what: str) -> None:
        token = self.peek()
        if token.kind not in ("end", "}") and token.line == self.last_line:
            raise _SyntaxProblem(token.line, f"unexpected {_describe(token)} after {what}")

    def block_body(self, keyword: str, name: str, member: str) -> list[_Member] | None:
        """The members of `keyword name { ... }`; None when the block is not closed."""
        opening = self.expect("{", f"{{ after {keyword} {name}")
        members: list[_Member] = []
        while not self.at("}"):
            token = self.peek()
            if token.kind == "end":
                self.problems.append(
                    PrismaProblem(opening.line, f"{keyword} {name} is not closed: missing }}")
                )
                return None
            try:
                if token.kind == "@@":
                    attribute = self.attribute()
                    self.end_of_line(f"@@{attribute.name}")
                    members.append(attribute)
                elif token.kind == "name":
                    members.append(self.field() if keyword == "model" else self.enum_value())
                else:
                    raise _SyntaxProblem(
                        token.line,
                        f"expected {member} or a @@ attribute in {keyword} {name}, found {_describe(token)}",
                    )
            except _SyntaxProblem as problem:
                self.problems.append(PrismaProblem(problem.line, problem.message))
                self.skip_rest_of_line(problem.resume_after)
        self.advance()
        return members

    def model(self) -> PrismaModel | None:
        self.advance()
        name = self.expect("name", "a model name after `model`")
        members = self.block_body("model", name.text, "a field")
        if members is None:
            return None
        return PrismaModel(
            name.text,
            tuple(m for m in members if isinstance(m, PrismaField)),
            tuple(m for m in members if isinstance(m, PrismaAttribute)),
            name.line,
        )

    def enum(self) -> PrismaEnum | None:
        self.advance()
        name = self.expect("name", "an enum name after `enum`")
        members = self.block_body("enum", name.text, "a value")
        if members is None:
            return None
        return PrismaEnum(
            name.text,
            tuple(m for m in members if isinstance(m, PrismaEnumValue)),
            tuple(m for m in members if isinstance(m, PrismaAttribute)),
            name.line,
        )

    def field(self) -> PrismaField:
        name = self.advance()
        kind = self.peek()
        if kind.kind != "name" or kind.line != name.line:
            raise _SyntaxProblem(
                kind.line if kind.line == name.line else name.line,
                f"field {name.text} needs a type on its line, e.g. `{name.text} String`",
            )
        self.advance()
        if self.at("("):
            raise _SyntaxProblem(
                self.peek().line,
                f"field {name.text}: a type takes no arguments (Unsupported(...) types are not portable)",
            )
        optional = is_list = False
        if self.at("?"):
            self.advance()
            optional = True
        elif self.at("["):
            self.advance()
            self.expect("]", f"] after {kind.text}[")
            is_list = True
            if self.at("?"):
                raise _SyntaxProblem(self.peek().line, f"field {name.text}: a list cannot be optional")
        attributes: list[PrismaAttribute] = []
        while self.at("@"):
            attributes.append(self.attribute())
        self.end_of_line(f"field {name.text}")
        return PrismaField(name.text, kind.text, optional, is_list, tuple(attributes), name.line)

    def enum_value(self) -> PrismaEnumValue:
        name = self.advance()
        attributes: list[PrismaAttribute] = []
        while self.at("@"):
            attributes.append(self.attribute())
        self.end_of_line(f"enum value {name.text}")
        return PrismaEnumValue(name.text, tuple(attributes), name.line)

    def attribute(self) -> PrismaAttribute:
        marker = self.advance()
        name = self.expect("name", f"an attribute name after {marker.text}").text
        while self.at(".") and self.peek(1).kind == "name":  # @db.VarChar
            self.advance()
            name += "." + self.advance().text
        arguments = self.arguments() if self.at("(") else ()
        return PrismaAttribute(name, arguments, marker.line)

    def arguments(self) -> tuple[PrismaArgument, ...]:
        opening = self.advance()
        arguments: list[PrismaArgument] = []
        while not self.at(")"):
            if self.at("end"):
                raise _SyntaxProblem(
                    opening.line, "missing ) for the ( opened on this line (found the end of the file)"
                )
            line = self.peek().line
            name = None
            if self.at("name") and self.peek(1).kind == ":":
                name = self.advance().text
                self.advance()
            arguments.append(PrismaArgument(name, self.value(), line))
            token = self.peek()
            if token.kind not in (")", ",") and token.line != opening.line:
                # Arguments may span lines, so the unclosed ( shows only where the next field begins.
                found = _describe(token) + ("" if token.kind == "end" else f" on line {token.line}")
                raise _SyntaxProblem(
                    opening.line, f"missing ) for the ( opened on this line (found {found})", token.line
                )
            if not self.at(")"):
                self.expect(",", ", or ) after an argument")
        self.advance()
        return tuple(arguments)

    def value(self) -> PrismaValue:
        token = self.peek()
        if token.kind == "string":
            self.advance()
            return PrismaString(token.text, token.line)
        if token.kind == "number":
            self.advance()
            return PrismaNumber(token.text, token.line)
        if token.kind == "name":
            self.advance()
            if self.at("("):
                return PrismaCall(token.text, self.arguments(), token.line)
            return PrismaName(token.text, token.line)
        if token.kind == "[":
            self.advance()
            items: list[PrismaValue] = []
            while not self.at("]"):
                items.append(self.value())
                if not self.at("]"):
                    self.expect(",", ", or ] in a list")
            self.advance()
            return PrismaList(tuple(items), token.line)
        raise _SyntaxProblem(token.line, f"expected a value, found {_describe(token)}")


def _parse(text: str) -> tuple[PrismaSchema, list[PrismaProblem], list[PrismaProblem]]:
    """The tree, the syntax problems, and the refused blocks."""
    problems: list[PrismaProblem] = []
    parser = _Parser(_tokenize(text, problems), problems)
    schema = parser.schema()
    return schema, problems, parser.refusals


def _sorted(problems: list[PrismaProblem]) -> list[PrismaProblem]:
    return sorted(set(problems), key=lambda problem: (problem.line, problem.message))


def parse_prisma(text: str, source: str = "schema.prisma") -> PrismaSchema:
    """The parse tree of a fragment; PrismaError lists every syntax problem and refused block."""
    schema, problems, refusals = _parse(text)
    if problems or refusals:
        raise PrismaError(_sorted(problems + refusals), source)
    return schema


# --- translation --------------------------------------------------------------------------------

_SCALAR_TYPES = {
    "String": "TEXT",
    "Int": "INTEGER",
    "BigInt": "BIGINT",
    "Float": "DOUBLE PRECISION",
    "Boolean": "BOOLEAN",
    "DateTime": "TIMESTAMP",
    "Bytes": "BYTEA",
    "Json": "TEXT",
}
_REFUSED_TYPES = {
    "Decimal": "Decimal is refused: SQLite stores NUMERIC as a floating-point REAL and would lose digits; "
    "keep money as Int or BigInt minor units (cents), or as a String",
    "Unsupported": "Unsupported types are not portable between SQLite and PostgreSQL",
}
_ACTIONS = {"Cascade": "CASCADE", "SetNull": "SET NULL", "Restrict": "RESTRICT", "NoAction": "NO ACTION"}
_GENERATED_IDS = ("uuid", "cuid", "nanoid", "ulid")
_MAX_NAME = 63  # PostgreSQL truncates longer identifiers silently, so two names could become one

# Words that failed as a column name in sqlglot 26 (postgres), SQLite 3.40 or PostgreSQL 15, probed
# with every keyword of both (CREATE TABLE, CHECK, UNIQUE, FOREIGN KEY, CREATE INDEX), plus the
# PostgreSQL system columns. Refusing them keeps every generated name unquoted.
_RESERVED = frozenset(
    """
    add all alter always analyse analyze and any array as asc asymmetric authorization autoincrement
    between binary both case cast check cmax cmin collate collation column commit concurrently
    constraint create cross ctid current_catalog current_date current_role current_schema current_time
    current_timestamp current_user default deferrable delete desc distinct do drop else end escape
    except exclude exists false fetch for foreign freeze from full glob grant group having if ilike in
    index initially inner insert intersect into is isnull join lateral leading left like limit
    localtime localtimestamp lock natural not nothing notnull null offset on only or order outer over
    overlaps placing primary raise references regexp returning right rollback select session_user set
    similar some symmetric table tableoid tablesample then to trailing transaction true truncate union
    unique update user using values variadic verbose when where window with xmax xmin
    """.split()
)
_SQL_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_MODULE_NAME = re.compile(r"[a-z][a-z0-9-]*")


def snake_case(name: str) -> str:
    """`productId` -> `product_id`, `HTTPServer` -> `http_server`, `OrderItem` -> `order_item`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def table_prefix(module: str) -> str:
    """`product-reviews` -> `mod_product_reviews__`: the only table names the module may own."""
    if not _MODULE_NAME.fullmatch(module):
        raise ValueError(f"module name {module!r} is not lowercase [a-z][a-z0-9-]*")
    return naming.table_prefix(module)


def index_name(table: str, columns: list[str], suffix: str) -> str:
    """`<table>_<columns>_<idx|key>`, cut to 63 characters with a hash of the whole name when longer."""
    name = f"{table}_{'_'.join(columns)}_{suffix}"
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    keep = _MAX_NAME - len(f"_{digest}_{suffix}")
    return f"{name[:keep].rstrip('_')}_{digest}_{suffix}"


def _show(value: PrismaValue) -> str:
    if isinstance(value, PrismaString):
        return json.dumps(value.value)
    if isinstance(value, PrismaNumber):
        return value.text
    if isinstance(value, PrismaName):
        return value.name
    if isinstance(value, PrismaCall):
        shown = (f"{a.name}: {_show(a.value)}" if a.name else _show(a.value) for a in value.arguments)
        return f"{value.name}({', '.join(shown)})"
    return f"[{', '.join(_show(item) for item in value.items)}]"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class _Column:
    field: PrismaField
    name: str
    sql_type: str
    nullable: bool
    default: str | None = None
    check: str | None = None
    autoincrement_line: int | None = None


@dataclass
class _ForeignKey:
    columns: list[str]
    target: _Table
    references: list[str]
    on_delete: str
    on_update: str
    line: int


@dataclass
class _Index:
    fields: list[str]
    unique: bool
    line: int
    name: str = ""


@dataclass
class _Relation:
    """A field whose type is a model: the owning side holds `fields:`; the other side names no column."""

    table: _Table
    field: PrismaField
    target: _Table
    name: str | None
    arguments: dict[str, PrismaValue]
    owning: bool


@dataclass
class _Table:
    model: PrismaModel
    name: str
    columns: dict[str, _Column] = field(default_factory=dict)  # by field name, in declaration order
    broken: set[str] = field(default_factory=set)  # fields already reported: no follow-on problems
    primary_key: list[str] = field(default_factory=list)
    inline_primary_key: bool = False
    unique_keys: list[frozenset[str]] = field(default_factory=list)
    indexes: list[_Index] = field(default_factory=list)
    foreign_keys: list[_ForeignKey] = field(default_factory=list)


class _Translator:
    def __init__(self, schema: PrismaSchema, prefix: str) -> None:
        self.schema = schema
        self.prefix = prefix
        self.problems: list[PrismaProblem] = []
        self.enums: dict[str, tuple[PrismaEnum, list[str]]] = {}
        self.tables: dict[str, _Table] = {}
        self.relations: list[_Relation] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(PrismaProblem(line, message))

    def translate(self) -> PrismaMigration | None:
        self.declare()
        for table in self.tables.values():
            self.columns(table)
            self.block_attributes(table)
        for table in self.tables.values():
            self.relation_fields(table)
        for relation in self.relations:
            if relation.owning:
                self.foreign_key(relation)
            else:
                self.back_relation(relation)
        order = self.creation_order()
        self.name_indexes()
        if self.problems:
            return None
        up = "".join(
            _create_table(table) + "".join(_create_index(table, i) for i in table.indexes) for table in order
        )
        down = "".join(f"DROP TABLE {table.name};\n" for table in reversed(order))
        return PrismaMigration(up, down)

    # -- names

    def declare(self) -> None:
        declared: dict[str, tuple[str, int]] = {}  # name -> (model or enum, line)

        def first(kind: str, name: str, line: int) -> bool:
            if name not in declared:
                declared[name] = (kind, line)
                return True
            other, other_line = declared[name]
            if other == kind:
                self.problem(line, f"{kind} {name} is declared twice (first on line {other_line})")
            else:
                self.problem(line, f"{kind} {name} has the name of the {other} on line {other_line}")
            return False

        for enum in self.schema.enums:
            if first("enum", enum.name, enum.line):
                self.enums[enum.name] = (enum, self.enum_values(enum))
        for model in self.schema.models:
            if not first("model", model.name, model.line):
                continue
            if model.name in _SCALAR_TYPES or model.name in _REFUSED_TYPES:
                self.problem(model.line, f"model {model.name} has the name of a scalar type")
            self.tables[model.name] = _Table(model, self.table_name(model))

    def enum_values(self, enum: PrismaEnum) -> list[str]:
        for attribute in enum.attributes:
            self.problem(
                attribute.line,
                f"@@{attribute.name} on enum {enum.name} is refused: an enum is a TEXT column with a CHECK "
                "of its values, there is no database type to name",
            )
        if not enum.values:
            self.problem(enum.line, f"enum {enum.name} has no values")
        stored: dict[str, int] = {}
        for value in enum.values:
            text = value.name
            for attribute in value.attributes:
                if attribute.name != "map":
                    self.problem(
                        attribute.line, f"@{attribute.name} on an enum value is refused (only @map is)"
                    )
                    continue
                mapped = self.bind(attribute, ("name",), "@").get("name")
                if isinstance(mapped, PrismaString):
                    text = mapped.value
                else:
                    self.problem(
                        attribute.line, f'@map on enum value {value.name} needs a string: @map("...")'
                    )
            if text in stored:
                self.problem(
                    value.line, f"enum {enum.name} has the value {text} twice (first on line {stored[text]})"
                )
            stored[text] = value.line
        return list(stored)

    def table_name(self, model: PrismaModel) -> str:
        suffix = snake_case(model.name)
        line = model.line
        for attribute in model.attributes:
            if attribute.name != "map":
                continue
            line = attribute.line
            value = self.bind(attribute, ("name",), "@@").get("name")
            if not isinstance(value, PrismaString):
                self.problem(line, f'@@map on model {model.name} needs a string: @@map("...")')
            elif value.value.startswith("mod_"):
                self.problem(
                    line,
                    f'@@map("{value.value}") must not start with mod_: the host adds {self.prefix} to every '
                    f"table itself, so this would name {self.prefix}{value.value}",
                )
            elif not re.fullmatch(r"[a-z][a-z0-9_]*", value.value):
                self.problem(
                    line,
                    f'@@map("{value.value}") must be lowercase letters, digits and _ '
                    "(a table name that never needs quoting)",
                )
            else:
                suffix = value.value
        name = self.prefix + suffix
        if len(name) > _MAX_NAME:
            self.problem(
                line,
                f"table name {name} has {len(name)} characters; PostgreSQL keeps {_MAX_NAME}: "
                f'shorten model {model.name} or give it @@map("...")',
            )
        return name

    def column_name(self, field_: PrismaField, mapped: str | None, line: int) -> str:
        name = mapped if mapped is not None else snake_case(field_.name)
        if not _SQL_NAME.fullmatch(name):
            self.problem(
                line,
                f'column name "{name}" must be lowercase letters, digits and _ '
                "(a name that never needs quoting)",
            )
        elif name in _RESERVED:
            self.problem(
                line,
                f"column name {name} (field {field_.name}) is an SQL keyword on SQLite or PostgreSQL: "
                'rename the field or give it @map("...")',
            )
        elif len(name) > _MAX_NAME:
            self.problem(line, f"column name {name} has {len(name)} characters; PostgreSQL keeps {_MAX_NAME}")
        return name

    # -- arguments

    def bind(
        self, attribute: PrismaAttribute, parameters: tuple[str, ...], marker: str
    ) -> dict[str, PrismaValue]:
        """The arguments by parameter name; only the first parameter may be given without its name."""
        label = f"{marker}{attribute.name}"
        bound: dict[str, PrismaValue] = {}
        for position, argument in enumerate(attribute.arguments):
            key = argument.name
            if key is None:
                if position != 0 or not parameters:
                    self.problem(argument.line, f"{label}: unexpected argument {_show(argument.value)}")
                    continue
                key = parameters[0]
            if key not in parameters:
                if key == "map":
                    self.problem(
                        argument.line,
                        f"{label}: map: is refused: the host names indexes and constraints "
                        f"({self.prefix}...)",
                    )
                elif parameters:
                    self.problem(
                        argument.line, f"{label} takes no {key}: argument (it takes {', '.join(parameters)})"
                    )
                else:
                    self.problem(argument.line, f"{label} takes no arguments")
            elif key in bound:
                self.problem(argument.line, f"{label}: {key} is given twice")
            else:
                bound[key] = argument.value
        return bound

    def field_list(self, table: _Table, value: PrismaValue | None, label: str, line: int) -> list[str] | None:
        """Scalar field names of `table` from `[a, b]`; None (reported) when one is wrong."""
        if not isinstance(value, PrismaList) or not value.items:
            self.problem(line, f"{label} needs a list of fields, e.g. [a, b]")
            return None
        names: list[str] = []
        for item in value.items:
            if isinstance(item, PrismaCall):
                self.problem(item.line, f"{label}: {_show(item)}: sort and length options are not portable")
                return None
            if not isinstance(item, PrismaName):
                self.problem(item.line, f"{label}: {_show(item)} is not a field name")
                return None
            if item.name in table.broken:
                return None
            if item.name not in table.columns:
                relation = any(f.name == item.name for f in table.model.fields)
                self.problem(
                    item.line,
                    f"{label}: {item.name} is a relation field, list its scalar fields"
                    if relation
                    else f"{label}: model {table.model.name} has no field {item.name}",
                )
                return None
            if item.name in names:
                self.problem(item.line, f"{label}: {item.name} is listed twice")
                return None
            names.append(item.name)
        return names

    # -- columns

    def columns(self, table: _Table) -> None:
        seen_fields: dict[str, int] = {}
        seen_columns: dict[str, str] = {}
        ids: list[PrismaField] = []
        for field_ in table.model.fields:
            if field_.name in seen_fields:
                self.problem(
                    field_.line,
                    f"model {table.model.name} has the field {field_.name} twice (first on line "
                    f"{seen_fields[field_.name]})",
                )
                continue
            seen_fields[field_.name] = field_.line
            if field_.type in self.tables:
                continue  # a relation: its foreign key is written once every table has its columns
            column = self.column(table, field_)
            if column is None:
                table.broken.add(field_.name)
                continue
            if column.name in seen_columns:
                self.problem(
                    field_.line,
                    f"fields {seen_columns[column.name]} and {field_.name} of model {table.model.name} "
                    f"both make the column {column.name}",
                )
            seen_columns[column.name] = field_.name
            table.columns[field_.name] = column
            if any(attribute.name == "id" for attribute in field_.attributes):
                ids.append(field_)
            if any(attribute.name == "unique" for attribute in field_.attributes):
                table.indexes.append(_Index([field_.name], True, field_.line))
                table.unique_keys.append(frozenset([field_.name]))
        if len(ids) > 1:
            self.problem(
                ids[1].line,
                f"model {table.model.name} has @id on {ids[0].name} and {ids[1].name}: "
                "use @@id([a, b]) for a compound primary key",
            )
        elif ids:
            table.primary_key = [ids[0].name]
            table.inline_primary_key = True

    def column(self, table: _Table, field_: PrismaField) -> _Column | None:
        enum = self.enums.get(field_.type)
        if field_.type in _REFUSED_TYPES:
            self.problem(field_.line, f"field {field_.name}: {_REFUSED_TYPES[field_.type]}")
            return None
        if field_.type not in _SCALAR_TYPES and enum is None:
            if any(attribute.name == "relation" for attribute in field_.attributes):
                self.problem(
                    field_.line,
                    f"field {field_.name} relates to {field_.type}, which is not a model of this fragment",
                )
            else:
                self.problem(
                    field_.line,
                    f"field {field_.name} has the unknown type {field_.type} (scalar types: "
                    f"{', '.join(_SCALAR_TYPES)}; or a model or enum of this fragment)",
                )
            return None
        if field_.is_list:
            self.problem(
                field_.line,
                f"field {field_.name}: scalar lists ({field_.type}[]) are refused: SQLite has no array "
                "columns; use a Json field or a model of their own",
            )
            return None
        sql_type = _SCALAR_TYPES.get(field_.type, "TEXT")
        mapped: str | None = None
        column = _Column(field_, "", sql_type, field_.optional)
        if enum is not None:
            values = ", ".join(_sql_string(value) for value in enum[1])
            column.check = f"IN ({values})"
        seen: set[str] = set()
        for attribute in field_.attributes:
            if attribute.name in seen:
                self.problem(attribute.line, f"field {field_.name} has @{attribute.name} twice")
                continue
            seen.add(attribute.name)
            if attribute.name == "id":
                self.bind(attribute, (), "@")
                if field_.optional:
                    self.problem(attribute.line, f"field {field_.name}: an @id cannot be optional")
            elif attribute.name == "unique":
                self.bind(attribute, (), "@")
            elif attribute.name == "default":
                self.default(column, attribute)
            elif attribute.name == "map":
                value = self.bind(attribute, ("name",), "@").get("name")
                if isinstance(value, PrismaString):
                    mapped = value.value
                else:
                    self.problem(attribute.line, f'@map on field {field_.name} needs a string: @map("...")')
            elif attribute.name == "updatedAt":
                self.problem(
                    attribute.line,
                    f"field {field_.name}: @updatedAt is refused: Prisma Client sets it, not the database, "
                    "and a module's queries do not go through Prisma Client, so the column would never "
                    "change; set it from the module (or use @default(now()) for a creation time)",
                )
            elif attribute.name == "relation":
                self.problem(
                    attribute.line,
                    f"field {field_.name}: @relation belongs on a field whose type is a model, "
                    f"not {field_.type}",
                )
            elif attribute.name.startswith("db."):
                self.problem(
                    attribute.line,
                    f"field {field_.name}: native types (@{attribute.name}) are refused: they differ between "
                    "SQLite and PostgreSQL; the column type follows the Prisma type",
                )
            else:
                self.problem(
                    attribute.line,
                    f"field {field_.name}: @{attribute.name} is not supported (supported: @id, @default, "
                    "@unique, @map)",
                )
        column.name = self.column_name(field_, mapped, field_.line)
        if column.check is not None:
            column.check = f"{column.name} {column.check}"
        return column

    def default(self, column: _Column, attribute: PrismaAttribute) -> None:
        field_ = column.field
        value = self.bind(attribute, ("value",), "@").get("value")
        if value is None:
            self.problem(attribute.line, f"field {field_.name}: @default needs a value")
            return
        kind = field_.type
        enum = self.enums.get(kind)
        misfit = f"field {field_.name}: @default({_show(value)}) does not fit the type {kind}"
        if isinstance(value, PrismaCall):
            if value.name in _GENERATED_IDS:
                self.problem(
                    attribute.line,
                    f"field {field_.name}: @default({value.name}()) is refused: the host cannot generate "
                    f"{value.name} values the same way on SQLite and PostgreSQL; generate the id in the "
                    "module and set it when inserting",
                )
            elif value.arguments and value.name in ("autoincrement", "now"):
                self.problem(attribute.line, f"field {field_.name}: {value.name}() takes no arguments")
            elif value.name == "autoincrement" and kind in ("Int", "BigInt"):
                column.autoincrement_line = attribute.line
            elif value.name == "now" and kind == "DateTime":
                column.default = "CURRENT_TIMESTAMP"
            elif value.name in ("autoincrement", "now"):
                self.problem(attribute.line, misfit)
            else:
                self.problem(
                    attribute.line,
                    f"field {field_.name}: @default({value.name}()) is not portable (supported: "
                    "autoincrement(), now(), a string, a number, true, false, an enum value)",
                )
        elif isinstance(value, PrismaString) and kind in ("String", "Json"):
            column.default = _sql_string(value.value)
        elif isinstance(value, PrismaNumber) and kind in ("Int", "BigInt"):
            bits = 31 if kind == "Int" else 63
            if "." in value.text or not -(2**bits) <= int(value.text) < 2**bits:
                self.problem(attribute.line, misfit)
            column.default = value.text
        elif isinstance(value, PrismaNumber) and kind == "Float":
            column.default = value.text
        elif isinstance(value, PrismaName) and kind == "Boolean" and value.name in ("true", "false"):
            column.default = value.name.upper()
        elif isinstance(value, PrismaName) and enum is not None:
            names = {v.name: stored for v, stored in zip(enum[0].values, enum[1], strict=False)}
            if value.name in names:
                column.default = _sql_string(names[value.name])
            else:
                self.problem(
                    attribute.line, f"field {field_.name}: {value.name} is not a value of enum {kind}"
                )
        elif isinstance(value, PrismaString) and kind in ("DateTime", "Bytes"):
            self.problem(
                attribute.line,
                f"field {field_.name}: a {kind} default other than now() is refused: SQLite and PostgreSQL "
                "read such literals differently; set it from the module",
            )
        else:
            self.problem(attribute.line, misfit)

    def block_attributes(self, table: _Table) -> None:
        model = table.model
        for attribute in model.attributes:
            label = f"@@{attribute.name}"
            if attribute.name == "map":
                continue  # read with the table's name
            if attribute.name not in ("id", "unique", "index"):
                self.problem(
                    attribute.line,
                    f"model {model.name}: {label} is not supported "
                    "(supported: @@id, @@unique, @@index, @@map)",
                )
                continue
            # name: only names the compound key in Prisma Client's API; it has no database meaning.
            parameters = ("fields", "name") if attribute.name != "index" else ("fields",)
            bound = self.bind(attribute, parameters, "@@")
            fields = self.field_list(table, bound.get("fields"), label, attribute.line)
            if fields is None:
                continue
            if attribute.name == "index":
                table.indexes.append(_Index(fields, False, attribute.line))
            elif attribute.name == "unique":
                table.indexes.append(_Index(fields, True, attribute.line))
                table.unique_keys.append(frozenset(fields))
            elif table.primary_key:
                self.problem(attribute.line, f"model {model.name} has both @id and @@id (or @@id twice)")
            else:
                for name in fields:
                    if table.columns[name].nullable:
                        self.problem(
                            attribute.line, f"@@id: field {name} is optional; a primary key cannot be"
                        )
                table.primary_key = fields
        if not table.primary_key:
            self.problem(
                model.line,
                f"model {model.name} has no primary key: mark a field @id, or list fields in @@id([a, b])",
            )
        else:
            table.unique_keys.append(frozenset(table.primary_key))
        for name, column in table.columns.items():
            if column.autoincrement_line is None:
                continue
            if not (table.inline_primary_key and table.primary_key == [name]):
                self.problem(
                    column.autoincrement_line,
                    f"field {name}: autoincrement() is supported only on the model's single @id field",
                )
            else:
                column.sql_type = "BIGSERIAL" if column.field.type == "BigInt" else "SERIAL"

    # -- relations

    def relation_fields(self, table: _Table) -> None:
        seen: set[str] = set()
        for field_ in table.model.fields:
            target = self.tables.get(field_.type)
            if target is None or field_.name in seen:
                continue
            seen.add(field_.name)
            arguments: dict[str, PrismaValue] = {}
            relations = [attribute for attribute in field_.attributes if attribute.name == "relation"]
            for attribute in field_.attributes:
                if attribute.name != "relation":
                    self.problem(
                        attribute.line,
                        f"field {field_.name} is a relation (it makes no column): @{attribute.name} belongs "
                        "on its scalar fields",
                    )
            for attribute in relations[1:]:
                self.problem(attribute.line, f"field {field_.name} has @relation twice")
            if relations:
                arguments = self.bind(
                    relations[0], ("name", "fields", "references", "onDelete", "onUpdate"), "@"
                )
            name_value = arguments.get("name")
            if name_value is not None and not isinstance(name_value, PrismaString):
                self.problem(
                    field_.line, f'field {field_.name}: a relation name is a string: @relation("...")'
                )
            name = name_value.value if isinstance(name_value, PrismaString) else None
            owning = "fields" in arguments or "references" in arguments
            self.relations.append(_Relation(table, field_, target, name, arguments, owning))

    def foreign_key(self, relation: _Relation) -> None:
        field_, table, target = relation.field, relation.table, relation.target
        label = f"field {field_.name}: @relation"
        if field_.is_list:
            self.problem(
                field_.line,
                f"{label}: the side with fields: holds the foreign key, so it cannot be a list "
                f"({field_.type}[])",
            )
            return
        if "fields" not in relation.arguments or "references" not in relation.arguments:
            self.problem(field_.line, f"{label} needs both fields: [...] and references: [...]")
            return
        own = self.field_list(table, relation.arguments["fields"], f"{label} fields", field_.line)
        referenced = self.field_list(
            target, relation.arguments["references"], f"{label} references", field_.line
        )
        if own is None or referenced is None:
            return
        if len(own) != len(referenced):
            self.problem(field_.line, f"{label}: fields: and references: must list as many fields")
            return
        for mine, theirs in zip(own, referenced, strict=True):
            if table.columns[mine].field.type != target.columns[theirs].field.type:
                self.problem(
                    field_.line,
                    f"{label}: {mine} is {table.columns[mine].field.type} but "
                    f"{target.model.name}.{theirs} is {target.columns[theirs].field.type}",
                )
                return
        if frozenset(referenced) not in target.unique_keys:
            self.problem(
                field_.line,
                f"{label}: references: [{', '.join(referenced)}] must be the @id or a @unique/@@unique of "
                f"{target.model.name}: a foreign key needs a unique target",
            )
            return
        nullable = all(table.columns[name].nullable for name in own)
        on_delete = self.action(relation, "onDelete", "SET NULL" if nullable else "RESTRICT")
        on_update = self.action(relation, "onUpdate", "CASCADE")  # Prisma's defaults, as its own migrations
        for action in (on_delete, on_update):
            if action == "SET NULL" and not nullable:
                self.problem(
                    field_.line, f"{label}: SetNull needs the fields [{', '.join(own)}] to be optional"
                )
                return
        table.foreign_keys.append(
            _ForeignKey(
                [table.columns[name].name for name in own],
                target,
                [target.columns[name].name for name in referenced],
                on_delete,
                on_update,
                field_.line,
            )
        )

    def action(self, relation: _Relation, key: str, default: str) -> str:
        value = relation.arguments.get(key)
        if value is None:
            return default
        if isinstance(value, PrismaName) and value.name in _ACTIONS:
            return _ACTIONS[value.name]
        self.problem(
            value.line,
            f"field {relation.field.name}: {key}: {_show(value)} is not supported "
            f"(supported: {', '.join(_ACTIONS)})",
        )
        return default

    def back_relation(self, relation: _Relation) -> None:
        field_, model, target = relation.field, relation.table.model, relation.target
        candidates = [
            other
            for other in self.relations
            if other.table is target
            and other.target is relation.table
            and other.name == relation.name
            and other is not relation
        ]
        owners = [other for other in candidates if other.owning]
        if len(owners) == 1:
            return
        if len(owners) > 1:
            self.problem(
                field_.line,
                f"field {field_.name}: {target.model.name} has {len(owners)} relations to {model.name}; "
                'name each pair with @relation("...") on both sides',
            )
        elif field_.is_list and any(other.field.is_list for other in candidates):
            self.problem(
                field_.line,
                f"field {field_.name}: implicit many-to-many relations are refused (Prisma would invent the "
                "join table); declare the join model with a relation to each side",
            )
        else:
            self.problem(
                field_.line,
                f"field {field_.name}: no field of {target.model.name} holds the foreign key for this "
                "relation; give one @relation(fields: [...], references: [...])",
            )

    def creation_order(self) -> list[_Table]:
        """Referenced tables first, in declaration order otherwise; a cycle cannot be created at all."""
        order: list[_Table] = []
        state: dict[str, str] = {}
        path: list[_Table] = []
        cycles: set[frozenset[str]] = set()

        def visit(table: _Table) -> None:
            state[table.name] = "visiting"
            path.append(table)
            for key in table.foreign_keys:
                target = key.target
                if target is table:
                    continue  # a table may reference itself: it exists once its CREATE runs
                if state.get(target.name) == "visiting":
                    cycle = path[path.index(target) :]
                    names = frozenset(t.model.name for t in cycle)
                    if names not in cycles:
                        cycles.add(names)
                        shown = " -> ".join([t.model.name for t in cycle] + [target.model.name])
                        self.problem(
                            key.line,
                            f"relations form a cycle: {shown}; the tables cannot be created one after "
                            "the other (SQLite cannot add a foreign key later): drop the @relation on one "
                            "side and keep its id field",
                        )
                elif target.name not in state:
                    visit(target)
            path.pop()
            state[table.name] = "done"
            order.append(table)

        for table in self.tables.values():
            if table.name not in state:
                visit(table)
        return order

    def name_indexes(self) -> None:
        # Tables and indexes share one namespace in PostgreSQL: two of them must not meet.
        names: dict[str, str] = {}
        for table in self.tables.values():
            if table.name in names:
                self.problem(
                    table.model.line,
                    f"model {table.model.name} and {names[table.name]} both make {table.name}",
                )
            names.setdefault(table.name, f"model {table.model.name}")
        for table in self.tables.values():
            for index in table.indexes:
                columns = [table.columns[name].name for name in index.fields]
                index.name = index_name(table.name, columns, "key" if index.unique else "idx")
                if index.name in names:
                    self.problem(
                        index.line,
                        f"index {index.name} of model {table.model.name} repeats the name of "
                        f"{names[index.name]}",
                    )
                names.setdefault(index.name, f"an index of model {table.model.name}")


def _create_table(table: _Table) -> str:
    lines: list[str] = []
    for column in table.columns.values():
        line = f"{column.name} {column.sql_type}"
        if not column.nullable:
            line += " NOT NULL"
        if column.default is not None:
            line += f" DEFAULT {column.default}"
        if column.check is not None:
            line += f" CHECK ({column.check})"
        if table.inline_primary_key and table.primary_key == [column.field.name]:
            line += " PRIMARY KEY"
        lines.append(line)
    if not table.inline_primary_key:
        lines.append(f"PRIMARY KEY ({', '.join(table.columns[name].name for name in table.primary_key)})")
    for key in table.foreign_keys:
        lines.append(
            f"FOREIGN KEY ({', '.join(key.columns)}) REFERENCES {key.target.name} "
            f"({', '.join(key.references)}) ON DELETE {key.on_delete} ON UPDATE {key.on_update}"
        )
    return f"CREATE TABLE {table.name} (\n  " + ",\n  ".join(lines) + "\n);\n"


def _create_index(table: _Table, index: _Index) -> str:
    unique = "UNIQUE " if index.unique else ""
    columns = ", ".join(table.columns[name].name for name in index.fields)
    return f"CREATE {unique}INDEX {index.name} ON {table.name} ({columns});\n"


def prisma_migration(module: str, text: str, source: str = "schema.prisma") -> PrismaMigration:
    """The SQL migration of a module's fragment; PrismaError lists every problem with its line.

    Syntax problems are all reported together; the model checks run once the text parses (a
    half-read field would only add problems that are not there).
    """
    prefix = table_prefix(module)
    schema, problems, refusals = _parse(text)
    if problems:
        raise PrismaError(_sorted(problems + refusals), source)
    translator = _Translator(schema, prefix)
    migration = translator.translate()
    if migration is None or refusals:
        raise PrismaError(_sorted(translator.problems + refusals), source)
    return migration
