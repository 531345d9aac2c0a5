"""ladder.core.team: the answers `ladder init` takes, each checked by its flag, and the ladder.yml they make."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrepo import git
from ladder.core import team
from ladder.core.config import load_config
from ladder.core.errors import OptionError


@pytest.mark.unit
@pytest.mark.parametrize(
    "text, spec",
    [
        ("deploy@web1.example.com:2222", team.HostSpec("web1.example.com", 2222, "deploy")),
        ("deploy@10.0.0.5", team.HostSpec("10.0.0.5", 22, "deploy")),
        ("web1", team.HostSpec("web1", 22, None)),
        ("ops@[2001:db8::1]:22", team.HostSpec("2001:db8::1", 22, "ops")),
    ],
)
def test_a_host_is_user_at_host_colon_port(text, spec):
    assert team.parse_host(text, "--prod") == spec


@pytest.mark.unit
@pytest.mark.parametrize("text", ["", "deploy@", "deploy@web1:", "deploy@web1:0", "deploy@web1:70000", "a b", "local"])
def test_a_bad_host_names_its_flag_and_the_form(text):
    with pytest.raises(OptionError) as err:
        team.parse_host(text, "--dev")
    assert err.value.option == "--dev" and str(err.value).startswith(
        f"--dev {text!r}: give an SSH server as user@host:port"
    )


@pytest.mark.unit
def test_wsgi_health_base_and_name_are_checked():
    assert team.parse_wsgi("shop.wsgi:application") == "shop.wsgi:application"
    for bad, flag, call in [
        ("shop.wsgi", "--wsgi", team.parse_wsgi),
        ("shop:", "--wsgi", team.parse_wsgi),
        ("health", "--health", lambda t: team.parse_url_path(t, "--health")),
        ("srv/shop", "--base", team.parse_base),
        ("my shop", "--name", team.parse_name),
    ]:
        with pytest.raises(OptionError, match=f"^{flag} "):
            call(bad)


@pytest.mark.unit
def test_the_app_is_named_after_its_repository():
    assert team.name_from("git@git.example:team/shop.git") == "shop"
    assert team.name_from("https://git.example/team/shop-api/") == "shop-api"
    assert team.name_from("/") == "app"


@pytest.mark.local
def test_a_repo_is_a_url_as_given_or_a_local_clone_made_absolute(tmp_path, monkeypatch):
    assert team.parse_repo("https://git.example/team/shop.git") == "https://git.example/team/shop.git"
    assert team.parse_repo("git@git.example:team/shop.git") == "git@git.example:team/shop.git"
    git(tmp_path, "init", "-q", "shop")
    monkeypatch.chdir(tmp_path)
    assert team.parse_repo("shop") == str(tmp_path / "shop")
    (tmp_path / "plain").mkdir()
    monkeypatch.chdir(tmp_path / "plain")
    for bad in ("../missing", "."):
        with pytest.raises(OptionError, match="^--repo"):
            team.parse_repo(bad)


def a_team(**changes) -> team.Team:
    values = dict(
        repo="https://git.example/team/shop.git",
        wsgi="shop.wsgi:application",
        dev=team.HostSpec("dev.example.com", 22, "deploy"),
        prod=(team.HostSpec("web1.example.com", 2222, "deploy"), team.HostSpec("web2.example.com")),
        base="/srv/shop",
    )
    return team.Team(**{**values, **changes})


@pytest.mark.local
def test_the_written_file_is_what_the_loader_reads_back(tmp_path):
    config = team.write(a_team(known_hosts=tmp_path / "kh"), tmp_path / "team" / "ladder.yml")
    assert config.path == tmp_path / "team" / "ladder.yml" and config.app.name == "shop"
    assert (config.app.wsgi, config.app.health_path, config.app.port) == ("shop.wsgi:application", "/health", 8000)
    assert [(h.name, h.address, h.port, h.user, h.base) for h in config.environment("prod").hosts] == [
        ("prod1", "web1.example.com", 2222, "deploy", "/srv/shop"),
        ("prod2", "web2.example.com", 22, None, "/srv/shop"),
    ]
    assert config.environment("dev").hosts[0].name == "dev" and config.ssh.known_hosts == tmp_path / "kh"
    assert load_config(tmp_path / "team" / "ladder.yml") == config
    assert [p.name for p in (tmp_path / "team").iterdir()] == ["ladder.yml"]  # no temporary file left


@pytest.mark.local
def test_an_existing_file_is_kept_unless_forced(tmp_path):
    out = tmp_path / "ladder.yml"
    out.write_text("# the team's own\n")
    with pytest.raises(OptionError, match="^--out .*exists; pass --force"):
        team.write(a_team(), out)
    assert out.read_text() == "# the team's own\n"
    team.write(a_team(), out, force=True)
    assert load_config(out).app.repo == "https://git.example/team/shop.git"


@pytest.mark.unit
def test_the_file_says_what_comes_next():
    assert team.render(a_team(), Path("ladder.yml")).splitlines()[0] == (
        "# Written by `ladder init`. Next: ladder hosts check --config ladder.yml; ladder assess --config ladder.yml"
    )
