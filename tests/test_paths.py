"""Paths from outside data stay inside their folder: '..', absolute paths and symlinks out are refused."""

from __future__ import annotations

import pytest

from ladder.core.errors import LadderError, PathOutside
from ladder.core.paths import inside


@pytest.mark.unit
@pytest.mark.parametrize("name", ["../x", "../../../../tmp/x", "a/../../x", "/etc/passwd", "..", ".", "", "a\0b"])
def test_a_name_that_leaves_the_folder_is_refused_naming_value_and_folder(tmp_path, name):
    with pytest.raises(PathOutside) as err:
        inside(tmp_path / "runs", name, what="host name")
    assert isinstance(err.value, LadderError)
    assert err.value.folder == tmp_path / "runs" and str(tmp_path / "runs") in str(err.value)
    assert "host name" in str(err.value)


@pytest.mark.unit
def test_plain_names_and_subfolders_join_as_named(tmp_path):
    assert inside(tmp_path, "prod-1.patch") == tmp_path / "prod-1.patch"
    assert inside(tmp_path, "schedule", "rung1.lock") == tmp_path / "schedule" / "rung1.lock"
    assert inside(tmp_path, "deep/er/file.txt") == tmp_path / "deep" / "er" / "file.txt"
    assert inside(tmp_path, "a..b") == tmp_path / "a..b"  # dots inside a name are not '..'


@pytest.mark.local
def test_a_symlink_out_of_the_folder_is_refused_one_inside_is_kept(tmp_path):
    runs, outside = tmp_path / "runs", tmp_path / "precious"
    runs.mkdir()
    outside.mkdir()
    (runs / "escape").symlink_to(outside)
    (runs / "file-out").symlink_to(outside / "data.txt")
    with pytest.raises(PathOutside, match="escape"):
        inside(runs, "escape", "x.patch")
    with pytest.raises(PathOutside, match="file-out"):
        inside(runs, "file-out")
    (runs / "real").mkdir()
    (runs / "alias").symlink_to(runs / "real")
    assert inside(runs, "alias", "x.patch") == runs / "alias" / "x.patch"


@pytest.mark.local
def test_a_runs_home_that_is_itself_a_symlink_is_its_own_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "home").symlink_to(tmp_path / "real")
    assert inside(tmp_path / "home", "r1") == tmp_path / "home" / "r1"
