"""ladder.rungs.workfolder: the small first changes on offer, made and committed in a clone of the team's repository."""

from __future__ import annotations

import pytest

from gitrepo import git
from ladder.core.errors import HostError, LadderError, ParameterError
from ladder.rungs import workfolder
from ladder.sandbox.app import TEMPLATE
from ladder.sandbox.repo import seed_repo


@pytest.mark.unit
@pytest.mark.parametrize("key", list(workfolder.CHANGES))
def test_every_change_on_offer_fits_the_sandbox_app(key):
    edit = workfolder.CHANGES[key]
    text = (TEMPLATE / edit.file).read_text()
    assert text.count(edit.old) == 1 and edit.new not in text and edit.shows in edit.new
    assert edit.page.startswith("/")
    diff = edit.diff(text).splitlines()
    removed = [line for line in diff[2:] if line.startswith("-")]
    added = [line for line in diff[2:] if line.startswith("+")]
    assert diff[:2] == [f"--- a/{edit.file}", f"+++ b/{edit.file}"]
    assert len(removed) == len(added) == 1 and edit.old in removed[0] and edit.new in added[0]


@pytest.mark.unit
def test_edit_of_names_the_changes_on_offer():
    assert workfolder.edit_of("greeting") is workfolder.CHANGES["greeting"]
    with pytest.raises(
        ParameterError, match="change 'x' is not on offer; use one of: greeting, not-found, newcomer-hint"
    ):
        workfolder.edit_of("x")


@pytest.fixture
def folder(tmp_path):
    """A clone of the seeded team repository, as a working folder."""
    origin = seed_repo(tmp_path / "origin")
    git(tmp_path, "clone", "-q", str(origin), "work")
    return workfolder.WorkFolder(tmp_path / "work", str(origin))


@pytest.mark.local
def test_make_change_plans_then_commits_then_has_nothing_to_do(folder):
    plan = workfolder.make_change(folder, "greeting")
    assert plan.change.outcome == "planned" and plan.commit == "" and folder.ahead() == []
    assert "-<h1>Items</h1>\n+<h1>Items, kept by the whole team</h1>\n" in plan.diff
    made = workfolder.make_change(folder, "greeting", dry_run=False)
    assert made.summary() == f"Greet visitors on the home page: committed in your working folder as {made.commit}."
    assert folder.ahead() == [f"{made.commit} Greet visitors on the home page"]
    assert list(folder.changed()) == ["app.py"] and folder.base() == git(folder.path, "rev-parse", "origin/master")
    again = workfolder.make_change(folder, "greeting", dry_run=False)
    assert again.change.outcome == "ok" and "already made" in again.summary()


@pytest.mark.local
def test_without_a_clone_a_dry_run_still_shows_the_change_and_an_apply_is_refused(tmp_path):
    missing = workfolder.WorkFolder(tmp_path / "none", "unused")
    plan = workfolder.make_change(missing, "not-found")
    edit = workfolder.CHANGES["not-found"]
    assert plan.change.outcome == "planned"
    assert plan.diff == f"--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-{edit.old}\n+{edit.new}\n"
    assert "Not cloned (dry run)" in missing._repr_html_()
    with pytest.raises(HostError, match="is not cloned yet; get the code first"):
        workfolder.make_change(missing, "not-found", dry_run=False)


@pytest.mark.local
def test_uncommitted_work_in_the_file_is_refused_not_swept_into_the_commit(folder):
    app = folder.path / "app.py"
    app.write_text(app.read_text() + "# my note\n")
    with pytest.raises(LadderError, match="uncommitted edits to app.py; commit or stash them there first"):
        workfolder.make_change(folder, "greeting", dry_run=False)
    assert app.read_text().endswith("# my note\n") and folder.ahead() == []


@pytest.mark.local
def test_a_change_that_does_not_fit_the_repository_is_refused(folder):
    (folder.path / "app.py").write_text("print('another app')\n")
    with pytest.raises(HostError, match="does not contain '<h1>Items</h1>'; this change does not fit the repository"):
        workfolder.make_change(folder, "greeting")
