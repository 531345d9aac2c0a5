"""Which reload drops no requests: each method under a short load of HTTP GETs sent to loopback only.

For each server the sandbox runs (uWSGI under supervisor, gunicorn alone, gunicorn under supervisor), and for
Debian's own uWSGI binary (python3 plugin, `virtualenv =`; run alone on a folder host), every reload method is carried out while a small thread pool sends GETs to the app's port; the method is done when
app.reload.verify sees all workers replaced and /health answers. Prints failed/total requests per method.
Run: .venv/bin/python bench/reloads.py [--threads 4]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from ladder import sandbox
from ladder.app import health, reload, server
from ladder.app.layout import Layout
from ladder.app.server import Reload
from ladder.core.config import load_config
from ladder.core.hosts import LocalHost, connect
from ladder.sandbox.servers import Paths, uwsgi_ini
from ladder.sandbox.sshd import free_port

# (server, manager) -> the methods tried, the ones that may take the server down last.
TRIALS = {
    ("uwsgi", "supervisor"): (
        "uwsgi-touch-chain-reload",
        "uwsgi-fifo c",
        "uwsgi-fifo r",
        "uwsgi-reload-pidfile",
        "supervisorctl-restart",
    ),
    ("gunicorn", "none"): ("hup", "usr2-quit"),
    ("gunicorn", "supervisor"): ("hup", "supervisorctl-restart"),
}
DEBIAN = ("uwsgi-touch-chain-reload", "uwsgi-fifo c", "uwsgi-fifo r", "uwsgi-reload-pidfile")
DEBIAN_UWSGI = "/usr/bin/uwsgi-core"
SETTLE = 0.5  # seconds of load before and after each reload
APP = "def application(environ, start):\n    start('200 OK', [('Content-Type', 'text/plain')])\n    return [b'ok']\n"


class Load:
    """GETs sent by a few threads to one loopback URL until stopped; counts failures."""

    def __init__(self, url: str, threads: int) -> None:
        self.url, self.total, self.failed = url, 0, 0
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    ok = r.status == 200
            except OSError:
                ok = False
            with self.lock:
                self.total += 1
                self.failed += not ok

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def command_for(method: str, found: server.AppServer) -> tuple[Reload, str]:
    """The Reload and the shell command for a trial ('uwsgi-fifo c' writes c to the FIFO)."""
    name, _, letter = method.partition(" ")
    way = next((r for r in found.reloads if r.method == name), None)
    if way is None:
        raise SystemExit(f"{method} is not among {found.summary()}'s reloads: {found.reloads}")
    if letter:
        return way, reload.fifo_command(way.target, letter)
    return way, reload.command(way, found, restart=name == "usr2-quit")


def trial(host, port: int, method: str, threads: int) -> str:
    """One method under load: 'failed/total' requests, and whether the server came back."""
    found = server.get_server(host, port)
    way, cmd = command_for(method, found)
    before = reload.get_workers(host, found.pid)
    with Load(f"http://127.0.0.1:{port}/health", threads) as load:
        time.sleep(SETTLE)
        started = time.monotonic()
        host.run(cmd, timeout=reload.CONTROL_TIMEOUT, warn=True)
        try:
            reload.verify(host, found, way, before, path="/health", python="python3", deadline=60)
            outcome = f"done in {time.monotonic() - started:.1f}s"
        except Exception as err:  # the bench reports the failure and goes on with the next method
            outcome = f"NOT DONE: {str(err).splitlines()[0][:120]}"
        time.sleep(SETTLE)
    return f"{load.failed}/{load.total} failed  {outcome}"


@contextlib.contextmanager
def debian_uwsgi(folder: Path):
    """Debian's uWSGI (python3 plugin, this venv as `virtualenv =`) serving a small app on a free port."""
    lay = Layout(str(folder))
    os.makedirs(lay.app)
    os.makedirs(lay.logs)
    Path(lay.app, "app.py").write_text(APP)
    port, paths = free_port(), Paths(lay.base)
    Path(paths.uwsgi_ini).write_text(uwsgi_ini(lay, port, "app:application", daemonize=False, virtualenv=sys.prefix))
    Path(paths.uwsgi_reload).touch()
    proc = subprocess.Popen(
        [DEBIAN_UWSGI, "--ini", paths.uwsgi_ini],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            if health.check(f"http://127.0.0.1:{port}/", timeout=1).ok:
                break
            time.sleep(0.1)
        yield LocalHost("prod1", lay.base), port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    for (kind, manager), methods in TRIALS.items():
        with tempfile.TemporaryDirectory(prefix="ladder-reloads-") as tmp:
            box = sandbox.up(Path(tmp) / "sb", server=kind, manager=manager)
            try:
                cfg = load_config(box.config_path)
                entry = cfg.host_config("prod1")
                with connect(entry, cfg.ssh) as host:
                    port = cfg.app_port(entry)
                    for method in methods:
                        print(
                            f"{kind:8} {manager:10} {method:26} {trial(host, port, method, args.threads)}", flush=True
                        )
            finally:
                sandbox.down(box.dir)
    if not os.access(DEBIAN_UWSGI, os.X_OK):
        print(f"uwsgi    debian     skipped: no {DEBIAN_UWSGI} (apt install uwsgi-core uwsgi-plugin-python3)")
        return
    with tempfile.TemporaryDirectory(prefix="ladder-reloads-") as tmp, debian_uwsgi(Path(tmp)) as (host, port):
        for method in DEBIAN:
            print(f"{'uwsgi':8} {'debian':10} {method:26} {trial(host, port, method, args.threads)}", flush=True)


if __name__ == "__main__":
    main()
