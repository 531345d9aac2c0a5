"""ladder.app.layout: one convention for where an app lives under a host's base folder."""

from __future__ import annotations

import pytest

from ladder.app.layout import Layout, layout_of
from ladder.core.hosts import LocalHost

pytestmark = pytest.mark.unit


def test_a_checkout_and_the_capistrano_release_paths_sit_under_the_base():
    lay = Layout("/srv/shop/")
    assert (lay.app, lay.env_file, lay.pid_file) == ("/srv/shop/app", "/srv/shop/app.env", "/srv/shop/gunicorn.pid")
    assert (lay.releases, lay.release("1.2.0"), lay.current, lay.shared) == (
        "/srv/shop/releases",
        "/srv/shop/releases/1.2.0",
        "/srv/shop/current",
        "/srv/shop/shared",
    )


def test_the_scripts_the_saved_edits_and_the_dev_venv_sit_under_the_base_too():
    lay = Layout("/srv/shop")
    assert (lay.bin, lay.deploy_script) == ("/srv/shop/bin", "/srv/shop/bin/deploy")
    assert (lay.edits, lay.venv, lay.logs, lay.data) == (
        "/srv/shop/edits",
        "/srv/shop/venv",
        "/srv/shop/logs",
        "/srv/shop/data",
    )


def test_a_host_s_layout_is_under_its_base(tmp_path):
    assert layout_of(LocalHost("dev", tmp_path)).app == f"{tmp_path}/app"
