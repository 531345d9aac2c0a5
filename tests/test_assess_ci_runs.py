"""Rung 3b's measured evidence: the CI server's builds against trunk's commits, scored on recorded REST answers."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from gitrepo import GitRepo, git
from ladder.app import ci_server
from ladder.assess.ci_runs import ServerBuilds, read, trunk_commits
from ladder.assess.host_facts import HostFacts
from ladder.assess.rung3b import ci_server as ci_server_check
from ladder.core.config import load_config

RECORDED = Path(__file__).parent / "ci"
URL = "http://127.0.0.1:8010/"


def _builds(name: str = "rest.json") -> tuple[ci_server.Build, ...]:
    answers = json.loads((RECORDED / name).read_text())
    return tuple(ci_server.parse_builds(answers["builders"], answers["builds"], answers["changes"]))


def _check(sb: ServerBuilds | None):
    return ci_server_check(HostFacts(ci=sb))


@pytest.mark.unit
def test_every_trunk_commit_since_ci_started_has_a_result_scores_10():
    green, red = _builds()
    old = "0" * 40  # made before CI's first build: not expected to be built
    sb = ServerBuilds(URL, (green, red), (red.revision, green.revision, old))
    assert sb.expected() == [red.revision, green.revision]
    res = _check(sb)
    assert res.score == 10 and res.label == "measured"
    assert res.evidence["built"] == 2 and res.evidence["green"] == 1
    assert "trunk's head" in res.reason and "failure" in res.reason  # the red head is reported, and still counts


@pytest.mark.unit
def test_a_trunk_commit_ci_never_heard_of_lowers_the_score():
    green, red = _builds()
    unbuilt = "f" * 40  # committed in the shared repository itself, say: no push, so no hook
    res = _check(ServerBuilds(URL, (green, red), (unbuilt, red.revision, green.revision)))
    assert res.evidence["expected"] == 3 and res.evidence["built"] == 2
    assert round(res.score, 2) == 6.67 and "not built" in res.reason


@pytest.mark.unit
def test_trunk_never_built_expects_its_head_only():
    green, red = _builds()
    sb = ServerBuilds(URL, (green, red), ("e" * 40, "d" * 40))
    assert sb.expected() == ["e" * 40] and _check(sb).score == 0


@pytest.mark.unit
def test_a_running_build_is_not_a_result_yet():
    builds = _builds("rest-running.json")
    running = builds[-1]
    sb = ServerBuilds(URL, builds, (running.revision,))
    assert running.revision not in sb.results()
    assert _check(sb).score == 0


@pytest.mark.unit
def test_no_ci_section_unreachable_or_idle_server_is_never_a_silent_0():
    assert _check(None).score is None
    down = _check(ServerBuilds(URL, error="connection refused"))
    assert down.score is None and "did not answer" in down.reason and "question" in down.reason
    assert _check(ServerBuilds(URL, (), ("a" * 40,))).score == 2


@pytest.mark.local
def test_an_unreachable_ci_server_is_read_as_an_error(tmp_path):
    repo = GitRepo(tmp_path / "repo", branch="master")
    repo.commit({"app.py": "print('hi')\n"}, "the app")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "ladder.yml").write_text(
        f"app:\n  name: items\n  repo: {repo.path}\nenvironments:\n  dev:\n    hosts:\n"
        "      - {name: dev, address: local, base: hosts/dev}\n"
        f"ci:\n  host: {{name: ci, address: local, base: hosts/ci}}\n  url: http://127.0.0.1:{port}/\n"
        f"  pb_port: {port}\n  worker: dev\n"
    )
    assert trunk_commits(str(repo.path)) == (git(repo.path, "rev-parse", "master"),)
    got = read(load_config(tmp_path / "ladder.yml"), timeout=4)
    assert got is not None and got.error and not got.builds
    assert len(got.trunk) == 0  # read with the builds: an unreachable server leaves no half-read evidence
    assert _check(got).score is None
