"""ladder.core.ops: planning is the default and changes nothing, apply converges, a second apply changes nothing."""

import os

import pytest

from ladder.core import ops
from ladder.core.errors import HostError
from ladder.core.hosts import LocalHost
from tree import snapshot

pytestmark = pytest.mark.local


@pytest.fixture
def host(tmp_path):
    return LocalHost("here", tmp_path)


CASES = [
    ("directory", lambda h, **flag: ops.directory(h, h.path("a/b"), mode=0o750, **flag)),
    ("file", lambda h, **flag: ops.file(h, h.path("f.conf"), "key = 1\n", mode=0o640, **flag)),
    ("symlink", lambda h, **flag: ops.symlink(h, h.path("current"), "releases/v1", **flag)),
    ("line", lambda h, **flag: ops.line(h, h.path("hosts"), "127.0.0.1 shop", **flag)),
    ("settle", lambda h, **flag: ops.settle(h, "touch", "t", [ops.command(h, f"touch {h.path('t')}")], "new", **flag)),
]


@pytest.mark.parametrize("name, op", CASES, ids=[c[0] for c in CASES])
def test_plan_then_apply_then_nothing(host, tmp_path, name, op):
    before = snapshot(tmp_path)
    plan = op(host, dry_run=True)
    assert plan.changed and not plan.applied and plan.commands and plan.reason
    assert snapshot(tmp_path) == before, "a dry run changed the host"
    done = op(host, dry_run=False)
    assert done.changed and done.applied and done.commands == plan.commands
    if name != "settle":  # settle runs what it is given; the operations above it decide what is left to do
        again = op(host, dry_run=False)
        assert not again.changed and not again.applied and again.commands == ()
        assert again.reason == "already as wanted"


@pytest.mark.parametrize("name, op", CASES, ids=[c[0] for c in CASES])
def test_an_operation_called_without_the_flag_only_plans(host, tmp_path, name, op):
    before = snapshot(tmp_path)
    plan = op(host)
    assert plan.changed and not plan.applied and plan.outcome == "planned"
    assert snapshot(tmp_path) == before, "the default changed the host"


def test_results_on_disk(host, tmp_path):
    ops.directory(host, host.path("a/b"), mode=0o750, dry_run=False)
    assert (tmp_path / "a/b").is_dir() and (tmp_path / "a/b").stat().st_mode & 0o777 == 0o750
    ops.file(host, host.path("f"), "one\n", mode=0o600, dry_run=False)
    change = ops.file(host, host.path("f"), "two\n", mode=0o600, dry_run=False)
    assert change.reason == "content differs" and (tmp_path / "f").read_text() == "two\n"
    assert ops.file(host, host.path("f"), "two\n", mode=0o644, dry_run=False).reason == "mode 600 -> 644"
    ops.symlink(host, host.path("cur"), "v1", dry_run=False)
    change = ops.symlink(host, host.path("cur"), "v2", dry_run=False)
    assert change.reason == "points at v1" and os.readlink(tmp_path / "cur") == "v2"
    assert "mv -T" in change.commands[0]


def test_line_keeps_a_last_line_without_newline_whole(host, tmp_path):
    (tmp_path / "h").write_text("first")
    ops.line(host, host.path("h"), "second", dry_run=False)
    assert (tmp_path / "h").read_text() == "first\nsecond\n"


def test_wrong_kind_is_an_error_not_a_clobber(host, tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(HostError, match="is a directory, not a file"):
        ops.file(host, host.path("d"), "x")
    with pytest.raises(HostError, match="not a symlink"):
        ops.symlink(host, host.path("d"), "elsewhere")
    assert (tmp_path / "d").is_dir()


def test_values_are_quoted(host, tmp_path):
    weird = "it's $(touch pwned) here"
    ops.line(host, host.path("h"), weird, dry_run=False)
    ops.directory(host, host.path("x; touch pwned2"), dry_run=False)
    assert (tmp_path / "h").read_text() == weird + "\n"
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
