"""The progress bar: one source, drawn on a terminal only; its record's caption escaped."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import termios

import pytest

from ladder.assess.progress import Progress

pytestmark = pytest.mark.unit


def test_outside_a_terminal_the_bar_is_silent(capsys):
    bar = Progress("repository checks", 3)
    bar.update(1, "env-separation")
    bar.finish()
    assert capsys.readouterr().err == ""


def test_on_a_terminal_the_bar_shows_how_far_the_work_is(monkeypatch):
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    with os.fdopen(follower, "w") as tty:
        monkeypatch.setattr("sys.stderr", tty)
        bar = Progress("repository checks", 4)
        bar.update(2, "trunk-frequency")
        bar.finish()
        shown = b""
        while select.select([leader], [], [], 0)[0]:
            shown += os.read(leader, 65536)
    os.close(leader)
    text = shown.decode()
    assert "repository checks:" in text and "0/4" in text  # drawn at once; updates come at most 10 a second
    assert "4/4" in text and "done in" in text


def test_the_record_keeps_the_final_state_escaped():
    bar = Progress("<checks>", 4)
    text = bar.html(2, "a & b")
    assert "<progress value='2' max='4'" in text and "&lt;checks&gt;: 2/4 a &amp; b" in text
