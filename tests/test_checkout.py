"""ladder.app.checkout: a checkout's state, and in-place edits saved as a patch that applies cleanly onto HEAD."""

import hashlib
import os
import shlex

import pytest

from gitrepo import GitRepo, git
from ladder import load_config
from ladder.app import checkout
from ladder.app import git as gitcli
from ladder.core.errors import HostError, PathOutside, RefError
from ladder.core.hosts import LocalHost, environment_hosts


def tree(root):
    """Every file under root (without .git) with its bytes."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = open(path, "rb").read()
    return out


STATUS_Z = " M app.py\0M  config.py\0R  new.py\0old.py\0?? app.py.bak\0?? notes/todo.txt\0!! __pycache__/x.pyc\0"


@pytest.mark.unit
def test_parse_status_of_recorded_output():
    modified, untracked = checkout.parse_status(STATUS_Z)
    assert modified == ("app.py", "config.py", "new.py")
    assert untracked == ("app.py.bak", "notes/todo.txt")
    assert checkout.parse_status("") == ((), ())


LS_REMOTE = """\
1111111111111111111111111111111111111111\trefs/heads/master
2222222222222222222222222222222222222222\trefs/heads/feature/redesign
3333333333333333333333333333333333333333\trefs/tags/v1.0
4444444444444444444444444444444444444444\trefs/tags/v1.0^{}
5555555555555555555555555555555555555555\trefs/tags/v0.9
"""


@pytest.mark.unit
def test_parse_ls_remote_and_resolve():
    refs = checkout.parse_ls_remote(LS_REMOTE)
    assert checkout.resolve(refs, "master") == "1" * 40
    assert checkout.resolve(refs, "feature/redesign") == "2" * 40
    assert checkout.resolve(refs, "v1.0") == "4" * 40  # an annotated tag resolves to its commit
    assert checkout.resolve(refs, "v0.9") == "5" * 40
    assert checkout.resolve(refs, "nope") is None


@pytest.mark.unit
@pytest.mark.parametrize("ref", ["", "-x", "--upload-pack=evil", "a..b", "a b", "x;rm -rf /", "br/", "x.lock"])
def test_check_ref_refuses_what_is_not_a_ref(ref):
    with pytest.raises(RefError, match="not a branch, tag or commit name"):
        checkout.check_ref(ref)


@pytest.mark.unit
def test_check_ref_accepts_refs():
    for ref in ("master", "feature/redesign", "v1.2.3", "abc1234", "release_2024-01"):
        assert checkout.check_ref(ref) == ref
    assert checkout.is_commit_id("abc1234") and not checkout.is_commit_id("master")


@pytest.fixture
def prod(local_sandbox):
    cfg = load_config(local_sandbox.config_path)
    [host] = environment_hosts(cfg, "prod")
    return host, host.path("app"), local_sandbox


@pytest.mark.local
def test_status_of_the_edited_prod_checkout(prod):
    host, app, box = prod
    status = checkout.get_status(host, app)
    assert status.modified == ("app.py",) and status.untracked == ("app.py.bak",) and not status.clean
    assert status.head == git(box.repo, "rev-parse", "master")
    assert checkout.get_status(host, host.base) is None  # not a checkout


@pytest.mark.local
def test_saved_patch_applies_cleanly_onto_head(prod, tmp_path):
    host, app, box = prod
    before = tree(app)
    saved = checkout.save_edits(host, app, tmp_path / "run")
    assert saved.path == tmp_path / "run" / f"{host.name}.patch"
    assert saved.modified == ("app.py",) and saved.untracked == ("app.py.bak",)
    data = saved.path.read_bytes()
    assert saved.size == len(data) and saved.sha256 == hashlib.sha256(data).hexdigest()
    assert tree(app) == before and checkout.get_status(host, app).edited == ("app.py", "app.py.bak"), (
        "saving changed the checkout"
    )
    # A fresh checkout of the same commit plus the patch is exactly what prod had.
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(box.repo), str(fresh))
    git(fresh, "checkout", "-q", "--detach", saved.head)
    git(fresh, "apply", "--check", str(saved.path))
    git(fresh, "apply", str(saved.path))
    assert tree(fresh) == tree(app)
    assert saved.to_dict()["head"] == saved.head[:12]


@pytest.mark.local
def test_untracked_binary_and_nested_files_are_saved(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"a.txt": "one\n"}, "first")
    repo.write({"a.txt": "two\n", "deep/er/blob.bin": bytes(range(256)) * 4, "with space.txt": "spaced\n"})
    origin = repo.path
    host = LocalHost("h", tmp_path)
    saved = checkout.save_edits(host, str(origin), tmp_path / "out")
    assert set(saved.untracked) == {"deep/er/blob.bin", "with space.txt"}
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(origin), str(fresh))
    git(fresh, "apply", str(saved.path))
    assert tree(fresh) == tree(origin)


@pytest.mark.unit
def test_every_git_command_starts_with_one_prefix():
    assert shlex.split(checkout.GIT) == list(gitcli.GIT_ARGV)
    assert {"--no-pager", "color.ui=false", "core.quotepath=false"} <= set(gitcli.GIT_ARGV)
    assert checkout.diff_command("/srv/app") == f"cd /srv/app && {checkout.patch_command()}"


@pytest.mark.local
def test_edited_files_with_utf8_names_are_named_as_they_are(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"café.txt": "one\n"}, "first")
    repo.write({"café.txt": "two\n", "naïve.txt": "new\n"})
    saved = checkout.save_edits(LocalHost("h", tmp_path), str(repo.path), tmp_path / "out")
    patch = saved.path.read_text()
    assert "diff --git a/café.txt b/café.txt" in patch and "+++ b/naïve.txt" in patch
    assert saved.modified == ("café.txt",) and saved.untracked == ("naïve.txt",)


@pytest.mark.local
def test_clean_checkout_saves_nothing(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"a": "a\n"}, "a")
    host = LocalHost("h", tmp_path)
    assert checkout.save_edits(host, str(repo.path), tmp_path / "out") is None
    assert not (tmp_path / "out").exists()
    with pytest.raises(HostError, match="not a git checkout"):
        checkout.save_edits(host, str(tmp_path), tmp_path / "out")


@pytest.mark.local
def test_remote_commit_reads_without_fetching(prod):
    host, app, box = prod
    master = git(box.repo, "rev-parse", "master")
    refs_before = git(app, "for-each-ref")
    assert checkout.remote_commit(host, app, "master") == master
    assert checkout.remote_commit(host, app, "no-such-branch") is None
    assert checkout.remote_commit(host, app, master[:10]) == master  # a commit id known locally
    assert git(app, "for-each-ref") == refs_before, "reading the remote fetched"


@pytest.mark.local
def test_sync_clones_then_fast_forwards_and_keeps_local_work(tmp_path):
    origin = GitRepo(tmp_path / "origin", branch="master")
    origin.commit({"a": "a\n"}, "a")
    host = LocalHost("h", tmp_path)
    work = str(tmp_path / "work")
    plan = checkout.sync(host, work, str(origin.path), "master")
    assert plan.outcome == "planned" and not os.path.exists(work)
    assert checkout.sync(host, work, str(origin.path), "master", dry_run=False).outcome == "changed"
    assert checkout.sync(host, work, str(origin.path), "master", dry_run=False).outcome == "ok"
    new = origin.commit({"b": "b\n"}, "b")
    forward = checkout.sync(host, work, str(origin.path), "master", dry_run=False)
    assert forward.outcome == "changed" and "fast-forward" in forward.reason and git(work, "rev-parse", "HEAD") == new
    git(work, "commit", "-q", "--allow-empty", "-m", "mine, not pushed")
    assert checkout.is_ancestor(host, work, new)
    assert checkout.sync(host, work, str(origin.path), "master", dry_run=False).outcome == "ok"  # ahead: nothing to do
    (tmp_path / "work" / "a").write_text("edited\n")
    kept = checkout.sync(host, work, str(origin.path), "master", dry_run=False)
    assert kept.outcome == "ok" and kept.reason == "local edits kept, not updated: a"


@pytest.mark.local
@pytest.mark.parametrize("name", ["../../../../x", "../x", "a/../../x"])
def test_a_host_name_that_leads_out_of_the_folder_writes_nothing(tmp_path, name):
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"a.txt": "one\n"}, "first")
    repo.write({"a.txt": "two\n"})
    run = tmp_path / "runs" / "r1" / "prod-edits"
    with pytest.raises(PathOutside, match="host name") as err:
        checkout.save_edits(LocalHost(name, tmp_path), str(repo.path), run)
    assert err.value.folder == run
    assert not list(tmp_path.rglob("*.patch"))


@pytest.mark.local
def test_a_symlink_out_of_the_run_folder_is_not_written_through(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"a.txt": "one\n"}, "first")
    repo.write({"a.txt": "two\n"})
    (tmp_path / "precious").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "h.patch").symlink_to(tmp_path / "precious" / "data")
    with pytest.raises(PathOutside, match="h.patch"):
        checkout.save_edits(LocalHost("h", tmp_path), str(repo.path), tmp_path / "run")
    assert not (tmp_path / "precious" / "data").exists()
