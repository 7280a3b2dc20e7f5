"""A corpus of hostile snippets: each is caught by the rule that names its technique."""

from __future__ import annotations

from pathlib import Path

import pytest

from trafi_host.validation.source_checks import check_source

HOSTILE = {
    "eval": ("TRF-S001", "result = eval(request_text)"),
    "exec": ("TRF-S001", "exec(code)"),
    "compile": ("TRF-S001", "code = compile(src, 'x', 'exec')"),
    "builtins-exec": ("TRF-S001", "import builtins\nbuiltins.exec(payload)"),
    "eval-through-getattr": ("TRF-S003", "f = getattr(__builtins__, 'ev' + 'al')\nf('1+1')"),
    "computed-getattr": ("TRF-S003", "import os\nfn = getattr(os, name)"),
    "globals-lookup": ("TRF-S003", "handler = globals()[request_name]"),
    "dunder-import": ("TRF-S002", "mod = __import__('o' + 's')"),
    "computed-import-module": ("TRF-S002", "import importlib\nm = importlib.import_module(name)"),
    "aliased-import-module": ("TRF-S002", "from importlib import import_module as im\nm = im(x)"),
    "exec-base64-blob": ("TRF-S009", "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))"),
    "exec-zlib-blob": ("TRF-S009", "import zlib\nexec(zlib.decompress(blob))"),
    "exec-hex-blob": ("TRF-S009", "exec(bytes.fromhex('7072696e74').decode())"),
    "function-type": ("TRF-S004", "import types\nf = types.FunctionType(code, {})"),
    "code-object": ("TRF-S004", "def f(): pass\nc = f.__code__"),
    "env-not-granted": ("TRF-S005", "import os\ntoken = os.environ['AWS_SECRET_ACCESS_KEY']"),
    "getenv-not-granted": ("TRF-S005", "import os\nkey = os.getenv('DATABASE_URL')"),
    "aliased-getenv": ("TRF-S005", "from os import getenv as g\nkey = g('HOME')"),
    "whole-environment": ("TRF-S005", "import os\ndump = dict(os.environ.items())"),
    "environment-copy": ("TRF-S005", "import os\nsnapshot = dict(os.environ)"),
    "environment-alias": ("TRF-S005", "import os\nenv = os.environ"),
    "environment-loop": ("TRF-S005", "import os\nfor name in os.environ:\n    print(name)"),
    "computed-env-name": ("TRF-S005", "import os\nvalue = os.environ.get(name)"),
    "absolute-path": ("TRF-S006", "data = open('/etc/passwd').read()"),
    "path-traversal": ("TRF-S006", "data = open('assets/../../secrets.txt').read()"),
    "pathlib-absolute": ("TRF-S006", "from pathlib import Path\nPath('/root/.ssh/id_rsa').read_text()"),
    "raw-socket": ("TRF-S007", "import socket\ns = socket.socket()"),
    "from-socket": ("TRF-S007", "from socket import create_connection"),
    "subprocess": ("TRF-S007", "import subprocess\nsubprocess.run(['id'])"),
    "os-system": ("TRF-S007", "import os\nos.system('id')"),
    "aliased-os-system": ("TRF-S007", "import os as o\no.system('id')"),
    "ctypes": ("TRF-S007", "import ctypes"),
    "multiprocessing": ("TRF-S007", "from multiprocessing import Process"),
    "pickle-loads": ("TRF-S008", "import pickle\nobj = pickle.loads(body)"),
    "marshal-loads": ("TRF-S008", "import marshal\ncode = marshal.loads(blob)"),
    "long-literal": ("TRF-S010", "blob = '" + "A" * 5000 + "'"),
    "minified": ("TRF-S010", "a=1;b=2;c=3;d=4;e=5;f=6"),
    "unparsable": ("TRF-S011", "def broken(:\n    pass"),
}

BENIGN = [
    "import json\ndata = json.loads(body)",
    "value = getattr(obj, 'name')",
    "import importlib\nm = importlib.import_module('json')",
    "import os\ntoken = os.environ['CRM_TOKEN']",
    "import os\ntoken = os.getenv('CRM_TOKEN')",
    "data = open('assets/catalogue.json').read()",
    "from pathlib import Path\nPath('exports') / 'x.csv'",
    "text = b'aGk='.decode()",
]


def findings_for(tmp_path: Path, source: str) -> list[tuple[str, int]]:
    path = tmp_path / "app.py"
    path.write_text(source)
    return [(f.rule, f.line or 0) for f in check_source(path, "app.py", granted_env={"CRM_TOKEN"})]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_snippet_is_caught_by_its_rule(tmp_path: Path, name: str) -> None:
    rule, source = HOSTILE[name]
    rules = [found for found, _ in findings_for(tmp_path, source)]
    assert rule in rules, f"{name}: expected {rule}, got {rules}"


@pytest.mark.parametrize("source", BENIGN)
def test_benign_code_passes(tmp_path: Path, source: str) -> None:
    assert findings_for(tmp_path, source) == []


def test_a_finding_says_where_what_why_and_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("import json\n\nx = 1\nresult = eval(user_input)\n")
    [finding] = check_source(path, "handlers/app.py")
    assert (finding.rule, finding.severity, finding.location) == ("TRF-S001", "error", "handlers/app.py:4:10")
    assert finding.code == "result = eval(user_input)"
    assert "eval" in finding.message and finding.why and finding.fix


def test_the_example_modules_are_clean() -> None:
    from trafi_host.validation.source_checks import check_tree

    repo = Path(__file__).resolve().parents[3]
    for module in (repo / "modules").iterdir():
        if (module / "trafi-module.json").is_file():
            assert check_tree(module) == [], module.name
