"""Answers kept per repository in the runs home: found by root commit and remote, written whole, redacted."""

from __future__ import annotations

import pytest

from gitrepo import GitRepo
from ladder.assess import Answers, load_answers, load_model
from ladder.assess.kept_answers import FOLDER, file_name, find_kept, identity, keep, kept_path
from ladder.assess.repo_facts import describe_repo
from ladder.core.errors import AnswersError, PathOutside

SHOP = {"path": "shop", "root": "a" * 40, "remote": "https://git.example/shop.git"}


@pytest.mark.local
def test_a_repository_finds_its_answers_by_root_commit_and_remote(tmp_path):
    runs = tmp_path / "runs"
    assert find_kept(runs, SHOP) is None and kept_path(runs, SHOP) == runs / FOLDER / file_name(SHOP)
    kept = keep(Answers({"canary": "yes"}), kept_path(runs, SHOP), SHOP)
    assert load_answers(kept).answered() == {"canary": "yes"}  # an answers file like any other
    clone = {**SHOP, "path": "shop-copy", "remote": None}  # a clone elsewhere, without an origin
    assert find_kept(runs, clone) == kept and kept_path(runs, clone) == kept
    fork = {**SHOP, "remote": "https://git.example/fork.git"}
    assert find_kept(runs, fork) is None and kept_path(runs, fork) != kept
    stranger = {**SHOP, "root": "b" * 40}  # another history in a folder of the same name
    assert find_kept(runs, stranger) is None and kept_path(runs, stranger).name != kept.name


@pytest.mark.local
def test_a_real_clone_and_its_answers(tmp_path):
    model = load_model()
    repo = GitRepo(tmp_path / "app")
    repo.commit({"app.py": "x = 1\n"}, "start")
    me = identity(describe_repo(repo.path))
    assert set(me) == {"path", "root", "remote"} and me["root"] and me["remote"] is None
    kept = keep(Answers({"ci-tests": "partly"}), kept_path(tmp_path / "runs", me), me, model)
    assert kept.name.startswith(f"app-{me['root'][:12]}") and kept.read_text().endswith(
        f"repository:\n  path: app\n  root: {me['root']}\n  remote: null\n"
    )
    assert f"# {model.practice('ci-tests').question}" in kept.read_text()
    again = keep(Answers({"ci-tests": "no"}), kept, me, model)  # rewritten whole, in place
    assert again == kept and load_answers(kept, model).answered() == {"ci-tests": "no"}
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temporary file left behind


@pytest.mark.local
def test_kept_answers_are_redacted(tmp_path, monkeypatch):
    secret = "s3cr3t-" + "x" * 12
    monkeypatch.setenv("SHOP_API_TOKEN", secret)
    kept = keep(Answers({"canary": "no"}, {"canary": f"token {secret}"}), tmp_path / "a.yml", SHOP)
    assert secret not in kept.read_text() and "[redacted]" in kept.read_text()


@pytest.mark.local
@pytest.mark.parametrize(
    "text, words", [("answers: {\n", "not valid YAML"), ("answers:\n  canary: yes\n", "names no repository")]
)
def test_a_broken_kept_file_names_itself_and_the_fix(tmp_path, text, words):
    (tmp_path / FOLDER).mkdir()
    broken = tmp_path / FOLDER / "shop.yml"
    broken.write_text(text)
    with pytest.raises(AnswersError) as err:
        find_kept(tmp_path, SHOP)
    assert str(broken) in str(err.value) and words in str(err.value) and "delete the file" in str(err.value)


@pytest.mark.unit
def test_a_repository_name_that_leads_out_of_the_runs_home_is_refused(tmp_path):
    with pytest.raises(PathOutside, match="repository name"):
        kept_path(tmp_path / "runs", {**SHOP, "path": "../../../../tmp/x"})
