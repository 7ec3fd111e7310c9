"""The explorer's web application (Starlette): its pages, its assets and its API.

Every asset is served from this package: the pages, their script and style, and plotly.js
itself, the very file that ships inside the ``plotly`` Python package (so the charts the
report functions build are drawn by the version of plotly.js they were built for). Nothing
is fetched from elsewhere, and the content security policy (:mod:`purgesim.explorer.guard`)
says so to the browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import logging
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from purgesim.catalog import Catalog
from purgesim.explorer import api
from purgesim.explorer.controls import controls, toml_comments
from purgesim.explorer.guard import Guard
from purgesim.explorer.jobs import Jobs
from purgesim.explorer.limits import Limits
from purgesim.explorer.store import Store
from purgesim.explorer.workers import Pool
from purgesim.scenario import SHIPPED, Scenario, load_scenario

log = logging.getLogger("purgesim.explorer")
STATIC = Path(str(resources.files("purgesim.explorer").joinpath("static")))
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
PRUNE_SECONDS = 600.0


def plotly_js() -> Path:
    """plotly.min.js as the installed plotly package ships it."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def page(name: str) -> Callable[[Request], Any]:
    async def serve(request: Request) -> Response:
        return FileResponse(STATIC / name, media_type="text/html",
                            headers={"Cache-Control": "no-cache"})
    return serve


async def healthz(request: Request) -> Response:
    """200 once a worker is ready to run; 503 while the workers start."""
    ex = request.app.state.explorer
    if ex.jobs.pool.ready.is_set():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "starting"}, status_code=503)


@functools.cache
def plotly_gzip() -> bytes:
    """plotly.min.js compressed once (4.6 MB to about 1.4 MB), not once per page."""
    return gzip.compress(plotly_js().read_bytes(), compresslevel=9)


async def plotly(request: Request) -> Response:
    cache = {"Cache-Control": "public, max-age=86400"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = await asyncio.to_thread(plotly_gzip)
        return Response(body, media_type="text/javascript",
                        headers={**cache, "Content-Encoding": "gzip"})
    return FileResponse(plotly_js(), media_type="text/javascript", headers=cache)


def default_controls() -> dict[str, Any]:
    """The controls of the current scenario schema, from the default scenario."""
    text = SHIPPED.joinpath("great-terror.toml").read_text(encoding="utf-8")
    return controls(Scenario.model_json_schema(), load_scenario().model_dump(mode="json"),
                    toml_comments(text))


def create_app(limits: Limits, data: str | Path, catalog: str | Path | None = None,
               host: str = "127.0.0.1", warm: bool = True,
               on_ready: Callable[[], None] | None = None) -> Starlette:
    """The explorer, storing its results under ``data`` and registering its runs in the
    catalog at ``catalog`` (default: as ``purgesim run``). ``on_ready`` is called once a
    worker can run (``purgesim serve`` opens the browser then)."""
    store = Store(data, limits.keep_runs)

    def warn(message: str) -> None:
        log.warning("%s; the explorer goes on without the catalog", message)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gone = await asyncio.to_thread(store.prune)
        if gone:
            log.info("deleted %d old run folders from %s", gone, store.root)
        pool = Pool(limits.workers, (str(store.root), limits.keep_runs, warm))
        jobs = Jobs(pool, limits, Catalog(catalog, on_error=warn))
        app.state.explorer = api.Explorer(limits, store, jobs, default_controls())
        await pool.start()
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(_when_ready(pool, on_ready)), loop.create_task(_prune(store)),
                 loop.create_task(asyncio.to_thread(plotly_gzip))]  # not on the first visit
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await jobs.close()

    routes = [
        Route("/", page("index.html")),
        Route("/claims", page("claims.html")),
        Route("/healthz", healthz),
        Route("/static/plotly.min.js", plotly),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Route("/api/meta", api.meta),
        Route("/api/scenario/{name}", api.scenario_values),
        Route("/api/view", api.view_stream),
        Route("/api/charts", api.charts_stream),
        Route("/api/result/{kind}/{key}", api.result),
        Route("/api/upload", api.upload, methods=["POST"]),
        Route("/api/download/{what}", api.download),
        Route("/api/claims", api.claims_list),
        Route("/api/claim/{claim}", api.claim_stream),
        Route("/api/status", api.status),
    ]
    middleware = [Middleware(Guard, limits=limits),
                  Middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)]
    if host in LOOPBACK:
        # a page elsewhere cannot reach a loopback server through a rebound DNS name
        middleware.insert(0, Middleware(TrustedHostMiddleware,
                                        allowed_hosts=["127.0.0.1", "localhost", "[::1]"]))
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


async def _prune(store: Store) -> None:
    """Keep the run folders within their bound during a long session too."""
    while True:
        await asyncio.sleep(PRUNE_SECONDS)
        await asyncio.to_thread(store.prune)


async def _when_ready(pool: Pool, on_ready: Callable[[], None] | None) -> None:
    await pool.ready.wait()
    log.info("the explorer's workers are ready")
    if on_ready is not None:
        on_ready()
