"""Every hand-labelled case of bench/sql_cases.py, on every engine, on two schemas.

The validator's verdict must equal the label; a fix must return the reference query's
rows (and a query with no faithful fix must not come back `valid`). The accuracy figures
of the same cases are `python -m bench verdicts --json`.
"""

from __future__ import annotations

import pytest

from bench.sql_cases import BLIND_FIXES, BLIND_VERDICTS, FIXES, VERDICTS, VerdictCase
from bench.sql_verdicts import fix_outcome, verdict

VERDICT_RUNS = [pytest.param(engine, case, id=f"{case.id}-{engine}")
                for case in VERDICTS + BLIND_VERDICTS for engine in sorted(case.engines)]
FIX_RUNS = [pytest.param(engine, case, id=f"{case.id}-{engine}")
            for case in FIXES + BLIND_FIXES for engine in sorted(case.broken_on)]


@pytest.mark.parametrize("schemas, case", VERDICT_RUNS, indirect=["schemas"])
def test_validator_verdict_matches_the_label(schemas, case):
    db = schemas[case.schema]
    valid, summary = verdict(case, db)
    assert valid == (db.backend in case.valid_on), summary


@pytest.mark.parametrize("schemas, case", FIX_RUNS, indirect=["schemas"])
def test_fix_returns_the_intended_rows(schemas, case):
    db = schemas[case.schema]
    valid, summary = verdict(VerdictCase(case.id, case.schema, case.sql, frozenset()), db)
    assert not valid, f"a fix case must start out invalid: {summary}"
    ok, detail = fix_outcome(case, db)
    assert ok, detail
