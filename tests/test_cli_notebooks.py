"""`ladder notebooks copy DIR`: editable copies of the runbooks and the assessment, to open in JupyterLab."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.cli import main

pytestmark = pytest.mark.local

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("LADDER_RUNBOOKS", raising=False)
    monkeypatch.delenv("LADDER_NOTEBOOKS", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_copy_prints_each_copy_and_how_to_open_them(elsewhere, capsys):
    assert main(["notebooks", "copy", "mine"]) == 0
    out = capsys.readouterr().out
    assert "copied mine/runbooks/1-separate-dev-and-prod.ipynb" in out
    assert "copied mine/notebooks/assessment.ipynb" in out
    assert "jupyter lab mine" in out
    assert (elsewhere / "mine" / "runbooks" / "1-separate-dev-and-prod.ipynb").is_file()


def test_copy_over_existing_files_exits_2_naming_them(elsewhere, capsys):
    main(["notebooks", "copy", "mine"])
    capsys.readouterr()
    assert main(["notebooks", "copy", "mine"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ladder: error: would overwrite ")
    assert "mine/notebooks/assessment.ipynb" in err
    assert "nothing copied (--force overwrites)" in err


def test_copy_with_force_overwrites_edits(elsewhere):
    main(["notebooks", "copy", "mine"])
    edited = elsewhere / "mine" / "runbooks" / "1-separate-dev-and-prod.ipynb"
    edited.write_text("{}")
    assert main(["notebooks", "copy", "mine", "--force"]) == 0
    assert edited.read_bytes() == (ROOT / "runbooks" / edited.name).read_bytes()


def test_copied_runbooks_are_listed_from_their_folder(elsewhere, monkeypatch, capsys):
    main(["notebooks", "copy", "mine"])
    book = elsewhere / "mine" / "runbooks" / "1-separate-dev-and-prod.ipynb"
    book.write_text(book.read_text().replace("# Rung 1: separate dev and prod", "# Rung 1, as we do it"))
    monkeypatch.chdir(elsewhere / "mine")
    capsys.readouterr()
    assert main(["list"]) == 0
    assert "1-separate-dev-and-prod  Rung 1, as we do it" in capsys.readouterr().out


def test_copy_without_a_folder_is_a_usage_error(elsewhere, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["notebooks", "copy"])
    assert exit.value.code == 2
    assert "DIR" in capsys.readouterr().err
