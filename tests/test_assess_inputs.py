"""An assessment's inputs are checked before anything runs; the notebook is found."""

from __future__ import annotations

import pytest
import yaml

from gitrepo import GitRepo
from ladder.assess import NotARepository
from ladder.assess.inputs import check_inputs, hosts_text, notebook_path
from ladder.core.config import load_config
from ladder.core.errors import AnswersError, ConfigError, LadderError


@pytest.fixture
def repo(tmp_path):
    r = GitRepo(tmp_path / "shop")
    r.commit({"app.py": "x = 1\n"})
    return r


@pytest.mark.local
def test_inputs_are_checked_before_anything_runs(repo, tmp_path, local_sandbox):
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotARepository, match="plain: not a git repository"):
        check_inputs(tmp_path / "plain")
    with pytest.raises(LadderError, match="nothing to assess: pass a repository"):
        check_inputs("", "")
    bad = tmp_path / "answers.yml"
    bad.write_text("answers:\n  tests-present: often\n")
    with pytest.raises(AnswersError, match="answers.tests-present: answer 'often' is not one of"):
        check_inputs(repo.path, "", bad)
    data = yaml.safe_load(local_sandbox.config_path.read_text())
    data["app"]["repo"] = "https://git.example.com/shop.git"
    remote = local_sandbox.dir / "remote.yml"
    remote.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"app.repo: 'https://git.example.com/shop.git' is a git URL; clone it"):
        check_inputs("", remote)
    got = check_inputs("", local_sandbox.config_path)  # the config's app repo
    assert got.repo.path == local_sandbox.repo.resolve() and got.config.path == local_sandbox.config_path


@pytest.mark.local
def test_a_loaded_config_is_taken_as_it_is(local_sandbox):
    config = load_config(local_sandbox.config_path)
    got = check_inputs("", config)
    assert got.config is config and got.repo.path == local_sandbox.repo.resolve()
    assert hosts_text(config).startswith("dev: dev; prod: prod1")
    assert hosts_text(None) == "not read: no ladder.yml given"


@pytest.mark.unit
def test_the_notebook_is_found_in_the_project():
    assert notebook_path().name == "assessment.ipynb"
