"""ladder.core.config: validation names the file, the key and the fix; merge order is visible."""

from pathlib import Path

import pytest

from ladder.core.config import load_config, sandbox_dir
from ladder.core.errors import ConfigError

pytestmark = pytest.mark.local

GOOD = """
app:
  name: shop
  repo: app
environments:
  dev:
    hosts:
      - {name: dev, address: local, base: hosts/dev}
  prod:
    hosts:
      - {name: web1, address: 10.0.0.5, port: 2222, user: deploy, base: /srv/shop}
ssh:
  known_hosts: ssh/known_hosts
"""


BALANCER = """
balancer:
  host: {name: lb, address: 10.0.0.9, user: deploy, base: /srv/lb}
  port: 8080
  socket: /run/lb/admin.sock
"""


MONITORING = """
monitoring:
  host: {name: mon, address: 10.0.0.10, user: deploy, base: /srv/mon}
  url: http://10.0.0.10:9090/
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ladder.yml"
    path.write_text(text)
    return path


def test_good_file_merges_defaults_and_resolves_paths(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.app.name == "shop"
    assert cfg.app.repo == str(tmp_path / "app")
    assert cfg.app.health_path == "/health" and cfg.app.port == 8000
    (dev,) = cfg.environment("dev").hosts
    assert dev.is_local and dev.base == str(tmp_path / "hosts/dev")
    (web,) = cfg.environment("prod").hosts
    assert (web.address, web.port, web.user, web.base) == ("10.0.0.5", 2222, "deploy", "/srv/shop")
    assert cfg.ssh.known_hosts == tmp_path / "ssh/known_hosts"
    assert cfg.ssh.connect_timeout == 10


def test_the_balancer_section_is_optional_and_names_its_own_host(tmp_path):
    assert load_config(write(tmp_path, GOOD)).balancer is None
    lb = load_config(write(tmp_path, GOOD + BALANCER)).balancer
    assert lb is not None and (lb.port, lb.backend, lb.socket) == (8080, "app", "/run/lb/admin.sock")
    assert (lb.host.name, lb.host.address, lb.host.base, lb.host.user) == ("lb", "10.0.0.9", "/srv/lb", "deploy")


def test_the_monitoring_section_is_optional_and_names_prometheus_url(tmp_path):
    assert load_config(write(tmp_path, GOOD)).monitoring is None
    mon = load_config(write(tmp_path, GOOD + MONITORING)).monitoring
    assert mon is not None and mon.url == "http://10.0.0.10:9090"
    assert (mon.host.name, mon.host.address, mon.host.base) == ("mon", "10.0.0.10", "/srv/mon")


def test_env_then_overrides_win(tmp_path, monkeypatch):
    monkeypatch.setenv("LADDER_SSH_CONNECT_TIMEOUT", "3")
    monkeypatch.setenv("LADDER_APP_PORT", "9000")
    cfg = load_config(write(tmp_path, GOOD), overrides={"app.port": 9100})
    assert cfg.ssh.connect_timeout == 3
    assert cfg.app.port == 9100


@pytest.mark.parametrize(
    "text, key, words",
    [
        ("app: [unclosed\n", None, "not valid YAML at line"),
        ("environments:\n  prod:\n    hosts: []\n", "app", "add app:"),
        (GOOD.replace("  dev:", "  qa:"), "environments.qa", "use one of dev, staging, prod"),
        (GOOD.replace("name: web1", "name: dev"), "environments.prod.hosts[0]", "duplicate host name 'dev'"),
        (GOOD.replace("port: 2222", "port: 70000"), "environments.prod.hosts[0].port", "out of range"),
        (GOOD.replace("port: 2222", "port: '22'"), "environments.prod.hosts[0].port", "must be an integer"),
        (GOOD.replace("  repo: app", "  repo: app\n  colour: blue"), "app", "unknown key 'colour'"),
        (GOOD.replace("base: /srv/shop", "base: srv/shop"), "environments.prod.hosts[0].base", "absolute"),
    ],
)
def test_bad_files_name_file_key_and_fix(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key
    assert str(path) in str(err.value)
    assert words in str(err.value)


def test_artifacts_and_build_default_to_the_first_dev_host(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert (cfg.artifacts.host, cfg.build.host) == ("dev", "dev")
    assert cfg.artifacts.path == str(tmp_path / "hosts/dev/artifacts")  # relative to the host's base


def test_artifacts_on_a_named_host_and_an_absolute_folder(tmp_path):
    text = GOOD + "artifacts: {host: web1, path: /var/lib/artifacts}\nbuild: {host: web1}\n"
    cfg = load_config(write(tmp_path, text))
    assert (cfg.artifacts.host, cfg.artifacts.path, cfg.build.host) == ("web1", "/var/lib/artifacts", "web1")
    cfg = load_config(write(tmp_path, GOOD + "artifacts: {host: web1, path: store}\n"))
    assert cfg.artifacts.path == "/srv/shop/store"


@pytest.mark.parametrize(
    "text, key", [("artifacts: {host: ci}\n", "artifacts.host"), ("build: {host: ci}\n", "build.host")]
)
def test_an_unknown_artifacts_or_build_host_names_the_key_and_the_fix(tmp_path, text, key):
    path = write(tmp_path, GOOD + text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key
    assert "no host 'ci' in environments; name one of dev, web1" in str(err.value)


CI = "ci:\n  host: {name: ci, address: 10.0.0.9, user: ci, base: /srv/ci}\n  url: http://127.0.0.1:8010/\n"


def test_ci_section_names_the_master_host_and_its_worker_defaults_to_the_build_host(tmp_path):
    assert load_config(write(tmp_path, GOOD)).ci is None
    cfg = load_config(write(tmp_path, GOOD + "build: {host: web1}\n" + CI))
    assert cfg.ci is not None
    assert (cfg.ci.host.name, cfg.ci.host.address, cfg.ci.host.base) == ("ci", "10.0.0.9", "/srv/ci")
    assert (cfg.ci.url, cfg.ci.pb_port, cfg.ci.worker) == ("http://127.0.0.1:8010/", 9989, "web1")


@pytest.mark.parametrize(
    "extra, key, words",
    [
        ("  worker: ci\n", "ci.worker", "no host 'ci' for the worker"),
        ("  pb_port: 0\n", "ci.pb_port", "out of range; use a value at least 1"),
    ],
)
def test_a_bad_ci_section_names_its_key(tmp_path, extra, key, words):
    path = write(tmp_path, GOOD + CI + extra)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key and words in str(err.value)


def test_a_ci_url_without_its_trailing_slash_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD + CI.replace("8010/", "8010")))
    assert err.value.key == "ci.url"


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="ladder sandbox up"):
        load_config(tmp_path / "nope.yml")


def test_sandbox_name_points_at_the_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="ladder sandbox up"):
        load_config("sandbox")
    (tmp_path / "sandbox").mkdir()
    write(tmp_path / "sandbox", GOOD)
    assert load_config("sandbox").path == sandbox_dir() / "ladder.yml"


@pytest.mark.parametrize(
    "url",
    ["https://git.example.com/shop.git", "git@git.example.com:team/shop.git", "ssh://deploy@git.example.com/shop.git"],
)
def test_git_urls_are_kept_as_urls(tmp_path, url):
    cfg = load_config(write(tmp_path, GOOD.replace("repo: app", f"repo: '{url}'")))
    assert cfg.app.repo == url


def test_every_command_looks_for_its_config_in_one_order(tmp_path, monkeypatch):
    home, here = tmp_path / "home", tmp_path / "here"
    here.mkdir()
    monkeypatch.setenv("LADDER_HOME", str(home))
    monkeypatch.delenv("LADDER_CONFIG", raising=False)
    monkeypatch.chdir(here)
    with pytest.raises(ConfigError) as err:
        load_config()
    assert "$LADDER_CONFIG (not set), ./ladder.yml (no such file)" in str(err.value)
    assert f"the sandbox at {home / 'sandbox'} (not up)" in str(err.value) and "ladder sandbox up" in str(err.value)
    (home / "sandbox").mkdir(parents=True)
    sandbox = write(home / "sandbox", GOOD)
    assert load_config().path == sandbox  # the sandbox, when one is up
    local = write(here, GOOD)
    assert load_config().path.resolve() == local.resolve()  # ./ladder.yml before the sandbox
    named = write(tmp_path, GOOD)
    monkeypatch.setenv("LADDER_CONFIG", str(named))
    assert load_config().path == named  # $LADDER_CONFIG first


def test_runs_have_one_home_whichever_folder_a_command_starts_from(tmp_path, monkeypatch):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LADDER_RUNS", raising=False)
    path = write(tmp_path, GOOD)
    for folder in (tmp_path, tmp_path / "home"):
        folder.mkdir(exist_ok=True)
        monkeypatch.chdir(folder)
        assert load_config(path).runs_dir == tmp_path / "home" / "runs"
    path.write_text(GOOD + "runs: team-runs\n")
    assert load_config(path).runs_dir == tmp_path / "team-runs"  # relative to the file, like every path in it
    path.write_text(GOOD + "runs_dir: runs\n")
    with pytest.raises(ConfigError, match="runs_dir: is now called runs"):
        load_config(path)


@pytest.mark.parametrize(
    "text, key, words",
    [
        (GOOD + "  connect_timeout: -5\n", "ssh.connect_timeout", "-5 is out of range; use a value above 0"),
        (GOOD + "  command_timeout: 0\n", "ssh.command_timeout", "out of range"),
        (GOOD + "  command_timeout: .nan\n", "ssh.command_timeout", "must be a finite number"),
        (GOOD + "  command_timeout: .inf\n", "ssh.command_timeout", "must be a finite number"),
        (GOOD + "runs: [a, b]\n", "runs", "must be a string, got ['a', 'b'] (a list)"),
        (GOOD.replace("name: web1", "name: ../../../../tmp/x"), "environments.prod.hosts[0].name", "letters, digits"),
        (GOOD.replace("name: web1", "name: .hidden"), "environments.prod.hosts[0].name", "starting with"),
        (GOOD.replace("  repo: app", "  repo: app\n  health_path: health"), "app.health_path", "starting with '/'"),
        (GOOD.replace("user: deploy", "user: 'a b'"), "environments.prod.hosts[0].user", "a login name"),
        (GOOD.replace("address: 10.0.0.5", "address: 'x;y'"), "environments.prod.hosts[0].address", "IP address"),
        (GOOD.replace("base: /srv/shop", "base: /srv/my shop"), "environments.prod.hosts[0].base", "without spaces"),
        (GOOD.replace("repo: app", "repo: --upload-pack=x"), "app.repo", "not starting with '-'"),
        (GOOD.replace("  repo: app\n", ""), "app.repo", "is required; add repo:"),
        ("app: {name: shop, repo: app}\nenvironments: {}\n", "environments", "must not be empty; define at least prod"),
        (
            GOOD + BALANCER.replace("/run/lb/admin.sock", "admin.sock"),
            "balancer.socket",
            "an absolute path without spaces",
        ),
        (GOOD + BALANCER.replace("port: 8080", "port: 0"), "balancer.port", "out of range"),
        (GOOD + BALANCER.replace("name: lb", "name: web1"), "balancer.host", "duplicate host name 'web1'"),
        (GOOD + MONITORING.replace("http://", "ftp://"), "monitoring.url", "an http:// or https:// URL"),
        (GOOD + MONITORING.replace("name: mon", "name: web1"), "monitoring.host", "duplicate host name 'web1'"),
    ],
)
def test_every_value_is_checked_on_load_in_words(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == key, str(err.value)
    assert words in str(err.value) and "<class" not in str(err.value) and "\n" not in str(err.value)


def test_unreadable_files_are_errors_not_tracebacks(tmp_path):
    path = tmp_path / "ladder.yml"
    path.write_bytes(b"app: {name: \xff}\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)
    path.write_text("[" * 20000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)


def test_a_bad_environment_variable_is_named(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD)
    monkeypatch.setenv("LADDER_SSH_CONNECT_TIMEOUT", "[1, 2")
    with pytest.raises(ConfigError, match="LADDER_SSH_CONNECT_TIMEOUT: not valid YAML"):
        load_config(path)
    monkeypatch.setenv("LADDER_SSH_CONNECT_TIMEOUT", "-1")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == "ssh.connect_timeout (from $LADDER_SSH_CONNECT_TIMEOUT)"
    monkeypatch.delenv("LADDER_SSH_CONNECT_TIMEOUT")
    monkeypatch.setenv("LADDER_APP_NAME", "1234")  # text fields keep the variable's text
    assert load_config(path).app.name == "1234"


def test_the_json_schema_accepts_what_the_loader_accepts(tmp_path):
    import jsonschema
    import yaml

    from ladder.core.config import schema

    jsonschema.validate(yaml.safe_load(GOOD), schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(GOOD.replace("name: web1", "name: ../x")), schema())
