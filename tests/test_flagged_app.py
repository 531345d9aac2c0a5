"""ladder.rungs.flagged_app: the sandbox's app with OpenFeature and the redesign behind a flag, run in-process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ladder.core.errors import LadderError
from ladder.rungs.flagged_app import FLAG, REDESIGN_MARK, flags_defaults, with_flags
from ladder.sandbox.app import app_files

# The flagged app in a fresh interpreter: the home page as the flags file turns the flag on, bad, then missing.
PROBE = """
import io, json, os, sys
import app
def home():
    out = b"".join(app.application({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO()},
                                   lambda status, headers: None))
    return sys.argv[1] in out.decode()
path = os.environ["APP_FLAGS_FILE"]
seen = [home()]
with open(path + ".new", "w") as f:
    json.dump({"redesign": True}, f)
os.replace(path + ".new", path)
seen.append(home())
with open(path + ".new", "w") as f:
    f.write("{half")
os.replace(path + ".new", path)
seen.append(home())
os.remove(path)
seen.append(home())
print(json.dumps(seen))
"""


@pytest.mark.local
def test_the_flag_is_read_again_when_its_file_changes_and_is_off_when_bad_or_missing(tmp_path):
    tree = app_files()
    tree.update(with_flags(tree))
    for name, text in tree.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "flags.json").write_text('{"redesign": false}\n')
    env = {**os.environ, "APP_FLAGS_FILE": str(tmp_path / "flags.json"), "APP_DB_PATH": str(tmp_path / "app.db")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, REDESIGN_MARK], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[false, true, false, false]"


@pytest.mark.unit
def test_with_flags_adds_the_provider_config_route_and_pin():
    files = app_files()
    added = with_flags(files)
    assert set(added) == {"flags.py", "config.py", "app.py", "requirements.txt"}
    assert "class FileProvider(AbstractProvider)" in added["flags.py"]
    assert 'FLAGS_FILE = os.environ.get("APP_FLAGS_FILE", "../shared/flags.json")' in added["config.py"]
    assert "import flags\n" in added["app.py"] and '("GET", "/", home),' in added["app.py"]
    assert added["requirements.txt"].startswith(files["requirements.txt"])
    assert "openfeature-sdk==" in added["requirements.txt"]
    assert with_flags({**files, **added}) == {}  # a second time adds nothing
    assert flags_defaults("dev") == {FLAG: True} and flags_defaults("prod") == {FLAG: False}


@pytest.mark.unit
def test_with_flags_names_the_missing_anchor():
    files = app_files()
    files["app.py"] = files["app.py"].replace('("GET", "/", index),', '("GET", "/", main_page),')
    with pytest.raises(LadderError, match="app.py: expected .*GET.* once to add feature flags"):
        with_flags(files)
