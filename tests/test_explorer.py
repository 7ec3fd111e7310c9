"""``purgesim serve`` end to end: the server as a user's browser and the CLI see it.

One server (two workers) for the module, started as a user starts it, on a free port of the
loopback; a second, tight one (one worker, one waiting job, a 0.1 s time limit) for the
bounds. The browser tests drive Debian's Chromium through Playwright and skip, saying why,
only where Chromium is missing (``.ci/run`` installs it). Runs are coarse (1:20,000, and
1:2,000 where a cascade must be there to click through); no number of the model is written
here: the tests compare the page with itself, with its link, and with the catalog.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import psutil
import pytest
from explorer_server import Server, Stream, get, get_json, post, start, state_query

from purgesim.catalog import Catalog
from purgesim.scenario import load_scenario

COARSE = 20_000
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    running = start(tmp_path_factory.mktemp("explorer"))
    yield running
    running.stop()


def eventually(found, seconds: float = 15.0):
    """What ``found()`` returns once it is not empty (the catalog is written by a thread of
    the server, a moment after the event); fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (value := found()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert value, "never happened"
    return value


def catalog_rows(server: Server) -> list[dict]:
    return Catalog(server.catalog).runs()


def run_link(server: Server, query: str) -> dict:
    """Follow a link's view to its end; return the stored view."""
    final = Stream(server, f"/api/view?{query}").final()
    assert final["event"] == "done", final
    status, view = get_json(server, f"/api/result/views/{final['result']}")
    assert status == 200
    return view


# ------------------------------------------------------------------------------ the server
def test_the_server_answers_on_loopback_only_with_its_own_assets(server):
    status, headers, body = get(server, "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    listening = [c.laddr for c in psutil.Process(server.process.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening)
    assert get(server, "/healthz", {"Host": "attacker.example"})[0] == 400
    for page, title in (("/", "purgesim explorer"), ("/claims", "the essay's claims")):
        status, headers, body = get(server, page)
        html = body.decode()
        assert status == 200 and "default-src 'self'" in headers["content-security-policy"]
        assert re.search(r"<title>[^<]*" + re.escape(title), html)
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            assert get(server, asset)[0] == 200, asset
    static = Path(__file__).parents[1] / "purgesim" / "explorer" / "static"
    for own in static.iterdir():  # an XML namespace is a name, not an address to fetch
        assert not re.search(r'(?<!xmlns=")https?://', own.read_text(encoding="utf-8")), own.name


def test_a_link_runs_once_then_comes_from_the_cache_and_its_runs_are_in_the_catalog(server):
    query = state_query(base="great-terror", scale=COARSE, seed=7,
                        interrogation__torture=False)
    before = len(catalog_rows(server))
    view = run_link(server, query)
    assert view["names"] == ["great-terror", "great-terror, changed"]
    assert view["changes"] == [{"path": "interrogation.torture", "from": True, "to": False}]
    assert [r["key"] for r in view["headline"]][:3] == ["arrested", "convicted", "cat1"]
    assert all(r["text"].endswith(".") for r in view["headline"])
    arrests = next(c for c in view["compare"] if c["key"] == "compare-arrests")
    assert [t["name"] for t in arrests["figure"]["data"]] == view["names"]
    def complete() -> list[dict]:
        rows = catalog_rows(server)
        new = rows[: len(rows) - before]
        return new if [r["status"] for r in new] == ["complete"] * 2 else []

    new = eventually(complete)
    rows = catalog_rows(server)
    assert {r["command"] for r in new} == {"serve"} and {r["seed"] for r in new} == {7}
    assert all((Path(r["out_dir"]) / "events.parquet").is_file() for r in new)
    summaries = {r["scenario"]: r["summary"] for r in new}
    assert view["summary"]["changed"] == summaries["great-terror, changed"]
    # the same link again: one event, from the cache, and no new run
    events = list(Stream(server, f"/api/view?{query}").events())
    assert [e["event"] for e in events] == ["done"]
    assert len(catalog_rows(server)) == len(rows)


def test_bad_requests_get_one_line_and_nothing_runs(server):
    before = len(catalog_rows(server))
    final = Stream(server, "/api/view?scale=100").final()
    assert final["status"] == 400 and len(final["problems"]) == 1
    assert final["problems"][0].startswith("link: scale = 100: allowed: 2000 to")
    status, body = post(server, "/api/upload", b'base = "/etc/passwd"\n',
                        {"X-Filename": "mine.toml"})
    assert status == 200 and body["problems"][0].startswith("mine.toml: base = '/etc/passwd'")
    status, body = post(server, "/api/upload", b"x" * 70_000)
    assert status == 413 and "at most" in body["problems"][0]
    status, _, body = get(server, "/api/view?" + "a" * 9000)
    assert status == 414
    assert get(server, "/api/result/views/..%2F..%2Fetc")[0] == 404
    assert len(catalog_rows(server)) == before


def test_a_run_is_cancelled_when_its_page_goes(server):
    status = get_json(server, "/api/status")[1]
    stream = Stream(server, "/api/view?" + state_query(base="courts", scale=2000, seed=101,
                                                       seeds=5))
    events = stream.events()
    first = next(events)
    assert first["event"] in ("waiting", "progress")
    while next(events)["event"] != "progress":
        pass
    stream.close()  # the page closes

    def cancelled() -> dict | None:
        now = get_json(server, "/api/status")[1]
        return now if now["cancelled"] > status["cancelled"] else None

    now = eventually(cancelled, 60)
    assert now["cancelled"] == status["cancelled"] + 1 and not now["jobs"], now
    failed = eventually(lambda: [r for r in catalog_rows(server) if r["scenario"] == "courts"
                                 and r["status"] == "failed"])
    assert failed[0]["error"].startswith("cancelled")


def test_downloads_are_what_the_page_shows(server, tmp_path):
    query = state_query(base="great-terror", scale=COARSE, seed=3, sentencing__court="evidence")
    view = run_link(server, query)
    status, headers, body = get(server, f"/api/download/scenario.toml?{query}")
    assert status == 200 and "attachment" in headers["content-disposition"]
    path = tmp_path / "changed.toml"
    path.write_bytes(body)
    changed = load_scenario(path)  # the file `purgesim run` would run
    assert changed.sentencing.court == "evidence" and changed.scale == COARSE
    status, summary = get_json(server, f"/api/download/summary.json?{query}")
    assert summary == view["summary"] and summary["differences"]
    assert summary["changed"]["scenario"] == "great-terror, changed"
    status, headers, body = get(server, f"/api/download/report.html?{query}")
    html = body.decode()
    assert status == 200 and "<title>purgesim explorer: great-terror vs" in html
    assert view["headline"][0]["text"] in html


def test_a_claim_is_answered_by_runs_and_then_listed_with_its_answer(server):
    settings = f"scale={COARSE}&seed=1&seeds=2"
    final = Stream(server, f"/api/claim/trials?{settings}").final()
    assert final["event"] == "done", final
    answer = get_json(server, f"/api/result/claims/{final['result']}")[1]
    assert answer["seeds"] == [1, 2] and answer["tests"][0]["id"] == "courts"
    rows = answer["tests"][0]["rows"]
    assert [r["key"] for r in rows] == ["convicted", "cat1", "innocent_convicted"]
    for r in rows:
        assert r["history"]["p05"] <= r["history"]["mean"] <= r["history"]["p95"]
    listing = get_json(server, f"/api/claims?{settings}")[1]
    listed = {c["id"]: c for c in listing["claims"]}
    assert listed["trials"]["answer"] == answer and listed["quotas"]["answer"] is None
    assert Stream(server, f"/api/claim/nonsense?{settings}").final()["status"] == 404


def test_the_queue_is_bounded_and_a_run_has_a_time_limit(tmp_path):
    tight = start(tmp_path, "--workers", "1", "--max-waiting", "1", "--time-limit", "0.1")
    try:
        first = Stream(tight, "/api/view?" + state_query(scale=COARSE, seed=1)).final()
        assert first["event"] == "error" and first["problems"][0].startswith("time limit")
        # the stopped worker is being replaced: the next job waits, the one after is refused
        waiting = Stream(tight, "/api/view?" + state_query(scale=COARSE, seed=2))
        assert next(waiting.events())["event"] == "waiting"
        busy = Stream(tight, "/api/view?" + state_query(scale=COARSE, seed=3)).final()
        assert busy["status"] == 503 and busy["problems"][0].startswith("busy")
        waiting.close()
        failed = eventually(lambda: [r for r in Catalog(tight.catalog).runs()
                                     if r["status"] == "failed"])
        assert failed[0]["error"].startswith("time limit")
    finally:
        tight.stop()


# ------------------------------------------------------------------------------ the browser
@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Chromium not found (on Debian: apt-get install chromium); .ci/run "
                    "installs it")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=shutil.which("chromium") or CHROMIUM,
                                     args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    """A page that records console errors and any request that leaves the server."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    problems: list[str] = []
    context.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    context.on("weberror", lambda e: problems.append(str(e.error)))
    context.on("request", lambda r: None if r.url.startswith((server.url, "data:", "blob:"))
               else problems.append(f"request to {r.url}"))
    yield context.new_page()
    context.close()
    assert problems == [], "the page had console errors or left its server"


def shown(page, query: str | None = None) -> dict:
    """Wait until the page shows the view of ``query`` (any view if None); return what it
    shows as text."""
    # predicates are functions: Playwright evaluates a string predicate with eval, which
    # the page's content security policy (rightly) forbids
    if query is None:
        page.wait_for_function("() => document.body.dataset.view !== undefined",
                               timeout=120_000)
    else:
        page.wait_for_function("(q) => document.body.dataset.view === q", arg=query,
                               timeout=120_000)
    return {"headline": page.inner_text("#headline"),
            "table": page.inner_text("#compare table"),
            "traces": page.evaluate("document.getElementById('view-compare-arrests')"
                                    ".data.map(t => t.name)")}


def test_move_a_slider_run_and_the_charts_and_headline_change_then_share_the_link(
        page, browser, server):
    page.goto(f"{server.url}/?base=great-terror&scale={COARSE}")
    first = shown(page)
    assert page.title().startswith("purgesim explorer")
    assert first["headline"] == "" and first["traces"] == ["great-terror"]
    slider = page.locator('#groups [data-path="evidence.pressure_sensitivity"] '
                          'input[type="range"]')
    slider.fill("0")
    page.locator('#groups [data-path="interrogation.torture"] input').uncheck()
    assert "evidence.pressure_sensitivity=0" in page.url and "interrogation.torture=false" in page.url
    page.click("#run")
    query = page.url.split("?", 1)[1]
    second = shown(page, query)
    assert second["traces"] == ["great-terror", "great-terror, changed"]
    assert second["headline"].startswith("Arrests ") and second["table"] != first["table"]
    page.locator('#groups [data-path="centre.limit_multiplier"] input[type="number"]').fill("2")
    page.locator('#groups [data-path="centre.limit_multiplier"] input[type="number"]').press("Enter")
    page.click("#run")
    third = shown(page, page.url.split("?", 1)[1])
    assert third["headline"] != second["headline"]
    # the shared link reproduces the exact numbers
    other = browser.new_page()
    try:
        other.goto(page.url)
        assert shown(other, page.url.split("?", 1)[1]) == third
    finally:
        other.close()


def test_the_cascade_can_be_clicked_through(page, server):
    page.goto(f"{server.url}/?base=great-terror&scale=2000&seed=1")
    shown(page)
    page.wait_for_selector("#cascade-person h3")
    links = page.locator("#cascade-person a[data-node]")
    assert links.count() > 0, "the sample cascade's first person names nobody shown"
    target = links.first.get_attribute("data-node")
    name = links.first.inner_text()
    links.first.click()
    page.wait_for_function("(t) => document.getElementById('cascade-person').dataset.node === t",
                           arg=target)
    assert page.inner_text("#cascade-person h3").startswith(name.capitalize())
    assert page.locator("#cascade-person a[data-node]").first.inner_text()  # back to the accuser


def test_an_invalid_upload_shows_its_error(page, server):
    page.goto(f"{server.url}/?scale={COARSE}")
    shown(page)
    page.set_input_files("#upload", files=[{
        "name": "mine.toml", "mimeType": "text/plain",
        "buffer": b'base = "great-terror"\n[interrogation]\ntorture = 3\n'}])
    page.wait_for_function("() => document.getElementById('upload-errors').textContent !== ''")
    assert page.inner_text("#upload-errors") == (
        "mine.toml: interrogation.torture = 3: allowed: true or false")


def test_the_claims_page_computes_a_claim_with_one_click(page, server):
    page.goto(f"{server.url}/claims")
    page.wait_for_selector("article.claim")
    assert page.locator("article.claim").count() >= 7
    page.select_option("#scale", str(COARSE))
    page.select_option("#seeds", "2")
    page.wait_for_selector("[data-claim=remarks] .actions button")
    page.click("[data-claim=remarks] .actions button")
    page.wait_for_selector("[data-claim=remarks] .sentence", timeout=120_000)
    text = page.inner_text("[data-claim=remarks] .answer-box")
    assert "seeds 1-2" in text and "Arrests for a reported remark" in text
