"""ladder.core.fleet: parallel, bounded, one hung host can't block the rest, one aggregate error."""

import threading
import time

import pytest

from ladder.core.errors import DeadlineExceeded, FleetError, UnexpectedExit, UnreachableHost
from ladder.core.fleet import answers, run_all
from ladder.core.hosts import LocalHost, SSHHost
from ladder.sandbox.sshd import free_port

pytestmark = pytest.mark.local


def hosts(tmp_path, n):
    return [LocalHost(f"h{i}", tmp_path) for i in range(n)]


def test_results_per_host_in_order(tmp_path):
    out = run_all(hosts(tmp_path, 5), lambda h: h.run(f"echo {h.name}").stdout.strip())
    assert out == {f"h{i}": f"h{i}" for i in range(5)}


def test_one_aggregate_error_names_exactly_the_failed_hosts(tmp_path):
    def op(h):
        return h.run("exit 1" if h.name in ("h2", "h4") else "true")

    with pytest.raises(FleetError) as err:
        run_all(hosts(tmp_path, 6), op)
    assert set(err.value.failed) == {"h2", "h4"}
    assert all(isinstance(err.value.failed[n], UnexpectedExit) for n in ("h2", "h4"))
    assert err.value.results["h0"].ok, "the other hosts' results are kept"
    assert "h2" in str(err.value) and "h4" in str(err.value) and "h1:" not in str(err.value)


def test_pool_is_bounded(tmp_path):
    live, peak, lock = [0], [0], threading.Lock()

    def op(h):
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.05)
        with lock:
            live[0] -= 1

    run_all(hosts(tmp_path, 12), op, workers=3)
    assert peak[0] == 3


def test_a_hung_host_hits_its_deadline_and_the_rest_finish(tmp_path):
    release = threading.Event()

    def op(h):
        if h.name == "h0":
            release.wait(30)
        return h.name

    try:
        out = run_all(hosts(tmp_path, 4), op, deadline=0.5, raise_on_error=False)
    finally:
        release.set()
    assert isinstance(out["h0"], DeadlineExceeded)
    assert [out[f"h{i}"] for i in (1, 2, 3)] == ["h1", "h2", "h3"]


def test_duplicate_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        run_all([LocalHost("same", tmp_path), LocalHost("same", tmp_path)], lambda h: None)


def test_answers_says_which_hosts_answer_and_why_the_others_dont(tmp_path):
    closed = SSHHost("gone", "127.0.0.1", "/srv", port=free_port(), known_hosts=tmp_path / "kh", connect_timeout=5)
    out = answers([LocalHost("here", tmp_path), closed], timeout=10)
    assert out["here"].ok and out["here"].stdout.strip() and isinstance(out["gone"], UnreachableHost)
