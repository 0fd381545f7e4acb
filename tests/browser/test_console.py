"""The ops console in a real browser (Debian chromium through Selenium) against a real
`gridwork demo`: a volunteer reports from the phone-sized report page with a camera photo and the
browser's location → the coordinator's open console shows it in the queue within 2 s without
reloading → a refused action shows the API's words → accept (the volunteer's page follows live)
→ reassign from the candidate list → the timeline shows who and why; a worker of another grid sees
none of it; bulk reassign; an overdue event stands out. Screenshots of each step go to OUT_DIR.

Usage: test_console.py GRIDWORK_BINARY OUT_DIR
"""
import csv
import datetime
import json
import os
import http.server
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib

import openpyxl
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

GRIDWORK, OUT = sys.argv.pop(1), sys.argv.pop(1)
PASSWORD = "gridwork-demo"
# Inside demo grid 420102003001001 (street 420102003, the coordinator's).
SPOT = (30.5852, 114.2778)


def png(width, height):
    """A real PNG (a colour gradient), written by hand: the server decodes it like a camera's."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in ((x * 7) % 256, (y * 5) % 256, 160))
                    for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def chromium(size):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={size}",
                "--lang=zh-CN"]:
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TileServer(http.server.ThreadingHTTPServer):
    """A base-map tile provider: the same PNG for every /{z}/{x}/{y}.png, each request counted."""

    def __init__(self):
        self.requests = []
        tile = png(256, 256)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *_):
                pass
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def start_demo(data_dir, *flags):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Every user of these tests signs in from 127.0.0.1: the per-address sign-in limit has its own test.
    env = dict(os.environ, GRIDWORK_DATA_DIR=data_dir, GRIDWORK_LOG="warn", GRIDWORK_LIMIT_SIGN_INS_PER_MINUTE="0")
    log = open(os.path.join(data_dir, "server.log"), "wb")
    server = subprocess.Popen([GRIDWORK, "demo", "--listen", f"127.0.0.1:{port}", *flags], env=env,
                              stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=1):
                break
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    return base, server, log


class Console(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.TemporaryDirectory()
        # Base-map tiles from a provider on GCJ-02 (as AMap's are), through the server's setting.
        cls.tiles = TileServer()
        tile_url = f"http://127.0.0.1:{cls.tiles.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        cls.base, cls.server, cls.log = start_demo(cls.data.name, "--map-tiles", tile_url, "--map-tiles-crs", "gcj02",
                                                   "--map-tiles-attribution", "test tiles")
        cls.browser = chromium("1366,768")
        cls.wait = WebDriverWait(cls.browser, 10)
        # The volunteer's phone: a phone-sized window whose location is where the problem is.
        cls.phone = chromium("390,844")
        cls.phone.execute_cdp_cmd("Browser.grantPermissions", {"origin": cls.base, "permissions": ["geolocation"]})
        cls.phone.execute_cdp_cmd("Emulation.setGeolocationOverride",
                                  {"latitude": SPOT[0], "longitude": SPOT[1], "accuracy": 8})

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.phone.quit()
        cls.server.terminate()
        cls.server.wait(timeout=30)
        cls.log.close()
        cls.tiles.shutdown()
        cls.data.cleanup()

    def api(self, method, path, token=None, body=None, key=None):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if key:
            req.add_header("Idempotency-Key", key)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def token(self, user):
        status, answer = self.api("POST", "/api/v1/auth/login", body={"username": user, "password": PASSWORD})
        self.assertEqual(status, 200, answer)
        return answer["token"]

    def shot(self, name, browser=None):
        (browser or self.browser).save_screenshot(os.path.join(OUT, f"{name}.png"))

    def report_from_phone(self, user, words):
        """The report page as a volunteer uses it: sign in, category, words, locate, photo, send."""
        p, wait = self.phone, WebDriverWait(self.phone, 10)
        p.get(self.base + "/report")
        form = wait.until(EC.visibility_of_element_located((By.ID, "login")))
        form.find_element(By.NAME, "username").send_keys(user)
        form.find_element(By.NAME, "password").send_keys(PASSWORD)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        report = wait.until(EC.visibility_of_element_located((By.ID, "report")))
        wait.until(lambda _: len(report.find_elements(By.CSS_SELECTOR, "option")) > 1)
        # Sending without anything says what is missing, next to each field.
        report.find_element(By.ID, "send").click()
        self.assertTrue(wait.until(lambda b: b.find_element(By.ID, "err-category").text))
        self.assertTrue(p.find_element(By.ID, "err-lat").text)
        self.shot("00-phone-missing-fields", p)
        p.execute_script("const s = document.querySelector('#report select'); s.value = 'C-01-01';")
        report.find_element(By.NAME, "description").send_keys(words)
        report.find_element(By.ID, "locate").click()
        wait.until(lambda _: report.find_element(By.NAME, "lat").get_attribute("value"))
        photo = os.path.join(self.data.name, "photo.png")
        with open(photo, "wb") as f:
            f.write(png(320, 240))
        report.find_element(By.NAME, "photo").send_keys(photo)
        wait.until(lambda b: b.execute_script("return !document.querySelector('#preview').hidden"))
        self.shot("00-phone-report", p)
        report.find_element(By.ID, "send").click()
        sent = wait.until(lambda b: b.find_element(By.ID, "sent").text or None)
        self.assertIn("已提交", sent)
        return time.monotonic()

    def sign_in(self, user):
        b = self.browser
        b.get(self.base + "/console/")
        form = self.wait.until(EC.visibility_of_element_located((By.ID, "login")))
        form.find_element(By.NAME, "username").send_keys(user)
        form.find_element(By.NAME, "password").send_keys(PASSWORD)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait.until(EC.visibility_of_element_located((By.ID, "desk")))
        self.wait.until(EC.text_to_be_present_in_element((By.ID, "live"), "实时"))

    def pick_candidate(self, user_id):
        self.browser.execute_script(
            "document.querySelector(`#detail .dispatch input[value='${arguments[0]}']`).click()", user_id)

    def open_row(self, text):
        """Clicks the queue's row holding `text` (found and clicked in one go: the stream redraws rows)."""
        self.wait.until(lambda b: b.execute_script(
            "const r = [...document.querySelectorAll('#events tbody tr')].find(r => r.innerText.includes(arguments[0]));"
            "if (r) r.click(); return !!r", text))

    def row_with(self, text):
        # Rows are redrawn by the live stream at any moment; find them in one go.
        return self.browser.execute_script(
            "return [...document.querySelectorAll('#events tbody tr')].find(r => r.innerText.includes(arguments[0])) || null",
            text)

    def test_a_report_is_steered_live_and_stays_in_scope(self):
        with urllib.request.urlopen(self.base + "/console/") as page:
            csp = page.headers["Content-Security-Policy"]
        self.assertIn("script-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)

        self.sign_in("coordinator")
        self.shot("01-queue-empty")
        words = f"井盖缺失 browser-{uuid.uuid4().hex[:8]}"
        reported = self.report_from_phone("volunteer.zhao", words)
        WebDriverWait(self.browser, 2, poll_frequency=0.05).until(lambda _: self.row_with(words))
        self.assertLess(time.monotonic() - reported, 2.0, "the queue did not show the report within 2 s")
        self.shot("02-report-arrived-live")
        coordinator = self.token("coordinator")
        status, page = self.api("GET", "/api/v1/events?state=reported", coordinator)
        event = next(e for e in page["events"] if e["description"] == words)
        self.assertEqual(event["source"], "volunteer")
        self.assertEqual(event["areas"]["grid"], "420102003001001")
        status, photos = self.api("GET", f"/api/v1/events/{event['id']}/evidence", coordinator)
        self.assertEqual(status, 200)
        self.assertEqual(len(photos["before"]), 1, photos)

        self.open_row(words)
        detail = self.wait.until(EC.visibility_of_element_located((By.ID, "detail")))
        self.wait.until(lambda _: words in detail.text)
        # Rejecting needs a reason: the API refuses, and the console says so where it was asked.
        detail.find_element(By.CSS_SELECTOR, "button[data-action=reject]").click()
        error = self.wait.until(lambda _: detail.find_element(By.CSS_SELECTOR, ".actions .error").text or None)
        self.assertIn("未能执行", error)
        self.assertIn("reason", error)
        self.shot("03-refusal-shown")
        # The ops centre sets the grade (定级) with a reason; the page shows it and the deadline follows.
        self.assertIn("较大", self.browser.find_element(By.ID, "grade").text)
        Select(self.browser.find_element(By.CSS_SELECTOR, "#detail .regrade select")).select_by_value("serious")
        self.browser.find_element(By.CSS_SELECTOR, "#detail .actions textarea[name=reason]").send_keys("井盖在学校门口")
        self.browser.find_element(By.CSS_SELECTOR, "#detail button[data-action=regrade]").click()
        self.wait.until(lambda b: "重新定级" in b.execute_script("return document.querySelector('#detail .timeline')?.innerText || ''"))
        self.assertIn("重大", self.browser.find_element(By.ID, "grade").text)
        status, graded = self.api("GET", f"/api/v1/events/{event['id']}", coordinator)
        self.assertEqual((graded["grade"], graded["timeline"][-1]["reason"]), ("serious", "井盖在学校门口"))
        self.assertLess(graded["due_at"], event["due_at"])
        detail = self.browser.find_element(By.ID, "detail")

        detail.find_element(By.CSS_SELECTOR, "button[data-action=accept]").click()
        # The detail is drawn afresh after the action: read it whole, not through old elements.
        timeline = "return document.querySelector('#detail .timeline')?.innerText || ''"
        self.wait.until(lambda b: "受理" in b.execute_script(timeline))
        status, after = self.api("GET", f"/api/v1/events/{event['id']}", self.token("coordinator"))
        self.assertEqual(status, 200)
        self.assertNotEqual(after["state"], "reported", after)
        self.assertIn("accept", [s["action"] for s in after["timeline"]])
        # The event page shows the volunteer's photo, fetched with the token.
        self.wait.until(lambda b: b.execute_script(
            "return [...document.querySelectorAll('#detail .photos img')].some(i => i.complete && i.naturalWidth > 0)"))
        self.shot("04-accepted-timeline")
        # The full photo opens in a dialog, decoded at the size the server kept (320×240).
        self.browser.execute_script("document.querySelector('#detail .photos button.thumb').click()")
        self.wait.until(lambda b: b.execute_script(
            "const i = document.querySelector('#photo[open] img'); return i && i.complete && i.naturalWidth === 320"))
        self.assertIn("320×240", self.browser.find_element(By.ID, "photo").text)
        self.shot("04-full-photo")
        self.browser.find_element(By.CSS_SELECTOR, "#photo button[type=submit]").click()
        self.wait.until(lambda b: not b.execute_script("return document.querySelector('#photo').open"))
        # The volunteer's page follows it live: their report now reads as accepted.
        WebDriverWait(self.phone, 5).until(lambda b: b.execute_script(
            "return [...document.querySelectorAll('#my-reports li')].some(l => l.innerText.includes(arguments[0]) && l.innerText.includes('已受理'))",
            words) or b.execute_script(
            "return [...document.querySelectorAll('#my-reports li')].some(l => l.innerText.includes(arguments[0]) && !l.innerText.includes('已上报'))",
            words))
        self.shot("04-phone-follows", self.phone)

        # While it is the water department's (a missing cover is theirs: accept dispatched it to
        # their pool), worker.li of the other grid sees none of it, in any queue, nor by its id.
        self.browser.find_element(By.ID, "logout").click()
        self.sign_in("worker.li")
        queues = [t.get_attribute("data-queue") for t in self.browser.find_elements(By.CSS_SELECTOR, "#queues button")]
        self.assertEqual(len(queues), 9)
        for queue in queues:
            self.browser.find_element(By.CSS_SELECTOR, f"#queues button[data-queue={queue}]").click()
            time.sleep(0.3)
            self.assertIsNone(self.row_with(words), f"worker.li sees the event under {queue}")
        status, _ = self.api("GET", f"/api/v1/events/{event['id']}", self.token("worker.li"))
        self.assertEqual(status, 404)
        self.shot("05-other-grid-sees-nothing")
        self.browser.find_element(By.ID, "logout").click()
        self.sign_in("coordinator")
        self.browser.find_element(By.CSS_SELECTOR, "#queues button[data-queue=q_progress]").click()
        self.wait.until(lambda _: self.row_with(words))
        self.open_row(words)
        detail = self.wait.until(EC.visibility_of_element_located((By.ID, "detail")))

        # Reassign from the candidate list: worker.li, of the neighbouring grid. Taking it from
        # the department's handler needs a reason; the refusal says so, then it goes through.
        li = self.api("POST", "/api/v1/auth/login", body={"username": "worker.li", "password": PASSWORD})[1]["user"]
        self.wait.until(lambda b: b.execute_script(
            "return document.querySelectorAll('#detail .dispatch input[type=radio]').length") >= 2)
        self.shot("06-candidates")
        self.pick_candidate(li["id"])
        self.browser.find_element(By.CSS_SELECTOR, "#detail .dispatch button[data-action=dispatch]").click()
        error = self.wait.until(lambda b: b.execute_script(
            "return document.querySelector('#detail .dispatch .error')?.innerText || null"))
        self.assertIn("reason", error)
        self.pick_candidate(li["id"])
        self.browser.find_element(By.CSS_SELECTOR, "#detail .dispatch input[name=dispatch-reason]").send_keys("李离得近，先去处置")
        self.browser.find_element(By.CSS_SELECTOR, "#detail .dispatch button[data-action=dispatch]").click()
        self.wait.until(lambda _: self.api("GET", f"/api/v1/events/{event['id']}", coordinator)[1]["assignees"] == [li["id"]])
        self.wait.until(lambda b: "李离得近，先去处置" in b.execute_script(timeline))
        # Who did it is named, in words, with the role they acted in.
        me = self.api("GET", "/api/v1/me", coordinator)[1]["user"]["display_name"]
        self.assertIn(f"{me} (街道调度员)", self.browser.execute_script(timeline))
        tasks = self.browser.execute_script("return [...document.querySelectorAll('#detail ul li')].map(l => l.innerText)")
        self.assertTrue(any(li["display_name"] in t and "调度员指派" in t for t in tasks), tasks)
        self.shot("07-reassigned")

        # Bulk: two more reports, accepted (and so dispatched to the department), reassigned together.
        more = []
        for n in range(2):
            status, e = self.api("POST", "/api/v1/events", self.token("resident.chen"), {
                "category": "C-01-01", "lat": SPOT[0] + 0.0004 * (n + 1), "lng": SPOT[1],
                "description": f"{words} bulk-{n}"}, key=str(uuid.uuid4()))
            self.assertEqual(status, 201, e)
            status, e = self.api("POST", f"/api/v1/events/{e['id']}/actions", coordinator, {"action": "accept"})
            self.assertEqual(status, 200, e)
            more.append(e["id"])
        self.browser.find_element(By.CSS_SELECTOR, "#queues button[data-queue=q_progress]").click()
        for eid in more:
            self.wait.until(lambda b, eid=eid: b.execute_script(
                "return document.querySelector(`#events tr[data-id='${arguments[0]}'] input`)", eid))
            self.browser.execute_script(
                "document.querySelector(`#events tr[data-id='${arguments[0]}'] input`).click()", eid)
        self.wait.until(lambda b: b.execute_script(
            "return [...document.querySelectorAll('#bulk-target option')].some(o => o.value === arguments[0])", li["id"]))
        self.browser.execute_script(
            "const s = document.querySelector('#bulk-target'); s.value = arguments[0]; s.dispatchEvent(new Event('change'))",
            li["id"])
        self.browser.find_element(By.ID, "bulk-reason").send_keys("集中交由李处理")
        self.browser.find_element(By.ID, "bulk-dispatch").click()
        result = self.wait.until(lambda b: b.execute_script("return document.querySelector('#bulk-result').innerText || null"))
        self.assertIn("完成 2 件", result)
        for eid in more:
            self.assertEqual(self.api("GET", f"/api/v1/events/{eid}", coordinator)[1]["assignees"], [li["id"]])
        self.shot("08-bulk-reassigned")
        # The filter bar narrows the queue: by source, only the volunteer's report is left.
        self.browser.execute_script(
            "const s = document.querySelector('#filters select[name=source]'); s.value = 'volunteer';"
            "s.dispatchEvent(new Event('change', {bubbles: true}))")
        self.wait.until(lambda b: self.row_with(words) and not self.row_with(f"{words} bulk-0"))
        self.browser.execute_script(
            "const s = document.querySelector('#filters select[name=source]'); s.value = 'resident';"
            "s.dispatchEvent(new Event('change', {bubbles: true}))")
        self.wait.until(lambda b: self.row_with(f"{words} bulk-0") and not self.row_with(f"{words}\t"))
        self.shot("08-filtered")
        self.browser.find_element(By.CSS_SELECTOR, "#filters button[type=reset]").click()
        self.wait.until(lambda b: self.row_with(f"{words} bulk-0") and self.row_with(f"{words} bulk-1"))

        # The workforce board: worker.li on duty with the three events now on them.
        self.browser.find_element(By.CSS_SELECTOR, "#views button[data-view=workforce]").click()
        row = "return [...document.querySelectorAll('#workers tbody tr')].map(r => r.innerText)"
        self.wait.until(lambda b: any(li["display_name"] in r for r in b.execute_script(row)))
        li_row = next(r for r in self.browser.execute_script(row) if li["display_name"] in r)
        self.assertIn("在岗", li_row)
        self.assertIn("\t3\t", li_row)
        self.shot("09-workforce")

        # The map: the street's outline and its communities, the open events as markers.
        self.browser.find_element(By.CSS_SELECTOR, "#views button[data-view=map]").click()
        count = self.wait.until(lambda b: b.execute_script("return document.querySelector('#map-count').innerText || null"))
        self.assertIn("3", count)
        self.assertGreaterEqual(self.browser.execute_script(
            "return document.querySelectorAll('#mapview path.leaflet-interactive').length"), 2)
        self.assertGreaterEqual(self.browser.execute_script(
            "return document.querySelectorAll('#mapview .dot, #mapview .marker-cluster').length"), 1)
        self.shot("10-map")
        # The tiles came through the CSP, with their attribution, and the map knows they are on
        # GCJ-02 (so it draws through crs.js's shift, checked against the server's below).
        self.wait.until(lambda b: b.execute_script("return document.querySelectorAll('#mapview img.leaflet-tile-loaded').length") >= 1)
        self.assertTrue(self.tiles.requests)
        self.assertEqual(self.browser.execute_script("return document.querySelector('#mapview').dataset.tiles"), "gcj02")
        self.assertIn("test tiles", self.browser.find_element(By.CSS_SELECTOR, "#mapview .leaflet-control-attribution").text)
        # Zooming in opens the areas one level deeper each time, down to buildings.
        level = lambda b: b.execute_script("return document.querySelector('#mapview').dataset.level || null")
        drawn = "return [...new Set([...document.querySelectorAll('#mapview path[class*=area-]')].map(p => [...p.classList].find(c => c.startsWith('area-'))))]"
        levels, outlined = [self.wait.until(level)], set(self.browser.execute_script(drawn))
        for _ in range(4):
            self.browser.find_element(By.CSS_SELECTOR, "#mapview .leaflet-control-zoom-in").click()
            time.sleep(0.6)
            levels.append(self.wait.until(level))
            outlined |= set(self.browser.execute_script(drawn))
        order = ["district", "street", "community", "grid", "compound", "building"]
        self.assertEqual([order.index(x) for x in levels], sorted(order.index(x) for x in levels), levels)
        self.assertGreater(order.index(levels[-1]), order.index(levels[0]), levels)
        # The street's communities, then its grids, then compounds were each outlined on the way.
        self.assertGreaterEqual(outlined, {"area-community", "area-grid", "area-compound"}, (levels, outlined))
        self.shot("10-map-zoomed")
        for _ in range(4):
            self.browser.find_element(By.CSS_SELECTOR, "#mapview .leaflet-control-zoom-out").click()
            time.sleep(0.3)
        # The hotspot layer: every event so far, per H3 cell, from the API's density.
        self.browser.execute_script(
            "const s = document.querySelector('#hotspot-form select[name=window]'); s.value = '0';"
            "s.dispatchEvent(new Event('change', {bubbles: true}))")
        self.wait.until(lambda b: b.execute_script("return document.querySelectorAll('#mapview path.hotspot').length") >= 1)
        status, density = self.api("GET", "/api/v1/events/density?res=9", coordinator)
        self.assertEqual(status, 200)
        self.assertIn(str(density["total"]), self.browser.find_element(By.ID, "hotspot-count").text)
        self.shot("10-map-hotspots")
        # The console's GCJ-02 shift (for Chinese tiles) agrees with the server's: the point it
        # draws, looked up as GCJ-02, is the WGS-84 point it came from, within a centimetre.
        gcj = self.browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "import('/console/crs.js').then(m => done(m.wgs84ToGcj02(arguments[0], arguments[1])))", *SPOT)
        self.assertGreater(abs(gcj[1] - SPOT[1]), 0.001, "GCJ-02 shifts points in Wuhan")
        status, found = self.api("GET", f"/api/v1/areas/lookup?lat={gcj[0]}&lng={gcj[1]}&crs=gcj02", coordinator)
        self.assertEqual(status, 200, found)
        self.assertAlmostEqual(found["wgs84"]["lat"], SPOT[0], places=7)
        self.assertAlmostEqual(found["wgs84"]["lng"], SPOT[1], places=7)

        # Li asks for more time on one; the coordinator finds it among the extension requests and
        # refuses (a reason is required, and the console says so), then merges it into its twin.
        status, b = self.api("POST", f"/api/v1/events/{more[1]}/actions", self.token("worker.li"),
                             {"action": "request_extension", "reason": "等待配件"})
        self.assertEqual(status, 200, b)
        self.browser.find_element(By.CSS_SELECTOR, "#views button[data-view=desk]").click()
        self.browser.find_element(By.CSS_SELECTOR, "#queues button[data-queue=q_extension]").click()
        self.wait.until(lambda b: b.execute_script(f"return document.querySelector(\"#events tr[data-id='{more[1]}']\")"))
        self.wait.until(lambda b: b.execute_script(
            "const r = document.querySelector(arguments[0]); if (r) r.click(); return !!r", f"#events tr[data-id='{more[1]}']"))
        self.wait.until(lambda b: "等待配件" in b.execute_script("return document.querySelector('#detail .notice')?.innerText || ''"))
        self.browser.find_element(By.CSS_SELECTOR, "#detail button[data-action=refuse_extension]").click()
        error = self.wait.until(lambda b: b.execute_script("return document.querySelector('#detail .actions .error')?.innerText || null"))
        self.assertIn("reason", error)
        self.browser.find_element(By.CSS_SELECTOR, "#detail textarea[name=reason]").send_keys("配件有库存，按期完成")
        self.browser.find_element(By.CSS_SELECTOR, "#detail button[data-action=refuse_extension]").click()
        self.wait.until(lambda b: "配件有库存" in b.execute_script(timeline))
        self.assertFalse(self.api("GET", f"/api/v1/events/{more[1]}", coordinator)[1]["extension_requested"])
        self.shot("11-extension-refused")
        self.browser.find_element(By.CSS_SELECTOR, "#detail details.merge summary").click()
        self.wait.until(lambda b: b.execute_script(
            f"return document.querySelector(\"#detail input[name=merge-into][value='{more[0]}']\")"))
        self.browser.find_element(By.CSS_SELECTOR, f"#detail input[name=merge-into][value='{more[0]}']").click()
        self.browser.find_element(By.CSS_SELECTOR, "#detail input[name=merge-reason]").send_keys("同一处井盖")
        self.browser.find_element(By.CSS_SELECTOR, "#detail button[data-action=merge]").click()
        self.wait.until(lambda _: self.api("GET", f"/api/v1/events/{more[1]}", coordinator)[1]["state"] == "closed")
        self.shot("12-merged")

        # An overdue event stands out: its deadline is put an hour back in the database (the
        # clock cannot be waited for), and the overdue queue shows it in the warning colour.
        with sqlite3.connect(os.path.join(self.data.name, "gridwork.sqlite"), timeout=10) as db:
            db.execute("UPDATE events SET due_at = datetime('now', '-1 hour') WHERE id = ?", (more[0],))
        self.browser.find_element(By.CSS_SELECTOR, "#views button[data-view=desk]").click()
        self.browser.find_element(By.CSS_SELECTOR, "#queues button[data-queue=q_overdue]").click()
        row = f"#events tr[data-id='{more[0]}']"
        self.wait.until(lambda b: b.execute_script(f"return document.querySelector(\"{row}\")"))
        # Rows are redrawn by the stream at any moment: read class, colour and words in one go.
        seen = self.browser.execute_script(
            "const r = document.querySelector(arguments[0]);"
            "return [r.className, getComputedStyle(r.lastElementChild).color, r.innerText]", row)
        self.assertIn("overdue", seen[0])
        self.assertEqual(seen[1], "rgb(179, 38, 30)")
        self.assertIn("已超期", seen[2])
        self.assertIsNone(self.browser.execute_script(f"return document.querySelector(\"#events tr[data-id='{more[1]}']\")"))
        self.shot("13-overdue-stands-out")

        # Evaluation: the street's scores for the last 30 days as a table, a chart and a CSV file
        # that holds exactly what the API answers.
        self.browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": OUT})
        self.browser.find_element(By.CSS_SELECTOR, "#views button[data-view=evaluation]").click()
        self.wait.until(lambda b: b.execute_script("return document.querySelectorAll('#scores tbody tr th').length") >= 1)
        self.assertTrue(self.browser.execute_script("return !!document.querySelector('#eval-bars svg rect.bar')"))
        form = self.browser.execute_script(
            "const f = document.querySelector('#eval-form'); return [f.from.value, f.to.value]")
        to_next = (datetime.date.fromisoformat(form[1]) + datetime.timedelta(days=1)).isoformat()
        query = urllib.parse.urlencode({"by": "street", "from": f"{form[0]}T00:00:00+08:00", "to": f"{to_next}T00:00:00+08:00"})
        status, scores = self.api("GET", f"/api/v1/evaluation?{query}", coordinator)
        self.assertEqual(status, 200, scores)
        street = next(u for u in scores["units"] if u["unit"] == "420102003")
        self.assertGreaterEqual(street["reported"], 3)
        self.shot("14-evaluation")
        csv_path = os.path.join(OUT, f"evaluation-street-{form[0]}-{form[1]}.csv")
        if os.path.exists(csv_path):
            os.remove(csv_path)
        self.browser.find_element(By.ID, "eval-csv").click()
        WebDriverWait(self.browser, 10).until(lambda _: os.path.exists(csv_path) and os.path.getsize(csv_path) > 0)
        with open(csv_path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        row = next(r for r in rows if r["单位编码"] == "420102003")
        self.assertEqual(int(row["上报"]), street["reported"])
        self.assertEqual(int(row["结案"]), street["closed"])
        self.assertEqual(int(row["当前超期"]), street["overdue_open"])
        self.assertEqual(row["单位"], street["name"])

        # The scheduler's reports of the street: the newest one's workbook downloads and opens
        # with a real XLSX reader, its first line the street itself.
        # The scheduler's first pass after the map loads makes them (every 30 s in the demo).
        for _ in range(60):
            status, listed = self.api("GET", "/api/v1/reports?limit=50", coordinator)
            self.assertEqual(status, 200, listed)
            if listed["reports"]:
                break
            time.sleep(1)
        self.assertTrue(listed["reports"], listed)
        self.browser.find_element(By.CSS_SELECTOR, "#views button[data-view=evaluation]").click()
        newest = listed["reports"][0]
        self.wait.until(lambda b: b.execute_script(
            "return document.querySelectorAll('#reports tbody tr[data-id]').length") == len(listed["reports"]))
        xlsx_name = f"report-{newest['kind']}-{newest['area_code']}-" + self.browser.execute_script(
            "return new Date(arguments[0]).toLocaleDateString('en-CA', {timeZone: 'Asia/Shanghai'})", newest["period_from"]) + ".xlsx"
        xlsx_path = os.path.join(OUT, xlsx_name)
        if os.path.exists(xlsx_path):
            os.remove(xlsx_path)
        self.browser.find_element(By.CSS_SELECTOR, f"#reports tr[data-id='{newest['id']}'] button:nth-of-type(2)").click()
        WebDriverWait(self.browser, 10).until(lambda _: os.path.exists(xlsx_path) and os.path.getsize(xlsx_path) > 0)
        book = openpyxl.load_workbook(xlsx_path, read_only=True)
        lines = list(book["考核"].iter_rows(values_only=True))
        self.assertEqual(lines[0][:4], ("层级", "单位编码", "单位", "上报"))
        self.assertEqual(lines[1][1], newest["area_code"])
        self.assertEqual(len(lines) - 1, newest["rows"])
        self.shot("14b-reports")

    def test_a_coordinator_decides_volunteer_sign_ups(self):
        """Two people sign up; the street's coordinator approves one and declines the other with a reason."""
        names = []
        for i in range(2):
            name = f"vol{uuid.uuid4().hex[:8]}"
            status, signed = self.api("POST", "/api/v1/volunteers/sign-up", body={
                "username": name, "password": PASSWORD, "display_name": f"报名者{i}", "phone": "139 0000 444" + str(i),
                "community": "420102003001", "note": "周末有空"})
            self.assertEqual(status, 201, signed)
            names.append(name)
        self.sign_in("coordinator")
        b = self.browser
        b.find_element(By.CSS_SELECTOR, "#views button[data-view=volunteers]").click()
        row = lambda name: b.execute_script(
            "return [...document.querySelectorAll('#applications tbody tr')].find(r => r.innerText.includes(arguments[0])) || null", name)
        self.wait.until(lambda _: row(names[0]) and row(names[1]))
        self.assertIn("13900004440", row(names[0]).text)
        self.shot("15-volunteer-sign-ups")
        row(names[0]).find_element(By.CSS_SELECTOR, "button.approve").click()
        self.wait.until(lambda _: row(names[0]) is None)
        # A decline without a reason is refused, and says so.
        row(names[1]).find_element(By.CSS_SELECTOR, "button.decline").click()
        self.wait.until(lambda _: "reason" in b.find_element(By.ID, "apps-result").text)
        row(names[1]).find_element(By.CSS_SELECTOR, "input").send_keys("不在本社区居住")
        row(names[1]).find_element(By.CSS_SELECTOR, "button.decline").click()
        self.wait.until(lambda _: row(names[1]) is None)
        self.assertTrue(self.wait.until(lambda _: b.execute_script(
            "return document.querySelector('#ranking tbody').innerText.length > 0")))
        # What the people themselves now see.
        approved, declined = self.token(names[0]), self.token(names[1])
        self.assertEqual(self.api("GET", "/api/v1/pool", approved)[0], 200)
        self.assertEqual(self.api("GET", "/api/v1/pool", declined)[0], 403)
        status, mine = self.api("GET", "/api/v1/me/volunteer-applications", declined)
        self.assertEqual((mine["applications"][0]["state"], mine["applications"][0]["reason"]), ("declined", "不在本社区居住"))
        # Decided sign-ups are listed under their state.
        Select(b.find_element(By.ID, "apps-state")).select_by_value("approved")
        self.wait.until(lambda _: row(names[0]) is not None)

    def test_a_neighbour_signs_up_on_the_phone_page(self):
        """The sign-up form: refused fields named, communities found by name, the state after sign-in."""
        p, wait = self.phone, WebDriverWait(self.phone, 10)
        p.get(self.base + "/report")
        wait.until(EC.visibility_of_element_located((By.ID, "show-signup"))).click()
        form = wait.until(EC.visibility_of_element_located((By.ID, "signup")))
        name = f"nb{uuid.uuid4().hex[:8]}"
        form.find_element(By.NAME, "username").send_keys(name)
        form.find_element(By.NAME, "password").send_keys(PASSWORD)
        form.find_element(By.NAME, "display_name").send_keys("邻居小李")
        form.find_element(By.NAME, "phone").send_keys("12345")
        # Typing part of a name offers the communities; picking one fills in its label.
        form.find_element(By.NAME, "community").send_keys("第1社区")
        wait.until(lambda b: b.execute_script("return document.querySelectorAll('#communities option').length") > 0)
        label = p.execute_script(
            "return [...document.querySelectorAll('#communities option')].map(o => o.value).find(v => v.includes('大智街道')) || null")
        self.assertIsNotNone(label)
        field = form.find_element(By.NAME, "community")
        field.clear()
        field.send_keys(label)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.assertIn("手机号码", wait.until(lambda b: b.find_element(By.ID, "err-su-phone").text))
        self.shot("16-phone-sign-up-refused", p)
        phone = form.find_element(By.NAME, "phone")
        phone.clear()
        phone.send_keys("139 0000 6666")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        login = wait.until(EC.visibility_of_element_located((By.ID, "login")))
        self.assertIn("报名已提交", login.find_element(By.ID, "login-error").text)
        self.assertEqual(login.find_element(By.NAME, "username").get_attribute("value"), name)
        status, mine = self.api("GET", "/api/v1/me/volunteer-applications", self.token(name))
        application = mine["applications"][0]
        self.assertEqual((application["state"], application["community_code"]), ("pending", "420102003001"), mine)
        login.find_element(By.NAME, "password").send_keys(PASSWORD)
        login.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        state = wait.until(EC.visibility_of_element_located((By.ID, "application-state")))
        self.assertIn("等待街道审核", state.text)
        self.shot("17-phone-sign-up-pending", p)
        status, decided = self.api("POST", f"/api/v1/volunteer-applications/{application['id']}/decision",
                                   self.token("coordinator"), {"decision": "approve"})
        self.assertEqual(status, 200, decided)
        p.find_element(By.ID, "logout").click()
        login = wait.until(EC.visibility_of_element_located((By.ID, "login")))
        user = login.find_element(By.NAME, "username")
        user.clear()
        user.send_keys(name)
        login.find_element(By.NAME, "password").send_keys(PASSWORD)
        login.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        service = wait.until(EC.visibility_of_element_located((By.ID, "service")))
        self.assertIn("积分 0", service.text)
        p.find_element(By.ID, "logout").click()

    def test_a_resident_downloads_their_data_and_has_it_erased(self):
        """The phone page's "my data": download, ask for erasure; an administrator erases in the console."""
        admin = self.token("admin")
        name = f"qian{uuid.uuid4().hex[:8]}"
        status, user = self.api("POST", "/api/v1/users", admin, {
            "username": name, "display_name": "钱七", "phone": "139 0000 8888", "password": PASSWORD})
        self.assertEqual(status, 201, user)
        status, grant = self.api("POST", f"/api/v1/users/{user['id']}/roles", admin,
                                 {"role": "resident", "scope": "420102003001"})
        self.assertEqual(status, 201, grant)
        p, wait = self.phone, WebDriverWait(self.phone, 10)
        p.get(self.base + "/report")
        login = wait.until(EC.visibility_of_element_located((By.ID, "login")))
        login.find_element(By.NAME, "username").send_keys(name)
        login.find_element(By.NAME, "password").send_keys(PASSWORD)
        login.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(EC.visibility_of_element_located((By.ID, "mydata-export"))).click()
        wait.until(lambda b: b.find_element(By.ID, "mydata-status").text == "已下载")
        # Asking needs a confirmation; a dismissed one asks nothing.
        p.find_element(By.ID, "mydata-erase").click()
        wait.until(EC.alert_is_present()).dismiss()
        self.assertEqual(self.api("GET", "/api/v1/me/erasure-requests", self.token(name))[1]["requests"], [])
        p.find_element(By.ID, "mydata-erase").click()
        wait.until(EC.alert_is_present()).accept()
        wait.until(lambda b: "待处理" in b.find_element(By.ID, "mydata-status").text)
        self.assertTrue(p.find_element(By.ID, "mydata-withdraw").is_displayed())
        self.shot("18-phone-erasure-requested", p)

        self.sign_in("admin")
        b = self.browser
        b.find_element(By.CSS_SELECTOR, "#views button[data-view=erasures]").click()
        row = lambda: b.execute_script(
            "return [...document.querySelectorAll('#erasures tbody tr')].find(r => r.innerText.includes(arguments[0])) || null", name)
        self.wait.until(lambda _: row())
        self.shot("19-console-erasure-requests")
        row().find_element(By.CSS_SELECTOR, "button.carry-out").click()
        self.wait.until(EC.alert_is_present()).accept()
        self.wait.until(lambda _: "已删除" in b.find_element(By.ID, "erasure-result").text)
        self.assertIsNone(row())
        # Gone for good: the account cannot sign in, and the erased list shows it by its new name only.
        status, _ = self.api("POST", "/api/v1/auth/login", body={"username": name, "password": PASSWORD})
        self.assertEqual(status, 401)
        Select(b.find_element(By.ID, "erasure-state")).select_by_value("erased")
        self.wait.until(lambda _: "erased-" in b.find_element(By.CSS_SELECTOR, "#erasures tbody").text)
        self.assertNotIn(name, b.find_element(By.CSS_SELECTOR, "#erasures tbody").text)
        status, page = self.api("GET", f"/api/v1/users/{user['id']}", admin)
        self.assertEqual((status, page["display_name"], page.get("phone")), (200, "[erased]", None), page)
        p.get(self.base + "/report")

    def test_a_hotline_caller_is_called_back_from_the_console(self):
        """A 12345 call's case closes; the coordinator finds the caller in the callback queue and records it."""
        coordinator = self.token("coordinator")
        reference = "12345-" + uuid.uuid4().hex[:8]
        status, call = self.api("POST", "/api/v1/hotline/calls", coordinator, {
            "reference": reference, "caller_name": "王小明", "caller_phone": "13812345678", "category": "C-03-01",
            "lat": SPOT[0] + 0.003, "lng": SPOT[1], "description": "来电反映：井盖缺失 " + reference})
        self.assertEqual(status, 201, call)
        status, answer = self.api("POST", f"/api/v1/events/{call['event_id']}/actions", coordinator,
                                  {"action": "reject", "reason": "已由物业修复"})
        self.assertEqual(status, 200, answer)
        self.sign_in("coordinator")
        b = self.browser
        b.find_element(By.CSS_SELECTOR, "#views button[data-view=callbacks]").click()
        row = lambda: b.execute_script(
            "return [...document.querySelectorAll('#callbacks tbody tr')].find(r => r.innerText.includes(arguments[0])) || null", reference)
        self.wait.until(lambda _: row())
        self.assertIn("13812345678", row().text)
        self.shot("21-console-callbacks")
        row().find_element(By.CSS_SELECTOR, "input").send_keys("来电人表示满意")
        row().find_element(By.CSS_SELECTOR, "button.satisfied").click()
        self.wait.until(lambda _: reference in b.find_element(By.ID, "callback-result").text)
        self.assertIsNone(row())
        status, detail = self.api("GET", f"/api/v1/events/{call['event_id']}", coordinator)
        recorded = detail["hotline_calls"][0]
        self.assertEqual((recorded["satisfied"], recorded["callback_note"]), (True, "来电人表示满意"))
        self.assertEqual(detail["timeline"][-1]["action"], "callback")

    def test_a_supervision_order_is_answered_and_closed_in_the_console(self):
        """The street orders a reply; the worker answers; the coordinator sends it back, then closes it."""
        words = "督办闭环 " + uuid.uuid4().hex[:6]
        coordinator, wang = self.token("coordinator"), self.token("worker.wang")
        status, event = self.api("POST", "/api/v1/events", self.token("resident.chen"), {
            "category": "E-01-02", "lat": SPOT[0] + 0.002, "lng": SPOT[1], "description": words}, key=str(uuid.uuid4()))
        self.assertEqual(status, 201, event)
        eid = event["id"]
        for body in ({"action": "accept"}, {"action": "supervise", "reason": "群众反映强烈"}):
            status, answer = self.api("POST", f"/api/v1/events/{eid}/actions", coordinator, body)
            self.assertEqual(status, 200, answer)
        status, orders = self.api("GET", "/api/v1/supervision-orders", wang)
        order = next(o["order"] for o in orders["orders"] if o["event"]["id"] == eid)
        reply = lambda text: self.api("POST", f"/api/v1/supervision-orders/{order['id']}/actions", wang, {"action": "reply", "text": text})
        self.assertEqual(reply("已安排清运")[0], 200)

        self.sign_in("coordinator")
        b = self.browser
        b.find_element(By.CSS_SELECTOR, "#queues button[data-queue=q_supervised]").click()
        self.open_row(words)
        item = f"#detail .orders li[data-order='{order['id']}']"
        self.wait.until(lambda _: "已回复待审核" in b.execute_script(f"return document.querySelector(\"{item}\")?.innerText || ''"))
        self.assertIn("已安排清运", b.find_element(By.CSS_SELECTOR, item).text)
        # Sending back needs a reason, and the console says so next to the order.
        b.find_element(By.CSS_SELECTOR, f"{item} button[data-order-action=send_back]").click()
        self.wait.until(lambda _: "reason" in b.find_element(By.CSS_SELECTOR, f"{item} .error").text)
        b.find_element(By.CSS_SELECTOR, f"{item} textarea").send_keys("请附清运后照片")
        b.find_element(By.CSS_SELECTOR, f"{item} button[data-order-action=send_back]").click()
        self.wait.until(lambda _: "待回复" in b.execute_script(f"return document.querySelector(\"{item}\")?.innerText || ''"))
        self.assertEqual(reply("已清运，照片已补")[0], 200)
        b.find_element(By.CSS_SELECTOR, "#queues button[data-queue=q_supervised]").click()
        self.open_row(words)
        self.wait.until(lambda _: "已清运" in b.execute_script(f"return document.querySelector(\"{item}\")?.innerText || ''"))
        self.shot("18-supervision-reply-to-review")
        b.find_element(By.CSS_SELECTOR, f"{item} button[data-order-action=accept]").click()
        self.wait.until(lambda _: "已办结" in b.execute_script(f"return document.querySelector(\"{item}\")?.innerText || ''"))
        status, detail = self.api("GET", f"/api/v1/events/{eid}", coordinator)
        self.assertEqual(detail["supervision_orders"][0]["state"], "closed")
        steps = [s["action"] for s in detail["timeline"] if s["action"].startswith("supervision")]
        self.assertEqual(steps, ["supervision_reply", "supervision_send_back", "supervision_reply", "supervision_accept"])

    def test_the_console_works_from_the_keyboard(self):
        """Sign in, reach the queue's row, open the event and act on it, all without the mouse."""
        status, event = self.api("POST", "/api/v1/events", self.token("resident.chen"), {
            "category": "C-03-01", "lat": SPOT[0], "lng": SPOT[1], "description": "键盘操作 " + uuid.uuid4().hex[:6],
        }, key=str(uuid.uuid4()))
        self.assertEqual(status, 201, event)
        b = self.browser
        b.get(self.base + "/console/")
        self.wait.until(EC.visibility_of_element_located((By.ID, "login")))
        # Each control has a label a screen reader reads.
        unlabelled = b.execute_script(
            "return [...document.querySelectorAll('input, select, textarea')].filter(e => !e.closest('label') && !e.labels?.length && !e.getAttribute('aria-label')).map(e => e.outerHTML)")
        self.assertEqual(unlabelled, [])
        actions = webdriver.ActionChains(b)
        b.find_element(By.NAME, "username").click()
        actions.send_keys("coordinator").send_keys(Keys.TAB).send_keys(PASSWORD).send_keys(Keys.ENTER).perform()
        self.wait.until(EC.visibility_of_element_located((By.ID, "desk")))
        # Tab to the first row of the queue and open it with Enter.
        row = f"#events tr[data-id='{event['id']}']"
        self.wait.until(lambda b: b.execute_script(f"return document.querySelector(\"{row}\")"))
        for _ in range(60):
            webdriver.ActionChains(b).send_keys(Keys.TAB).perform()
            if b.execute_script(f"return document.activeElement === document.querySelector(\"{row}\")"):
                break
        else:
            self.fail("the queue's row cannot be reached with Tab")
        webdriver.ActionChains(b).send_keys(Keys.ENTER).perform()
        self.wait.until(lambda b: b.execute_script("return document.querySelector('#detail h2')?.innerText || null"))
        # Tab into the actions and press 受理 with the keyboard.
        for _ in range(40):
            webdriver.ActionChains(b).send_keys(Keys.TAB).perform()
            if b.execute_script("return document.activeElement?.dataset?.action === 'accept'"):
                break
        else:
            self.fail("the accept button cannot be reached with Tab")
        # A focused control is visible as such.
        self.assertNotEqual(b.execute_script("return getComputedStyle(document.activeElement).outlineStyle"), "none")
        webdriver.ActionChains(b).send_keys(Keys.ENTER).perform()
        self.wait.until(lambda _: self.api("GET", f"/api/v1/events/{event['id']}", self.token("coordinator"))[1]["state"] != "reported")
        # The event is drawn afresh; the keyboard stays in it instead of falling back to the page.
        self.wait.until(lambda b: b.execute_script("return document.querySelector('#detail').contains(document.activeElement)"))
        self.shot("20-keyboard")
        b.find_element(By.ID, "logout").send_keys(Keys.ENTER)



    def test_vital_signs_alerts_and_emergency_mode(self):
        """A sensor breaches orange: the coordinator sees the alert and the street's vital signs,
        acknowledges it, switches the street to emergency mode and back to normal."""
        coordinator = self.token("coordinator")
        code = "tilt-" + uuid.uuid4().hex[:8]
        status, sensor = self.api("POST", "/api/v1/sensors", coordinator, {
            "code": code, "name": "井盖倾斜", "indicators": ["manhole_tilt"], "lat": SPOT[0] + 0.002, "lng": SPOT[1],
            "expected_interval_secs": 600})
        self.assertEqual(status, 201, sensor)
        now = datetime.datetime.now(datetime.timezone.utc)
        readings = [{"indicator": "manhole_tilt", "value": v, "at": (now - datetime.timedelta(seconds=60 - i)).isoformat()}
                    for i, v in enumerate([2.0, 16.5])]
        status, receipt = self.api("POST", f"/api/v1/sensors/{code}/readings", sensor["secret"], {"readings": readings})
        self.assertEqual((status, receipt["stored"]), (200, 2), receipt)
        self.sign_in("coordinator")
        b = self.browser
        b.find_element(By.CSS_SELECTOR, "#views button[data-view=sensing]").click()
        alert_row = lambda: b.execute_script(
            "return [...document.querySelectorAll('#alerts tbody tr')].find(r => r.innerText.includes(arguments[0])) || null", code)
        self.wait.until(lambda _: alert_row())
        self.assertIn("橙色", alert_row().text)
        self.wait.until(lambda _: b.find_elements(By.CSS_SELECTOR, "#signs tbody tr[data-indicator=manhole_tilt]"))
        sign = b.find_element(By.CSS_SELECTOR, "#signs tbody tr[data-indicator=manhole_tilt]")
        self.assertIn("16.5", sign.text)
        self.shot("22-console-vital-signs")
        alert_row().find_element(By.CSS_SELECTOR, "button.acknowledge").click()
        self.wait.until(lambda _: "已确认" in b.find_element(By.ID, "sensing-result").text)
        status, alerts = self.api("GET", "/api/v1/alerts", coordinator)
        mine = [a for a in alerts["alerts"] if a["sensor"] == code]
        self.assertEqual(mine[0]["state"], "acknowledged", mine)

        # Emergency mode for the street, confirmed, and back to normal.
        b.find_element(By.ID, "em-reason").send_keys("暴雨红色预警")
        b.find_element(By.ID, "em-call").click()
        b.execute_script("window.confirm = () => true")
        b.find_element(By.ID, "em-declare").click()
        self.wait.until(lambda _: b.find_elements(By.CSS_SELECTOR, "#emergencies li.running"))
        self.assertIn("已启动急时状态", b.find_element(By.ID, "sensing-result").text)
        self.shot("23-console-emergency")
        status, listed = self.api("GET", "/api/v1/emergencies", coordinator)
        running = [e for e in listed["emergencies"] if "ended_at" not in e]
        self.assertEqual((len(running), running[0]["reason"]), (1, "暴雨红色预警"), listed)
        b.find_element(By.CSS_SELECTOR, "#emergencies li.running input").send_keys("雨停")
        b.find_element(By.CSS_SELECTOR, "#emergencies li.running button.end-emergency").click()
        self.wait.until(lambda _: b.find_elements(By.CSS_SELECTOR, "#emergencies li.ended"))
        status, listed = self.api("GET", "/api/v1/emergencies", coordinator)
        self.assertEqual(listed["emergencies"][0]["end_reason"], "雨停", listed)

if __name__ == "__main__":
    unittest.main(verbosity=2)
