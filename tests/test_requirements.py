"""ladder.engine.requirements: what a runbook declares it needs is checked before any run folder or journal row."""

from pathlib import Path

import pytest

from ladder.cli import main
from ladder.core.errors import ConfigError, ParameterError
from ladder.engine import runner
from ladder.engine.runbooks import info

pytestmark = pytest.mark.local

RUNBOOKS = Path(__file__).parent.parent / "runbooks"
RUNG1 = RUNBOOKS / "1-separate-dev-and-prod.ipynb"
SITE = """
app: {name: shop, repo: app}
environments:
  dev: {hosts: [{name: dev, address: local, base: hosts/dev}]}
  prod: {hosts: [{name: web1, address: 127.0.0.1, base: /srv/shop}]}
ssh: {known_hosts: known_hosts}
runs: runs
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A config whose every requirement of rung 1 is met: a clone, a dev and a prod host, a known_hosts file."""
    (tmp_path / "app" / ".git").mkdir(parents=True)
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "ladder.yml").write_text(SITE)
    return tmp_path


def test_rung1_declares_what_it_needs():
    needs = info(RUNG1).requires
    assert needs.environments == ["dev", "prod"] and needs.repo and needs.parameters == {"ref": "git_ref"}


def test_a_config_that_meets_them_is_prepared_without_writing(site):
    plan = runner.prepare(RUNG1, text_params={"ref": "v1.2"}, config=site / "ladder.yml")
    assert plan.parameters["ref"] == "v1.2" and not (site / "runs").exists()


@pytest.mark.parametrize("ref", ["master; touch x", "$(touch x)", "../..", "--upload-pack=touch x", "", "a\nb"])
def test_a_bad_ref_is_refused_up_front(site, ref):
    with pytest.raises(ParameterError, match="parameter 'ref': ref .* is not a branch, tag or commit name"):
        runner.prepare(RUNG1, text_params={"ref": ref}, config=site / "ladder.yml")


@pytest.mark.parametrize(
    "edit, key, words",
    [
        (
            lambda t: t.replace("  dev: {hosts: [{name: dev, address: local, base: hosts/dev}]}\n", ""),
            "environments.dev",
            "needs a dev environment",
        ),
        (
            lambda t: t.replace("{hosts: [{name: web1, address: 127.0.0.1, base: /srv/shop}]}", "{hosts: []}"),
            "environments.prod",
            "at least one host",
        ),
        (
            lambda t: t.replace("known_hosts: known_hosts", "known_hosts: nowhere"),
            "ssh.known_hosts",
            "ladder hosts trust web1",
        ),
        (
            lambda t: t.replace("known_hosts}", "known_hosts, identity_file: id_none}"),
            "ssh.identity_file",
            "does not exist",
        ),
        (lambda t: t.replace("repo: app", "repo: gone"), "app.repo", "not a git repository"),
    ],
)
def test_what_the_config_lacks_is_named_before_anything_runs(site, edit, key, words):
    (site / "ladder.yml").write_text(edit(SITE))
    with pytest.raises(ConfigError) as err:
        runner.prepare(RUNG1, config=site / "ladder.yml")
    assert err.value.key == key and words in str(err.value)


def test_the_cli_exits_2_with_no_run_folder_and_no_journal(site, monkeypatch, capsys):
    monkeypatch.chdir(site)
    (site / "ladder.yml").write_text(SITE.replace("runs: runs", "runs: /proc/ladder-runs"))
    assert main(["run", str(RUNG1), "--config", "ladder.yml"]) == 2
    assert "runs: /proc/ladder-runs cannot be the runs home" in capsys.readouterr().err
    (site / "ladder.yml").write_text(SITE)
    assert main(["run", str(RUNG1), "--config", "ladder.yml", "-p", "ref", "$(touch pwned)"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "parameter 'ref'" in err
    assert not (site / "runs").exists() and not (site / "pwned").exists()


def test_a_mistyped_declaration_is_named_in_the_notebook(tmp_path):
    import nbformat

    nb = nbformat.read(RUNG1, as_version=4)
    nb.metadata["ladder"] = {"requires": {"environment": ["dev"]}}
    path = tmp_path / "9-typo.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ConfigError, match="metadata.ladder.requires: unknown key 'environment'"):
        info(path)


RUNG2 = RUNBOOKS / "2-trunk-based-development.ipynb"


@pytest.fixture
def team(site: Path) -> Path:
    """The site's app is a real repository: master plus one feature branch."""
    from gitrepo import GitRepo

    (site / "app" / ".git").rmdir()
    repo = GitRepo(site / "app", branch="master")
    repo.commit({"app.py": "a = 1\n"})
    repo.branch("feature/x")
    repo.checkout("master")
    return site


@pytest.mark.parametrize(
    "params, words",
    [
        ({"keep_branches": ["nope"]}, "parameter 'keep_branches': no branch 'nope' in"),
        ({"keep_branches": "feature/x"}, "parameter 'keep_branches' in parameters expects list"),
        ({"max_branch_age_days": -1}, "parameter 'max_branch_age_days': '-1' is not a number of days"),
    ],
)
def test_rung2s_bad_parameters_are_refused_before_anything_runs(team, params, words):
    with pytest.raises(ParameterError, match=words):
        runner.prepare(RUNG2, params, config=team / "ladder.yml")
    assert runner.prepare(RUNG2, {"keep_branches": ["feature/x"]}, config=team / "ladder.yml").parameters


def test_rung2_refuses_a_repository_without_trunk_and_the_cli_exits_2(team, monkeypatch, capsys):
    from gitrepo import git

    git(team / "app", "branch", "-m", "master", "develop")
    git(team / "app", "checkout", "-q", "--detach")
    with pytest.raises(ConfigError, match="has no trunk branch") as err:
        runner.prepare(RUNG2, config=team / "ladder.yml")
    assert err.value.key == "app.repo"
    monkeypatch.chdir(team)
    assert main(["run", str(RUNG2), "--config", "ladder.yml", "-p", "max_branch_age_days", "-3"]) == 2
    assert "max_branch_age_days" in capsys.readouterr().err and not (team / "runs").exists()
