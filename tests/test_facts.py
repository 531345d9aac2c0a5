"""ladder.core.facts: pure parsers on recorded output, and the facts on a local host."""

import os

import pytest

from ladder.core import facts
from ladder.core.hosts import LocalHost


@pytest.mark.unit
def test_parse_path_recorded_outputs():
    assert facts.parse_path("missing\n") is None
    f = facts.parse_path("regular file|644\nsha256:abc\n")
    assert f.is_file and f.mode == 0o644 and f.sha256 == "abc"
    e = facts.parse_path("regular empty file|600\nsha256:e3b0\n")
    assert e.is_file and e.mode == 0o600
    d = facts.parse_path("directory|755\n")
    assert d.is_directory and d.target is None
    link = facts.parse_path("symbolic link|777\ntarget:releases/v2\n")
    assert link.is_link and link.target == "releases/v2"
    assert facts.parse_path("fifo|644\n").kind == "other"


@pytest.mark.unit
def test_parse_os_release():
    text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n# comment\nVERSION_ID="12"\n'
    assert facts.parse_os_release(text) == {
        "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)",
        "ID": "debian",
        "VERSION_ID": "12",
    }


@pytest.mark.local
def test_get_path_on_a_local_host(tmp_path):
    host = LocalHost("here", tmp_path)
    (tmp_path / "f").write_text("x")
    os.symlink("f", tmp_path / "l")
    os.symlink("gone", tmp_path / "dangling")
    assert (
        facts.get_path(host, str(tmp_path / "f")).sha256
        == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    )
    assert facts.get_path(host, str(tmp_path / "l")).target == "f"
    assert facts.get_path(host, str(tmp_path / "dangling")).is_link
    assert facts.get_path(host, str(tmp_path)).is_directory
    assert facts.get_path(host, str(tmp_path / "nope")) is None


@pytest.mark.unit
def test_has_line():
    assert facts.has_line("a\nb\n", "b") and not facts.has_line("ab\n", "b")
