"""Rung 1+: public routes carry a version, from route declarations or an OpenAPI spec."""

from __future__ import annotations

import pytest

from assessing import check
from gitrepo import GitRepo
from ladder.assess.rung1plus import parse_routes


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.mark.local
def test_versioned_routes_from_decorators(repo):
    repo.commit(
        {
            "app.py": '@app.route("/v1/items")\ndef a(): ...\n@app.get("/v2/users")\ndef b(): ...\n'
            '@app.get("/health")\ndef c(): ...\n'
        }
    )
    res = check(repo, "versioned-routes")
    assert res.score == 10


@pytest.mark.local
def test_unversioned_route_table_scores_zero(repo):
    repo.commit({"app.py": 'ROUTES = [("GET", "/", index), ("GET", "/items", items), ("POST", "/items", add)]\n'})
    res = check(repo, "versioned-routes")
    assert res.score == 0 and res.evidence["unversioned"] == ["/items"]


@pytest.mark.local
def test_versioned_routes_inconclusive_without_public_routes(repo):
    repo.commit({"app.py": '@app.get("/health")\ndef h(): ...\n'})
    assert check(repo, "versioned-routes").inconclusive


@pytest.mark.local
def test_openapi_spec_is_measured(repo):
    repo.commit({"openapi.yaml": "openapi: 3.0.0\npaths:\n  /v1/items:\n    get: {}\n  /items:\n    get: {}\n"})
    res = check(repo, "versioned-routes")
    assert res.score == 5 and res.label == "measured"


@pytest.mark.unit
def test_parse_routes_handles_django_paths():
    assert parse_routes(['path("api/v1/items/", views.items)', 're_path(r"^v2/x$", v)']) == ["/api/v1/items/", "/v2/x$"]
