"""Rung 1+: public routes carry a version, from route declarations or an OpenAPI spec."""

from __future__ import annotations

import pytest

from assessing import check
from gitrepo import GitRepo
from ladder.app import routes


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
    assert res.score == 0 and res.evidence["unversioned"] == ["GET /items", "POST /items"]
    assert res.reason.startswith("0 of 2 public routes carry a version")


@pytest.mark.local
def test_versioned_routes_inconclusive_without_public_routes(repo):
    repo.commit({"app.py": '@app.get("/health")\ndef h(): ...\n'})
    assert check(repo, "versioned-routes").inconclusive


@pytest.mark.local
def test_openapi_spec_is_measured(repo):
    repo.commit({"openapi.yaml": "openapi: 3.0.0\npaths:\n  /v1/items:\n    get: {}\n  /items:\n    get: {}\n"})
    res = check(repo, "versioned-routes")
    assert res.score == 5 and res.label == "measured"


@pytest.mark.local
def test_source_routes_come_before_an_openapi_spec(repo):
    repo.commit(
        {
            "openapi.yaml": "openapi: 3.0.0\npaths:\n  /items:\n    get: {}\n",
            "app.py": 'ROUTES = [("GET", "/v1/items", items), ("GET", "/items", items)]\n',
        }
    )
    res = check(repo, "versioned-routes")
    assert res.score == 10 and res.reason.startswith("1 of 1 public routes carry a version")


@pytest.mark.local
def test_tests_and_vendored_code_are_not_the_app(repo):
    repo.commit(
        {
            "app.py": '@app.get("/v1/items")\ndef a(): ...\n',
            "tests/test_app.py": 'client.get("/items")\nROUTES = [("GET", "/fixture", f)]\n',
            "node_modules/lib/index.js": "app.get('/vendored', f)\n",
        }
    )
    assert check(repo, "versioned-routes").reason.startswith("1 of 1 public routes")


@pytest.mark.local
def test_the_count_is_the_runbooks(repo):
    repo.commit({"app.py": 'ROUTES = [("GET", "/", index), ("GET", "/items", items), ("GET", "/v1/users", u)]\n'})
    res = check(repo, "versioned-routes")
    assert res.reason == routes.count(routes.scan(repo.path)).summary()


@pytest.mark.local
def test_a_settings_prefix_across_modules_counts_as_versioned_and_examples_are_counted_apart(repo):
    repo.commit(
        {
            "api/config.py": 'class Settings(BaseSettings):\n    API_PREFIX: str = "/api/v3"\nsettings = Settings()\n',
            "api/routes/pets.py": 'router = APIRouter(prefix="/pets")\n@router.get("/")\ndef pets(): ...\n',
            "api/main.py": (
                "from api.routes import pets\nfrom api.config import settings\napp = FastAPI()\n"
                "app.include_router(pets.router, prefix=settings.API_PREFIX)\n"
            ),
            "examples/quickstart.py": '@app.get("/hello")\ndef hello(): ...\n',
            "docs/howto/app.py": '@app.post("/pets")\ndef add(): ...\n',
        }
    )
    res = check(repo, "versioned-routes")
    assert res.score == 10 and res.evidence["scheme"] == "URL path"
    assert res.reason == "1 of 1 public routes carry a version; 2 routes in tests, examples or docs not counted"


@pytest.mark.local
def test_accept_header_versioning_gets_credit_and_is_named(repo):
    repo.commit(
        {
            "lending/settings.py": (
                "REST_FRAMEWORK = {\n"
                "    'DEFAULT_VERSIONING_CLASS': 'rest_framework.versioning.AcceptHeaderVersioning',\n}\n"
            ),
            "lending/urls.py": (
                "from rest_framework.routers import DefaultRouter\nrouter = DefaultRouter()\n"
                'router.register("loans", LoanViewSet)\nurlpatterns = [path("api/", include(router.urls))]\n'
            ),
        }
    )
    res = check(repo, "versioned-routes")
    assert res.score == 10 and res.evidence["scheme"] == "Accept header"
    assert res.reason == (
        "versioned by Accept header (Django REST framework AcceptHeaderVersioning in lending/settings.py); "
        "in the path, 0 of 1 public routes carry a version"
    )


@pytest.mark.local
def test_a_graphql_only_api_is_inconclusive_and_says_why(repo):
    repo.commit({"shop/urls.py": 'urlpatterns = [path("graphql/", GraphQLView.as_view()), path("", home)]\n'})
    res = check(repo, "versioned-routes")
    assert res.inconclusive and res.evidence["scheme"] == "GraphQL"
    assert res.reason.startswith("a GraphQL API: its one endpoint evolves by deprecating fields")
