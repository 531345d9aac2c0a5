"""Deploy under load: failed requests and latency through HAProxy while every prod host restarts, naive vs drained.

Brings up an --ssh sandbox (3 prod hosts, uWSGI under supervisord as the story's team serves it, HAProxy in
front), sends steady open-loop load (ladder.app.load) at a fixed rate to HAProxy's frontend, and meanwhile,
host after host:
  naive (the baseline): the app server restarted by its manager (`supervisorctl restart`) with no drain, as
    teams do by hand;
  rolling: the host drained in HAProxy, its in-flight requests waited for, the same restart, its health
    checked, then made ready again and waited for until HAProxy routes to it (rolling_deploy below);
  rolling-reload: the same drained roll around the gentlest reload app.reload knows (uWSGI: chain reload).
naive and rolling do the same restart, so their difference is the drain. Prints failed requests, p50/p99 per
phase, each host's time out of rotation, switch time and failures while it deployed, and ratios to the naive
baseline, all measured in one run. --seconds caps the load; the run stops it SETTLE seconds after the last
deploy, since deploy times vary with how busy the machine is (the phases are compared, not the totals).
Run: .venv/bin/python bench/deploy_load.py [--rate 100] [--seconds 300]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ladder import sandbox
from ladder.app import balancer, load, reload
from ladder.app.server import AppServer, get_server
from ladder.core.config import load_config
from ladder.core.hosts import Host, connect

PATHS = ("/health", "/", "/items")  # the app's own routes, in turn
SETTLE = 5.0  # seconds of load before, between and after the deploys
SERVING_TIMEOUT = 30.0  # seconds HAProxy may take to route to a host again (its checks: rise 2, 1 s apart)
Switch = Callable[["Prod", AppServer], None]  # what a deploy does to one host between drain and ready


@dataclass(frozen=True)
class Prod:
    """One prod host: its HAProxy server name, its connection and its app's port."""

    name: str
    host: Host
    port: int


@dataclass(frozen=True)
class HostTiming:
    """One host's deploy: its window in the load run, seconds out of rotation (None: never) and seconds to switch."""

    name: str
    start: float  # offsets in the load run
    end: float
    out_of_rotation: float | None
    switch: float
    back_in: float | None = None  # seconds from `ready` until HAProxy routed to it (its health checks' rise)

    def failed(self, summary: load.Summary) -> int:
        """Requests due within this host's deploy that failed."""
        return sum(not s.ok and s.error != "dropped" for s in summary.samples if self.start <= s.offset < self.end)


def restart(p: Prod, server: AppServer) -> None:
    """The naive and rolling switch: the manager restarts the app server, then new workers answer /health."""
    reload.restart(p.host, server, dry_run=False)


def gentle_reload(p: Prod, server: AppServer) -> None:
    """The rolling-reload switch: the gentlest reload the server allows (uWSGI: chain reload), then /health."""
    reload.reload(p.host, server, dry_run=False)


def naive_deploy(run: load.Run, prods: Sequence[Prod], switch: Switch = restart) -> list[HostTiming]:
    """The baseline: switch each host in turn while HAProxy keeps sending it requests."""
    timings = []
    for p in prods:
        server = get_server(p.host, p.port)  # detected before the clock starts: the switch is what is timed
        start = run.now()
        switch(p, server)
        end = run.now()
        timings.append(HostTiming(p.name, start, end, None, end - start))
    return timings


def rolling_deploy(
    run: load.Run,
    lb_host: Host,
    lb: balancer.Balancer,
    prods: Sequence[Prod],
    switch: Switch = restart,
) -> list[HostTiming]:
    """Drain -> wait idle -> switch (reload, health) -> ready -> routed again, one host at a time.

    Rung 4's rolling deploy plugs in here: a `switch` calling app.switch.switch (rename `current`, reload, check
    the version over HTTP) once the hosts hold installed releases; until then the switch is a restart or reload.
    """
    timings = []
    for p in prods:
        server = get_server(p.host, p.port)  # a fact, read before the host leaves rotation
        out = run.now()
        balancer.drain(lb_host, lb, p.name, dry_run=False)
        balancer.wait_idle(lb_host, lb, p.name, timeout=30, dry_run=False)
        started = run.now()
        switch(p, server)
        switched = run.now() - started
        balancer.ready(lb_host, lb, p.name, dry_run=False)
        enabled = run.now()
        balancer.wait_serving(lb_host, lb, p.name, SERVING_TIMEOUT)
        back = run.now()
        timings.append(HostTiming(p.name, out, back, back - out, switched, back - enabled))
    return timings


def until(run: load.Run, offset: float) -> None:
    """Sleep until the load run is `offset` seconds old."""
    time.sleep(max(0.0, offset - run.now()))


def ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.1f} ms"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "-"
    return f"{a / b:.2f}x" if b else ("0 of 0" if not a else "inf")


def bench(folder: Path, rate: float, seconds: float) -> None:
    box = sandbox.up(folder, ssh=True, hosts=3, balancer=True, server="uwsgi", manager="supervisor")
    try:
        cfg = load_config(box.config_path)
        if cfg.balancer is None:
            raise SystemExit("the sandbox has no balancer: section in its ladder.yml")
        lb_host, lb = balancer.from_config(cfg)
        names = [s.name for s in balancer.servers(lb_host, lb)]
        prods = [Prod(n, connect(cfg.host_config(n), cfg.ssh), cfg.app_port(cfg.host_config(n))) for n in names]
        url = f"http://127.0.0.1:{cfg.balancer.port}/"
        print(
            f"load: {rate:g} req/s for at most {seconds:g} s to HAProxy {url} over {', '.join(PATHS)}; prod: {', '.join(names)}"
        )
        deploys: list[tuple[str, Callable[[load.Run], list[HostTiming]]]] = [
            ("naive", lambda run: naive_deploy(run, prods)),
            ("rolling", lambda run: rolling_deploy(run, lb_host, lb, prods)),
            ("rolling-reload", lambda run: rolling_deploy(run, lb_host, lb, prods, gentle_reload)),
        ]
        timings: dict[str, list[HostTiming]] = {}
        with load.steady(url, rate=rate, duration=seconds, paths=PATHS) as run:
            until(run, SETTLE)
            for label, deploy in deploys:
                run.mark(label)
                timings[label] = deploy(run)
                run.mark(f"after {label}")
                for name in names:
                    balancer.wait_serving(lb_host, lb, name, SERVING_TIMEOUT)
                until(run, run.now() + SETTLE)
            late = run.now() > seconds
            run.stop()
        summary = run.result()
        for p in prods:
            p.host.close()
        lb_host.close()
    finally:
        sandbox.down(box.dir)
    for line in summary.lines():
        print(line)
    for label, hosts in timings.items():
        for t in hosts:
            print(
                f"{label:<14} {t.name:<6} out of rotation {ms(t.out_of_rotation):>10}  switch {ms(t.switch):>10}  "
                f"ready->routed {ms(t.back_in):>9}  failed while it deployed {t.failed(summary)}"
            )
    phases = summary.phases
    base = phases["naive"]
    for label in ("rolling", "rolling-reload"):
        r = phases[label]
        print(
            f"{label}/naive: failed {r.failed}/{base.failed} ({ratio(r.failed, base.failed)}), "
            f"p50 {ratio(r.p50, base.p50)}, p99 {ratio(r.p99, base.p99)}; "
            f"p99 {label}/before {ratio(r.p99, phases['before'].p99)}"
        )
    if late:
        print("warning: the load ended before the last deploy's settling time; raise --seconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second (open loop)")
    parser.add_argument("--seconds", type=float, default=300.0, help="the most seconds the load runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ladder-deploy-load-") as tmp:
        bench(Path(tmp) / "sb", args.rate, args.seconds)


if __name__ == "__main__":
    main()
