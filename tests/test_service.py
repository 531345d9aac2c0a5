"""ladder.app.service: a real gunicorn started, reloaded with new code, and stopped, by its pid file."""

import sys
import time

import pytest

from ladder.app import health, service
from ladder.app.layout import layout_of
from ladder.core.errors import HostError
from ladder.core.hosts import LocalHost
from ladder.sandbox.sshd import free_port

APP = """import os
def application(environ, start_response):
    body = (os.environ.get("GREETING", "none") + " {tag}").encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def fetch(port):
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
        return resp.read().decode()


def eventually(check, within=20.0):
    """Poll check() until it is true or a generous deadline passes."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def server(tmp_path):
    host = LocalHost("web", tmp_path)
    lay = layout_of(host)
    for d in (lay.app, lay.logs):
        (tmp_path / d.rsplit("/", 1)[1]).mkdir()
    (tmp_path / "app" / "app.py").write_text(APP.format(tag="v1"))
    (tmp_path / "app.env").write_text("GREETING=hello\n")
    port = free_port()
    yield host, lay, port
    service.stop(host, lay.pid_file)


@pytest.mark.unit
def test_parse_process_of_recorded_output():
    proc = service.parse_process("4242\n/srv/venv/bin/python\0-m\0gunicorn\0--daemon\0app:application\0")
    assert proc == service.Process(4242, ("/srv/venv/bin/python", "-m", "gunicorn", "--daemon", "app:application"))
    assert proc.python == "/srv/venv/bin/python"
    assert service.Process(1, ("/usr/bin/gunicorn", "app:application")).python is None
    by_script = service.Process(1, ("/srv/venv/bin/python", "/srv/venv/bin/gunicorn", "app:application"))
    assert by_script.python == "/srv/venv/bin/python"
    assert service.parse_process("stopped\n") is None


@pytest.mark.local
def test_start_reload_stop(server):
    host, lay, port = server
    assert service.get_process(host, lay.pid_file) is None
    service.start(
        host,
        chdir=lay.app,
        python=sys.executable,
        port=port,
        wsgi="app:application",
        env_file=lay.env_file,
        pid_file=lay.pid_file,
        logs=lay.logs,
    )
    assert health.wait(f"http://127.0.0.1:{port}/", timeout=20).ok
    assert fetch(port) == "hello v1"  # settings come from the env file
    proc = service.get_process(host, lay.pid_file)
    assert proc is not None and proc.python == sys.executable and service.is_running(host, lay.pid_file)

    with open(lay.app + "/app.py", "w") as f:
        f.write(APP.format(tag="v2"))
    service.reload(host, lay.pid_file)
    # HUP replaces the workers; poll until a new one answers (no fixed sleep).
    assert eventually(lambda: fetch(port) == "hello v2")
    assert service.get_process(host, lay.pid_file).pid == proc.pid  # same master, same socket

    assert service.stop(host, lay.pid_file) is True
    assert not service.is_running(host, lay.pid_file)
    assert service.stop(host, lay.pid_file) is False


@pytest.mark.local
def test_reload_when_not_running_says_so(server):
    host, lay, _ = server
    with pytest.raises(HostError, match="no app server running"):
        service.reload(host, lay.pid_file)


@pytest.mark.unit
def test_start_command_quotes_every_value():
    cmd = service.start_command(
        chdir="/srv/my app",
        python="/opt/py",
        port=8000,
        wsgi="app:application",
        env_file="/srv/a b.env",
        pid_file="/srv/g.pid",
        logs="/srv/logs",
    )
    assert "'/srv/my app'" in cmd and "'/srv/a b.env'" in cmd and "--bind 127.0.0.1:8000" in cmd


@pytest.mark.local
def test_start_reads_the_code_s_gunicorn_conf_when_the_working_folder_is_elsewhere(server):
    host, lay, port = server
    # The release layout: code on --pythonpath, working folder (shared/) without it; the checkout's code is gone.
    site, shared = f"{host.base}/site", f"{host.base}/shared"
    for d in (site, shared):
        host.run(f"mkdir -p {d}")
    host.run(f"mv {lay.app}/app.py {site}/app.py")
    host.write_text(f"{site}/gunicorn.conf.py", 'raw_env = ["GREETING=from-conf"]\n')
    service.start(
        host,
        chdir=shared,
        python=sys.executable,
        port=port,
        wsgi="app:application",
        env_file=lay.env_file,
        pid_file=lay.pid_file,
        logs=lay.logs,
        pythonpath=site,
    )
    assert health.wait(f"http://127.0.0.1:{port}/", timeout=20).ok
    assert fetch(port) == "from-conf v1"  # gunicorn.conf.py beside the code was loaded, though cwd is shared/


@pytest.mark.local
def test_a_usr2_upgrade_brings_up_a_new_master_whose_app_imports_the_standard_http(server):
    host, lay, port = server
    # prometheus_client, werkzeug and others import http.server: a re-exec that put gunicorn's own folder
    # first on sys.path (as `python -m gunicorn` does) found gunicorn/http instead, and the new master died.
    host.write_text(lay.app + "/app.py", "import http.server\n" + APP.format(tag="v1"))
    service.start(
        host,
        chdir=lay.app,
        python=sys.executable,
        port=port,
        wsgi="app:application",
        env_file=lay.env_file,
        pid_file=lay.pid_file,
        logs=lay.logs,
    )
    assert health.wait(f"http://127.0.0.1:{port}/", timeout=20).ok
    old = service.get_process(host, lay.pid_file)
    assert old is not None and old.python == sys.executable  # run as `python .../bin/gunicorn`
    host.run(f"kill -USR2 {old.pid}")
    assert eventually(lambda: service.is_running(host, lay.pid_file + ".2")), host.read_text(lay.logs + "/error.log")
    host.run(f"kill -QUIT {old.pid}")
    assert eventually(lambda: (p := service.get_process(host, lay.pid_file)) is not None and p.pid != old.pid)
    assert fetch(port) == "hello v1"
