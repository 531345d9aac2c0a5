"""Rung 3a's checks: packaging, release tags, no committed binaries; prod runs releases and keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from assessing import by_id, check, make_checkout_host, make_origin, make_release_host
from gitrepo import GitRepo
from ladder.assess.evidence import assess_hosts
from ladder.assess.rung3a import parse_from_lines
from ladder.core.hosts import LocalHost


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def origin(tmp_path) -> Path:
    return make_origin(tmp_path / "origin")


# ---- the repository ----------------------------------------------------------------------


@pytest.mark.local
def test_packaging_recipe_and_pinned_dockerfile(repo):
    repo.commit(
        {
            "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n',
            "Dockerfile": "FROM python:3.11-slim AS build\nFROM build\n",
        }
    )
    res = check(repo, "packaging")
    assert res.score == 10 and res.evidence["recipes"] == ["pyproject.toml"]


@pytest.mark.local
def test_packaging_unpinned_docker_only(repo):
    repo.commit({"Dockerfile": "FROM python:latest\n", "pyproject.toml": "[tool.black]\n"})
    assert check(repo, "packaging").score == 4


@pytest.mark.local
def test_packaging_names_the_project_s_own_recipe_not_an_example_s(repo):
    repo.commit(
        {
            "examples/widget/pyproject.toml": '[build-system]\nrequires = ["hatchling"]\n',
            "docs/Dockerfile": "FROM nginx:latest\n",
            "tests/fixtures/setup.py": "from setuptools import setup\nsetup()\n",
            "src/tool/setup.py": "from setuptools import setup\nsetup()\n",
            "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n',
        }
    )
    res = check(repo, "packaging")
    assert res.evidence["recipes"] == ["pyproject.toml", "src/tool/setup.py"]
    assert res.evidence["docker_bases"] == [] and "recipe pyproject.toml" in res.reason


@pytest.mark.local
def test_only_an_example_s_recipe_is_no_packaging(repo):
    repo.commit({"examples/app/Dockerfile": "FROM python:3.12\n", "app.py": "print(1)\n"})
    assert check(repo, "packaging").score == 0


@pytest.mark.unit
def test_parse_from_lines_pins():
    text = (
        "ARG BASE=python\nFROM --platform=linux/amd64 python:3.12 AS base\nFROM base\nFROM ${BASE}:3\n"
        "FROM debian@sha256:abc\nFROM node\nFROM scratch\n"
    )
    assert parse_from_lines(text) == [
        ("python:3.12", True),
        ("${BASE}:3", False),
        ("debian@sha256:abc", True),
        ("node", False),
    ]


@pytest.mark.local
def test_release_tags(repo):
    repo.commit({"a": "1"}, days_ago=400)
    repo.tag("v1.0.0", days_ago=400)
    repo.tag("nightly", days_ago=400, annotated=False)
    assert check(repo, "release-tags").score == 5
    for i, ago in enumerate((30, 20, 10)):
        repo.commit({"a": str(i)}, days_ago=ago)
        repo.tag(f"v1.{i + 1}.0", days_ago=ago)
    res = check(repo, "release-tags")
    assert res.score == 10 and res.evidence["latest"] == "v1.3.0"


@pytest.mark.local
def test_no_release_tags(repo):
    repo.commit({"a": "1"})
    repo.tag("nightly")
    res = check(repo, "release-tags")
    assert res.score == 0 and res.evidence["other_tags"] == ["nightly"]


@pytest.mark.local
def test_committed_binaries_and_large_files(repo):
    repo.commit(
        {
            "dist/app-1.0-py3-none-any.whl": b"PK\x03\x04" + bytes(range(256)),
            "data/dump.bin": b"\0" * (11 * 1024 * 1024),
        }
    )
    res = check(repo, "no-binaries")
    assert res.evidence["artifacts"] == ["data/dump.bin", "dist/app-1.0-py3-none-any.whl"]
    assert [f["path"] for f in res.evidence["large_files"]] == ["data/dump.bin"]
    assert res.score == 10 - 6 - 2


@pytest.mark.local
def test_binaries_only_in_history(repo):
    repo.commit({"app.zip": b"PK\x03\x04\0\0"})
    repo.commit(remove=["app.zip"])
    res = check(repo, "no-binaries")
    assert res.score == 9 and res.evidence["history_artifacts"] == ["app.zip"]


# ---- the hosts ------------------------------------------------------------------------------


@pytest.mark.local
def test_release_layout_scores_well(tmp_path):
    got = by_id(assess_hosts({"prod": [make_release_host(tmp_path / "prod")]}))
    assert got["prod-runs-release"].score == 10 and got["prod-runs-release"].reason.startswith("current -> ")
    assert got["releases-kept"].score == 10
    assert got["releases-kept"].evidence["hosts"][0]["releases"] == ["v1", "v2", "v3"]


@pytest.mark.local
def test_a_checkout_is_not_a_release(tmp_path, origin):
    got = by_id(assess_hosts({"prod": [make_checkout_host(tmp_path / "prod", origin)]}))
    assert got["prod-runs-release"].score == 0 and "prod runs a git checkout" in got["prod-runs-release"].reason
    assert got["releases-kept"].score == 0 and got["releases-kept"].reason == "no releases/ folder"


@pytest.mark.local
def test_nothing_deployed_is_inconclusive(tmp_path):
    (tmp_path / "prod").mkdir()
    got = by_id(assess_hosts({"prod": [LocalHost("prod1", tmp_path / "prod")]}))
    assert got["prod-runs-release"].inconclusive and "nor a checkout" in got["prod-runs-release"].reason
