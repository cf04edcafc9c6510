"""Instructions a Python snippet executes, counted by valgrind's callgrind.

Wall and CPU time move with whatever else the machine runs; the instruction count of
the same code does not (within ~1%), so it is the figure to compare changes by. Run a
snippet twice - with the work and without it - and divide the difference.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def require_valgrind() -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")


def collected(script: str, *args: str) -> int:
    """Instructions `python -c script args...` executed (the repository on the path,
    hash seed fixed so dict and set order does not vary between runs)."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", script, *args],
        capture_output=True, text=True, check=True, env=env, cwd=str(ROOT))
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise RuntimeError(f"valgrind printed no instruction count:\n{out.stderr[-2000:]}")
    return int(match.group(1))
