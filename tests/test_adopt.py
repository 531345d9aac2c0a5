"""ladder.app.adopt (with copied and nearest): a copied prod folder is snapshotted, then made a checkout of its
nearest commit with every byte kept; a dry run, a second run and a run cut short between its commands."""

import subprocess
import tarfile

import pytest

from gitrepo import GitRepo, git
from ladder.app import adopt, checkout, copied, nearest
from ladder.core.hosts import LocalHost
from tree import snapshot


@pytest.mark.unit
def test_kept_apart_paths():
    for path in ("venv/bin/python", ".git/HEAD", "shared/app.db", "logs/a.log", "pkg/__pycache__/x.py", "a.pyc"):
        assert adopt.kept_apart(path), path
    for path in ("app.py", "templates/shared/base.html", "docs/logs.md"):
        assert not adopt.kept_apart(path), path


@pytest.mark.unit
def test_parse_listing_and_its_bound():
    out = "12 " + "a" * 64 + " " + "b" * 40 + " app.py\0" + "3 " + "c" * 64 + " " + "d" * 40 + " with space/x y\0"
    files = adopt.parse_listing(out)
    assert [f.path for f in files] == ["app.py", "with space/x y"] and files[0].size == 12
    with pytest.raises(ValueError, match="more than 1 files"):
        adopt.parse_listing(out, limit=1)


@pytest.mark.unit
def test_pick_prefers_most_identical_files_then_fewest_differences_then_newest():
    files = {"a": "1", "b": "2", "c": "9"}
    trees = [
        ("new", {"a": "1", "b": "0"}),
        ("mid", {"a": "1", "b": "2", "d": "4"}),
        ("old", {"a": "1", "b": "2"}),
        ("older", {"a": "1", "b": "2"}),
    ]
    m = nearest.pick(files, trees)
    assert (m.commit, m.same, m.changed, m.added, m.removed) == ("old", 2, (), ("c",), ())
    assert nearest.pick({"x": "7"}, trees) is None
    assert nearest.compare("c", {"logs/.keep": "1", "a": "1"}, {"a": "2"}).removed == ()


@pytest.mark.unit
def test_parse_ls_tree_and_quoted_commands():
    out = "100644 blob " + "a" * 40 + "\tapp.py\0" + "160000 commit " + "b" * 40 + "\tvendor/sub\0"
    assert nearest.parse_ls_tree(out) == {"app.py": "a" * 40}
    cmd = adopt.archive_command("/srv/my app", "/srv/my app.adopted-S.tar.gz")
    assert cmd == (
        "tar czf '/srv/my app.adopted-S.tar.gz.part' -C /srv -- 'my app' "
        "&& mv -f -- '/srv/my app.adopted-S.tar.gz.part' '/srv/my app.adopted-S.tar.gz'"
    )
    assert adopt.git_dir_aside("/srv/app/") == "/srv/app.adopt-git" and adopt.beside("/srv/app", "S").endswith(
        "/srv/app.adopted-S.tar.gz"
    )


def copied_from(repo, commit, folder):
    """Prod as scp left it: the files of commit, no .git; then edited in place."""
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(repo), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "x", "-C", str(folder)], input=archive, check=True)
    (folder / "app.py").write_text((folder / "app.py").read_text() + "# HOTFIX\n")
    (folder / "extra.txt").write_bytes(bytes(range(256)))
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "app.cpython.pyc").write_bytes(b"\0cache")


@pytest.fixture
def team(tmp_path):
    repo = GitRepo(tmp_path / "repo", branch="master")
    first = repo.commit({"app.py": "v = 1\n", "lib.py": "x = 1\n", ".gitignore": "*.log\n__pycache__/\n"}, "first")
    second = repo.commit({"lib.py": "x = 2\n", "README": "hi\n"}, "second")
    repo.commit({"app.py": "v = 3\n", "lib.py": "x = 3\n"}, "third")
    folder = tmp_path / "hosts" / "prod" / "app"
    folder.parent.mkdir(parents=True)
    copied_from(repo.path, second, folder)
    (folder / "debug.log").write_text("ignored by the app's .gitignore, kept in the archive\n")
    return repo, first, second, folder, LocalHost("prod", tmp_path / "hosts" / "prod")


def files_of(archive):
    with tarfile.open(archive) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


@pytest.mark.local
def test_snapshot_finds_the_nearest_commit_and_changes_nothing(team, tmp_path):
    repo, first, second, folder, host = team
    before = snapshot(tmp_path / "hosts")
    repo_before = snapshot(repo.path)
    assert adopt.get_kind(host, str(folder)) == adopt.FILES
    assert adopt.get_kind(host, str(tmp_path / "nope")) == adopt.MISSING
    listed = {f.path for f in adopt.get_files(host, str(folder))}
    assert listed == {"app.py", "lib.py", "README", ".gitignore", "extra.txt", "debug.log"}
    snap = copied.take(host, str(folder), str(repo.path), tmp_path / "run")
    assert snap.commit == second and snap.files == 6
    assert snap.status.modified == ("app.py",) and snap.status.untracked == ("extra.txt",)
    assert snapshot(tmp_path / "hosts") == before and snapshot(repo.path) == repo_before
    kept = files_of(snap.archive)
    assert kept == {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    # The patch applies onto the nearest commit and gives the folder's files back.
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(repo.path), str(fresh))
    git(fresh, "checkout", "-q", "--detach", second)
    git(fresh, "apply", str(snap.patch.path))
    for name in ("app.py", "lib.py", "README", "extra.txt"):
        assert (fresh / name).read_bytes() == (folder / name).read_bytes()


@pytest.mark.local
def test_adopt_plans_then_makes_a_checkout_with_every_byte_kept_and_then_changes_nothing(team, tmp_path):
    repo, first, second, folder, host = team
    before = snapshot(tmp_path / "hosts")
    plan = adopt.adopt(host, str(folder), str(repo.path), second, "S1")
    assert plan.outcome == "planned" and len(plan.commands) == 3
    assert snapshot(tmp_path / "hosts") == before, "the dry run changed a byte"
    done = adopt.adopt(host, str(folder), str(repo.path), second, "S1", dry_run=False)
    assert done.outcome == "changed"
    after = snapshot(tmp_path / "hosts")
    assert {p: v for p, v in after.items() if "/app/.git/" not in p + "/" and ".adopted-" not in p} == before
    status = checkout.get_status(host, str(folder))
    assert status.head == second and status.modified == ("app.py",) and status.untracked == ("extra.txt",)
    assert checkout.remote_commit(host, str(folder), "master") == git(repo.path, "rev-parse", "master")
    assert files_of(tmp_path / "hosts" / "prod" / "app.adopted-S1.tar.gz")["app.py"].endswith(b"# HOTFIX\n")
    again = adopt.adopt(host, str(folder), str(repo.path), second, "S2", dry_run=False)
    assert again.outcome == "ok" and not (tmp_path / "hosts" / "prod" / "app.adopted-S2.tar.gz").exists()


@pytest.mark.local
def test_a_run_cut_short_before_the_rename_leaves_a_plain_folder_that_the_next_run_adopts(team, tmp_path):
    repo, first, second, folder, host = team
    before = snapshot(folder)
    plan = adopt.adopt(host, str(folder), str(repo.path), second, "S1")
    for cmd in plan.commands[:2]:  # archived and the git directory prepared aside; cut before the rename
        host.run(cmd)
    assert adopt.get_kind(host, str(folder)) == adopt.FILES and snapshot(folder) == before
    adopt.adopt(host, str(folder), str(repo.path), second, "S2", dry_run=False)
    assert checkout.get_status(host, str(folder)).head == second
    assert not (tmp_path / "hosts" / "prod" / "app.adopt-git").exists()
