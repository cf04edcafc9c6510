"""`pip install .` ships stages/prompts/tools/evals inside `stageagent` and nothing top-level."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
         str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return target


def test_only_the_stageagent_package_is_installed(installed):
    top = {p.name for p in installed.iterdir() if p.name != "bin"}
    assert {n for n in top if not n.endswith(".dist-info")} == {"stageagent"}
    for name in ("tools", "evals", "stages", "prompts"):
        assert not (installed / name).exists()


def test_every_source_package_and_data_file_ships(installed):
    """Each package directory of the source tree exists in the install, with its files."""
    mapping = {"stageagent": ROOT / "stageagent", "stageagent/stages": ROOT / "stages",
               "stageagent/prompts": ROOT / "prompts", "stageagent/tools": ROOT / "tools",
               "stageagent/evals": ROOT / "evals"}
    for dest, src in mapping.items():
        for init in src.rglob("__init__.py"):
            package_dir = init.parent.relative_to(src)
            assert (installed / dest / package_dir / "__init__.py").exists(), package_dir
    for pattern, dest in (("*.toml", "stageagent/stages"), ("*.j2", "stageagent/prompts")):
        src = ROOT / dest.split("/")[1]
        for f in src.glob(pattern):
            assert (installed / dest / f.name).exists(), f


def test_bundled_stages_load_from_another_directory(installed, tmp_path):
    code = (
        "import stageagent, stageagent.stages, stageagent.tools.sql, stageagent.tools.chart, "
        "stageagent.tools.document\n"
        "from stageagent import StageConfigManager\n"
        "m = StageConfigManager()\n"
        "assert stageagent.__file__.startswith(%r), stageagent.__file__\n"
        "print(','.join(m.names()))\n" % str(installed))
    env = {**os.environ, "PYTHONPATH": str(installed)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {"sql", "chart", "document"} <= set(proc.stdout.strip().split(","))
