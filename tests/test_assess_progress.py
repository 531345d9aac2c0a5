"""The progress bar: its caption, escaped; outside a notebook it shows nothing and costs nothing."""

from __future__ import annotations

import pytest

from ladder.assess.progress import Progress

pytestmark = pytest.mark.unit


def test_outside_a_notebook_the_bar_is_silent():
    bar = Progress("repository checks", 3)
    assert bar.handle is None
    bar.update(1, "env-separation")
    bar.finish()


def test_the_bar_shows_how_far_the_work_is():
    bar = Progress("<checks>", 4)
    text = bar.html(2, "a & b")
    assert "<progress value='2' max='4'" in text and "&lt;checks&gt;: 2/4 a &amp; b" in text
