"""Starting ``purgesim serve`` for the tests, and talking to it over HTTP with the standard
library (a test is a client like any other: it cannot reach inside the server)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

START_SECONDS = 240.0  # a loaded 2-core machine may take long to spawn and warm the workers
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/")


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    port: int
    folder: Path
    output: list[str] = field(default_factory=list)

    @property
    def catalog(self) -> Path:
        return self.folder / "catalog.duckdb"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start(folder: Path, *options: str) -> Server:
    """``purgesim serve --port 0`` on loopback, its data and catalog in ``folder``; returns
    once ``/healthz`` answers 200."""
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "purgesim", "serve", "--no-browser", "--port", "0",
         "--data", str(folder / "data"), "--catalog", str(folder / "catalog.duckdb"), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    output: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if URL.search(line):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    while not found.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("purgesim serve did not start:\n" + "".join(output))
    match = next(m for line in output if (m := URL.search(line)))
    server = Server(process, match.group(0).rstrip("/"), int(match.group(1)), folder, output)
    while time.monotonic() < deadline:
        try:
            if get(server, "/healthz")[0] == 200:
                return server
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    server.stop()
    raise RuntimeError("purgesim serve never became ready:\n" + "".join(output))


def _connection(server: Server, timeout: float = 60.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)


def get(server: Server, path: str, headers: dict[str, str] | None = None
        ) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a GET."""
    con = _connection(server)
    try:
        con.request("GET", path, headers=headers or {})
        response = con.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        con.close()


def post(server: Server, path: str, body: bytes, headers: dict[str, str] | None = None
         ) -> tuple[int, Any]:
    con = _connection(server)
    try:
        con.request("POST", path, body=body, headers=headers or {})
        response = con.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        con.close()


def get_json(server: Server, path: str) -> tuple[int, Any]:
    status, _, body = get(server, path)
    return status, json.loads(body)


class Stream:
    """A job's event stream, read event by event; :meth:`close` drops the connection as a
    closed page does."""

    def __init__(self, server: Server, path: str, timeout: float = 180.0):
        self.con = _connection(server, timeout)
        self.con.request("GET", path, headers={"Accept": "text/event-stream"})
        self.response = self.con.getresponse()
        self.status = self.response.status

    def events(self) -> Any:
        if self.status != 200:
            yield {"event": "refused", "status": self.status,
                   **json.loads(self.response.read())}
            return
        data = []
        for raw in self.response:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line and data:
                yield json.loads("\n".join(data))
                data = []

    def final(self) -> dict[str, Any]:
        """Read to the end: the last event (done, error, or refused)."""
        last: dict[str, Any] = {}
        for last in self.events():
            if last["event"] in ("done", "error", "refused"):
                break
        self.close()
        return last

    def close(self) -> None:
        # the response holds the socket too: close both, or the connection stays open until
        # the response is collected, and the server never sees the page go
        self.response.close()
        self.con.close()


def state_query(**settings: Any) -> str:
    """A link's query: settings first, then changes by dotted path (``__`` for ``.``)."""
    pairs = []
    for key, value in settings.items():
        text = value if isinstance(value, str) else json.dumps(value)
        pairs.append((key.replace("__", "."), text))
    return urllib.parse.urlencode(pairs)
