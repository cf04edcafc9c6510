"""No module reaches into another module's private names.

Two checks over the source (stageagent and the pipeline packages): no `from x import _name`
from our own modules, and no `obj._name` where `_name` is not defined by the module doing
the access (a class of its own may read its other instances' private state).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stageagent

ROOT = Path(stageagent.__file__).resolve().parent
SOURCES = sorted({*ROOT.rglob("*.py"), *(ROOT.parent / "tools").rglob("*.py"),
                  *(ROOT.parent / "evals").rglob("*.py")})


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def defined_private_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # __slots__ entries
    return {n for n in names if private(n)}


def reaches(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = defined_private_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            ours = node.level > 0 or (node.module or "").startswith("stageagent")
            found += [f"line {node.lineno}: imports {a.name}" for a in node.names
                      if ours and private(a.name)]
        elif isinstance(node, ast.Attribute) and private(node.attr) and node.attr not in own:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"line {node.lineno}: .{node.attr}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_no_reaching_into_private_names(path):
    assert reaches(path) == []


def test_the_check_catches_a_reach(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom .prompts import _env\nvalue = os._exit\n")
    assert reaches(probe) == ["line 2: imports _env", "line 3: ._exit"]
