"""The sandbox's monitoring host: a real Prometheus on `mon`, scraping the app hosts, the balancer and node exporters."""

from __future__ import annotations

import shlex
import shutil
import time

from ..app import prometheus
from ..core.errors import LadderError
from ..core.hosts import Host

q = shlex.quote
MON = "mon"
SCRAPE_INTERVAL = "1s"  # short, so that a test or a canary step sees new requests within seconds
START_TIMEOUT = 60
UP_TIMEOUT = 180  # every target's first good scrape: slow when the machine is loaded (CI's two workers)
RETENTION = "2d"
NODE_EXPORTER = "prometheus-node-exporter"  # Debian's name for node_exporter


def require() -> None:
    """Refuse, before anything is built, when Prometheus, promtool or the node exporter is missing on this machine."""
    missing = [tool for tool in ("prometheus", "promtool", NODE_EXPORTER) if shutil.which(tool) is None]
    if missing:
        raise LadderError(
            f"the sandbox's monitoring needs {' and '.join(missing)}; install with: "
            "apt-get install prometheus prometheus-node-exporter (or pass --no-monitoring)"
        )


def url(mon: dict) -> str:
    """The URL of Prometheus' HTTP API on the monitoring host entry (it listens on the entry's free port)."""
    return f"http://127.0.0.1:{mon['app_port']}"


def section(mon: dict) -> dict:
    """ladder.yml's monitoring: section for the monitoring host entry."""
    return {"host": {k: v for k, v in mon.items() if k not in ("app_port", "python")}, "url": url(mon)}


def jobs(apps: dict[str, list[dict]], lb: dict | None = None, lb_metrics_port: int | None = None) -> list:
    """Scrape jobs: `app` for every app host (labelled host and env), `haproxy` for the balancer's exporter."""
    found = [
        prometheus.ScrapeJob(
            "app",
            tuple(
                prometheus.Target(f"127.0.0.1:{e['app_port']}", {"host": e["name"], "env": env})
                for env, entries in apps.items()
                for e in entries
            ),
        )
    ]
    if lb is not None and lb_metrics_port is not None:
        target = prometheus.Target(f"127.0.0.1:{lb_metrics_port}", {"host": lb["name"]})
        found.append(prometheus.ScrapeJob("haproxy", (target,)))
    return found


def start_command(config: str, data: str, log: str, pid_file: str, port: int) -> str:
    """Prometheus in the background, detached from the session, writing its pid file (no systemd needed).

    The config's path names the sandbox folder on the command line, so `down` finds it by its pid file.
    """
    argv = [
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address=127.0.0.1:{int(port)}",
        "--web.enable-lifecycle",
    ]
    return f"setsid {' '.join(q(a) for a in argv)} </dev/null >>{q(log)} 2>&1 & echo $! > {q(pid_file)}"


def node_exporter_command(host: Host, port: int) -> str:
    """prometheus-node-exporter on loopback, detached, writing its pid file in the host's folder for `down`.

    Only the filesystem collector (what the disk alert reads) and the textfile one run: a light process per host.
    Its textfile folder names the sandbox folder on the command line, so `down` finds it by its pid file.
    """
    argv = [
        NODE_EXPORTER,
        f"--web.listen-address=127.0.0.1:{int(port)}",
        "--collector.disable-defaults",
        "--collector.filesystem",
        "--collector.textfile",
        f"--collector.textfile.directory={host.path('node-exporter')}",
    ]
    log, pid_file = host.path("node-exporter.log"), host.path("node-exporter.pid")
    return f"setsid {' '.join(q(a) for a in argv)} </dev/null >>{q(log)} 2>&1 & echo $! > {q(pid_file)}"


def start_node_exporter(host: Host, port: int) -> prometheus.Target:
    """Start the host's node exporter on port; the scrape target for it, labelled with the host's name."""
    host.run(f"mkdir -p {q(host.path('node-exporter'))}", timeout=10)
    host.run(node_exporter_command(host, port), timeout=30)
    return prometheus.Target(f"127.0.0.1:{int(port)}", {"host": host.name})


def node_job(targets: list[prometheus.Target]) -> prometheus.ScrapeJob:
    """The `node` scrape job: every host's node exporter (disk space for the alerts)."""
    return prometheus.ScrapeJob("node", tuple(targets))


def start(host: Host, mon: dict, scrape: list) -> prometheus.Prometheus:
    """Write prometheus.yml on the monitoring host, check it with promtool, start Prometheus and wait until ready."""
    config = host.path("prometheus.yml")
    host.write_text(config, prometheus.render(scrape, scrape_interval=SCRAPE_INTERVAL))
    prometheus.check_config(host, config)
    host.run(
        start_command(
            config, host.path("data"), host.path("prometheus.log"), host.path("prometheus.pid"), mon["app_port"]
        ),
        timeout=30,
    )
    prom = prometheus.Prometheus(url(mon))
    deadline = time.monotonic() + START_TIMEOUT
    while not prometheus.ready(prom):
        if time.monotonic() > deadline:
            raise LadderError(
                f"Prometheus on {host.name} was not ready within {START_TIMEOUT}s; see {config} and its log"
            )
        time.sleep(0.2)
    return prom


def wait_up(prom: prometheus.Prometheus, targets: int, timeout: float = UP_TIMEOUT) -> None:
    """Wait until Prometheus has scraped `targets` targets successfully (their `up` is 1); name the others if not."""
    deadline = time.monotonic() + timeout
    samples: tuple[prometheus.Sample, ...] = ()
    while time.monotonic() < deadline:
        samples = prometheus.query(prom, "up")
        if sum(s.value == 1 for s in samples) >= targets:
            return
        time.sleep(0.2)
    up = sum(s.value == 1 for s in samples)
    down = ", ".join(f"{s.labels.get('job')} {s.labels.get('instance')}" for s in samples if s.value != 1)
    raise LadderError(
        f"Prometheus at {prom.url} scraped {up} of {targets} targets UP within {timeout:g}s; "
        f"down: {down or 'none seen yet'} (see /targets for each one's last error)"
    )
