"""ladder.app.prometheus: the scrape config, API answers parsed from recorded JSON, and a real Prometheus in the sandbox."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import require_sshd

from ladder import sandbox
from ladder.app import prometheus as p
from ladder.app.layout import layout_of
from ladder.core.config import load_config
from ladder.core.errors import PrometheusError
from ladder.core.hosts import LocalHost, connect

RECORDED = Path(__file__).parent / "prometheus"
JOBS = [
    p.ScrapeJob(
        "app",
        (p.Target("127.0.0.1:8001", {"host": "prod1", "env": "prod"}), p.Target("127.0.0.1:8002", {"host": "prod2"})),
    ),
    p.ScrapeJob("haproxy", (p.Target("127.0.0.1:8404", {"host": "lb"}),)),
]


def recorded(name: str) -> str:
    return (RECORDED / name).read_text()


# --- unit: the scrape config -------------------------------------------------------------------------------------
@pytest.mark.unit
def test_render_lists_every_target_with_its_labels_and_the_intervals():
    config = yaml.safe_load(p.render(JOBS, scrape_interval="1s", rule_files=["rules/*.yml"]))
    assert config["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    assert config["rule_files"] == ["rules/*.yml"]
    app, lb = config["scrape_configs"]
    assert (app["job_name"], app["metrics_path"], lb["job_name"]) == ("app", "/metrics", "haproxy")
    assert app["static_configs"] == [
        {"targets": ["127.0.0.1:8001"], "labels": {"host": "prod1", "env": "prod"}},
        {"targets": ["127.0.0.1:8002"], "labels": {"host": "prod2"}},
    ]
    assert "rule_files" not in yaml.safe_load(p.render(JOBS))


@pytest.mark.unit
@pytest.mark.parametrize(
    "jobs, kwargs, words",
    [
        (JOBS, {"scrape_interval": "1 second"}, "scrape_interval '1 second' is not a Prometheus duration"),
        ([JOBS[0], JOBS[0]], {}, "job name 'app' must be unique"),
        ([p.ScrapeJob("app", ())], {}, "needs at least one target"),
        ([p.ScrapeJob("app", (p.Target("prod1"),))], {}, "target 'prod1' is not host:port"),
        ([p.ScrapeJob("app", (p.Target("h:1", {"__name__": "x"}),))], {}, "label names ['__name__']"),
    ],
)
def test_render_refuses_what_prometheus_would_misread(jobs, kwargs, words):
    with pytest.raises(PrometheusError) as err:
        p.render(jobs, **kwargs)
    assert words in str(err.value)


# --- unit: the canary's PromQL and the API's answers, recorded from Prometheus 2.42 -------------------------------
@pytest.mark.unit
def test_success_rate_and_p99_queries_leave_out_operational_handlers_and_group_by_host():
    rate = p.success_rate_query("30s", host="prod2")
    assert rate.count('handler!~"health|metrics"') == 3 and rate.count('host="prod2"') == 3
    assert 'status!~"5.."' in rate and rate.count("sum by (host)") == 3 and "[30s]" in rate
    p99 = p.latency_query("1m")
    assert p99.startswith("histogram_quantile(0.99, sum by (host, le) (rate(app_request_duration_seconds_bucket{")
    assert 'host="a\\"b"' in p.latency_query("1m", host='a"b')  # a label value is a PromQL string, escaped
    with pytest.raises(PrometheusError, match="window '5 minutes' is not a Prometheus duration"):
        p.success_rate_query("5 minutes")
    with pytest.raises(PrometheusError, match="quantile 99 must lie between 0 and 1"):
        p.latency_query("1m", quantile=99)


@pytest.mark.unit
def test_instant_answers_parse_to_samples_per_host():
    samples = p.parse_vector(p.parse_envelope(recorded("success_rate.json")))
    assert p.by_host(samples) == {"prod1": 1.0, "prod2": 0.0}
    assert all(s.time > 0 for s in samples)
    p99 = p.by_host(p.parse_vector(p.parse_envelope(recorded("p99.json"))))
    assert set(p99) == {"prod1", "prod2"} and all(0 < v < 1 for v in p99.values())
    (scalar,) = p.parse_vector(p.parse_envelope(recorded("scalar.json")))
    assert (scalar.labels, scalar.value) == ({}, 0.5)
    nan = p.Sample({"host": "idle"}, 1.0, float("nan"))
    assert p.by_host([nan]) == {}  # no user request in the window: no number, rather than a made-up one


@pytest.mark.unit
def test_range_answers_parse_to_series_of_points():
    series = p.parse_matrix(p.parse_envelope(recorded("range.json")))
    assert {s.labels["host"] for s in series} == {"prod1", "prod2", "staging"}
    for s in series:
        times = [t for t, _ in s.points]
        assert len(times) >= 2 and times == sorted(times)
        assert all(v >= 0 for _, v in s.points)


@pytest.mark.unit
def test_errors_carry_the_query_and_prometheus_words():
    with pytest.raises(PrometheusError) as err:
        p.parse_envelope(recorded("bad_query.json"), url="http://mon:9090", query="sum(rate(x[")
    assert err.value.error_type == "bad_data" and err.value.query == "sum(rate(x["
    assert str(err.value).startswith("Prometheus at http://mon:9090 (query 'sum(rate(x['): invalid parameter")
    assert "parse error" in str(err.value)
    with pytest.raises(PrometheusError, match="instant query gave a matrix.*use query_range"):
        p.parse_vector(p.parse_envelope(recorded("range_vector.json")))
    with pytest.raises(PrometheusError, match="answered with something other than JSON"):
        p.parse_envelope("<html>502</html>")


# --- local: promtool, and an API that is not there or does not answer --------------------------------------------
@pytest.mark.local
def test_promtool_accepts_the_rendered_config_and_refuses_a_broken_one(tmp_path):
    host = LocalHost("mon", tmp_path)
    host.write_text(host.path("ok.yml"), p.render(JOBS, scrape_interval="1s"))
    p.check_config(host, host.path("ok.yml"))
    host.write_text(host.path("bad.yml"), "scrape_configs:\n  - job_name: app\n    scrape_interval: soon\n")
    with pytest.raises(
        PrometheusError,
        match='(?s)bad.yml on mon is not a valid Prometheus config:\n.*not a valid duration string: "soon"',
    ):
        p.check_config(host, host.path("bad.yml"))


@pytest.mark.local
def test_an_unreachable_or_silent_prometheus_is_an_error_naming_it():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    gone = p.Prometheus(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(PrometheusError, match=r"cannot reach it .*monitoring.url in ladder.yml") as err:
        p.query(gone, "up")
    assert err.value.query == "up"
    assert p.ready(gone) is False
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        prom = p.Prometheus(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        with pytest.raises(PrometheusError, match=r"no answer within 0.5s"):
            p.query(prom, "up")


# --- ssh: a real Prometheus on the sandbox's mon host, scraping uWSGI prod hosts and HAProxy ----------------------
@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    """An SSH sandbox, as the CLI builds it: two uWSGI prod hosts under supervisor, staging, HAProxy and Prometheus."""
    require_sshd()
    folder = tmp_path_factory.mktemp("mon") / "sandbox"
    box = sandbox.up(folder, ssh=True, hosts=2, server="uwsgi", manager="supervisor", balancer=True, monitoring=True)
    cfg = load_config(box.config_path)
    yield cfg, p.Prometheus(cfg.monitoring.url)
    sandbox.down(box.dir)


def send(port: int, count: int, path: str = "/items") -> dict[int, int]:
    """Requests through the load balancer: {status: count}."""
    seen: dict[int, int] = {}
    for _ in range(count):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        seen[status] = seen.get(status, 0) + 1
    return seen


def until(check, what: str, timeout: float = 60):
    """Poll check() until it returns something true; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.5)


@pytest.mark.ssh
def test_prometheus_scrapes_every_app_host_and_haproxy_up(watched):
    cfg, prom = watched
    up = {(s.labels["job"], s.labels["host"], s.labels.get("env")): s.value for s in p.query(prom, "up")}
    assert up == {
        ("app", "prod1", "prod"): 1.0,
        ("app", "prod2", "prod"): 1.0,
        ("app", "staging", "staging"): 1.0,
        ("haproxy", "lb", None): 1.0,
        **{("node", name, None): 1.0 for name in ("dev", "prod1", "prod2", "staging", "lb", "mon")},
    }
    assert p.query(prom, 'haproxy_backend_active_servers{proxy="app"}')[0].value == 2


@pytest.mark.ssh
def test_after_real_requests_success_rate_and_p99_come_per_host(watched):
    cfg, prom = watched
    assert send(cfg.balancer.port, 40) == {200: 40}

    def numbers():
        send(cfg.balancer.port, 10)
        rates, p99 = p.success_rate(prom, "30s"), p.p99_seconds(prom, "30s")
        return (rates, p99) if {"prod1", "prod2"} <= rates.keys() & p99.keys() else None

    rates, p99 = until(numbers, "success rate and p99 for both prod hosts")
    assert rates["prod1"] == rates["prod2"] == 1.0
    assert all(v > 0 for v in p99.values())
    (series,) = p.query_range(
        prom, p.success_rate_query("30s", host="prod1"), start=time.time() - 10, end=time.time(), step=1
    )
    assert series.labels == {"host": "prod1"} and all(v == 1.0 for _, v in series.points)


@pytest.mark.ssh
def test_the_fault_file_on_one_host_drops_its_success_rate_alone(watched):
    cfg, prom = watched
    prod2 = connect(cfg.host_config("prod2"), cfg.ssh)
    fault = f"{layout_of(prod2).app}/FAULT"
    prod2.write_text(fault, "error /items\n")
    try:

        def dropped():
            send(cfg.balancer.port, 20)
            rates = p.success_rate(prom, "15s")
            return rates if rates.get("prod2", 1.0) < 0.99 and "prod1" in rates else None

        rates = until(dropped, "prod2's success rate dropping below 99%")
        assert rates["prod1"] == 1.0
        assert p.success_rate(prom, "15s", host="prod2").keys() == {"prod2"}
    finally:
        prod2.run(f"rm -f {fault}")
        prod2.close()
