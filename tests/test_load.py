"""ladder.app.load: the summary's math, the loopback-only rule, and steady load against a real local server."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from ladder.app import load
from ladder.core.errors import LoadRefused

# A real HTTP server in its own process (so the test can kill -9 it): JSON like the sandbox app's /health.
SERVER = """
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        status = 404 if self.path == "/missing" else 200
        body = json.dumps({"status": "ok", "version": "v7"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "web1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture
def server():
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def sample(offset, latency, status=200, error="", phase="before", version=""):
    return load.Sample(offset, latency, "/", status, error, phase, "", version)


# --- unit: summary math, parsing, refusals ----------------------------------------------------------------------
@pytest.mark.unit
def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert load.percentile(values, 50) == 50.0
    assert load.percentile(values, 99) == 99.0
    assert load.percentile(values, 100) == 100.0
    assert load.percentile([3.0], 99) == 3.0
    assert load.percentile([], 50) is None


@pytest.mark.unit
def test_summary_counts_failures_drops_and_phases():
    marks = ((0.0, "before"), (1.0, "during"), (2.0, "after"))
    samples = (
        sample(0.0, 0.010),
        sample(0.5, 0.020),
        sample(1.0, 0.030, status=502, phase="during"),
        sample(1.2, 5.0, status=None, error="timeout", phase="during"),
        sample(1.4, None, status=None, error="dropped", phase="during"),
        sample(1.6, 0.040, phase="during", version="v2"),
        sample(2.5, 0.050, phase="after", version="v2"),
    )
    s = load.Summary(samples, rate=2.0, window=3.0, marks=marks)
    assert (s.due, s.sent, s.ok, s.failed, s.dropped) == (7, 6, 4, 2, 1)
    assert s.kinds == {"http 502": 1, "timeout": 1, "dropped": 1}
    assert s.achieved_rate == pytest.approx(2.0)
    assert list(s.phases) == ["before", "during", "after"]
    during = s.phases["during"]
    assert (during.sent, during.ok, during.failed, during.dropped) == (3, 1, 2, 1)
    assert during.p50 == 0.040 and during.p99 == 5.0  # the timeout counts as a 5 s answer, not as no answer
    assert s.phases["before"].p99 == 0.020
    assert s.versions() == {"": 2, "v2": 2}
    assert s.versions("after") == {"v2": 1}
    assert len(s.lines()) == 4 and "failed 2, dropped 1" in s.lines()[0]
    frame = s.frame()
    assert list(frame["kind"]) == [x.kind for x in samples]
    assert frame.groupby("phase")["ok"].sum().to_dict() == {"after": 1, "before": 2, "during": 1}


@pytest.mark.unit
def test_phase_at_takes_the_last_mark_at_or_before():
    marks = ((0.0, "before"), (1.0, "during"), (2.0, "after"), (3.0, "during"))
    assert [load.phase_at(marks, t) for t in (0.0, 0.99, 1.0, 2.5, 3.5)] == [
        "before",
        "before",
        "during",
        "after",
        "during",
    ]


@pytest.mark.unit
def test_parse_head_and_identity():
    status, headers = load.parse_head(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n")
    assert status == 503 and headers == {"content-type": "application/json"}
    assert load.identity(headers, b'{"status": "ok", "version": "abc123", "host": "prod2"}') == ("prod2", "abc123")
    assert load.identity({"x-served-by": "prod1", "x-app-version": "v9"}, b"") == ("prod1", "v9")
    assert load.identity(headers, b"not json") == ("", "")
    with pytest.raises(ValueError, match="status line"):
        load.parse_head(b"SSH-2.0-OpenSSH\r\n\r\n")


@pytest.mark.unit
@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/",
        "http://example.com/",
        "http://192.168.1.1:8080/health",
        "https://127.0.0.1/",
        "ftp://localhost/",
        "http://[2001:db8::1]/",
        "http:///health",
        "http://127.0.0.1:99999/",
    ],
)
def test_refuses_anything_off_loopback(url):
    with pytest.raises(LoadRefused, match="url") as err:
        load.steady(url, duration=1)
    assert err.value.field == "url" and err.value.value == url


@pytest.mark.unit
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/health", "http://127.9.9.9/", "http://[::1]:8080/", "http://localhost:8080/x?y=1"]
)
def test_accepts_loopback(url):
    tgt = load.target(url)
    assert tgt.port in (80, 8080) and tgt.paths[0].startswith("/")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rate": 0}, "rate"),
        ({"rate": 10**6}, "rate"),
        ({"duration": -1}, "duration"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"timeout": 0}, "timeout"),
        ({"paths": ["/ok", "no-slash"]}, "path"),
        ({"paths": ["/a\r\nX-Evil: 1"]}, "path"),
        ({"paths": []}, "paths"),
    ],
)
def test_refuses_bad_settings_before_sending(kwargs, field):
    with pytest.raises(LoadRefused) as err:
        load.steady("http://127.0.0.1:9/", **{"duration": 1, **kwargs})
    assert err.value.field == field


# --- local: a real server ---------------------------------------------------------------------------------------
@pytest.mark.local
def test_steady_rate_is_achieved_and_answers_are_read(server):
    _, url = server
    with load.steady(url + "/health", rate=50, duration=2) as run:
        pass
    s = run.result()
    assert s.due == 100
    assert 0.7 < s.achieved_rate / 50 < 1.3
    assert s.failed == 0 and s.dropped == 0 and s.ok == 100
    assert s.versions() == {"v7": 100}
    assert {x.served_by for x in s.samples} == {"web1"}
    assert all(x.latency is not None and x.latency > 0 for x in s.samples)


@pytest.mark.local
def test_paths_are_sent_in_turn_and_non_2xx_fails(server):
    _, url = server
    with load.steady(url, rate=40, duration=1, paths=["/health", "/missing"]) as run:
        pass
    s = run.result()
    assert s.kinds == {"http 404": 20}
    assert s.ok == 20 and {x.path for x in s.samples if x.ok} == {"/health"}


@pytest.mark.local
def test_a_server_killed_mid_run_shows_as_failures_in_its_phase(server):
    proc, url = server
    with load.steady(url + "/health", rate=50, duration=3, timeout=2) as run:
        while run.now() < 1:
            time.sleep(0.05)
        killed_at = run.mark("during")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        while run.now() < 2:
            time.sleep(0.05)
        run.mark("after")
    s = run.result()
    phases = s.phases
    assert list(phases) == ["before", "during", "after"]
    assert sum(p.sent + p.dropped for p in phases.values()) == s.due == 150
    assert phases["before"].ok > 0
    # A request due before the kill fails only if it was still in flight then (a busy machine makes some slow).
    failed_before = [x for x in s.samples if x.phase == "before" and not x.ok]
    assert all(x.offset + x.latency >= killed_at for x in failed_before)
    assert phases["after"].ok == 0 and phases["after"].failed == phases["after"].sent > 0
    assert s.kinds.get("refused", 0) > 0


@pytest.mark.local
def test_stop_ends_a_run_early_and_the_cap_drops_instead_of_queueing():
    # A listener that never answers: every request waits for its timeout, so the cap of 2 fills at once.
    import socket

    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(64)
        port = mute.getsockname()[1]
        with load.steady(f"http://127.0.0.1:{port}/", rate=50, duration=60, concurrency=2, timeout=0.5) as run:
            while run.now() < 1:
                time.sleep(0.05)
            run.stop()
        s = run.result()
    assert s.due < 50 * 60 / 2
    assert s.kinds.get("timeout", 0) >= 2
    assert s.dropped > s.sent
