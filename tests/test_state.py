"""ladder.engine.state: a run's state begins empty, belongs to one run, and ends with it."""

from __future__ import annotations

import pytest

from ladder.engine import state

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def no_run():
    state.end()
    yield
    state.end()


def test_no_run_is_begun_by_looking():
    assert state.active() is None


def test_first_use_begins_an_empty_run_and_keeps_it():
    run = state.current()
    run.steps["deploy"] = [{"host": "web1"}]
    assert state.current() is run and state.active() is run


def test_begin_replaces_the_run_in_progress_with_an_empty_one():
    old = state.current()
    old.confirmed.add("prod")
    old.secrets.add("s3cr3t-value")
    new = state.begin()
    assert new is not old and (new.steps, new.confirmed, new.secrets) == ({}, set(), set())


def test_end_drops_what_the_run_kept():
    state.current().steps["deploy"] = []
    state.end()
    assert state.active() is None and state.current().steps == {}
