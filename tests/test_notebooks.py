"""Where Ladder finds its runbooks and the assessment notebook, and the editable copies it gives a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.core.errors import CopyRefused
from ladder.engine.notebooks import copy, notebooks_dir, runbooks_dir, source_tree

pytestmark = pytest.mark.local

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """An unrelated working folder, with no override in the environment."""
    monkeypatch.delenv("LADDER_RUNBOOKS", raising=False)
    monkeypatch.delenv("LADDER_NOTEBOOKS", raising=False)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_this_checkout_is_the_source_tree_of_the_package_under_test():
    assert source_tree() == ROOT


def test_from_an_unrelated_folder_the_source_trees_notebooks_are_used(elsewhere):
    assert runbooks_dir() == ROOT / "runbooks"
    assert notebooks_dir() == ROOT / "notebooks"


def test_the_environment_overrides_win(elsewhere, monkeypatch):
    (elsewhere / "runbooks").mkdir()
    monkeypatch.setenv("LADDER_RUNBOOKS", "/srv/books")
    monkeypatch.setenv("LADDER_NOTEBOOKS", "/srv/notes")
    assert runbooks_dir() == Path("/srv/books")
    assert notebooks_dir() == Path("/srv/notes")


def test_a_runbooks_folder_in_the_working_folder_wins_over_the_source_tree(elsewhere):
    (elsewhere / "runbooks").mkdir()
    assert runbooks_dir() == Path("runbooks")


def test_a_notebooks_folder_counts_only_when_it_holds_the_assessment(elsewhere):
    (elsewhere / "notebooks").mkdir()
    assert notebooks_dir() == ROOT / "notebooks"
    (elsewhere / "notebooks" / "assessment.ipynb").write_text("{}")
    assert notebooks_dir() == Path("notebooks")


def test_copy_lays_out_every_runbook_and_the_assessment_as_in_the_repository(elsewhere):
    done = copy(elsewhere / "mine")
    runbooks = sorted(p.name for p in (ROOT / "runbooks").iterdir() if p.suffix == ".ipynb" or p.name == "README.md")
    assert sorted(c.target.name for c in done if c.target.parent.name == "runbooks") == runbooks
    assert (elsewhere / "mine" / "notebooks" / "assessment.ipynb").read_bytes() == (
        ROOT / "notebooks" / "assessment.ipynb"
    ).read_bytes()
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert "onboarding.ipynb" in notebooks
    assert sorted(c.target.name for c in done if c.target.parent.name == "notebooks") == notebooks
    for c in done:
        assert c.target.read_bytes() == c.source.read_bytes()


def test_copied_runbooks_are_the_ones_used_from_that_folder(elsewhere, monkeypatch):
    copy(elsewhere / "mine")
    monkeypatch.chdir(elsewhere / "mine")
    assert runbooks_dir() == Path("runbooks")
    assert notebooks_dir() == Path("notebooks")


def test_copy_refuses_to_overwrite_and_copies_nothing(elsewhere):
    edited = elsewhere / "mine" / "notebooks" / "assessment.ipynb"
    edited.parent.mkdir(parents=True)
    edited.write_text("my edits")
    with pytest.raises(CopyRefused) as refused:
        copy(elsewhere / "mine")
    assert refused.value.existing == [edited]
    assert "--force" in str(refused.value)
    assert edited.read_text() == "my edits"
    assert not (elsewhere / "mine" / "runbooks").exists()


def test_copy_with_force_overwrites(elsewhere):
    edited = elsewhere / "mine" / "notebooks" / "assessment.ipynb"
    edited.parent.mkdir(parents=True)
    edited.write_text("my edits")
    copy(elsewhere / "mine", force=True)
    assert edited.read_bytes() == (ROOT / "notebooks" / "assessment.ipynb").read_bytes()


def test_copy_into_a_file_is_refused(elsewhere):
    (elsewhere / "mine").write_text("")
    with pytest.raises(CopyRefused, match="is a file"):
        copy(elsewhere / "mine")


def test_copy_onto_the_notebooks_being_run_is_refused_even_with_force(elsewhere):
    copy(elsewhere)
    before = (elsewhere / "runbooks" / "README.md").read_bytes()
    with pytest.raises(CopyRefused, match="very notebooks"):
        copy(elsewhere, force=True)
    assert (elsewhere / "runbooks" / "README.md").read_bytes() == before
