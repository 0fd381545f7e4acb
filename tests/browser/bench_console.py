"""Benchmark (not a test): the ops console with 10,000 open events in scope, in Debian's chromium.
Seeds a fresh `gridwork demo` with 10,000 reports spread over the demo city, signs in as the city
operator and measures in the browser (Performance API, `performance.now()` around the clicks):
- from pressing 登录 to the first queue page drawn (the console's first useful paint);
- from opening the map to all open events placed and clustered.
Prints both with the seeding rate as the anchor of the same run.

Usage: tests/browser/bench_console.py GRIDWORK_BINARY  (run with the venv tests/browser/run.sh makes)
"""
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

GRIDWORK = sys.argv[1]
N = int(os.environ.get("EVENTS", "10000"))
PASSWORD = "gridwork-demo"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base, path, body, token=None, key=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if key:
        req.add_header("Idempotency-Key", key)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def main():
    data = tempfile.TemporaryDirectory()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # 10,000 reports from one address: the per-address report limit would measure itself.
    env = dict(os.environ, GRIDWORK_DATA_DIR=data.name, GRIDWORK_LOG="warn", GRIDWORK_LIMIT_REPORTS_PER_MINUTE="0")
    server = subprocess.Popen([GRIDWORK, "demo", "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        resident = post(base, "/api/v1/auth/login", {"username": "resident.chen", "password": PASSWORD})["token"]
        cats = [c["code"] for c in json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/categories", headers={"Authorization": "Bearer " + resident})).read())["categories"]]
        side = int(N ** 0.5 + 0.999)
        # Spread over the demo city, categories rotating so that no two reports are duplicates.
        points = [
            (30.5805 + 0.039 * (i // side) / side, 114.2705 + 0.059 * (i % side) / side, cats[(i // side + i) % len(cats)])
            for i in range(N)
        ]
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda p: post(base, "/api/v1/events", {
                "category": p[2], "lat": p[0], "lng": p[1], "description": "bench"}, resident, str(uuid.uuid4())), points))
        seeded = time.monotonic() - started
        created = sum(1 for a in answers if a["filed"] == "created")
        print(f"seeded {created} events ({N - created} linked as duplicates) in {seeded:.1f} s "
              f"({N / seeded:.0f} reports/s over HTTP)")

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768"]:
            options.add_argument(arg)
        browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))
        wait = WebDriverWait(browser, 120, poll_frequency=0.01)
        try:
            browser.get(base + "/console/")
            wait.until(lambda b: b.find_element(By.NAME, "username").is_displayed())
            browser.find_element(By.NAME, "username").send_keys("city.op")
            browser.find_element(By.NAME, "password").send_keys(PASSWORD)
            # Time from the click to the first page of the queue drawn, measured in the page.
            browser.execute_script("""
                window.__t0 = performance.now();
                new MutationObserver((_, obs) => {
                  if (document.querySelectorAll('#events tbody tr').length) { window.__queue = performance.now() - window.__t0; obs.disconnect(); }
                }).observe(document.querySelector('#events tbody'), { childList: true });
            """)
            browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
            queue_ms = wait.until(lambda b: b.execute_script("return window.__queue || null"))
            rows = browser.execute_script("return document.querySelectorAll('#events tbody tr').length")
            browser.execute_script("""
                window.__m0 = performance.now();
                new MutationObserver((_, obs) => {
                  if (document.querySelector('#map-count').innerText) { window.__map = performance.now() - window.__m0; obs.disconnect(); }
                }).observe(document.querySelector('#map-count'), { childList: true, characterData: true, subtree: true });
            """)
            browser.find_element(By.CSS_SELECTOR, "#views button[data-view=map]").click()
            map_ms = wait.until(lambda b: b.execute_script("return window.__map || null"))
            count = browser.execute_script("return document.querySelector('#map-count').innerText")
            print(f"first queue page ({rows} rows) drawn {queue_ms:.0f} ms after sign-in was pressed")
            print(f"map: {count}; all placed and clustered {map_ms:.0f} ms after it was opened")
        finally:
            browser.quit()
    finally:
        server.terminate()
        server.wait(timeout=30)
        data.cleanup()


if __name__ == "__main__":
    main()
