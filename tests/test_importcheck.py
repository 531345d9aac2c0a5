"""The import check before a switch: a release that cannot load is refused, judged with the server's environment."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ladder.app import importcheck
from ladder.core.errors import HostError
from ladder.core.hosts import LocalHost


@pytest.mark.unit
def test_a_wsgi_name_splits_into_module_and_attribute_defaulting_to_application():
    assert importcheck.split_wsgi("app:application") == ("app", "application")
    assert importcheck.split_wsgi("shop.wsgi") == ("shop.wsgi", "application")
    assert importcheck.split_wsgi("app:make.wsgi") == ("app", "make.wsgi")


@pytest.mark.unit
def test_every_value_in_the_command_is_quoted():
    cmd = importcheck.command("/srv/venv bin/python", "/srv/re leases/1.0/site", "app:application", 42)
    assert "'/srv/venv bin/python'" in cmd and "'/srv/re leases/1.0/site'" in cmd and " 42 " in cmd


@pytest.mark.local
def test_a_module_that_raises_on_import_is_refused_with_its_file_line_and_error(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "app.py").write_text("def application(environ, start):\n    return []\n\nraise KeyError('DATABASE_URL')\n")
    host = LocalHost("prod1", tmp_path)
    with pytest.raises(HostError, match=r"(?s)does not load:.*app\.py\", line 4.*KeyError: 'DATABASE_URL'") as err:
        importcheck.check(host, sys.executable, str(site), "app:application")
    assert "importlib" not in str(err.value)  # the app's frames, not the import machinery's


@pytest.mark.local
def test_a_missing_or_uncallable_application_is_refused(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "app.py").write_text("application = 'not a function'\n")
    host = LocalHost("prod1", tmp_path)
    with pytest.raises(HostError, match="app:application is not callable"):
        importcheck.check(host, sys.executable, str(site), "app:application")
    with pytest.raises(HostError, match="has no attribute 'wsgi'"):
        importcheck.check(host, sys.executable, str(site), "app:wsgi")


@pytest.mark.local
def test_the_import_runs_with_the_masters_environment_and_working_folder(tmp_path):
    site, work = tmp_path / "site", tmp_path / "shared"
    site.mkdir()
    work.mkdir()
    (work / "settings.ini").write_text("ok\n")
    (site / "app.py").write_text(
        "import os\nassert os.environ['APP_SECRET_SOURCE'] == 'vault'\nopen('settings.ini').read()\n"
        "def application(environ, start):\n    return []\n"
    )
    host = LocalHost("prod1", tmp_path)
    with pytest.raises(HostError, match="KeyError: 'APP_SECRET_SOURCE'"):
        importcheck.check(host, sys.executable, str(site), "app:application")
    master = subprocess.Popen(["sleep", "60"], cwd=work, env={"APP_SECRET_SOURCE": "vault", "PATH": "/usr/bin:/bin"})
    try:
        importcheck.check(host, sys.executable, str(site), "app:application", pid=master.pid)
    finally:
        master.kill()
        master.wait()
