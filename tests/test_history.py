"""ladder.app.history: one streamed pass over `git log --numstat`, folded into fixed-size counters."""

from __future__ import annotations

from collections import Counter

import pytest

from ladder.app.history import LOG_FORMAT, is_artifact, is_test_path, log_args, median, parse_log

pytestmark = pytest.mark.unit


RECORDED_LOG = (
    b"\x1e1700000000 aaa\n\n3\t1\tapp.py\n2\t0\ttests/test_app.py\n"
    b"\x1e1700000100 bbb ccc\n"
    b"\x1e1700000200 ddd\n\n-\t-\tdist/app.whl\n100\t0\tpackage-lock.json\n4\t4\tapp.py\n"
    b"\x1e1700000300\n\n1\t1\t\xff\xfe-latin.py\n"
)


def test_parse_log_folds_commits():
    s = parse_log(iter(RECORDED_LOG.splitlines(keepends=True)), since=1700000150)
    assert (s.commits, s.merges, s.changed, s.touched_tests) == (3, 1, 3, 1)
    assert dict(s.sizes) == {6: 1, 8: 1, 2: 1}  # lock file and binary not counted
    assert (s.recent_commits, s.recent_changed) == (2, 2)
    assert s.artifact_samples == ["dist/app.whl"] and s.binary_changes == 1


def test_parse_log_memory_does_not_grow_with_commits():
    def lines(n):
        for i in range(n):
            yield b"\x1e%d p\n" % (1700000000 + i)
            yield b"\n"
            yield b"%d\t1\tsrc/m%d.py\n" % (i % 7, i % 50)

    s = parse_log(lines(50_000), since=0)
    assert s.commits == 50_000
    assert len(s.sizes) == 7  # one counter slot per distinct size, not per commit


def test_median_of_counts():
    assert median(Counter({1: 1, 3: 1})) == 2
    assert median(Counter({5: 3, 100: 1})) == 5
    assert median(Counter()) is None


def test_test_paths_and_artifacts_are_told_apart():
    assert is_test_path("tests/test_app.py") and is_test_path("src/app_test.go")
    assert not is_test_path("src/app.py")
    assert is_artifact("dist/shop-1.0-py3-none-any.whl") and not is_artifact("src/app.py")


def test_the_log_is_asked_for_in_the_format_the_parser_reads():
    args = log_args("master")
    assert "--numstat" in args and f"--format={LOG_FORMAT}" in args and args[-2:] == ["master", "--"]
    assert LOG_FORMAT == "%x1e%ct %P%x1f%an%x1f%ae"
    assert log_args("master", until=1700000000)[-3:] == ["--until=@1700000000", "master", "--"]


BOT_LOG = (
    b"\x1e1700000000 aaa\x1fAna\x1fana@example.com\n\n3\t1\tapp.py\n2\t0\ttests/test_app.py\n"
    b"\x1e1700000100 bbb\x1fdependabot[bot]\x1f49699333+dependabot[bot]@users.noreply.github.com\n\n"
    b"1\t1\trequirements.txt\n"
    b"\x1e1700000200 ccc\x1fBea\x1fbea@example.com\n\n40\t2\tapp/locale/fr/LC_MESSAGES/messages.po\n"
    b"\x1e1700000300 ddd\x1fCy\x1fcy@example.com\n\n10\t10\tpackage-lock.json\n1\t1\tpackage.json\n"
    b"\x1e1700000400 eee\x1fCy\x1fcy@example.com\n\n5\t1\tapp.py\n1\t1\tpackage.json\n"
)


def test_bot_translation_and_dependency_commits_are_left_out_of_changes():
    s = parse_log(iter(BOT_LOG.splitlines(keepends=True)), since=1700000150)
    assert s.commits == 5
    assert (s.changed, s.touched_tests) == (2, 1)  # Ana's and Cy's code changes
    assert dict(s.left_out) == {"bot": 1, "translation": 1, "dependency": 1}
    assert dict(s.recent_left_out) == {"translation": 1, "dependency": 1}
    assert (s.recent_changed, dict(s.sizes)) == (1, {6: 1, 8: 1})
