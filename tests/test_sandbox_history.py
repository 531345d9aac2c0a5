"""Tests for ladder.sandbox.history: master's history replayed from the story, without git."""

from __future__ import annotations

import pytest

from ladder.sandbox.app import app_files
from ladder.sandbox.history import master_history

pytestmark = pytest.mark.unit


def test_history_still_ends_at_the_template_when_the_template_grows() -> None:
    files = app_files()
    files["app.py"] += '\n\ndef extra(environ):\n    """Not in PLAN yet."""\n    return "200 OK", {}\n'
    files["docs/NOTES.md"] = "# notes\n\nsomething new\n"
    commits = master_history(files)
    assert commits[-1] == ("more changes", files)
