"""Prometheus alert rules for the app: error rate, p99 latency, an instance down, disk space; rendered and installed."""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import yaml

from ..core import facts, ops
from ..core.errors import PrometheusError
from ..core.hosts import Host
from . import prometheus

q = shlex.quote
GROUP = "ladder"  # the rule group Ladder writes; other groups in the file's folder are left alone
RULES_FILE = "rules/ladder-alerts.yml"  # next to prometheus.yml, which names it in rule_files
SEVERITY = "page"
# Filesystems that are not disks: leaving them out keeps a full tmpfs from paging.
NOT_DISKS = "tmpfs|ramfs|devtmpfs|squashfs|overlay|nsfs|fuse.*"
Check = Callable[[Host, str], None]  # a promtool check of a file on a host
ERROR_RATE, LATENCY, DOWN, DISK = "ErrorRateHigh", "LatencyP99High", "InstanceDown", "DiskSpaceLow"


@dataclass(frozen=True)
class Thresholds:
    """When the alerts fire: the rate window, how long a breach must last (for), how often rules are evaluated."""

    window: str = "5m"
    for_: str = "5m"
    evaluation_interval: str = "30s"
    error_rate: float = 0.05  # share of user requests answered 5xx
    p99_seconds: float = 0.5
    disk_free: float = 0.10  # share of a filesystem still free


# Real hosts get the defaults; the sandbox's Prometheus scrapes every second, so its alerts can fire in seconds.
SANDBOX = Thresholds(window="20s", for_="3s", evaluation_interval="1s")


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule: its name, the series it watches, the comparison that fires it, and how long it must hold."""

    name: str
    series: str  # PromQL whose values are charted against the threshold
    op: str
    threshold: float
    for_: str
    summary: str

    @property
    def expr(self) -> str:
        """The rule's PromQL: the series compared with the threshold (a sample left means the alert is on)."""
        return f"{self.series} {self.op} {self.threshold:g}"


def validate(t: Thresholds) -> None:
    """PrometheusError naming the parameter when a threshold is out of range or a duration is not one."""
    for name, value in (("window", t.window), ("for", t.for_), ("evaluation_interval", t.evaluation_interval)):
        if not prometheus.is_duration(value):
            raise PrometheusError(f"alert parameter {name} {value!r} is not a Prometheus duration like 30s or 5m")
    for name, share in (("error_rate", t.error_rate), ("disk_free", t.disk_free)):
        if not 0 < share < 1:
            raise PrometheusError(f"alert parameter {name} {share} must lie between 0 and 1 (a share, not a percent)")
    if t.p99_seconds <= 0:
        raise PrometheusError(f"alert parameter p99_seconds {t.p99_seconds} must be above 0")


def rules(t: Thresholds = Thresholds()) -> tuple[AlertRule, ...]:
    """The four alerts: error rate and p99 latency per app host, any scrape target down, a filesystem nearly full."""
    validate(t)
    disk = f'fstype!~"{NOT_DISKS}"'
    return (
        AlertRule(
            ERROR_RATE,
            f"1 - ({prometheus.success_rate_query(t.window)})",
            ">",
            t.error_rate,
            t.for_,
            "{{ $labels.host }} answers {{ $value | humanizePercentage }} of requests with 5xx",
        ),
        AlertRule(
            LATENCY,
            prometheus.latency_query(t.window),
            ">",
            t.p99_seconds,
            t.for_,
            "{{ $labels.host }} answers 1% of requests slower than {{ $value | humanizeDuration }}",
        ),
        AlertRule(DOWN, "up", "==", 0, t.for_, "{{ $labels.job }} on {{ $labels.host }} does not answer its scrape"),
        AlertRule(
            DISK,
            f"node_filesystem_avail_bytes{{{disk}}} / node_filesystem_size_bytes{{{disk}}}",
            "<",
            t.disk_free,
            t.for_,
            "{{ $labels.mountpoint }} on {{ $labels.host }} has {{ $value | humanizePercentage }} free",
        ),
    )


def render(found: Sequence[AlertRule], evaluation_interval: str = Thresholds.evaluation_interval) -> str:
    """A Prometheus rule file: one group, evaluated every evaluation_interval, holding the rules."""
    if not prometheus.is_duration(evaluation_interval):
        raise PrometheusError(f"evaluation_interval {evaluation_interval!r} is not a Prometheus duration like 30s")
    group = {
        "name": GROUP,
        "interval": evaluation_interval,
        "rules": [
            {
                "alert": r.name,
                "expr": r.expr,
                "for": r.for_,
                "labels": {"severity": SEVERITY},
                # series and threshold let a reader chart what the alert watches, not only when it fired.
                "annotations": {"summary": r.summary, "series": r.series, "threshold": f"{r.threshold:g}"},
            }
            for r in found
        ],
    }
    return "# Written by Ladder: the app's alerts.\n" + yaml.safe_dump({"groups": [group]}, sort_keys=False)


def check_rules(host: Host, path: str) -> None:
    """Validate a rule file on its host with `promtool check rules`; PrometheusError with promtool's words."""
    result = host.run(f"promtool check rules {q(path)}", warn=True, timeout=30)
    if result.failed:
        said = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if line.strip())
        raise PrometheusError(f"{path} on {host.name} holds invalid alert rules:\n{said}")


def with_rule_file(config_text: str, rule_file: str) -> str:
    """prometheus.yml's text with rule_file listed in rule_files (unchanged when it already is).

    Without a rule_files key, one is appended and the team's text (comments included) is kept as it was;
    a list that lacks the file is rewritten with it, which YAML cannot do without dropping comments.
    """
    config = yaml.safe_load(config_text) or {}
    if not isinstance(config, dict):
        raise PrometheusError("prometheus.yml does not hold a mapping at its top; is it a Prometheus config?")
    listed = config.get("rule_files") or []
    if rule_file in listed:
        return config_text
    if "rule_files" not in config:
        return config_text.rstrip("\n") + "\n" + yaml.safe_dump({"rule_files": [rule_file]}, sort_keys=False)
    config["rule_files"] = [*listed, rule_file]
    return yaml.safe_dump(config, sort_keys=False)


def install(
    host: Host,
    prom: prometheus.Prometheus,
    text: str,
    *,
    config: str = "prometheus.yml",
    rules_file: str = RULES_FILE,
    dry_run: bool = True,
) -> list[ops.Change]:
    """Write the rule file next to Prometheus' config, list it in rule_files, check both with promtool, reload.

    Each file is checked as a new copy before it replaces the old one, so a bad rule never reaches Prometheus.
    """
    config_path = host.path(config)
    rules_path = posixpath.join(posixpath.dirname(config_path), rules_file)
    if not host.exists(config_path):
        raise PrometheusError(f"{config_path} on {host.name} does not exist; pass the path of Prometheus' config")
    wanted_config = with_rule_file(host.read_text(config_path), rules_file)
    changes = [
        ops.directory(host, posixpath.dirname(rules_path), dry_run=dry_run),
        _checked_file(host, rules_path, text, check_rules, dry_run=dry_run),
        _checked_file(host, config_path, wanted_config, prometheus.check_config, dry_run=dry_run),
    ]
    reload: list[ops.Action] = []
    if any(c.changed for c in changes):
        reload.append((f"POST {prom.url}/-/reload", partial(prometheus.reload, prom)))
    changes.append(ops.settle(host, "reload", "prometheus", reload, "rules changed", dry_run=dry_run))
    return changes


def _checked_file(host: Host, path: str, content: str, check: Check, *, dry_run: bool) -> ops.Change:
    """Ensure a file's content, writing a new copy that promtool checks before it replaces the file."""
    info = facts.get_path(host, path)
    if info is not None and info.sha256 == hashlib.sha256(content.encode()).hexdigest():
        return ops.settle(host, "file", path, [], dry_run=dry_run)
    new = path + ".new"
    actions: list[ops.Action] = [
        (f"write {new}", partial(host.write_text, new, content)),
        (f"promtool check {new}", partial(_checked, host, new, check)),
        ops.command(host, f"mv -f -- {q(new)} {q(path)}", timeout=10),
    ]
    return ops.settle(host, "file", path, actions, "missing" if info is None else "content differs", dry_run=dry_run)


def _checked(host: Host, path: str, check: Check) -> None:
    """Run a promtool check on a new copy; a copy that fails it is removed, so the old file stays in use."""
    try:
        check(host, path)
    except PrometheusError:
        host.run(f"rm -f -- {q(path)}", warn=True, timeout=10)
        raise
