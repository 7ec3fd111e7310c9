"""The explorer's HTTP API: the page's data, its runs as streams of progress, uploads and
downloads.

A request that computes (a view, the report's charts, a claim) answers with a stream of
server-sent events (``data: {json}``): ``waiting`` (with how many jobs are ahead),
``progress``, ``heartbeat``, then ``done`` with the key of the stored result, or ``error``
with one line per problem. The page follows the stream; when it goes (page closed, run
aborted) the job is cancelled. Bad input is answered before anything is queued, with status
400 and ``{"problems": [...]}``, the same lines the CLI prints; a full queue with 503.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from purgesim.explorer import claims as claim_defs
from purgesim.explorer.controls import leaves
from purgesim.explorer.jobs import Busy, Jobs
from purgesim.explorer.limits import Limits
from purgesim.explorer.state import State, parse_query, scenarios
from purgesim.explorer.store import Store
from purgesim.explorer.upload import state_of_upload
from purgesim.explorer.view import scenario_toml
from purgesim.scenario import ScenarioError, load_scenario, shipped_scenarios
from purgesim.version import __version__
from purgesim.vocab import OPERATION_LABELS, SENTENCE_LABELS, SOURCE_LABELS


@dataclass
class Explorer:
    """What the handlers share (``app.state.explorer``)."""

    limits: Limits
    store: Store
    jobs: Jobs
    controls: dict[str, Any]


def explorer(request: Request) -> Explorer:
    return request.app.state.explorer  # type: ignore[no-any-return]


def problems(lines: list[str], status: int = 400) -> JSONResponse:
    return JSONResponse({"problems": lines}, status_code=status)


def sse(events: AsyncIterator[dict[str, Any]]) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        async for event in events:
            yield f"data: {json.dumps(event)}\n\n"

    return StreamingResponse(lines(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _done(result: str) -> AsyncIterator[dict[str, Any]]:
    yield {"event": "done", "result": result}


def _state(request: Request) -> State:
    """The state of the request's query, checked as a link and against the schema."""
    ex = explorer(request)
    state = parse_query(request.query_params.multi_items(), ex.limits)
    scenarios(state, ex.limits)  # refuse now what a worker would refuse later
    return state


async def _stream_job(request: Request, kind: str, cached_kind: str) -> Response:
    ex = explorer(request)
    try:
        state = _state(request)
    except ScenarioError as exc:
        return problems(exc.problems)
    key = state.key()
    if ex.store.get(cached_kind, key) is not None:
        return sse(_done(key))
    try:
        job = ex.jobs.submit(kind, f"{kind}:{key}", (state, ex.limits),
                             f"{state.changed_name if state.changes else state.base} at "
                             f"1:{state.scale}, {len(state.seed_list)} seed(s)")
    except Busy as exc:
        return problems([str(exc)], 503)
    return sse(ex.jobs.follow(job))


async def view_stream(request: Request) -> Response:
    """Run what a link needs and follow it: the headline, compare charts and cascades."""
    return await _stream_job(request, "view", "views")


async def charts_stream(request: Request) -> Response:
    """The report's charts of the link's runs (first seed), side by side."""
    return await _stream_job(request, "charts", "charts")


async def result(request: Request) -> Response:
    """A stored view, charts or claim answer, as the gzipped JSON it is stored as."""
    ex = explorer(request)
    kind, key = request.path_params["kind"], request.path_params["key"]
    try:
        path = ex.store.path(kind, key)
    except ValueError as exc:
        return problems([str(exc)], 404)
    if kind == "reports" or not path.is_file():
        return problems([f"{kind}/{key}: not computed (or no longer kept); run it again"], 404)
    data = path.read_bytes()
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(data, media_type="application/json",
                        headers={"Content-Encoding": "gzip", "Cache-Control": "no-store"})
    return Response(gzip.decompress(data), media_type="application/json")


async def meta(request: Request) -> Response:
    ex = explorer(request)
    limits = ex.limits
    return JSONResponse({
        "version": __version__, "scenarios": shipped_scenarios(), "default": "great-terror",
        "scales": limits.scales(), "min_scale": limits.min_scale,
        "max_scale": limits.max_scale, "max_seeds": limits.max_seeds,
        "max_claim_seeds": limits.max_claim_seeds, "controls": ex.controls,
        "labels": {"source": SOURCE_LABELS, "sentence": SENTENCE_LABELS,
                   "operation": OPERATION_LABELS}})


async def scenario_values(request: Request) -> Response:
    """A shipped scenario's values by dotted path (what the controls start from)."""
    name = request.path_params["name"]
    if name not in shipped_scenarios():
        return problems([f"scenario {name[:80]!r}: allowed: a shipped scenario "
                         f"({', '.join(shipped_scenarios())})"], 404)
    sc = load_scenario(name)
    return JSONResponse({"name": name, "description": sc.description,
                         "values": dict(leaves(sc.model_dump(mode="json")))})


async def upload(request: Request) -> Response:
    """Check an uploaded scenario file: answer the link that runs it, or its problems. A
    file with problems is a check that went well (status 200), not a bad request: the page
    shows the lines, as ``purgesim check`` prints them."""
    ex = explorer(request)
    body = await request.body()
    filename = unquote(request.headers.get("x-filename", ""))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return problems([f"{filename or 'upload.toml'}: cannot be read as a UTF-8 text file; "
                         "allowed: a TOML scenario file"], 200)
    try:
        state, notes = state_of_upload(text, filename, ex.limits)
        scenarios(state, ex.limits)
    except ScenarioError as exc:
        return problems(exc.problems, 200)
    return JSONResponse({"query": state.query(), "notes": notes})


async def download(request: Request) -> Response:
    """The scenario TOML, the summary JSON or the report HTML of a link."""
    ex = explorer(request)
    what = request.path_params["what"]
    try:
        state = _state(request)
    except ScenarioError as exc:
        return problems(exc.problems)
    stem = (state.changed_name if state.changes else state.base).replace(" ", "-")
    stem = "".join(c for c in stem if c.isalnum() or c in "-_.+") or "scenario"
    attach = {"Content-Disposition": f'attachment; filename="{stem}.{what.split(".")[-1]}"'}
    if what == "scenario.toml":
        base, changed = scenarios(state, ex.limits)
        return Response(scenario_toml(state, changed or base), media_type="application/toml",
                         headers=attach)
    if what == "summary.json":
        view = ex.store.get("views", state.key())
        if view is None:
            return problems([f"?{state.query()}: not run yet; run it first"], 404)
        return JSONResponse(view["summary"], headers=attach)
    if what == "report.html":
        return await _report(ex, state, attach)
    return problems([f"download {what!r}: allowed: scenario.toml, summary.json, report.html"],
                    404)


async def _report(ex: Explorer, state: State, attach: dict[str, str]) -> Response:
    path = ex.store.path("reports", state.key(), ".html")
    if not path.is_file():
        try:
            job = ex.jobs.submit("report", f"report:{state.key()}", (state, ex.limits),
                                 f"the report of {state.changed_name}")
        except Busy as exc:
            return problems([str(exc)], 503)
        event = await ex.jobs.wait(job)
        if event["event"] != "done":
            return problems(event.get("problems", ["the report could not be written"]), 500)
    return FileResponse(path, media_type="text/html", headers=attach)


def _claim_args(request: Request, limits: Limits) -> tuple[int, int, int]:
    q = request.query_params
    lines = []
    values = []
    for name, default, low, high in (("scale", limits.min_scale, limits.min_scale,
                                      limits.max_scale), ("seed", 1, 0, 10**9),
                                     ("seeds", 5, 1, limits.max_claim_seeds)):
        text = q.get(name, str(min(default, high)))
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            lines.append(f"claims: {name} = {text[:40]!r}: allowed: {low} to {high}")
        values.append(value)
    if lines:
        raise ScenarioError(lines)
    return values[0], values[1], values[2]


async def claims_list(request: Request) -> Response:
    """The claims, with the answers already computed for these scale and seeds."""
    ex = explorer(request)
    try:
        scale, seed, seeds = _claim_args(request, ex.limits)
    except ScenarioError as exc:
        return problems(exc.problems)
    listing = claim_defs.listing()
    for claim in listing:
        claim["answer"] = ex.store.get("claims", claim_defs.claim_key(claim["id"], scale, seed, seeds))
    return JSONResponse({"scale": scale, "seed": seed, "seeds": seeds, "claims": listing})


async def claim_stream(request: Request) -> Response:
    """Compute one claim's answer and follow it."""
    ex = explorer(request)
    claim_id = request.path_params["claim"]
    if claim_id not in claim_defs.CLAIMS:
        return problems([f"claim {claim_id[:40]!r}: allowed: one of "
                         f"{', '.join(claim_defs.CLAIMS)}"], 404)
    try:
        scale, seed, seeds = _claim_args(request, ex.limits)
    except ScenarioError as exc:
        return problems(exc.problems)
    key = claim_defs.claim_key(claim_id, scale, seed, seeds)
    if ex.store.get("claims", key) is not None:
        return sse(_done(key))
    try:
        job = ex.jobs.submit("claim", f"claim:{key}", (claim_id, scale, seed, seeds),
                             f"the claim '{claim_id}' at 1:{scale}, {seeds} seed(s)")
    except Busy as exc:
        return problems([str(exc)], 503)
    return sse(ex.jobs.follow(job))


async def status(request: Request) -> Response:
    ex = explorer(request)
    return JSONResponse({**ex.jobs.status(), "limits": ex.limits.model_dump()})
