"""`run_sync`: one way for sync entry points to work with and without a running loop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from stageagent.syncrun import loop_is_running, run_sync


async def _loop_id() -> int:
    await asyncio.sleep(0)
    return id(asyncio.get_running_loop())


def test_without_a_loop_it_is_asyncio_run():
    assert not loop_is_running()
    assert isinstance(run_sync(_loop_id()), int)


async def test_inside_a_running_loop_it_runs_on_another_loop():
    assert loop_is_running()
    assert run_sync(_loop_id()) != id(asyncio.get_running_loop())


async def test_exceptions_reach_the_caller_unchanged():
    async def boom() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        run_sync(boom())


@pytest.mark.parametrize("runner", [
    "asyncio.run(cell())",  # SIGINT cancels the main task (which run_sync blocks)
    "asyncio.new_event_loop().run_until_complete(cell())",  # SIGINT raises, as in Jupyter
])
def test_ctrl_c_cancels_the_coroutine_and_reraises(runner):
    """SIGINT while a sync call waits inside a loop: the coroutine unwinds, then Ctrl-C."""
    script = textwrap.dedent("""
        import asyncio, sys
        from stageagent.syncrun import run_sync

        async def slow():
            try:
                print("started", flush=True)
                await asyncio.sleep(60)
            finally:
                print("unwound", flush=True)

        async def cell():
            run_sync(slow())

        try:
            RUNNER
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(7)
    """).replace("RUNNER", runner)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 7
    assert out.split() == ["unwound", "interrupted"]


async def test_the_cli_runs_inside_a_running_loop(demo_path, capsys):
    """`stageagent.cli.main` called from a notebook cell (an async context)."""
    from stageagent.cli import main

    args = '{"sql": "SELECT count(*) AS n FROM orders"}'
    assert main(["tool", "sql_executor", "--db", demo_path, "--args", args]) == 0
    assert '"ok": true' in capsys.readouterr().out
