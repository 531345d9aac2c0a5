"""Where Ladder finds its runbooks and the assessment notebook."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.engine.notebooks import notebooks_dir, runbooks_dir, source_tree

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
