"""Host probes: recorded output parsed, and what a folder host runs read where app.layout puts it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from assessing import make_checkout_host, make_origin
from ladder.app.layout import layout_of
from ladder.assess.probes import (
    get_deployment,
    parse_deployment,
    parse_logs,
    parse_migrations,
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
