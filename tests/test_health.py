"""ladder.app.health: health checks over real HTTP, from here and from a host."""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ladder.app import health
from ladder.core.hosts import LocalHost
from ladder.sandbox.sshd import free_port


class Handler(BaseHTTPRequestHandler):
    """/health answers 200 with a version; /broken answers 500; after `ready_after` hits /slow turns 200."""

    hits = 0

    def do_GET(self):
        if self.path == "/health":
            self._send(200, {"status": "ok", "version": "abc123"})
        elif self.path == "/slow":
            type(self).hits += 1
            self._send(200 if self.hits >= 3 else 503, {"status": "starting"})
        elif self.path == "/text":
            self._send(200, None, b"plain words")
        else:
            self._send(500, {"error": "boom"})

    def _send(self, code, payload, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Handler.hits = 0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.mark.local
def test_check_ok_reads_the_version(server):
    result = health.check(f"http://127.0.0.1:{server}/health")
    assert result.ok and result.status == 200 and result.version == "abc123"
    assert result.to_dict()["version"] == "abc123"


@pytest.mark.local
def test_check_failures_are_values(server):
    broken = health.check(f"http://127.0.0.1:{server}/broken")
    assert not broken.ok and broken.status == 500 and broken.error == "HTTP 500" and broken.body == {"error": "boom"}
    text = health.check(f"http://127.0.0.1:{server}/text")
    assert text.ok and text.body == {} and text.version is None
    refused = health.check(f"http://127.0.0.1:{free_port()}/health", timeout=2)
    assert not refused.ok and refused.status is None and refused.error


@pytest.mark.local
def test_wait_polls_until_ok(server):
    result = health.wait(f"http://127.0.0.1:{server}/slow", timeout=10, interval=0.01)
    assert result.ok and Handler.hits == 3


@pytest.mark.local
def test_check_on_runs_on_the_host(server, tmp_path):
    host = LocalHost("web1", tmp_path)
    result = health.check_on(host, server, "/health", python=sys.executable, timeout=5)
    assert result.ok and result.host == "web1" and result.version == "abc123"
    assert result.url == f"http://127.0.0.1:{server}/health"


@pytest.mark.local
def test_check_on_waits_for_the_wanted_version(server, tmp_path):
    host = LocalHost("web1", tmp_path)
    wrong = health.check_on(host, server, "/health", python=sys.executable, timeout=0.5, version="other")
    assert not wrong.ok and wrong.status == 200 and "waiting for version other" in wrong.error
    slow = health.check_on(host, server, "/slow", python=sys.executable, timeout=10)
    assert slow.ok and Handler.hits == 3


@pytest.mark.local
def test_check_on_bad_input(tmp_path):
    host = LocalHost("web1", tmp_path)
    with pytest.raises(ValueError, match="must start with '/'"):
        health.check_on(host, 80, "health")
    with pytest.raises(health.HostError, match="could not run with"):
        health.check_on(host, 80, "/health", python=str(tmp_path / "no-python"))


@pytest.mark.unit
def test_parse_probe_of_recorded_output():
    out = '{"status": 200, "body": "{\\"status\\": \\"ok\\", \\"version\\": \\"v1\\"}", "error": ""}\n'
    result = health.parse_probe(out, "http://x/health", "h")
    assert result.ok and result.version == "v1" and result.host == "h"
    assert not health.parse_probe("Traceback ...\n", "http://x/health").ok
