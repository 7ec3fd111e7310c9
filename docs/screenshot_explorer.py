"""Take the README's screenshot of the explorer (docs/explorer.png) from the running app.

    python docs/screenshot_explorer.py      # needs Chromium (/usr/bin/chromium) and playwright

Starts ``purgesim serve`` on a free loopback port with a scratch data folder, opens a link
that switches torture off, waits for the view and the report's charts, and saves the top of
the page.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

LINK = "/?base=great-terror&scale=2000&seed=1&seeds=3&interrogation.torture=false"
OUT = Path(__file__).resolve().parent / "explorer.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-m", "purgesim", "serve", "--no-browser", "--port", "0",
             "--data", f"{tmp}/data", "--catalog", f"{tmp}/catalog.duckdb"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
        try:
            assert proc.stdout is not None
            url = next(m.group(0) for line in proc.stdout
                       if (m := re.search(r"http://127\.0\.0\.1:\d+", line)))
            for _ in range(600):
                try:
                    if urllib.request.urlopen(f"{url}/healthz").status == 200:
                        break
                except OSError:
                    time.sleep(0.5)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking"])
                page = browser.new_page(viewport={"width": 1400, "height": 1050})
                page.goto(url + LINK)
                page.wait_for_function("() => document.body.dataset.view !== undefined",
                                       timeout=300_000)
                page.wait_for_function(
                    "() => document.getElementById('report-chart').options.length > 0",
                    timeout=300_000)
                time.sleep(1.0)  # let plotly finish its transitions
                page.screenshot(path=str(OUT))
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
