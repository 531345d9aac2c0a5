"""Tests for ladder.sandbox.story: the story fits the template app it tells the growth of."""

from __future__ import annotations

import pytest

from ladder.sandbox.app import app_files
from ladder.sandbox.history import master_history
from ladder.sandbox.story import HOTFIXES, REDESIGN

pytestmark = pytest.mark.unit


def test_every_hotfix_rewrites_exactly_one_line_of_the_template_app() -> None:
    files = app_files()
    for path, final, hotfixed in HOTFIXES:
        matches = [line for line in files[path].splitlines() if line.strip() == final]
        assert len(matches) == 1, (path, final)
        assert hotfixed != final


def test_the_plan_reveals_the_whole_template_without_a_catch_all_commit() -> None:
    messages = [message for message, _ in master_history(app_files())]
    assert "more changes" not in messages


def test_the_redesign_only_writes_files_master_never_has() -> None:
    written = {path for _, files in REDESIGN for path in files}
    assert written and not written & set(app_files())
