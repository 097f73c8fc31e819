"""Tests of the registry over HTTP (:mod:`sim.remote`); :func:`service` runs a real server process.

A server is started as ``python -m sim.remote.command --port 0`` (any free port), and its address
read from the one line it prints; every wait has a generous deadline (no sleeping and hoping) and
the process is always stopped, in a ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

#: the repository root (the server runs there, as a user would start it)
REPO = Path(__file__).resolve().parents[2]

#: seconds a server may take to print its line (imports on a loaded machine take a while)
START_DEADLINE = 60.0
#: seconds a server may take to stop after SIGTERM
STOP_DEADLINE = 30.0

READY_PREFIX = "pushsim registry serving "


@dataclass
class Service:
    """A server process and the address it printed."""

    process: subprocess.Popen[str]
    url: str
    line: str


def read_line(process: subprocess.Popen[str], deadline: float) -> str:
    """The first line ``process`` prints on stdout, waiting at most ``deadline`` seconds."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        end = time.monotonic() + deadline
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line from the server within {deadline:g} s")
            if selector.select(timeout=left):
                return process.stdout.readline()
    finally:
        selector.close()


def stop(process: subprocess.Popen[str], number: int = signal.SIGTERM) -> int:
    """Send ``number`` to ``process`` and wait for it (killed if it does not stop); its code."""
    if process.poll() is None:
        process.send_signal(number)
        try:
            return process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_DEADLINE)
            raise
    return process.returncode


@contextlib.contextmanager
def service(*args: str) -> Iterator[Service]:
    """A server started with ``args`` (after ``--port 0``), stopped at the end of the block."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.remote.command", "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = read_line(process, START_DEADLINE)
        if not line.startswith(READY_PREFIX):
            stop(process)
            assert process.stderr is not None
            raise AssertionError(f"the server printed {line!r}; stderr: {process.stderr.read()}")
        yield Service(process, line.rsplit(" ", 1)[-1].strip(), line)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_DEADLINE)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def free_port() -> int:
    """A TCP port nobody listens on (bound, read and closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class AppTransport(httpx.BaseTransport):
    """Calls an ASGI application in-process from a synchronous ``httpx.Client`` (no sockets).

    httpx's own ``ASGITransport`` is asynchronous only; this runs it on a fresh event loop per
    request, which is all a synchronous client needs.
    """

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def exchange() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return asyncio.run(exchange())


def in_process(app: Any, base_url: str = "http://testserver") -> httpx.Client:
    """An ``httpx.Client`` whose requests go straight to ``app``."""
    return httpx.Client(transport=AppTransport(app), base_url=base_url)
