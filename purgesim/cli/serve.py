"""``purgesim serve``: the explorer, a local web application, on uvicorn."""

from __future__ import annotations

import logging
import socket
import threading
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from purgesim.cli.app import CatalogOpt, app, cores, err, fail, out

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def default_data() -> Path:
    """Where the explorer keeps its runs: the user's cache folder."""
    import platformdirs

    return platformdirs.user_cache_path("purgesim", appauthor=False) / "explorer"


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or exit with one line saying why it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"error: --host {host}: {exc.strerror}; allowed: an address of this machine, "
             "such as 127.0.0.1", code=2)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        fail(f"error: --host {host} --port {port}: {exc.strerror}; allowed: a free port of "
             f"this machine (try --port {port + 1})", code=1)
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (default: this machine "
                                           "only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8050,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the page in "
                                             "the browser.")] = False,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Runs at once, one process each (default: the cores, at most "
                            "4).")] = None,
    max_waiting: Annotated[int, typer.Option(min=0, help="Jobs that may wait for a worker; "
                                             "more are refused as busy.")] = 32,
    time_limit: Annotated[float, typer.Option(min=0.1, help="Seconds one run may take before "
                                              "it is stopped.")] = 60.0,
    min_scale: Annotated[int, typer.Option(
        min=500, max=100_000, help="The finest scale a page may ask for (real people per "
                                   "agent).")] = 2000,
    max_seeds: Annotated[int, typer.Option(min=1, max=50, help="Seeds per scenario a page "
                                           "may ask for.")] = 5,
    data: Annotated[Path | None, typer.Option(help="Where runs are kept (default: the "
                                              "user's cache folder).")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """Start the explorer: a local web page to move a safeguard, run, and see what changes."""
    import uvicorn

    from purgesim.explorer.app import create_app
    from purgesim.explorer.limits import Limits

    limits = Limits(workers=workers or max(1, min(4, cores())), max_waiting=max_waiting,
                    time_limit=time_limit, min_scale=min_scale, max_seeds=max_seeds)
    if host not in LOOPBACK:
        err.print(f"warning: --host {host}: anyone who can reach this machine on that network "
                  "can use the explorer and its processors; the default, 127.0.0.1, is this "
                  "machine only", markup=False, highlight=False, soft_wrap=True)
    sock = _bind(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}/"
    folder = data or default_data()

    def ready() -> None:
        out.print(f"purgesim explorer ready at {url} (Ctrl-C to stop)", highlight=False)
        if not no_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    out.print(f"starting the purgesim explorer at {url} with {limits.workers} worker(s); "
              f"runs are kept in {folder}", highlight=False, soft_wrap=True)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    application = create_app(limits, folder, catalog, host=host, on_ready=ready)
    config = uvicorn.Config(application, log_level="warning", timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
