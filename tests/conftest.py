"""Test-session set-up shared by every test directory.

`python -m pytest` puts the current directory - the repository root - first on sys.path.
There, `tools`, `evals`, `stages` and `prompts` would import as top-level packages: a second
copy of `stageagent.tools` & co under another name, with its own module state. The root
leaves sys.path before any test module is imported; stageagent comes from its install.
"""

from __future__ import annotations

import importlib.machinery
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def _is_repo_root(entry: str) -> bool:
    try:
        return Path(entry or ".").resolve() == _REPO
    except OSError:
        return False


sys.path[:] = [entry for entry in sys.path if not _is_repo_root(entry)]


class _BenchAndTests:
    """Serves just the two top-level names tests import from the repository: `bench` (the
    benchmark harnesses some tests run on a small scale) and `tests` (shared test data
    such as `tests.document.corpus`) - nothing else of the root becomes importable."""

    NAMES = ("bench", "tests")

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None) -> object:
        if path is None and name in cls.NAMES:
            return importlib.machinery.PathFinder.find_spec(name, [str(_REPO)])
        return None


sys.meta_path.append(_BenchAndTests)
