"""Host evidence on local hosts in temp folders: releases or a checkout, parity, health, logs, migrations."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import typing
from pathlib import Path

import pytest

from gitrepo import GitRepo
from ladder.app import parity
from ladder.app.layout import layout_of
from ladder.assess.hosts import (
    assess_hosts,
    gather_host_evidence,
    get_deployment,
    get_platform,
    parse_deployment,
    parse_logs,
    parse_migrations,
    parse_platform,
)
from ladder.core.config import Config, load_config
from ladder.core.hosts import LocalHost, SSHHost


def checks(results) -> dict:
    out = {r.id: r for r in results}
    for r in out.values():
        assert not r.reason.startswith("check error"), r.reason
        json.dumps(r.to_dict())
    return out


def make_release_host(base: Path, versions=("v1", "v2", "v3")) -> LocalHost:
    """A prod host with Capistrano-style releases, current -> the last one, checksums per release."""
    for v in versions:
        rel = base / "releases" / v
        rel.mkdir(parents=True)
        (rel / "app.py").write_text(f"VERSION = {v!r}\n")
        digest = hashlib.sha256((rel / "app.py").read_bytes()).hexdigest()
        (rel / "SHA256SUMS").write_text(f"{digest}  app.py\n")
    (base / "shared").mkdir()
    (base / "current").symlink_to(base / "releases" / versions[-1])
    return LocalHost("prod1", base)


def make_checkout_host(base: Path, origin: Path) -> LocalHost:
    """A prod host running a git checkout at <base>/app, edited in place."""
    base.mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(base / "app")], check=True)
    with open(base / "app" / "app.py", "a") as f:
        f.write("# HOTFIX edited on prod\n")
    return LocalHost("prod1", base)


@pytest.fixture
def origin(tmp_path) -> Path:
    repo = GitRepo(tmp_path / "origin")
    repo.commit({"app.py": "print('hi')\n"})
    return repo.path


@pytest.fixture
def health_server():
    """A real HTTP server: /health answers 200, anything else 500."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 500)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- what prod runs: a release or a checkout ------------------------------------------------------


def test_parse_deployment_recorded_output():
    out = (
        "current\t/srv/app/releases/v3\nreleases_dir\nrelease\tv1\nrelease\tv3\nchecksums\tSHA256SUMS\n"
        "checksum_failed\tapp.py\n"
    )
    lay = parse_deployment(out)
    assert lay.runs_release and lay.releases == ("v1", "v3") and lay.checksum_failures == ("app.py",)
    lay = parse_deployment("checkout\t/srv/app/app\ngit\n M app.py\0?? x\0")
    assert not lay.runs_release and lay.modified == ("app.py", "x") and lay.git


def test_release_layout_scores_well(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    dev = LocalHost("dev", tmp_path / "dev")
    (tmp_path / "dev").mkdir()
    got = checks(assess_hosts({"dev": [dev], "prod": [prod]}))
    assert got["prod-runs-release"].score == 10
    assert got["releases-kept"].score == 10 and got["releases-kept"].evidence["hosts"][0]["releases"] == [
        "v1",
        "v2",
        "v3",
    ]
    assert got["prod-unmodified"].score == 10 and "SHA256SUMS" in got["prod-unmodified"].reason
    assert got["separate-hosts"].score == 8  # separate folders, same machine


def test_release_edited_in_place_is_caught_by_checksums(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    (tmp_path / "prod" / "releases" / "v3" / "app.py").write_text("VERSION = 'hacked'\n")
    got = checks(assess_hosts({"prod": [prod]}))
    assert got["prod-unmodified"].score == 0
    assert got["prod-unmodified"].evidence["hosts"][0]["modified"] == ["app.py"]


def test_checkout_with_edits_like_the_sandbox(tmp_path, origin):
    prod = make_checkout_host(tmp_path / "prod", origin)
    lay = get_deployment(prod)
    assert lay.checkout and lay.modified == ("app.py",) and not lay.runs_release
    got = checks(assess_hosts({"prod": [prod]}))
    assert got["prod-unmodified"].score == 0 and "edited in place" in got["prod-unmodified"].reason
    assert got["prod-runs-release"].score == 0 and got["releases-kept"].score == 0
    assert got["separate-hosts"].inconclusive and "no dev environment" in got["separate-hosts"].reason


def test_the_checkout_is_read_where_app_layout_puts_it(tmp_path, origin):
    prod = make_checkout_host(tmp_path / "prod", origin)
    deployment = get_deployment(prod)
    assert deployment.checkout == layout_of(prod).app and deployment.found
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(["git", "clone", "-q", str(origin), str(elsewhere / "code")], check=True)
    assert not get_deployment(LocalHost("prod2", elsewhere)).found


def test_nothing_deployed_is_inconclusive(tmp_path):
    (tmp_path / "prod").mkdir()
    got = checks(assess_hosts({"prod": [LocalHost("prod1", tmp_path / "prod")]}))
    assert got["prod-runs-release"].inconclusive and got["prod-unmodified"].inconclusive
    assert got["prod-unmodified"].reason == f"neither {tmp_path}/prod/current nor a checkout at {tmp_path}/prod/app"


def test_only_the_environments_config_allows_count(tmp_path):
    # ladder.yml names dev, staging and prod; "production" and "development" are not aliases of them.
    prod = make_release_host(tmp_path / "prod")
    (tmp_path / "dev").mkdir()
    got = checks(assess_hosts({"development": [LocalHost("dev", tmp_path / "dev")], "production": [prod]}))
    assert got["prod-runs-release"].inconclusive and got["prod-runs-release"].reason == "no prod hosts in ladder.yml"
    assert got["separate-hosts"].inconclusive and got["separate-hosts"].reason == "no prod environment in ladder.yml"


def test_dev_and_prod_in_one_folder(tmp_path):
    (tmp_path / "same").mkdir()
    got = checks(
        assess_hosts({"dev": [LocalHost("dev", tmp_path / "same")], "prod": [LocalHost("prod1", tmp_path / "same")]})
    )
    assert got["separate-hosts"].score == 0


# ---- parity ----------------------------------------------------------------------------------


def test_parity_compares_config_names_never_values(tmp_path):
    for name, text in (
        ("dev", "APP_ENV=dev\nAPP_SECRET_KEY=devsecretvalue123\n"),
        ("prod", "APP_ENV=prod\nexport APP_SECRET_KEY=prodsecretvalue456\nAPP_DB_PATH=/x\n"),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.env").write_text(text)
    hosts = {"dev": [LocalHost("dev", tmp_path / "dev")], "prod": [LocalHost("prod1", tmp_path / "prod")]}
    got = checks(assess_hosts(hosts, python={"dev": sys.executable, "prod1": sys.executable}))
    parity = got["dev-prod-parity"]
    assert parity.evidence["differences"] == {"prod1": {"config_names": ["prod only: APP_DB_PATH"]}}
    assert {"python", "os", "config_names"} <= set(parity.evidence["compared"])
    assert parity.score == pytest.approx(10 * (1 - 1 / len(parity.evidence["compared"])), abs=0.01)
    text = json.dumps(parity.to_dict())
    assert "devsecretvalue123" not in text and "prodsecretvalue456" not in text


def test_platform_facts_are_the_ones_parity_reads(tmp_path):
    base = tmp_path / "dev"
    base.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True)
    (base / "app.env").write_text("APP_ENV=dev\nexport APP_SECRET_KEY=not-read\n")
    host = LocalHost("dev", base)
    venv_python = str(base / "venv" / "bin" / "python")
    probed = get_platform(host, "python3")
    read = parity.get_facts(host, python=venv_python, env_file=layout_of(host).env_file)
    assert probed.venv == str(base / "venv")
    assert (probed.os, probed.python, probed.packages, probed.env_names) == (
        read.os,
        read.python,
        read.packages,
        read.env_names,
    )
    assert probed.env_names == ("APP_ENV", "APP_SECRET_KEY")


def test_parse_logs_recorded_output():
    logs = parse_logs("proc\tbash\nproc\tamazon-cloudwat\nproc\tvector\nlog\t/srv/logs/a.log\n")
    assert logs.shippers == ("amazon-cloudwatch-agent", "vector") and logs.files == ("/srv/logs/a.log",)


def test_parse_platform_recorded_output():
    p = parse_platform(
        "venv\t/srv/venv\npkg\tFlask==3.0\npkg\t-e git+x\npython\t3.11.7\nos\tID=debian\n"
        'os\tVERSION_ID="12"\nconfig\tA\n'
    )
    assert p.packages == {"flask": "3.0"} and p.python == "3.11.7" and p.env_names == ("A",)
    assert p.os == "debian 12" and p.venv == "/srv/venv"


# ---- health, logs, migrations ----------------------------------------------------------------


def test_health_over_http(health_server, tmp_path):
    (tmp_path / "p").mkdir()
    prod = LocalHost("prod1", tmp_path / "p")
    ok = checks(assess_hosts({"prod": [prod]}, health_urls={"prod1": f"http://127.0.0.1:{health_server}/health"}))
    assert ok["app-health"].score == 10
    bad = checks(assess_hosts({"prod": [prod]}, health_urls={"prod1": f"http://127.0.0.1:{health_server}/x"}))
    assert bad["app-health"].score == 2
    down = checks(assess_hosts({"prod": [prod]}, health_urls={"prod1": f"http://127.0.0.1:{closed_port()}/health"}))
    assert down["app-health"].score == 0 and "did not answer" in down["app-health"].reason
    malformed = checks(assess_hosts({"prod": [prod]}, health_urls={"prod1": "not a url"}))
    assert malformed["app-health"].score == 0 and not malformed["prod-runs-release"].evidence["errors"]


def test_log_files_without_a_shipper(tmp_path):
    (tmp_path / "p" / "logs").mkdir(parents=True)
    (tmp_path / "p" / "logs" / "error.log").write_text("boom\n")
    got = checks(assess_hosts({"prod": [LocalHost("prod1", tmp_path / "p")]}))
    assert got["logs-collected"].score in (4, 10)  # 10 only if this machine happens to run a shipper
    if got["logs-collected"].score == 4:
        assert got["logs-collected"].evidence["hosts"][0]["files"] == [str(tmp_path / "p" / "logs" / "error.log")]


def test_migrations_pending_then_applied(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    mig = tmp_path / "prod" / "releases" / "v3" / "migrations"
    mig.mkdir()
    (mig / "001_init.sql").write_text("create table a (x);\n")
    (mig / "002_items.sql").write_text("create table b (x);\n")
    db = sqlite3.connect(tmp_path / "prod" / "shared" / "app.db")
    db.execute("create table schema_migrations (version text)")
    db.execute("insert into schema_migrations values ('001_init')")
    db.commit()
    got = checks(assess_hosts({"prod": [prod]}, python={"prod1": sys.executable}))
    assert got["migrations-current"].score == 0
    assert got["migrations-current"].evidence["hosts"][0]["pending"] == ["002_items"]
    db.execute("insert into schema_migrations values ('002_items')")
    db.commit()
    db.close()
    got = checks(assess_hosts({"prod": [prod]}, python={"prod1": sys.executable}))
    assert got["migrations-current"].score == 10


def test_no_migrations_is_inconclusive(tmp_path):
    prod = make_release_host(tmp_path / "prod")
    got = checks(assess_hosts({"prod": [prod]}, python={"prod1": sys.executable}))
    assert got["migrations-current"].inconclusive


def test_parse_migrations_survives_junk():
    assert parse_migrations("garbage\n").error
    assert parse_migrations('{"kind": "sql", "files": 2, "pending": ["2"], "db": "a.db"}').pending == ("2",)


# ---- unreachable hosts, and a real ladder.yml ------------------------------------------------


def test_unreachable_prod_host_is_named_not_fatal(tmp_path):
    good = make_release_host(tmp_path / "prod")
    gone = SSHHost(
        "prod2", "127.0.0.1", "/srv/app", port=closed_port(), connect_timeout=2, known_hosts=tmp_path / "known_hosts"
    )
    got = checks(assess_hosts({"prod": [good, gone]}))
    rel = got["prod-runs-release"]
    assert rel.score == 10 and "prod2" in rel.evidence["errors"] and "unreadable" in rel.reason
    only_gone = checks(assess_hosts({"prod": [gone]}))
    assert only_gone["prod-runs-release"].inconclusive and "could be read" in only_gone["prod-runs-release"].reason


def test_host_evidence_takes_a_loaded_config():
    assert typing.get_type_hints(gather_host_evidence)["config"] is Config


def test_gather_from_a_ladder_yml(tmp_path, origin, health_server):
    make_checkout_host(tmp_path / "hosts" / "prod1", origin)
    (tmp_path / "hosts" / "dev").mkdir(parents=True)
    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: origin, port: %d}\n"
        "environments:\n"
        "  dev: {hosts: [{name: dev, address: local, base: hosts/dev}]}\n"
        "  prod: {hosts: [{name: prod1, address: local, base: hosts/prod1, python: %s}]}\n"
        % (health_server, sys.executable)
    )
    got = checks(gather_host_evidence(load_config(tmp_path / "ladder.yml")))
    assert got["app-health"].score == 10
    assert got["prod-unmodified"].score == 0 and got["separate-hosts"].score == 8


def test_dev_environment_and_deploy_step(tmp_path, origin):
    dev_base = tmp_path / "dev"
    dev_base.mkdir()
    subprocess.run(["git", "clone", "-q", str(origin), str(dev_base / "app")], check=True)
    prod = make_checkout_host(tmp_path / "prod", origin)
    hosts = {"dev": [LocalHost("dev", dev_base)], "prod": [prod]}
    got = checks(assess_hosts(hosts))
    assert got["dev-environment"].score == 5 and "without a virtualenv" in got["dev-environment"].reason
    assert got["deploy-step"].score == 0
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dev_base / "venv")], check=True)
    script = tmp_path / "prod" / "bin" / "deploy"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    got = checks(assess_hosts(hosts))
    assert got["dev-environment"].score == 10
    assert got["deploy-step"].score == 10 and got["deploy-step"].evidence["hosts"][0]["scripts"] == [str(script)]
    empty = tmp_path / "empty-dev"
    empty.mkdir()
    assert checks(assess_hosts({"dev": [LocalHost("dev", empty)]}))["dev-environment"].score == 0


@pytest.mark.ssh
def test_host_evidence_over_real_sshd(ssh_sandbox):
    config = load_config(ssh_sandbox.config_path)
    assert all(h.address == "127.0.0.1" for env in config.environments.values() for h in env.hosts)
    got = checks(gather_host_evidence(config))
    assert got["prod-unmodified"].score == 0 and got["prod-unmodified"].evidence["hosts"][0]["modified"] == ["app.py"]
    assert got["prod-runs-release"].score == 0
    assert got["app-health"].score == 10
    assert got["separate-hosts"].score == 10  # separate sshd servers: separate hosts as far as Ladder can tell
    assert got["dev-prod-parity"].score is not None
