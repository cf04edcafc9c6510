"""Test-session set-up shared by every test directory.

`python -m pytest` puts the current directory - the repository root - first on sys.path.
There, `tools`, `evals`, `stages` and `prompts` would import as top-level packages: a second
copy of `stageagent.tools` & co under another name, with its own module state. The root
leaves sys.path before any test module is imported; stageagent comes from its install.
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def _is_repo_root(entry: str) -> bool:
    try:
        return Path(entry or ".").resolve() == _REPO
    except OSError:
        return False


sys.path[:] = [entry for entry in sys.path if not _is_repo_root(entry)]
