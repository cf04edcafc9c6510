"""`stageagent local-model serve` as a user runs it: a real process that prints its URL and
model id, answers, and stops its child cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_its_url_and_stops_cleanly(local_server, sig):
    # local_server: the extra is installed (else skipped/failed there)
    process = subprocess.Popen(
        [sys.executable, "-m", "stageagent", "local-model", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url_line = process.stdout.readline()
        model_line = process.stdout.readline()
        url = re.fullmatch(r"base URL: (http://127\.0\.0\.1:\d+/v1)\n", url_line).group(1)
        assert model_line == f"model id: local:smollm2@{url}\n"
        with urllib.request.urlopen(f"{url}/models", timeout=10) as reply:
            assert reply.status == 200
        os.kill(process.pid, sig)
        assert process.wait(30) == 0
        assert "stopped" in process.stderr.read()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the child is gone with it
            try:
                urllib.request.urlopen(f"{url}/models", timeout=1)
            except OSError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the model server still answers after serve stopped")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
