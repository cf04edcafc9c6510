"""One module, one name: nothing of the repository is importable a second time under a
top-level name (`tools` beside `stageagent.tools`), and no file is loaded twice."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import stageagent

REPO = Path(stageagent.__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["tools", "evals", "stages", "prompts"])
def test_the_shipped_subpackages_have_no_top_level_name(name):
    spec = importlib.util.find_spec(name)
    origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    assert origin is None or REPO not in origin.parents, (
        f"{name!r} imports {origin}: the repository root is on sys.path, so "
        f"stageagent.{name} can load twice under two names")


def test_no_repository_file_is_loaded_under_two_names():
    import stageagent.tools.sql  # noqa: F401 - the pipeline, loaded as the tests load it

    by_file: dict[Path, list[str]] = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        path = Path(file).resolve() if file else None
        # shipped code only: test helpers and bench harnesses are pytest's to name
        if path and REPO in path.parents and "site-packages" not in path.parts \
                and path.relative_to(REPO).parts[0] not in ("tests", "bench"):
            by_file.setdefault(path, []).append(name)
    twice = {str(f): names for f, names in by_file.items() if len(names) > 1}
    assert twice == {}
