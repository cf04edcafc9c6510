"""The eval benchmark runs on a small scale and its replay reproduces the recording
(no timing is asserted)."""

from bench import eval_bench


def test_bench_replays_every_recorded_case():
    figures = eval_bench.run(quick=True)
    assert figures["cases"] == 66  # the bundled SQL cases, once each
    assert figures["cases_per_s"] > 0 and figures["cpu_ms_per_case"] > 0
