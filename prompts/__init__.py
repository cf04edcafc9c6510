"""Bundled prompts (data files shipped inside the stageagent distribution)."""
from pathlib import Path

#: directory holding the bundled files
PATH = Path(__file__).parent
