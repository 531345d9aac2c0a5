"""Reading hosts: grouped by environment, an unreachable host named, never fatal."""

from __future__ import annotations

import pytest

from assessing import by_id, closed_port, make_release_host
from ladder.assess.evidence import assess_hosts
from ladder.assess.host_facts import read_hosts
from ladder.core.config import DEV, PROD, STAGING
from ladder.core.hosts import LocalHost, SSHHost

pytestmark = pytest.mark.local


def test_hosts_are_read_and_grouped_by_environment(tmp_path):
    for name in ("dev", "staging", "prod"):
        (tmp_path / name).mkdir()
    hosts = {env: [LocalHost(env, tmp_path / env)] for env in (DEV, STAGING, PROD)}
    facts = read_hosts(hosts)
    assert [r.name for r in facts.dev] == ["dev"] and [r.name for r in facts.prod] == ["prod"]
    assert [r.environment for r in facts.environments[STAGING]] == ["staging"]
    assert facts.prod[0].logs is not None and facts.dev[0].logs is None  # logs and migrations: prod only


def test_only_the_environments_config_allows_count(tmp_path):
    # ladder.yml names dev, staging and prod; "production" and "development" are not aliases of them.
    prod = make_release_host(tmp_path / "prod")
    (tmp_path / "dev").mkdir()
    got = by_id(assess_hosts({"development": [LocalHost("dev", tmp_path / "dev")], "production": [prod]}))
    assert got["prod-runs-release"].inconclusive and got["prod-runs-release"].reason == "no prod hosts in ladder.yml"
    assert got["separate-hosts"].inconclusive and got["separate-hosts"].reason == "no prod environment in ladder.yml"
    facts = read_hosts({"production": [prod]})
    assert facts.prod == [] and facts.environments["production"][0].logs is None


def test_unreachable_prod_host_is_named_not_fatal(tmp_path):
    good = make_release_host(tmp_path / "prod")
    gone = SSHHost(
        "prod2", "127.0.0.1", "/srv/app", port=closed_port(), connect_timeout=2, known_hosts=tmp_path / "known_hosts"
    )
    got = by_id(assess_hosts({"prod": [good, gone]}))
    rel = got["prod-runs-release"]
    assert rel.score == 10 and "prod2" in rel.evidence["errors"] and "unreadable" in rel.reason
    only_gone = by_id(assess_hosts({"prod": [gone]}))
    assert only_gone["prod-runs-release"].inconclusive and "could be read" in only_gone["prod-runs-release"].reason
