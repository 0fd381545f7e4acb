"""A grid worker's field day through the generated Python bindings, against a real `gridwork`
server: receive a task, lose the network (the server stops), claim, start, photograph, resolve,
report a new problem, come back online, and check on the server that everything arrived exactly
once and in order.

Usage: test_field_day.py BINDINGS_DIR GRIDWORK_BINARY
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

BINDINGS, GRIDWORK = sys.argv.pop(1), sys.argv.pop(1)
sys.path.insert(0, BINDINGS)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridwork_ffi as core  # noqa: E402
from images import png  # noqa: E402

PASSWORD = "gridwork-demo"
# Inside demo grid 420102003001001, where worker.wang is on duty.
SPOT = (30.5852, 114.2778)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`gridwork demo` on a port, over a data folder that outlives restarts."""

    def __init__(self, data_dir, port):
        self.data_dir, self.port, self.proc = data_dir, port, None
        self.base = f"http://127.0.0.1:{port}"

    def start(self):
        env = dict(os.environ, GRIDWORK_DATA_DIR=self.data_dir, GRIDWORK_LOG="warn")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log = os.path.join(self.data_dir, "server.log")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [GRIDWORK, "demo", "--listen", f"127.0.0.1:{self.port}"],
                env=env, stdout=subprocess.DEVNULL, stderr=log,
            )
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        with open(self.log, encoding="utf-8", errors="replace") as log:
            raise RuntimeError("the server did not become ready: " + log.read()[-2000:])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def call(self, method, path, token=None, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def login(self, username):
        status, body = self.call("POST", "/api/v1/auth/login", body={"username": username, "password": PASSWORD})
        assert status == 200, body
        return body["token"]


class Listener(core.FieldListener):
    def __init__(self):
        self.lock = threading.Lock()
        self.summaries, self.task_changes, self.progress = [], 0, []

    def queue_changed(self, summary):
        with self.lock:
            self.summaries.append((summary.pending, summary.sending, summary.conflicts))

    def tasks_changed(self):
        with self.lock:
            self.task_changes += 1

    def sync_progress(self, received, more):
        with self.lock:
            self.progress.append((received, more))


class FieldDayTest(unittest.TestCase):
    def test_a_field_day_offline_and_back(self):
        asyncio.run(self.with_server(lambda server, tmp: self.day(server, os.path.join(tmp, "phone", "gridwork.sqlite"))))

    async def with_server(self, body):
        with tempfile.TemporaryDirectory() as tmp:
            server = Server(os.path.join(tmp, "server"), free_port())
            server.start()
            try:
                await body(server, tmp)
            finally:
                server.stop()

    def accepted_report(self, server, category, description, key):
        """A resident's report, accepted by the street coordinator: the event after acceptance."""
        chen, coord = server.login("resident.chen"), server.login("coordinator")
        status, event = server.call("POST", "/api/v1/events", chen, {
            "category": category, "lat": SPOT[0], "lng": SPOT[1], "description": description,
        }, {"Idempotency-Key": key})
        self.assertEqual(status, 201, event)
        status, event = server.call("POST", f"/api/v1/events/{event['id']}/actions", coord, {"action": "accept"})
        self.assertEqual(status, 200, event)
        return event

    async def day(self, server, phone_db):
        # A resident reports; the street coordinator accepts; dispatch gives it to worker.wang.
        event = self.accepted_report(server, "C-03-01", "垃圾桶满溢", "py-field-day-1")
        eid = event["id"]
        self.assertEqual(event["state"], "dispatched", event)

        phone = core.FieldClient(server.base, phone_db, 3000)
        listener = Listener()
        phone.set_listener(listener)
        wang_id = await phone.sign_in("worker.wang", PASSWORD)
        self.assertEqual(event["assignees"], [wang_id])
        synced = await phone.sync()
        self.assertEqual(synced.open_tasks, 1)
        self.assertEqual([t.event_id for t in phone.tasks()], [eid])
        self.assertTrue(listener.progress)

        # The network is gone.
        server.stop()
        phone.claim(eid)
        phone.start_work(eid)
        with self.assertRaises(core.GridworkError.Validation) as refused:
            phone.resolve(eid, [], None)
        self.assertEqual(refused.exception.code, "evidence_required")
        phone.resolve(eid, [png(640, 480, tint=1)], core.GeoPoint(lat=SPOT[0], lng=SPOT[1]))
        phone.record_location(core.GeoPoint(lat=SPOT[0], lng=SPOT[1]), 6.0)
        local_id = phone.report(
            "E-01-02", core.GeoPoint(lat=SPOT[0] + 0.001, lng=SPOT[1]), "楼道堆物 py-field-day", "大智路 3 号",
            [png(800, 600, tint=2)],
        )
        task = next(t for t in phone.tasks() if t.event_id == eid)
        self.assertEqual((task.event_state, task.task_state), ("resolved", "resolved"))
        cached = phone.event(eid)
        self.assertEqual((cached.state, cached.assignees, cached.resolved_parts), ("resolved", [wang_id], [wang_id]))
        self.assertEqual(cached.area_chain[0], "420100", cached)
        self.assertIsNone(phone.event("no-such-event"))
        report = phone.event(local_id)
        self.assertEqual((report.state, report.source, report.grade), ("accepted", "grid_worker", "general"))
        self.assertGreaterEqual(task.pending_ops, 4)
        self.assertTrue(any(t.event_id == local_id and t.local_only for t in phone.tasks()))
        offline = await phone.flush()
        self.assertTrue(offline.interrupted)
        self.assertEqual(offline.sent, 0)
        self.assertEqual(phone.summary().pending, 7, [(o.kind, o.state, o.error) for o in phone.queue()])

        # Back online: the queue drains in order, once.
        server.start()
        online = await phone.flush()
        self.assertEqual((online.sent, online.conflicts, online.remaining), (7, 0, 0))
        self.assertEqual(phone.summary().pending, 0)
        coord = server.login("coordinator")
        status, detail = server.call("GET", f"/api/v1/events/{eid}", coord)
        actions = [t["action"] for t in detail["timeline"]]
        self.assertEqual(actions[-3:], ["claim", "start", "resolve"], actions)
        for a in ("claim", "start", "resolve"):
            self.assertEqual(actions.count(a), 1, actions)
        self.assertEqual(len(detail["evidence"]["after"]), 1)
        self.assertTrue(detail["evidence"]["after"][0]["cited"])
        self.assertEqual(detail["evidence"]["after"][0]["flags"], [])
        status, listing = server.call("GET", "/api/v1/events?limit=200", coord)
        mine = [e for e in listing["events"] if e["description"] == "楼道堆物 py-field-day"]
        self.assertEqual(len(mine), 1, listing)
        status, photos = server.call("GET", f"/api/v1/events/{mine[0]['id']}/evidence", coord)
        self.assertEqual(len(photos["before"]), 1, photos)
        self.assertFalse(any(t.event_id == local_id for t in phone.tasks()))
        # Sent again after the answers were in: nothing new on the server.
        self.assertEqual((await phone.flush()).sent, 0)
        with listener.lock:
            self.assertIn((0, 0, 0), listener.summaries)
            self.assertGreater(listener.task_changes, 0)

    def test_the_pool_and_the_verify_queue_offline(self):
        asyncio.run(self.with_server(self.pool_and_verify))

    async def pool_and_verify(self, server, tmp):
        # Illegal small ads: volunteer-eligible, so once accepted they wait in the community pool.
        event = self.accepted_report(server, "E-02-01", "小广告 py-pool", "py-pool-1")
        eid = event["id"]
        self.assertEqual(event["state"], "accepted", event)
        coord = server.login("coordinator")

        # A neighbour signs up from the phone; the street's coordinator approves.
        zhao = core.FieldClient(server.base, os.path.join(tmp, "zhao.sqlite"), 3000)
        with self.assertRaises(core.GridworkError.Validation) as refused:
            await zhao.sign_up("py.zhao", PASSWORD, "赵志愿", "12345", "420102003001", "")
        self.assertEqual((refused.exception.field, refused.exception.code), ("phone", "invalid_phone"))
        signed = await zhao.sign_up("py.zhao", PASSWORD, "赵志愿", "139 0000 5555", "420102003001", "周末有空")
        self.assertEqual(signed.state, "pending")
        zhao_id = await zhao.sign_in("py.zhao", PASSWORD)
        self.assertEqual([a.state for a in await zhao.volunteer_applications()], ["pending"])
        self.assertEqual((await zhao.sync()).pool, 0)
        status, decided = server.call("POST", f"/api/v1/volunteer-applications/{signed.id}/decision", coord,
                                      {"decision": "approve"})
        self.assertEqual((status, decided["state"]), (200, "approved"), decided)
        zhao.record_location(core.GeoPoint(lat=SPOT[0] + 0.001, lng=SPOT[1]), 5.0)
        synced = await zhao.sync()
        self.assertEqual((synced.pool, synced.to_verify), (1, 0))
        server.stop()
        pool = zhao.pool()
        self.assertEqual([t.event_id for t in pool], [eid])
        self.assertTrue(90 < pool[0].distance_m < 130, pool[0])
        zhao.claim(eid)
        self.assertEqual(zhao.pool(), [])
        zhao.start_work(eid)
        zhao.resolve(eid, [png(640, 480, tint=3)], core.GeoPoint(lat=SPOT[0], lng=SPOT[1]))
        server.start()
        sent = await zhao.flush()
        self.assertEqual((sent.conflicts, sent.remaining), (0, 0), [(o.kind, o.error) for o in zhao.queue()])

        # worker.wang checks it from the phone, offline, and sends it back with a photo.
        wang = core.FieldClient(server.base, os.path.join(tmp, "wang.sqlite"), 3000)
        await wang.sign_in("worker.wang", PASSWORD)
        self.assertEqual((await wang.sync()).to_verify, 1)
        server.stop()
        self.assertEqual([t.event_id for t in wang.verify_queue()], [eid])
        with self.assertRaises(core.GridworkError.Validation):
            wang.rework(eid, "", [], None)
        wang.rework(eid, "还有残留", [png(640, 480, tint=4)], core.GeoPoint(lat=SPOT[0], lng=SPOT[1]))
        self.assertEqual(wang.verify_queue(), [])
        server.start()
        sent = await wang.flush()
        self.assertEqual((sent.sent, sent.conflicts, sent.remaining), (2, 0, 0))
        self.assertEqual((await wang.flush()).sent, 0)
        status, detail = server.call("GET", f"/api/v1/events/{eid}", server.login("coordinator"))
        actions = [t["action"] for t in detail["timeline"]]
        self.assertEqual(actions.count("rework"), 1, actions)
        self.assertEqual(detail["state"], "rework")
        self.assertEqual(len(detail["evidence"]["verify"]), 1, detail["evidence"])
        self.assertEqual(detail["assignees"], [zhao_id])

        # Fixed and verified: the volunteer's points arrive.
        self.assertEqual((await zhao.service()).tasks, 0)
        await zhao.sync()
        zhao.start_work(eid)
        zhao.resolve(eid, [png(640, 480, tint=5)], core.GeoPoint(lat=SPOT[0], lng=SPOT[1]))
        self.assertEqual((await zhao.flush()).remaining, 0)
        self.assertEqual((await wang.sync()).to_verify, 1)
        wang.verify(eid, [], None)
        self.assertEqual((await wang.flush()).sent, 1)
        service = await zhao.service()
        self.assertEqual(service.tasks, 1)
        self.assertGreaterEqual(service.points, 10)


if __name__ == "__main__":
    unittest.main()
