"""`python -m stageagent ...` - the same as the `stageagent` console script."""

from .cli import main

raise SystemExit(main())
