"""The team's CI server (Buildbot): master and worker set up on their hosts, the push hook, builds read over REST."""

from __future__ import annotations

import hashlib
import json
import secrets
import shlex
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..core import facts, ops
from ..core.config import CIConfig, Config
from ..core.errors import ConfigError, HostError
from ..core.hosts import Host, LocalHost, connect
from . import ci_render
from .ci_render import SECRET, CISetup, Pipeline
from .git import open_repo

q = shlex.quote
MASTER_DIR = "buildbot-master"
WORKER_DIR = "buildbot-worker"
START_TIMEOUT = 120  # a cold master creates its database and imports Twisted and SQLAlchemy
READ_TIMEOUT = 30
# Twisted's epoll reactor stops accepting HTTP connections for good once a client hangs up before its answer
# (ENOENT from epoll_ctl, twisted/twisted#11625): Buildbot's web API went dead under a loaded pipeline. poll has no
# kernel-side registration to fall out of step with.
REACTOR = "poll"
# Buildbot's result codes (buildbot.process.results), in their order.
RESULTS = ("success", "warnings", "failure", "skipped", "exception", "retry", "cancelled")
_SEP = "--ladder-ci--"


@dataclass(frozen=True)
class Build:
    """One build of a pushed commit: its builder, number, commit, branch, result and times (UTC)."""

    builder: str
    number: int
    revision: str
    branch: str
    result: str  # one of RESULTS, or "running"
    started: datetime
    complete: datetime | None
    pushed: datetime | None  # when the push reached the repository (the change's time)

    @property
    def green(self) -> bool:
        """True for a build that passed."""
        return self.result == "success"

    @property
    def push_to_result(self) -> float | None:
        """Seconds from the push to the result; None while it runs or when the push time is unknown."""
        if self.complete is None or self.pushed is None:
            return None
        return (self.complete - self.pushed).total_seconds()


def ci_of(config: Config) -> CIConfig:
    """The ci: section of a config, or a ConfigError saying how to add one."""
    if config.ci is None:
        raise ConfigError(
            "has no ci: section; add one (host, url) or run: ladder sandbox up", path=config.path, key="ci"
        )
    return config.ci


def setup_for(config: Config) -> CISetup:
    """The Buildbot a ladder.yml asks for: its app's repository and trunk, built on the ci: worker's host."""
    ci = ci_of(config)
    if "://" in config.app.repo or ":" in config.app.repo.split("/")[0]:
        raise ConfigError(
            "is a URL: the CI server's hook goes into the shared repository, so point app.repo at its folder",
            path=config.path,
            key="app.repo",
        )
    trunk = open_repo(config.app.repo).trunk
    return CISetup(
        app=config.app.name,
        repo=config.app.repo,
        trunk=trunk.short if trunk else "master",
        worker=ci.worker,
        python=config.host_config(ci.worker).python,
        www_port=urlsplit(ci.url).port or 80,
        pb_port=ci.pb_port,
    )


def _twistd(python: str, folder: str) -> str:
    """Start a twistd application in the background; its absolute paths name the folder in the command line."""
    return (
        f"cd {q(folder)} && {q(python)} -c 'from twisted.scripts.twistd import run; run()' --no_save "
        f"--reactor={REACTOR} "
        f"--logfile={q(folder + '/twistd.log')} --pidfile={q(folder + '/twistd.pid')} "
        f"--python={q(folder + '/buildbot.tac')}"
    )


def _running(host: Host, folder: str) -> bool:
    """True when the twistd whose pid file is in folder is alive."""
    pidfile = q(folder + "/twistd.pid")
    return host.run(f'test -f {pidfile} && kill -0 "$(cat {pidfile})"', warn=True, timeout=READ_TIMEOUT).ok


def _signal(folder: str, sig: str) -> str:
    return f'kill -{sig} "$(cat {q(folder + "/twistd.pid")})"'


def _reconfig(folder: str) -> str:
    """SIGHUP the master, then wait until its log says the new master.cfg is in force (a push may follow at once)."""
    log, done = q(folder + "/twistd.log"), "'configuration update complete'"
    return (
        f"n=$(grep -c {done} {log}); {_signal(folder, 'HUP')} && "
        f'while [ "$(grep -c {done} {log})" -le "$n" ]; do sleep 0.1; done'
    )


def _wait(python: str, url: str, worker: str | None, timeout: float) -> str:
    """A command that waits until the master answers REST (and, given a worker's name, until it is connected)."""
    script = (
        "import json, sys, time, urllib.request\n"
        "url, worker, end = sys.argv[1], sys.argv[2], time.monotonic() + float(sys.argv[3])\n"
        "while time.monotonic() < end:\n"
        "    try:\n"
        "        with urllib.request.urlopen(url + 'api/v2/workers', timeout=5) as r:\n"
        "            ws = json.load(r)['workers']\n"
        "        if not worker or any(w['name'] == worker and w['connected_to'] for w in ws):\n"
        "            sys.exit(0)\n"
        "    except OSError:\n"
        "        pass\n"
        "    time.sleep(0.2)\n"
        "sys.exit(1)\n"
    )
    return f"{q(python)} -c {q(script)} {q(url)} {q(worker or '')} {timeout:g}"


def _secret(host: Host, path: str, value: str, *, dry_run: bool) -> ops.Change:
    """The worker's password in a 0600 file: written when it differs; its value never appears in the Change."""
    info = facts.get_path(host, path)
    actions: list[ops.Action] = []
    if info is None or info.sha256 != hashlib.sha256(value.encode()).hexdigest() or info.mode != 0o600:
        actions.append((f"write {path} (the worker's password, mode 600)", lambda: host.write_text(path, value, 0o600)))
    return ops.settle(host, "secret", path, actions, "missing or different", dry_run=dry_run)


def apply(
    master: Host,
    worker: Host,
    setup: CISetup,
    *,
    master_python: str,
    worker_python: str,
    dry_run: bool = True,
) -> list[ops.Change]:
    """Set up, start or reconfigure the master on its host and the worker on the build host; a second apply is a no-op."""
    mdir, wdir = master.path(MASTER_DIR), worker.path(WORKER_DIR)
    existing = master.read_text(f"{mdir}/{SECRET}").strip() if master.exists(f"{mdir}/{SECRET}") else ""
    password = existing or secrets.token_hex(16)
    changes = [ops.directory(master, mdir, dry_run=dry_run), ops.directory(worker, wdir, dry_run=dry_run)]
    changes.append(_secret(master, f"{mdir}/{SECRET}", password, dry_run=dry_run))
    changes.append(ops.file(master, f"{mdir}/buildbot.tac", ci_render.master_tac(mdir), dry_run=dry_run))
    config = ops.file(master, f"{mdir}/master.cfg", ci_render.master_cfg(setup), dry_run=dry_run)
    changes.append(config)
    db = f"{mdir}/state.sqlite"
    upgrade = f"{q(master_python)} -c 'from buildbot.scripts.runner import run; run()' upgrade-master {q(mdir)}"
    actions = [] if master.exists(db) else [ops.command(master, upgrade, START_TIMEOUT)]
    changes.append(ops.settle(master, "ci database", db, actions, "missing", dry_run=dry_run))
    wait = _wait(master_python, setup.url, None, START_TIMEOUT)
    if not _running(master, mdir):
        start = [ops.command(master, _twistd(master_python, mdir)), ops.command(master, wait, START_TIMEOUT + 5)]
        changes.append(ops.settle(master, "ci master", mdir, start, "not running", dry_run=dry_run))
    else:
        # SIGHUP is `buildbot reconfig`: the running master reads master.cfg again, builds in flight go on.
        reload = [ops.command(master, _reconfig(mdir), START_TIMEOUT)] if config.changed else []
        changes.append(ops.settle(master, "ci master", mdir, reload, "master.cfg changed", dry_run=dry_run))
    secret = _secret(worker, f"{wdir}/{SECRET}", password, dry_run=dry_run)
    tac = ops.file(
        worker, f"{wdir}/buildbot.tac", ci_render.worker_tac(wdir, setup.worker, setup.pb_port), dry_run=dry_run
    )
    changes += [secret, tac]
    connected = _wait(master_python, setup.url, setup.worker, START_TIMEOUT)
    start = [ops.command(worker, _twistd(worker_python, wdir)), ops.command(master, connected, START_TIMEOUT + 5)]
    if not _running(worker, wdir):
        changes.append(ops.settle(worker, "ci worker", wdir, start, "not running", dry_run=dry_run))
    else:
        stop = f'{_signal(wdir, "TERM")} && while kill -0 "$(cat {q(wdir + "/twistd.pid")})" 2>/dev/null; do sleep 0.1; done'
        restart = [ops.command(worker, stop), *start] if tac.changed or secret.changed else []
        changes.append(ops.settle(worker, "ci worker", wdir, restart, "its settings changed", dry_run=dry_run))
    return changes


def hook_path(host: Host, repo: str) -> str:
    """Where the shared repository keeps its post-receive hook (core.hooksPath honoured; bare or not)."""
    found = host.run(
        f"git -C {q(repo)} rev-parse --path-format=absolute --git-path hooks/post-receive", timeout=READ_TIMEOUT
    )
    return found.stdout.strip()


def install_hook(host: Host, repo: str, url: str, *, dry_run: bool = True) -> ops.Change:
    """The shared repository's post-receive hook that tells the master about each push; refuses another's hook."""
    path = hook_path(host, repo)
    if host.exists(path) and ci_render.MARK not in host.read_text(path):
        raise HostError(
            f"{path} is a post-receive hook Ladder did not write; add the lines of Ladder's hook to it by hand, or move it away",
            host=host.name,
        )
    return ops.file(host, path, ci_render.post_receive(url, repo), 0o755, dry_run=dry_run)


def install(config: Config, *, pipeline: Pipeline | None = None, dry_run: bool = True) -> list[ops.Change]:
    """Everything ladder.yml's ci: asks for: master and worker set up and running, the push hook in place.

    With a pipeline (rung 4), a green trunk build goes on to deliver: staging, smoke over HTTP, prod. Without one,
    the pipeline in place is kept: rung 3b applied again does not undo rung 4.
    """
    ci = ci_of(config)
    setup = replace(setup_for(config), pipeline=pipeline or installed_pipeline(config))
    worker_host = config.host_config(setup.worker)
    with connect(ci.host, config.ssh) as master, connect(worker_host, config.ssh) as worker:
        changes = apply(
            master,
            worker,
            setup,
            master_python=ci.host.python,
            worker_python=worker_host.python,
            dry_run=dry_run,
        )
    repository = LocalHost("repository", Path(config.app.repo))
    return [*changes, install_hook(repository, config.app.repo, ci.url, dry_run=dry_run)]


def installed_pipeline(config: Config) -> Pipeline | None:
    """The pipeline of the master.cfg in place on the master; None when it has none (rung 3b's CI only, or none yet)."""
    ci = ci_of(config)
    with connect(ci.host, config.ssh) as master:
        path = f"{master.path(MASTER_DIR)}/master.cfg"
        text = master.read_text(path) if master.exists(path) else ""
    return ci_render.pipeline_of(text)


# --- results over REST ----------------------------------------------------------------------------------------


def _time(stamp: float | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def _prop(build: dict, name: str) -> str:
    value = (build.get("properties") or {}).get(name)
    return str(value[0]) if value else ""


def parse_builds(builders: dict, builds: dict, changes: dict) -> list[Build]:
    """Builds from the REST answers of /builders, /builds (with properties) and /changes, oldest first."""
    names = {b["builderid"]: b["name"] for b in builders["builders"]}
    pushes: dict[tuple[str, str], list[float]] = {}
    for c in changes["changes"]:
        pushes.setdefault((c["revision"], c["branch"]), []).append(c["when_timestamp"])
    out = []
    for b in builds["builds"]:
        revision, branch = _prop(b, "revision") or _prop(b, "got_revision"), _prop(b, "branch")
        # The same commit may be pushed again: the build answers the latest push before it started.
        before = [t for t in pushes.get((revision, branch), []) if t <= b["started_at"]]
        done = b.get("complete") and b.get("results") is not None
        out.append(
            Build(
                builder=names.get(b["builderid"], str(b["builderid"])),
                number=b["number"],
                revision=revision,
                branch=branch,
                result=RESULTS[b["results"]] if done and 0 <= b["results"] < len(RESULTS) else "running",
                started=datetime.fromtimestamp(b["started_at"], UTC),
                complete=_time(b.get("complete_at")) if done else None,
                pushed=_time(max(before)) if before else None,
            )
        )
    return sorted(out, key=lambda b: (b.started, b.builder, b.number))


def split_answers(output: str) -> list[dict]:
    """The JSON documents of one command's output, in order (they are printed with a separator line between)."""
    return [json.loads(part) for part in output.split(_SEP) if part.strip()]


def get_builds(host: Host, url: str, limit: int = 50, timeout: float = READ_TIMEOUT) -> list[Build]:
    """The latest builds, read on the master's host from its REST API (it listens on loopback only), within timeout."""
    api = url.rstrip("/") + "/api/v2/"
    props = "&".join(f"property={p}" for p in ("revision", "branch", "got_revision"))
    paths = ["builders", f"builds?order=-buildid&limit={limit}&{props}", f"changes?order=-changeid&limit={4 * limit}"]
    each = max(1.0, timeout / (len(paths) + 1))  # the three requests and the connection share the timeout
    cmd = f"; echo {_SEP}; ".join(f"curl -fsS --max-time {each:g} {q(api + p)}" for p in paths)
    return parse_builds(*split_answers(host.run(f"set -e; {cmd}", timeout=timeout).stdout))
