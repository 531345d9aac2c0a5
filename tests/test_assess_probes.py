"""Host probes: recorded output parsed, and what a folder host runs read where app.layout puts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assessing import make_checkout_host, make_origin
from ladder.app import parity
from ladder.app.layout import layout_of
from ladder.assess.probes import (
    get_deployment,
    get_platform,
    parse_deployment,
    parse_logs,
    parse_migrations,
    parse_platform,
)
from ladder.core.hosts import LocalHost


@pytest.fixture
def origin(tmp_path) -> Path:
    return make_origin(tmp_path / "origin")


@pytest.mark.unit
def test_parse_deployment_recorded_output():
    out = (
        "current\t/srv/app/releases/v3\nreleases_dir\nrelease\tv1\nrelease\tv3\nchecksums\tSHA256SUMS\n"
        "checksum_failed\tapp.py\n"
    )
    lay = parse_deployment(out)
    assert lay.runs_release and lay.releases == ("v1", "v3") and lay.checksum_failures == ("app.py",)
    lay = parse_deployment("checkout\t/srv/app/app\ngit\n M app.py\0?? x\0")
    assert not lay.runs_release and lay.modified == ("app.py", "x") and lay.git


@pytest.mark.unit
def test_parse_logs_recorded_output():
    logs = parse_logs("proc\tbash\nproc\tamazon-cloudwat\nproc\tvector\nlog\t/srv/logs/a.log\n")
    assert logs.shippers == ("amazon-cloudwatch-agent", "vector") and logs.files == ("/srv/logs/a.log",)


@pytest.mark.unit
def test_parse_platform_recorded_output():
    p = parse_platform(
        "venv\t/srv/venv\npkg\tFlask==3.0\npkg\t-e git+x\npython\t3.11.7\nos\tID=debian\n"
        'os\tVERSION_ID="12"\nconfig\tA\n'
    )
    assert p.packages == {"flask": "3.0"} and p.python == "3.11.7" and p.env_names == ("A",)
    assert p.os == "debian 12" and p.venv == "/srv/venv"


@pytest.mark.unit
def test_parse_migrations_survives_junk():
    assert parse_migrations("garbage\n").error
    assert parse_migrations('{"kind": "sql", "files": 2, "pending": ["2"], "db": "a.db"}').pending == ("2",)


@pytest.mark.local
def test_the_checkout_is_read_where_app_layout_puts_it(tmp_path, origin):
    prod = make_checkout_host(tmp_path / "prod", origin)
    deployment = get_deployment(prod)
    assert deployment.checkout == layout_of(prod).app and deployment.modified == ("app.py",)
    assert deployment.found and not deployment.runs_release
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(["git", "clone", "-q", str(origin), str(elsewhere / "code")], check=True)
    assert not get_deployment(LocalHost("prod2", elsewhere)).found


@pytest.mark.local
def test_platform_facts_are_the_ones_parity_reads(tmp_path):
    base = tmp_path / "dev"
    base.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True)
    (base / "app.env").write_text("APP_ENV=dev\nexport APP_SECRET_KEY=not-read\n")
    host = LocalHost("dev", base)
    venv_python = str(base / "venv" / "bin" / "python")
    probed = get_platform(host, "python3")
    read = parity.get_facts(host, python=venv_python, env_file=layout_of(host).env_file)
    assert probed.venv == str(base / "venv")
    assert (probed.os, probed.python, probed.packages, probed.env_names) == (
        read.os,
        read.python,
        read.packages,
        read.env_names,
    )
    assert probed.env_names == ("APP_ENV", "APP_SECRET_KEY")
