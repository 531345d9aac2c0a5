"""The load-test gate's parts: the locustfile from routes, locust's command line and CSV, the thresholds."""

from __future__ import annotations

import pytest

from ladder.app import load_gate
from ladder.app.load_gate import Limits, LoadFigures
from ladder.core.errors import LoadRefused

# The head of a real locust 2.47 <prefix>_stats.csv, trimmed to two rows.
STATS = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
    "GET,GET /,822,4,2,2.17,0.98,43.9,497.0,825.2,4.0,2,2,2,2,3,3,4,5,44,44,44\n"
    ",Aggregated,822,4,2,2.17,0.98,43.9,497.0,825.2,4.0,2,2,2,2,3,3,4,5,44,44,44\n"
)


@pytest.mark.unit
def test_the_locustfile_asks_each_route_and_sends_a_body_where_the_smoke_suite_does():
    text = load_gate.locustfile([("GET", "/items"), ("POST", "/items")])
    compile(text, "locustfile.py", "exec")
    assert "self.ask('GET', '/items')" in text and "self.ask('POST', '/items', json={'name': 'load test'})" in text
    assert "if 0 < r.status_code < 500:" in text  # a 4xx is an answer, as the smoke suite counts it
    assert "self.client.close()" in text  # a connection per request: uWSGI's http-socket closes after each answer
    with pytest.raises(LoadRefused, match="no route"):
        load_gate.locustfile([])


@pytest.mark.unit
def test_the_command_is_headless_bounded_and_writes_csv():
    argv = load_gate.command("/venv/bin/python", "lf.py", "http://127.0.0.1:8000", Limits(3, 7), "/scratch/load")
    joined = " ".join(argv)
    assert argv[:3] == ["/venv/bin/python", "-m", "locust"] and "--headless" in argv
    assert "-u 3 -r 3 -t 7s" in joined and "--csv /scratch/load" in joined and "--exit-code-on-error 0" in joined


@pytest.mark.unit
def test_the_aggregated_row_is_read_and_a_file_without_one_is_refused():
    figures = load_gate.parse_stats(STATS)
    assert figures == LoadFigures(822, 4, 2.0, 5.0, 825.2) and figures.error_rate == pytest.approx(4 / 822)
    none_finished = STATS.replace(",Aggregated,822,4,2,", ",Aggregated,0,0,N/A,").replace(
        ",5,44,44,44\n", ",N/A,N/A,N/A,N/A\n"
    )
    assert load_gate.parse_stats(none_finished).p99_ms is None
    with pytest.raises(LoadRefused, match="no Aggregated row"):
        load_gate.parse_stats(STATS.splitlines()[0])


@pytest.mark.unit
def test_limits_are_checked_before_anything_runs():
    for bad in ({"users": 0}, {"users": load_gate.MAX_USERS + 1}, {"duration": 0}, {"p99_factor": 0.5},
                {"error_budget": 1.0}):  # fmt: skip
        with pytest.raises(LoadRefused):
            Limits(**bad)


@pytest.mark.unit
def test_p99_and_error_rate_are_held_to_the_release():
    limits = Limits(p99_factor=2.0, p99_slack_ms=50, error_budget=0.01)
    release = {"p99_ms": 40.0, "error_rate": 0.0}
    ok = load_gate.judge(LoadFigures(1000, 5, 10, 120, 100), limits, release, "v0.1.3")
    assert ok.ok and "(release v0.1.3)" in ok.reason  # 120 <= 2 x 40 + 50, 0.5% <= the 1% budget
    slow = load_gate.judge(LoadFigures(1000, 0, 10, 131, 100), limits, release, "v0.1.3")
    assert not slow.ok and slow.reason == "p99 131 ms > 130 ms (2 x 40 + 50) (release v0.1.3)"
    failing = load_gate.judge(LoadFigures(100, 3, 10, 20, 100), limits, release, "v0.1.3")
    assert not failing.ok and failing.reason.startswith("error rate 3.0% > 1.0%")
    # A release that already erred at 5% is the bar, not the budget.
    assert load_gate.judge(LoadFigures(100, 3, 10, 20, 100), limits, {"p99_ms": 40, "error_rate": 0.05}, "v1").ok


@pytest.mark.unit
def test_with_no_release_only_the_error_budget_holds_and_silence_fails():
    limits = Limits()
    assert load_gate.judge(LoadFigures(100, 0, 10, 9000, 10), limits, None, None).ok
    assert "no release measured yet" in load_gate.judge(LoadFigures(100, 0, 10, 9000, 10), limits, None, None).reason
    silent = load_gate.judge(LoadFigures(0, 0, None, None, 0.0), limits, None, None)
    assert not silent.ok and "no request" in silent.reason


@pytest.mark.unit
def test_failures_are_listed_most_frequent_first():
    text = ("Method,Name,Error,Occurrences\nGET,GET /a,ConnectionRefusedError(111),1\n"
            "POST,POST /items,HTTPError('500 Server Error'),3\n")  # fmt: skip
    assert load_gate.parse_failures(text) == [
        "POST /items: HTTPError('500 Server Error') x3", "GET /a: ConnectionRefusedError(111) x1"]  # fmt: skip
