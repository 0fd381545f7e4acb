"""A department system's receiver verifies Gridwork's webhooks with the Standard Webhooks library
(`standardwebhooks` from PyPI) while it fails, stalls and recovers: every state change of the
subscribed events arrives, each under one webhook-id, every signature verifies, and a forged one
does not.

Usage: test_standard_webhooks.py GRIDWORK_BINARY
"""
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

GRIDWORK = sys.argv.pop(1)
PASSWORD = "gridwork-demo"
# Inside demo grid 420102003001001 (district 420102).
SPOT = (30.5852, 114.2778)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver(http.server.ThreadingHTTPServer):
    """Fails its first three requests, stalls on the fourth past the sender's timeout, then
    answers; keeps what it verified, by webhook-id."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.secret = None
        self.requests = 0
        self.verified = {}
        self.forged_refused = 0
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        server = self.server
        with server.lock:
            server.requests += 1
            n = server.requests
        headers = {k: self.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        payload = Webhook(server.secret).verify(body, headers)
        # A receiver must refuse a body it was not sent.
        try:
            Webhook(server.secret).verify(body + b" ", headers)
        except WebhookVerificationError:
            with server.lock:
                server.forged_refused += 1
        if n <= 3:
            self.send_response(500)
            self.end_headers()
            return
        if n == 4:
            time.sleep(4)
        with server.lock:
            server.verified.setdefault(headers["webhook-id"], payload)
        self.send_response(204)
        self.end_headers()


class StandardWebhooks(unittest.TestCase):
    def setUp(self):
        self.receiver = Receiver()
        threading.Thread(target=self.receiver.serve_forever, daemon=True).start()
        self.data = tempfile.TemporaryDirectory()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, GRIDWORK_DATA_DIR=self.data.name, GRIDWORK_LOG="warn")
        self.log = open(os.path.join(self.data.name, "server.log"), "w")
        self.server = subprocess.Popen([GRIDWORK, "demo", "--listen", f"127.0.0.1:{port}", "--webhook-retry-secs", "1",
                                        "--webhook-timeout-secs", "2"], env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)

    def tearDown(self):
        self.server.terminate()
        self.server.wait(timeout=30)
        self.log.close()
        self.data.cleanup()
        self.receiver.shutdown()
        self.receiver.server_close()

    def api(self, method, path, user, body=None):
        token = requests.post(self.base + "/api/v1/auth/login", json={"username": user, "password": PASSWORD},
                              timeout=30).json()["token"]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(time.time())}
        res = requests.request(method, self.base + path, json=body, headers=headers, timeout=30)
        self.assertLess(res.status_code, 300, res.text)
        return res.json()

    def test_every_change_arrives_once_verified_through_failures(self):
        url = f"http://127.0.0.1:{self.receiver.server_address[1]}/gridwork"
        hook = self.api("POST", "/api/v1/webhooks", "admin", {"name": "城管执法系统", "url": url, "area": "420102"})
        self.receiver.secret = hook["secret"]
        event = self.api("POST", "/api/v1/events", "resident.chen",
                         {"category": "C-03-01", "lat": SPOT[0], "lng": SPOT[1], "description": "井盖缺失"})["id"]
        # Accepted by the street; the demo's workers are on duty, so it is dispatched at once.
        self.api("POST", f"/api/v1/events/{event}/actions", "coordinator", {"action": "accept"})
        timeline = self.api("GET", f"/api/v1/events/{event}", "coordinator")["timeline"]
        changes = {(event, s["seq"]) for s in timeline if s.get("from") != s["to"]}
        self.assertGreaterEqual(len(changes), 3, timeline)
        deadline = time.time() + 60
        while time.time() < deadline:
            with self.receiver.lock:
                got = {(p["data"]["event_id"], p["data"]["seq"]) for p in self.receiver.verified.values()}
            if got >= changes:
                break
            time.sleep(0.2)
        with self.receiver.lock:
            verified = dict(self.receiver.verified)
            requests_seen, forged = self.receiver.requests, self.receiver.forged_refused
        got = [(p["data"]["event_id"], p["data"]["seq"]) for p in verified.values()]
        self.assertEqual(set(got), changes)
        self.assertEqual(len(got), len(set(got)), "one webhook-id per change")
        self.assertGreater(requests_seen, len(changes), "the failures and the stall were retried")
        self.assertEqual(forged, requests_seen, "every altered body was refused")
        first = next(p for p in verified.values() if p["type"] == "event.created")
        self.assertEqual(first["data"]["to"], "reported")
        log = self.api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", "admin")["deliveries"]
        self.assertTrue(all(d["state"] == "delivered" for d in log), log)
        self.assertTrue(any(d["attempts"] > 1 for d in log), log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
