"""The Open311 door through a third-party client: `georeport` (PyPI), the GeoReport v2 wrapper,
reads services, definitions and requests in JSON and XML from a real `gridwork demo`; requests are
filed as the specification's POST example files them (form fields), and followed through the loop
as the ops centre works them.

Usage: test_georeport.py GRIDWORK_BINARY
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import requests
from georeport import GeoReport

GRIDWORK = sys.argv.pop(1)
PASSWORD = "gridwork-demo"
# Inside demo grid 420102003001001 (district 420102, street 420102003).
SPOT = (30.5852, 114.2778)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Open311Door(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.TemporaryDirectory()
        port = free_port()
        cls.base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, GRIDWORK_DATA_DIR=cls.data.name, GRIDWORK_LOG="warn")
        cls.log = open(os.path.join(cls.data.name, "server.log"), "w")
        cls.server = subprocess.Popen([GRIDWORK, "demo", "--listen", f"127.0.0.1:{port}"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=cls.log)
        for _ in range(300):
            try:
                urllib.request.urlopen(cls.base + "/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        cls.admin = cls.token("admin")
        answer = cls.api("POST", "/api/v1/open311/clients", cls.admin, {"name": "georeport test", "area": "420102"})
        cls.key = answer["api_key"]
        cls.json = GeoReport(cls.base + "/open311/v2", jurisdiction="420102", api_key=cls.key)
        cls.xml = GeoReport(cls.base + "/open311/v2", jurisdiction="420102", api_key=cls.key, output_format="xml")

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=30)
        cls.log.close()
        cls.data.cleanup()

    @classmethod
    def token(cls, user):
        return cls.api("POST", "/api/v1/auth/login", None, {"username": user, "password": PASSWORD})["token"]

    @classmethod
    def api(cls, method, path, token, body=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        res = requests.request(method, cls.base + path, json=body, headers=headers, timeout=30)
        assert res.status_code < 300, (method, path, res.status_code, res.text)
        return res.json()

    def file(self, description, fmt="json"):
        """The specification's POST example, with this city's service code and place."""
        res = requests.post(f"{self.base}/open311/v2/requests.{fmt}", data={
            "api_key": self.key, "jurisdiction_id": "420102", "service_code": "C-03-01",
            "lat": SPOT[0], "long": SPOT[1], "address_string": "解放大道 1 号",
            "email": "smit222@sfgov.edu", "device_id": "tt222111", "account_id": "123456",
            "first_name": "john", "last_name": "smith", "phone": "111111111",
            "description": description, "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
        }, timeout=30)
        self.assertEqual(res.status_code, 201, res.text)
        return res

    def test_services_and_definitions_in_both_formats(self):
        services = self.json.get_service_list()
        manhole = next(s for s in services if s["service_code"] == "C-03-01")
        self.assertTrue(manhole["metadata"])
        self.assertEqual(manhole["type"], "realtime")
        xml_services = self.xml.get_service_list()
        self.assertEqual(len(xml_services), len(services))
        self.assertIn("C-03-01", [s["service_code"] for s in xml_services])
        definition = self.json.get_service_definition("C-03-01")
        self.assertEqual(definition["attributes"][0]["code"], "grade")
        xml_definition = self.xml.get_service_definition("C-03-01")
        values = xml_definition["attributes"]["attribute"]["values"]["value"]
        self.assertEqual([v["key"] for v in values], ["general", "significant", "serious", "critical"])

    def test_a_request_is_filed_listed_and_followed(self):
        words = "A large sinkhole is destroying the street " + str(time.time())
        filed = self.file(words).json()[0]
        request_id = filed["service_request_id"]
        self.assertIsNone(filed["account_id"])
        one = self.json.get_service_request(request_id)
        self.assertEqual((one["status"], one["description"], one["service_code"]), ("open", words, "C-03-01"))
        self.assertEqual((float(one["lat"]), float(one["long"])), SPOT)
        listed = self.json.get_service_requests(service_request_id=request_id)
        self.assertEqual([r["service_request_id"] for r in listed], [request_id])
        # The contact data the example sends is not kept, so it cannot leak.
        self.assertNotIn("smit222", json.dumps(listed))
        # The ops centre works the case; the client follows it.
        coordinator = self.token("coordinator")
        event = self.event_of(request_id)
        self.api("POST", f"/api/v1/events/{event}/actions", coordinator, {"action": "reject", "reason": "重复：已派人处理"})
        one = self.xml.get_service_request(request_id)
        self.assertEqual(one["status"], "closed")
        self.assertIn("重复：已派人处理", one["status_notes"])
        closed = self.json.get_service_requests(status="closed", service_code="C-03-01")
        self.assertIn(request_id, [r["service_request_id"] for r in closed])
        # XML filing answers in XML.
        res = self.file("another one", fmt="xml")
        self.assertIn("<service_request_id>", res.text)

    def test_errors_have_the_standards_shape(self):
        res = requests.post(f"{self.base}/open311/v2/requests.json", data={"api_key": "wrong", "service_code": "C-03-01",
                                                                            "lat": SPOT[0], "long": SPOT[1]}, timeout=30)
        self.assertEqual(res.status_code, 403)
        self.assertEqual(res.json()[0]["code"], 403)
        with self.assertRaises(requests.HTTPError):
            self.json.get_service_definition("NOPE")
        res = requests.get(f"{self.base}/open311/v2/requests/nothing.xml", timeout=30)
        self.assertEqual(res.status_code, 404)
        self.assertIn("<errors><error><code>404</code>", res.text)

    def event_of(self, request_id):
        """The Gridwork event behind a request, as the coordinator's desk lists it."""
        coordinator = self.token("coordinator")
        page = self.api("GET", "/api/v1/events?limit=100", coordinator)
        one = self.json.get_service_request(request_id)
        for e in page["events"]:
            if e["description"] == one["description"]:
                return e["id"]
        self.fail("the request is not on the coordinator's desk")


if __name__ == "__main__":
    unittest.main(verbosity=2)
