"""Gathering evidence: every check runs on odd repositories without crashing; hosts read from a ladder.yml."""

from __future__ import annotations

import json
import subprocess
import sys
import typing

import pytest

from assessing import by_id, health_server, make_checkout_host, make_origin
from gitrepo import DAY, NOW, GitRepo
from ladder.app.git import open_repo
from ladder.assess import NotARepository, gather_repo_evidence
from ladder.assess.catalogue import of_source
from ladder.assess.evidence import gather_host_evidence
from ladder.assess.repo_facts import describe_repo
from ladder.core.config import Config, load_config
from ladder.core.errors import LadderError


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


# ---- the repository: every check, on odd repositories -------------------------------------------


@pytest.mark.local
def test_progress_is_reported_check_by_check(repo):
    repo.commit({"a.py": "1\n"})
    seen = []
    results = gather_repo_evidence(repo.path, now=NOW, progress=lambda done, next_id: seen.append((done, next_id)))
    assert seen == [(i, r.id) for i, r in enumerate(results)] and len(seen) == len(of_source("repo"))


def _no_errors(results):
    assert len(results) == len(of_source("repo"))
    for r in results:
        assert not r.reason.startswith("check error"), (r.id, r.reason)


@pytest.mark.local
def test_empty_repository_is_inconclusive_everywhere(repo):
    results = gather_repo_evidence(repo.path, now=NOW)
    _no_errors(results)
    assert all(r.inconclusive and r.reason == "the repository has no commits" for r in results)
    assert describe_repo(repo.path)["empty"] is True


@pytest.mark.local
def test_shallow_clone(repo, tmp_path):
    repo.daily(15, start_days_ago=30, tests_every=3)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    results = {r.id: r for r in gather_repo_evidence(clone, now=NOW)}
    _no_errors(results.values())
    assert results["change-size"].inconclusive and results["change-size"].evidence["shallow_clone"] is True
    assert results["tests-present"].score is not None
    assert describe_repo(clone)["shallow"] is True


@pytest.mark.local
def test_no_main_or_master_branch(tmp_path):
    repo = GitRepo(tmp_path / "r", branch="develop")
    repo.daily(12, start_days_ago=20)
    repo.branch("feature")
    repo.commit({"b.py": "1\n"})
    results = {r.id: r for r in gather_repo_evidence(repo.path, now=NOW)}
    _no_errors(results.values())
    assert results["long-lived-branches"].inconclusive
    assert "no main or master" in results["trunk-frequency"].reason
    assert results["change-size"].evidence["history_of"] == "HEAD (no main or master branch)"
    assert results["change-size"].score is not None


@pytest.mark.local
def test_detached_head(repo):
    first = repo.commit({"a.py": "1\n"}, days_ago=5)
    repo.daily(12, start_days_ago=4)
    repo.checkout(first)
    assert describe_repo(repo.path)["detached_head"] is True
    results = {r.id: r for r in gather_repo_evidence(repo.path, now=NOW)}
    _no_errors(results.values())
    assert results["change-size"].evidence["history_of"] == "main"


@pytest.mark.local
def test_non_utf8_commit_messages_and_paths(repo):
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    (repo.path / "caf\xe9.py").write_text("x = 1\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-F", "-", input="caf\xe9 cr\xe8me \xff\n".encode("latin-1"), when=NOW - DAY)
    tree = repo.git("write-tree")
    raw = subprocess.run(
        ["git", "commit-tree", tree, "-p", "HEAD"],
        cwd=repo.path,
        input=b"bad \xff\xfe bytes\n",
        stdout=subprocess.PIPE,
        check=True,
        env={
            "GIT_AUTHOR_NAME": "D",
            "GIT_AUTHOR_EMAIL": "d@x",
            "GIT_COMMITTER_NAME": "D",
            "GIT_COMMITTER_EMAIL": "d@x",
            "PATH": "/usr/bin:/bin",
        },
    ).stdout
    repo.git("update-ref", "refs/heads/main", raw.decode().strip())
    _no_errors(gather_repo_evidence(repo.path, now=NOW))


@pytest.mark.local
def test_binary_and_very_large_files(repo):
    repo.commit(
        {
            "img/logo.png": bytes(range(256)) * 64,
            "big.txt": ("password = 'x'\n" * 900_000),
            "blob.bin": bytes(range(256)) * 50_000,
        }
    )
    results = {r.id: r for r in gather_repo_evidence(repo.path, now=NOW)}
    _no_errors(results.values())
    assert results["no-binaries"].evidence["large_files"][0]["path"] == "big.txt"
    # Files over 1 MB (big.txt, blob.bin) are not searched for secrets (git took minutes on big.txt): counted.
    assert results["config-out-of-code"].evidence["ignored"] == {"larger than 1 MB (not searched)": 2}


@pytest.mark.local
def test_not_a_repository(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotARepository) as err:
        gather_repo_evidence(tmp_path / "plain")
    assert isinstance(err.value, LadderError) and "not a git repository" in str(err.value)
    with pytest.raises(NotARepository, match="no such folder"):
        gather_repo_evidence(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotARepository, match="a file"):
        gather_repo_evidence(tmp_path / "file.txt")


@pytest.mark.local
def test_subfolder_of_a_repository_is_refused(repo):
    repo.commit({"sub/a.py": "1\n"})
    with pytest.raises(NotARepository, match="pass .*repo instead"):
        gather_repo_evidence(repo.path / "sub")


@pytest.mark.local
def test_every_result_is_plain_json(repo):
    repo.daily(12, start_days_ago=20, tests_every=2)
    for r in gather_repo_evidence(repo.path, now=NOW):
        json.dumps(r.to_dict())
        assert r.label in ("measured", "inferred", "inconclusive")
        assert r.score is None or 0 <= r.score <= 10


# ---- the hosts of a ladder.yml ---------------------------------------------------------------------


@pytest.mark.unit
def test_host_evidence_takes_a_loaded_config():
    assert typing.get_type_hints(gather_host_evidence)["config"] is Config


@pytest.mark.local
def test_gather_from_a_ladder_yml(tmp_path):
    make_checkout_host(tmp_path / "hosts" / "prod1", make_origin(tmp_path / "origin"))
    (tmp_path / "hosts" / "dev").mkdir(parents=True)
    with health_server() as port:
        (tmp_path / "ladder.yml").write_text(
            "app: {name: shop, repo: origin, port: %d}\n"
            "environments:\n"
            "  dev: {hosts: [{name: dev, address: local, base: hosts/dev}]}\n"
            "  prod: {hosts: [{name: prod1, address: local, base: hosts/prod1, python: %s}]}\n" % (port, sys.executable)
        )
        got = by_id(gather_host_evidence(load_config(tmp_path / "ladder.yml")))
    assert got["app-health"].inconclusive and "does not show that deploys are smoke tested" in got["app-health"].reason
    assert got["prod-unmodified"].score == 0
    assert got["separate-hosts"].score == 0 and "no dev host holds the app yet" in got["separate-hosts"].reason


@pytest.mark.ssh
def test_host_evidence_over_real_sshd(ssh_sandbox):
    config = load_config(ssh_sandbox.config_path)
    assert all(h.address == "127.0.0.1" for env in config.environments.values() for h in env.hosts)
    got = by_id(gather_host_evidence(config))
    assert got["prod-unmodified"].score == 0 and got["prod-unmodified"].evidence["hosts"][0]["modified"] == ["app.py"]
    assert got["prod-runs-release"].score == 0
    assert got["app-health"].inconclusive  # prod answers, which is not a smoke test
    assert got["separate-hosts"].score == 0  # separate sshd servers, but nobody works on dev yet
    assert got["dev-prod-parity"].score is not None


# ---- partial and damaged clones: read what is present, fetch nothing -------------------------------


def _project(tmp_path) -> GitRepo:
    """A small app with enough history for the history checks: settings, a helper module, CI, tests and a .psd."""
    src = GitRepo(tmp_path / "src")
    src.commit(
        {
            "app.py": "import os\nDEBUG = os.environ.get('DEBUG')\n",
            "lib/util.py": "def add(a, b):\n    return a + b\n",
            "requirements.txt": "flask\n",
            "art/logo.psd": b"\x00PSD" * 50,
        },
        days_ago=40,
    )
    src.commit({".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    steps:\n      - run: pytest\n"}, days_ago=30)
    for i in range(12):
        src.commit(
            {
                "app.py": f"import os\nDEBUG = os.environ.get('DEBUG')\nX = {i}\n",
                f"tests/test_{i}.py": "def test_x():\n    assert True\n",
            },
            days_ago=20 - i,
        )
    src.commit({"art/logo.psd": b"\x01PSD" * 60}, days_ago=3)
    src.git("config", "uploadpack.allowFilter", "true")
    return src


def _missing_count(path) -> int:
    out = subprocess.run(
        ["git", "-C", str(path), "rev-list", "--objects", "--missing=print", "--all"],
        env={**__import__("os").environ, "GIT_NO_LAZY_FETCH": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(line.startswith("?") for line in out.splitlines())


def _blobless_clone(src: GitRepo, clone, *checkout: str):
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", *checkout, src.path.as_uri(), str(clone)], check=True)
    return clone


def _drop_blob(repo: GitRepo, path: str, rev: str = "HEAD") -> None:
    blob = repo.git("rev-parse", f"{rev}:{path}")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()


HISTORY_CHECKS = ("trunk-frequency", "tests-with-changes", "long-lived-branches")


@pytest.mark.local
def test_a_blobless_clone_without_checkout_measures_history_and_fetches_nothing(tmp_path):
    clone = _blobless_clone(_project(tmp_path), tmp_path / "clone", "--no-checkout")
    before = _missing_count(clone)
    assert before > 0  # every blob is still on the promisor remote

    results = by_id(gather_repo_evidence(clone))

    assert _missing_count(clone) == before  # nothing was fetched lazily
    assert describe_repo(clone)["missing_objects"] == before
    assert not [c for c in results.values() if "check error" in c.reason]  # no traceback in any check
    # Commits, files and tests come from trees alone: the history checks are measured.
    assert all(results[i].score == 10 for i in HISTORY_CHECKS)
    assert results["change-size"].inconclusive and "line counts" in results["change-size"].reason
    # No file of the tree can be read: the checks that read files cannot conclude, and say why.
    for i in ("env-separation", "ci-tests", "config-out-of-code"):
        assert results[i].inconclusive and "objects missing from the clone" in results[i].reason


@pytest.mark.local
def test_a_blobless_clone_with_a_checkout_is_whole_but_for_line_counts(tmp_path):
    src = _project(tmp_path)
    whole = by_id(gather_repo_evidence(src.path))
    clone = _blobless_clone(src, tmp_path / "clone")  # the tip's blobs came with the checkout, not the history's

    results = by_id(gather_repo_evidence(clone))

    assert describe_repo(clone)["missing_objects"] > 0
    marked = {i for i, c in results.items() if "missing_objects" in c.evidence}
    assert marked == {"change-size"} and "line counts" in results["change-size"].reason
    assert all(c.score == whole[i].score for i, c in results.items() if i != "change-size")


@pytest.mark.local
def test_a_clone_missing_an_unrelated_binary_loses_no_check(tmp_path):
    src = _project(tmp_path)
    whole = by_id(gather_repo_evidence(src.path))
    _drop_blob(src, "art/logo.psd")
    _drop_blob(src, "art/logo.psd", "HEAD~1")  # an older version: only the history's pass meets it
    repo = open_repo(src.path)

    results = by_id(gather_repo_evidence(repo))

    assert describe_repo(repo)["missing_objects"] == 2
    assert not [i for i, c in results.items() if "missing_objects" in c.evidence]
    assert {i: c.score for i, c in results.items()} == {i: c.score for i, c in whole.items()}
    assert results["change-size"].evidence["median_lines"] == whole["change-size"].evidence["median_lines"]


@pytest.mark.local
def test_a_clone_missing_one_text_file_scores_the_checks_that_read_it_from_the_rest(tmp_path):
    src = _project(tmp_path)
    whole = by_id(gather_repo_evidence(src.path))
    _drop_blob(src, "lib/util.py")

    results = by_id(gather_repo_evidence(src.path))

    assert not [c for c in results.values() if "check error" in c.reason]
    partial = {i for i, c in results.items() if "missing_objects" in c.evidence}
    assert {"env-separation", "config-out-of-code", "change-size"} <= partial
    for i in partial:  # scored from the files present, and saying which file it went without
        assert results[i].score == whole[i].score
        assert results[i].evidence["unreadable"] == ["lib/util.py"]
        assert "partial: 1 files unreadable (missing objects)" in results[i].reason
    assert all(results[i].score == whole[i].score for i in HISTORY_CHECKS)


@pytest.mark.local
def test_a_clone_missing_the_only_file_a_check_needs_makes_that_check_inconclusive(tmp_path):
    src = _project(tmp_path)
    _drop_blob(src, "requirements.txt")

    results = by_id(gather_repo_evidence(src.path))

    # The only dependency manifest: what libraries the project uses cannot be told without it.
    assert results["dependency-updates"].inconclusive
    assert "1 objects missing from the clone; requirements.txt cannot be read" in results["dependency-updates"].reason
    assert results["env-separation"].score is not None  # app.py, which it reads, is there
