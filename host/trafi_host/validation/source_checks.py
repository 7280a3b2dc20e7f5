"""Static checks on a module's Python source: an AST walk, not regular expressions.

Names are resolved through the file's imports (`import os as o`, `from pickle
import loads`), so aliasing does not hide a call. The checks cannot see what
code computes at run time; they flag the constructs that make that possible
(computed imports and attributes, exec of decoded data), and the sandbox stops
the rest at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from .findings import Finding

FORBIDDEN_MODULES = {
    "socket": "raw network sockets",
    "_socket": "raw network sockets",
    "ssl": "raw TLS sockets",
    "subprocess": "starting processes",
    "_posixsubprocess": "starting processes",
    "pty": "starting processes with a terminal",
    "ctypes": "calling native code",
    "cffi": "calling native code",
    "multiprocessing": "starting processes",
}
PROCESS_FUNCTIONS = {
    "os.system",
    "os.popen",
    "os.fork",
    "os.forkpty",
    "os.kill",
    "os.killpg",
    *(f"os.exec{suffix}" for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")),
    *(f"os.spawn{suffix}" for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")),
    "os.posix_spawn",
    "os.posix_spawnp",
}
DYNAMIC_CODE = {"eval", "exec", "compile"}
DECODERS = {
    "base64.b64decode",
    "base64.b32decode",
    "base64.b16decode",
    "base64.a85decode",
    "base64.b85decode",
    "base64.decodebytes",
    "base64.urlsafe_b64decode",
    "binascii.unhexlify",
    "binascii.a2b_base64",
    "bytes.fromhex",
    "codecs.decode",
    "zlib.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "gzip.decompress",
}
UNSAFE_LOADS = {
    "pickle.loads",
    "pickle.load",
    "pickle.Unpickler",
    "_pickle.loads",
    "_pickle.load",
    "marshal.loads",
    "marshal.load",
    "dill.loads",
    "dill.load",
    "shelve.open",
}
CODE_OBJECTS = {"types.FunctionType", "types.CodeType", "types.LambdaType"}
COMPUTED_ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "delattr", "hasattr"}
NAMESPACE_FUNCTIONS = {"globals", "vars", "locals"}
ENV_READERS = {"os.getenv", "os.getenvb", "os.environ.get", "os.environ.pop", "os.environ.setdefault"}
ENV_WHOLE = {"items", "keys", "values", "copy"}
PATH_OPENERS = {
    "open",
    "io.open",
    "os.open",
    "pathlib.Path",
    "pathlib.PurePath",
    "pathlib.PosixPath",
    "os.listdir",
    "os.scandir",
    "os.remove",
    "os.unlink",
    "os.rename",
    "os.makedirs",
    "os.mkdir",
    "shutil.rmtree",
    "shutil.copy",
    "shutil.copyfile",
    "shutil.move",
}
LONG_LITERAL = 2000
LONG_LINE = 400


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


class _Checker(ast.NodeVisitor):
    def __init__(self, display_path: str, lines: list[str], granted_env: set[str]) -> None:
        self.path = display_path
        self.lines = lines
        self.granted_env = granted_env
        self.aliases: dict[str, str] = {}
        self.findings: list[Finding] = []

    # -- helpers -------------------------------------------------------------

    def report(self, rule: str, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", 0)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else None
        self.findings.append(
            Finding.of(
                rule,
                message,
                file=self.path,
                line=line,
                column=getattr(node, "col_offset", 0) + 1,
                code=code[:200] if code else None,
            )
        )

    def qualname(self, node: ast.AST) -> str | None:
        """`o.environ.get` -> `os.environ.get`, through this file's import aliases."""
        if isinstance(node, ast.Name):
            name = self.aliases.get(node.id, node.id)
            return name.removeprefix("builtins.")
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            if base is None:
                return None
            return node.attr if base == "builtins" else f"{base}.{node.attr}"
        return None

    # -- imports -------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )
            self._forbidden_module(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._forbidden_module(module, node)
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name
            qualified = f"{module}.{alias.name}"
            if qualified in PROCESS_FUNCTIONS:
                self.report("TRF-S007", node, f"imports {qualified}: starting processes")

    def _forbidden_module(self, module: str, node: ast.AST) -> None:
        root = module.split(".")[0]
        if root in FORBIDDEN_MODULES:
            self.report("TRF-S007", node, f"imports {module}: {FORBIDDEN_MODULES[root]}")

    # -- calls ---------------------------------------------------------------

    def _whole_environment(self, value: ast.AST | None, where: ast.AST) -> None:
        """`os.environ` used as a whole value: copied, iterated, passed on."""
        if value is not None and self.qualname(value) == "os.environ":
            self.report("TRF-S005", where, "uses os.environ as a whole: reads every variable")

    def visit_Assign(self, node: ast.Assign) -> None:
        self._whole_environment(node.value, node)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._whole_environment(node.iter, node)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._whole_environment(node.iter, node.iter)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = self.qualname(node.func)
        first = node.args[0] if node.args else None
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            self._whole_environment(argument, node)
        if name in DYNAMIC_CODE:
            if first is not None and self._decodes(first):
                self.report("TRF-S009", node, f"{name}() of decoded data")
            else:
                self.report("TRF-S001", node, f"{name}() runs code built at run time")
        elif name == "__import__":
            self.report("TRF-S002", node, "__import__() imports by a name given at run time")
        elif name in ("importlib.import_module", "importlib.__import__"):
            if first is None or not _is_text(first):
                self.report("TRF-S002", node, f"{name}() with a computed module name")
        elif name in COMPUTED_ATTRIBUTE_FUNCTIONS:
            target = node.args[1] if len(node.args) > 1 else None
            if target is None or not _is_text(target):
                self.report("TRF-S003", node, f"{name}() with a computed attribute name")
        elif name in CODE_OBJECTS:
            self.report("TRF-S004", node, f"{name}() builds a function from a code object")
        elif name in ENV_READERS:
            self._env_name(first, node, name)
        elif name in PROCESS_FUNCTIONS:
            self.report("TRF-S007", node, f"{name}() starts or signals processes")
        elif name in UNSAFE_LOADS:
            self.report("TRF-S008", node, f"{name}() deserializes arbitrary objects")
        elif name in PATH_OPENERS or (name or "").endswith(".Path"):
            self._path(first, node, name or "path")
        self.generic_visit(node)

    def _decodes(self, node: ast.AST) -> bool:
        for child in ast.walk(node):
            if isinstance(child, ast.Call):
                called = self.qualname(child.func)
                if called in DECODERS:
                    return True
                if isinstance(child.func, ast.Attribute) and child.func.attr in ("decode", "fromhex"):
                    return True
        return False

    def _env_name(self, node: ast.AST | None, where: ast.AST, reader: str) -> None:
        if node is None or not _is_text(node):
            self.report("TRF-S005", where, f"{reader}() with a computed variable name")
            return
        variable = node.value  # type: ignore[attr-defined]
        if variable not in self.granted_env:
            self.report("TRF-S005", where, f"reads {variable!r}, which permissions.env does not grant")

    def _path(self, node: ast.AST | None, where: ast.AST, opener: str) -> None:
        if node is None or not _is_text(node):
            return  # computed paths are confined at run time by the preopens
        path = str(node.value)  # type: ignore[attr-defined]
        if path.startswith(("/", "\\", "~")) or ".." in path.replace("\\", "/").split("/"):
            self.report("TRF-S006", where, f"{opener}({path!r}) reaches outside the module's folders")

    # -- names, attributes, subscripts, literals -----------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.report("TRF-S003", node, "__builtins__ gives access to every builtin by name")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "__code__":
            self.report("TRF-S004", node, "__code__ reaches a function's code object")
        elif node.attr == "__builtins__":
            self.report("TRF-S003", node, "__builtins__ gives access to every builtin by name")
        elif node.attr in ENV_WHOLE and self.qualname(node.value) == "os.environ":
            self.report("TRF-S005", node, f"os.environ.{node.attr}() reads the whole environment")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        target = self.qualname(node.value)
        if target == "os.environ":
            self._env_name(node.slice, node, "os.environ[]")
        elif isinstance(node.value, ast.Call) and self.qualname(node.value.func) in NAMESPACE_FUNCTIONS:
            if not _is_text(node.slice):
                called = self.qualname(node.value.func)
                self.report("TRF-S003", node, f"{called}()[...] with a computed name")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str | bytes) and len(node.value) > LONG_LITERAL:
            self.report("TRF-S010", node, f"a {len(node.value):,}-character literal")


def check_source(path: Path, display_path: str, granted_env: Iterable[str] = ()) -> list[Finding]:
    """Findings for one Python file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [Finding.of("TRF-S011", "not UTF-8 text", file=display_path, line=1, column=1)]
    try:
        tree = ast.parse(text, filename=display_path)
    except SyntaxError as error:
        return [
            Finding.of(
                "TRF-S011",
                f"syntax error: {error.msg}",
                file=display_path,
                line=error.lineno or 1,
                column=error.offset or 1,
                code=(error.text or "").strip()[:200] or None,
            )
        ]
    lines = text.splitlines()
    checker = _Checker(display_path, lines, set(granted_env))
    checker.visit(tree)
    for number, line in enumerate(lines, start=1):
        if len(line) > LONG_LINE or line.count(";") >= 5:
            checker.findings.append(
                Finding.of(
                    "TRF-S010",
                    f"line of {len(line):,} characters / {line.count(';')} statements: minified code",
                    file=display_path,
                    line=number,
                    column=1,
                    code=line.strip()[:200],
                )
            )
    return checker.findings


def check_tree(source_dir: Path, granted_env: Iterable[str] = ()) -> list[Finding]:
    """Findings for every `.py` file of a module's source folder (build output excluded)."""
    findings: list[Finding] = []
    env = set(granted_env)
    for path in sorted(source_dir.rglob("*.py")):
        relative = path.relative_to(source_dir)
        if relative.parts[0] in ("dist", "__pycache__", ".venv") or "__pycache__" in relative.parts:
            continue
        findings += check_source(path, relative.as_posix(), env)
    return findings
