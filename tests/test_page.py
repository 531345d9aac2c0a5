"""ladder.app.page: a page of the app fetched over real HTTP on its host, whatever its status."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ladder.app import page
from ladder.core.hosts import LocalHost
from ladder.sandbox.sshd import free_port


@pytest.mark.unit
def test_parse_fetch_of_recorded_output():
    got = page.parse_fetch('{"status": 404, "body": "{\\"error\\": \\"no item 0\\"}", "error": ""}\n', "u", "dev")
    assert (got.status, got.body, got.answered, got.host) == (404, '{"error": "no item 0"}', True, "dev")
    silent = page.parse_fetch("Traceback ...", "u")
    assert silent.status is None and not silent.answered and "no answer from the fetch script" in silent.error


@pytest.mark.unit
def test_excerpt_is_the_line_that_holds_what_is_looked_for():
    p = page.Page("u", 200, "<html>\n  <h1>Items</h1>\n<p>Status</p>\n")
    assert p.excerpt("kept by", "<h1>") == "<h1>Items</h1>"
    assert p.excerpt("nowhere") == "<html>"
    assert page.Page("u", 200, "x" * 300).excerpt(width=10) == "x" * 9 + "…"
    assert page.Page("u", None).excerpt("x") == ""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real HTTP server on loopback serving one folder."""
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text("<h1>Hello</h1>\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield LocalHost("web", root), port
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.local
def test_fetch_on_gets_a_page_and_an_error_page_alike(server):
    host, port = server
    home = page.fetch_on(host, port, "/", python=sys.executable)
    assert home.status == 200 and "<h1>Hello</h1>" in home.body and home.url == f"http://127.0.0.1:{port}/"
    missing = page.fetch_on(host, port, "/missing", python=sys.executable)
    assert missing.status == 404 and missing.answered and not missing.error


@pytest.mark.local
def test_fetch_on_waits_for_the_wanted_text_then_says_it_never_came(server):
    host, port = server
    assert page.fetch_on(host, port, "/", python=sys.executable, want="Hello").error == ""
    late = page.fetch_on(host, port, "/", python=sys.executable, want="Goodbye", timeout=1)
    assert late.status == 200 and late.error == "the page does not show 'Goodbye' yet"


@pytest.mark.local
def test_fetch_on_a_port_nobody_listens_on(tmp_path):
    gone = page.fetch_on(LocalHost("web", tmp_path), free_port(), "/", python=sys.executable, timeout=1)
    assert gone.status is None and not gone.answered and gone.error


@pytest.mark.unit
def test_a_path_must_start_with_a_slash(tmp_path):
    with pytest.raises(ValueError, match="must start with '/'"):
        page.fetch_on(LocalHost("web", tmp_path), 80, "health")
