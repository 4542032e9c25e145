"""Import direction: sync imports only the standard library; schema never imports server."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a module, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = [package, *path.relative_to(ROOT / package).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    here = parts[:-1] if path.name != "__init__.py" else parts  # the module's package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
        elif isinstance(node, ast.Call):
            # importlib.import_module("x") / __import__("x") would dodge the checks above.
            func = node.func
            callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if callee in {"import_module", "__import__"}:
                found.append((node.lineno, "<dynamic import>"))
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_sync_imports_only_the_standard_library():
    modules = _modules("sync")
    assert ROOT / "sync" / "__init__.py" in modules
    offending = []
    for path in modules:
        for line, name in _imports(path, "sync"):
            top = name.split(".")[0]
            if top != "sync" and top not in sys.stdlib_module_names:
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert offending == []


def test_schema_never_imports_server():
    offending = []
    for path in _modules("schema"):
        for line, name in _imports(path, "schema"):
            if name == "server" or name.startswith("server.") or name == "<dynamic import>":
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert offending == []


def test_the_import_checker_sees_every_form(tmp_path, monkeypatch):
    # The checks above pass vacuously if _imports misses a form: prove it catches each one.
    package = tmp_path / "pkg" / "sub"
    package.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    module = package / "mod.py"
    module.write_text(
        "import flask, os.path\n"
        "from . import sibling\n"
        "from ..other import thing\n"
        "from server.db.models import Record\n"
        "def f():\n"
        "    import sqlalchemy\n"
        "    importlib.import_module('x')\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    names = [name for _, name in _imports(module, "pkg")]
    assert names == [
        "flask",
        "os.path",
        "pkg.sub",
        "pkg.other",
        "server.db.models",
        "sqlalchemy",
        "<dynamic import>",
    ]


def test_the_architecture_map_names_every_server_module():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text[text.index("## The map of `server/`") : text.index("### One push")]
    unnamed = [
        str(path.relative_to(ROOT))
        for path in _modules("server")
        if path.name != "__init__.py" and path.stem not in block
    ]
    assert unnamed == []
