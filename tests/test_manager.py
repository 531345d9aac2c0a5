"""Bringing an app server under a manager: supervisor and systemd texts from the data templates, systemd verified."""

from __future__ import annotations

import shutil
import sys

import pytest

from ladder.app import manager
from ladder.app.manager import Program
from ladder.core.errors import HostError, LadderError
from ladder.core.hosts import LocalHost

UWSGI = Program(
    "shop", "uwsgi", "/srv/venv/bin/uwsgi --ini /srv/uwsgi.ini", "/srv/app", "/srv/.env", "/srv/logs/shop.log"
)


@pytest.mark.unit
def test_a_supervisor_program_execs_the_server_with_its_env_and_stops_it_gracefully():
    text = manager.supervisor_program(UWSGI)
    assert "[program:shop]" in text and "directory = /srv/app" in text
    assert (
        "command = bash -c 'set -a && . /srv/.env && set +a && exec /srv/venv/bin/uwsgi --ini /srv/uwsgi.ini'" in text
    )
    assert "stopsignal = QUIT" in text and "stdout_logfile = /srv/logs/shop.log" in text
    assert "user =" not in text  # a supervisord that is not root cannot switch users
    gunicorn = Program("shop", "gunicorn", "/srv/venv/bin/gunicorn app:app", "/srv/app", "/srv/.env", "/l", user="web")
    assert "stopsignal = TERM" in manager.supervisor_program(gunicorn)
    assert "user = web" in manager.supervisor_program(gunicorn)


@pytest.mark.unit
def test_a_systemd_unit_names_the_server_its_env_and_a_reload():
    unit = manager.systemd_unit(UWSGI)
    assert "ExecStart=/srv/venv/bin/uwsgi --ini /srv/uwsgi.ini" in unit and "EnvironmentFile=/srv/.env" in unit
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit and "KillSignal=SIGQUIT" in unit
    assert "Type=notify" in unit and "WantedBy=multi-user.target" in unit


@pytest.mark.unit
def test_bad_programs_are_refused_before_anything_is_rendered():
    with pytest.raises(LadderError, match="kind must be one of uwsgi, gunicorn"):
        Program("shop", "waitress", "/bin/true", "/", "/e", "/l")
    with pytest.raises(LadderError, match="program name 'a b'"):
        Program("a b", "uwsgi", "/bin/true", "/", "/e", "/l")
    with pytest.raises(LadderError, match="absolute executable"):
        Program("shop", "gunicorn", "gunicorn app:app", "/", "/e", "/l")
    with pytest.raises(LadderError, match="needs its ini"):
        manager.server_command("uwsgi", "/srv/venv", chdir="/srv/app", port=8000, wsgi="app:app")
    assert manager.server_command("gunicorn", "/srv/venv", chdir="/srv/app", port=8000, wsgi="app:app") == (
        "/srv/venv/bin/gunicorn --chdir /srv/app --bind 127.0.0.1:8000 --workers 2 app:app"
    )


@pytest.mark.local
def test_systemd_analyze_verify_passes_a_good_unit_and_names_what_is_wrong_in_a_bad_one(tmp_path):
    # systemd is not PID 1 here: the unit is verified, never started.
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is not installed (apt-get install systemd)")
    host = LocalHost("prod1", tmp_path)
    env = tmp_path / ".env"
    env.write_text("SECRET_KEY=x\n")
    good = Program("shop", "gunicorn", f"{sys.executable} -m gunicorn app:app", str(tmp_path), str(env), "/l")
    assert manager.verify_unit(host, "shop", manager.systemd_unit(good)) == ""
    change = manager.install_unit(host, good, str(tmp_path / "shop.service"), dry_run=False)
    assert change.applied and (tmp_path / "shop.service").read_text() == manager.systemd_unit(good)
    missing = Program("shop", "gunicorn", "/nonexistent/bin/gunicorn app:app", str(tmp_path), str(env), "/l")
    assert "is not executable" in manager.verify_unit(host, "shop", manager.systemd_unit(missing))
    with pytest.raises(HostError, match="prod1: systemd-analyze verify refuses the unit for shop"):
        manager.install_unit(host, missing, str(tmp_path / "bad.service"), dry_run=False)
    assert not (tmp_path / "bad.service").exists()
