"""ladder.core.private, and the modes of what real runs leave: folders 0700, files 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ladder import sandbox
from ladder.core.private import private_dir, private_file, write_private
from ladder.engine import journal, runner
from ladder.rungs import rung1

BOOKS = Path(__file__).parent / "notebooks"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The umask many hosts have (022): files 0644 and folders 0755 unless Ladder says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.local
def test_folders_are_0700_and_files_0600_whatever_the_umask(tmp_path, open_umask):
    made = private_dir(tmp_path / "home" / "runs")
    assert mode(tmp_path / "home") == mode(made) == 0o700
    assert mode(write_private(made / "run" / "x.patch", b"secret")) == 0o600 and mode(made / "run") == 0o700
    assert (made / "run" / "x.patch").read_bytes() == b"secret"
    assert mode(write_private(made / "run" / "x.patch", "again")) == 0o600  # replaced whole
    assert [p.name for p in (made / "run").iterdir()] == ["x.patch"]  # no temporary file left
    assert mode(private_file(made / "journal.sqlite")) == 0o600


@pytest.mark.local
def test_an_existing_folder_is_left_alone_and_a_run_folder_must_be_new(tmp_path, open_umask):
    (tmp_path / "mine").mkdir(mode=0o755)
    private_dir(tmp_path / "mine")
    assert mode(tmp_path / "mine") == 0o755  # a folder the user made and chose the mode of
    with pytest.raises(FileExistsError):
        private_dir(tmp_path / "mine", exist_ok=False)


@pytest.mark.local
def test_an_older_journal_readable_by_all_is_tightened(tmp_path, open_umask):
    old = tmp_path / "runs" / journal.FILENAME
    old.parent.mkdir()
    old.touch(mode=0o644)
    journal.connect(old).close()
    assert mode(old) == 0o600


@pytest.mark.e2e
def test_a_run_leaves_its_folder_0700_and_every_file_0600(tmp_path, open_umask):
    (tmp_path / "hosts" / "prod1").mkdir(parents=True)
    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: repo}\n"
        "environments: {prod: {hosts: [{name: prod1, address: local, base: hosts/prod1}]}}\n"
        "runs: runs\n"
    )
    outcome = runner.run(BOOKS / "1-record-changes.ipynb", config=tmp_path / "ladder.yml", text_params={"folder": "x"})
    assert outcome.ok, outcome.error
    home = tmp_path / "runs"
    assert mode(home) == mode(outcome.run_dir) == 0o700
    files = sorted(p.name for p in outcome.run_dir.iterdir())
    assert {"runbook.ipynb", "report.html", "result.json"} <= set(files)
    assert {name: mode(outcome.run_dir / name) for name in files} == {name: 0o600 for name in files}
    assert {p.name: mode(p) for p in home.glob("journal.sqlite*")} == {
        p.name: 0o600 for p in home.glob("journal.sqlite*")
    }
    assert mode(home / journal.FILENAME) == 0o600


@pytest.mark.local
def test_saved_prod_edits_are_0600_in_a_0700_folder(tmp_path, monkeypatch, open_umask):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    box = sandbox.up(tmp_path / "sandbox")
    try:
        edits = rung1.save_prod_edits(box.config_path, run_id="r1")
    finally:
        sandbox.down(box.dir)
    (patch,) = [p for p in edits.saved.values() if p is not None]
    assert mode(patch.path) == 0o600 and mode(patch.path.parent) == 0o700
    assert mode(tmp_path / "home" / "runs") == 0o700
