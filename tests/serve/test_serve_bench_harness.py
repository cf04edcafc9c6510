"""The service load bench runs end to end on a small scale (no timing is asserted)."""

from __future__ import annotations

from bench import serve_bench


def test_the_load_bench_reports_every_key_and_loses_no_event():
    out = serve_bench.run(runs=2, clients=6, timeout_s=120)
    assert {"clients", "runs", "events_lost", "p99_ms", "p50_ms", "wall_s",
            "server_cpu_s"} <= set(out)
    assert (out["clients"], out["runs"]) == (6, 2)
    assert out["events_lost"] == 0
    assert out["run_statuses"] == ["completed"]
