"""Tests for ladder.sandbox.history: how files split into units, and master's history replayed from the story (no git)."""

from __future__ import annotations

import pytest

from ladder.sandbox.app import app_files
from ladder.sandbox.history import line_units, master_history

pytestmark = pytest.mark.unit


def test_history_still_ends_at_the_template_when_the_template_grows() -> None:
    files = app_files()
    files["app.py"] += '\n\ndef extra(environ):\n    """Not in PLAN yet."""\n    return "200 OK", {}\n'
    files["docs/NOTES.md"] = "# notes\n\nsomething new\n"
    commits = master_history(files)
    assert commits[-1] == ("more changes", files)


def test_python_units_are_top_level_statements_with_their_comments_and_each_route() -> None:
    text = '''"""Doc."""

import os

# why X is one
X = 1


@decorator
def f():
    return 1

ROUTES = [
    ("GET", "/", index),
    ("GET", "/health", health),
]
'''
    assert line_units("m.py", text) == [
        "doc",
        "os",
        "os",
        "X",
        "X",
        "X",
        "f",
        "f",
        "f",
        "f",
        "f",
        "ROUTES",
        "ROUTES",
        "ROUTES:index",
        "ROUTES:health",
        "ROUTES",
    ]


def test_markdown_units_are_sections_and_blank_lines_join_the_next_one() -> None:
    text = "# items\n\nintro\n\n## Run\n\n    run it\n"
    assert line_units("README.md", text) == ["# items"] * 3 + ["## Run"] * 4


def test_other_files_have_one_unit_per_line_and_trailing_blanks_join_the_last() -> None:
    assert line_units(".gitignore", "a\n\nb\n\n") == ["a", "b", "b", "b"]


def test_master_starts_with_the_readme_heading_and_every_commit_changes_the_tree() -> None:
    commits = master_history(app_files())
    assert commits[0] == ("initial commit", {"README.md": "# items\n\nA small web app that keeps a list of items.\n"})
    assert all(before[1] != after[1] for before, after in zip(commits, commits[1:]))
    assert master_history(app_files()) == commits


def test_a_plan_step_naming_a_unit_the_template_lacks_is_refused() -> None:
    files = app_files()
    files[".gitignore"] = files[".gitignore"].replace("*.pyc\n", "")
    with pytest.raises(ValueError, match=r"PLAN step 'gitignore' names units the template lacks.*\*\.pyc"):
        master_history(files)


def test_an_early_version_of_a_line_the_template_lost_points_at_the_story() -> None:
    files = app_files()
    files["app.py"] = files["app.py"].replace("sqlite3.connect(config.DB_PATH)", "sqlite3.connect(config.DB)")
    with pytest.raises(ValueError, match=r"found 0; fix EARLY in ladder\.sandbox\.story$"):
        master_history(files)
