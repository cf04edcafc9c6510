"""Print a pip constraints file pinning every `>=` lower bound of pyproject.toml.

CI installs stageagent with it into a second venv and runs the suite there: a declared
lower bound that does not work fails CI instead of a user's install.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
                        .read_text())["project"]
requirements = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
for requirement in requirements:
    match = re.match(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)", requirement)
    if match:
        print(f"{match.group(1)}=={match.group(3)}")
