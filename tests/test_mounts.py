"""ladder.app.mounts: route prefixes resolved through routers, blueprints, URL includes and settings constants."""

import ast

import pytest

from ladder.app import mounts, routes


def paths(texts: dict[str, str]) -> set[str]:
    return {f"{r.method} {r.path}" for r in routes.found_in(texts)}


FASTAPI = {
    "backend/app/core/config.py": (
        "from pydantic_settings import BaseSettings\n\n"
        "class Settings(BaseSettings):\n"
        '    API_V1_STR: str = "/api/v1"\n'
        '    PROJECT_NAME: str = "shop"\n\n'
        "settings = Settings()\n"
    ),
    "backend/app/api/routes/orders.py": (
        "from fastapi import APIRouter\n"
        'router = APIRouter(prefix="/orders")\n\n'
        '@router.get("/")\ndef all_orders(): ...\n\n'
        '@router.post("/{order_id}/cancel")\ndef cancel(order_id: int): ...\n'
    ),
    "backend/app/api/routes/ping.py": (
        'from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.get("/ping")\ndef ping(): ...\n'
    ),
    "backend/app/api/main.py": (
        "from fastapi import APIRouter\n"
        "from app.api.routes import orders, ping\n"
        "api_router = APIRouter()\n"
        "api_router.include_router(orders.router)\n"
        "api_router.include_router(ping.router)\n"
    ),
    "backend/app/main.py": (
        "from fastapi import FastAPI\n"
        "from app.api.main import api_router\n"
        "from app.core.config import settings\n"
        "app = FastAPI(title=settings.PROJECT_NAME)\n"
        "app.include_router(api_router, prefix=settings.API_V1_STR)\n"
    ),
}


@pytest.mark.unit
def test_fastapi_prefix_from_a_settings_class_through_two_includes():
    assert paths(FASTAPI) == {"GET /api/v1/orders/", "POST /api/v1/orders/{order_id}/cancel", "GET /api/v1/ping"}
    assert routes.count(routes.found_in(FASTAPI)).score == 10


@pytest.mark.unit
def test_an_f_string_prefix_and_a_module_constant():
    texts = {
        "svc/app.py": (
            "from fastapi import FastAPI, APIRouter\n"
            'VERSION = "v2"\n'
            "r = APIRouter()\n"
            '@r.delete("/carts/{id}")\ndef drop(id): ...\n'
            "app = FastAPI()\n"
            'app.include_router(r, prefix=f"/api/{VERSION}")\n'
        )
    }
    assert paths(texts) == {"DELETE /api/v2/carts/{id}"}


@pytest.mark.unit
def test_flask_blueprints_with_their_own_and_registered_prefixes():
    texts = {
        "shop/config.py": 'API_PREFIX = "/v1"\n',
        "shop/catalog.py": (
            "from flask import Blueprint\n"
            'bp = Blueprint("catalog", __name__, url_prefix="/catalog")\n'
            '@bp.route("/books")\ndef books(): ...\n'
        ),
        "shop/accounts.py": (
            'from flask import Blueprint\naccounts = Blueprint("accounts", __name__)\n'
            '@accounts.get("/me")\ndef me(): ...\n'
        ),
        "shop/__init__.py": (
            "from flask import Flask\n"
            "from shop.catalog import bp\n"
            "from shop import accounts\n"
            "from shop.config import API_PREFIX\n"
            "def create_app():\n"
            "    app = Flask(__name__)\n"
            "    app.register_blueprint(bp, url_prefix=API_PREFIX)\n"
            '    app.register_blueprint(accounts.accounts, url_prefix=app.config["ACCOUNTS_PREFIX"])\n'
            "    return app\n"
        ),
        "shop/settings.py": 'ACCOUNTS_PREFIX = "/v1/accounts"\n',
    }
    assert paths(texts) == {"* /v1/catalog/books", "GET /v1/accounts/me"}


@pytest.mark.unit
def test_django_includes_are_followed_module_to_module_and_include_lines_are_no_routes():
    texts = {
        "site/urls.py": (
            "from django.urls import include, path, re_path\n"
            "urlpatterns = [\n"
            '    path("", home),\n'
            '    path("api/v1/", include("library.urls")),\n'
            '    re_path(r"^legacy/", include(("library.urls", "library"), namespace="old")),\n'
            "]\n"
        ),
        "library/urls.py": (
            "from django.urls import include, path\n"
            'urlpatterns = [path("loans/", views.loans), path("members/", include("library.members.urls"))]\n'
        ),
        "library/members/urls.py": 'from django.urls import path\nurlpatterns = [path("<int:pk>/", views.member)]\n',
    }
    assert paths(texts) == {
        "* /",
        "* /api/v1/loans/",
        "* /legacy/loans/",
        "* /api/v1/members/<int:pk>/",
        "* /legacy/members/<int:pk>/",
    }


@pytest.mark.unit
def test_drf_routers_their_subclasses_and_both_ways_of_mounting_them():
    texts = {
        "core/routers.py": "from rest_framework.routers import DefaultRouter\nclass TeamRouter(DefaultRouter):\n    pass\n",
        "inventory/api/urls.py": (
            "from core.routers import TeamRouter\n"
            "router = TeamRouter()\n"
            'router.register(r"shelves", ShelfViewSet)\n'
            'router.register("bins", BinViewSet)\n'
            "urlpatterns = router.urls\n"
        ),
        "project/urls.py": (
            "from django.urls import include, path\n"
            "from rest_framework.routers import SimpleRouter\n"
            "users = SimpleRouter()\n"
            'users.register("users", UserViewSet)\n'
            "urlpatterns = [\n"
            '    path("api/v2/inventory/", include("inventory.api.urls")),\n'
            '    path("api/v2/", include(users.urls)),\n'
            "]\n"
        ),
    }
    assert paths(texts) == {"* /api/v2/inventory/shelves/", "* /api/v2/inventory/bins/", "* /api/v2/users/"}


@pytest.mark.unit
def test_pyramid_routes_take_their_pattern_second_and_includes_add_a_prefix():
    texts = {
        "tickets/routes.py": (
            "def includeme(config):\n"
            '    config.add_route("ticket.list", "/tickets")\n'
            '    config.add_route("ticket.show", "/tickets/{id}")\n'
        ),
        "tickets/__init__.py": (
            "def main(global_config, **settings):\n"
            "    with Configurator(settings=settings) as config:\n"
            '        config.include("tickets.routes", route_prefix="/v1")\n'
            '        config.add_route("home", "/")\n'
        ),
    }
    assert paths(texts) == {"* /v1/tickets", "* /v1/tickets/{id}", "* /"}


@pytest.mark.unit
def test_an_unmounted_router_keeps_its_own_prefix_and_unknown_prefixes_are_dropped_not_guessed():
    texts = {
        "a.py": (
            'from fastapi import APIRouter\nr = APIRouter(prefix="/things")\n@r.get("/x")\ndef x(): ...\n'
            'app.include_router(other, prefix=compute())\n@app.get("/y")\ndef y(): ...\n'
        )
    }
    assert paths(texts) == {"GET /things/x", "GET /y"}


@pytest.mark.unit
def test_a_mount_cycle_ends():
    source = (
        "from fastapi import APIRouter\na = APIRouter()\nb = APIRouter()\na.include_router(b)\nb.include_router(a)\n"
    )
    assert mounts.resolve({"m.py": ast.parse(source)}).of("m.py", "a") == ("",)


@pytest.mark.unit
@pytest.mark.parametrize(
    "prefix, path, joined",
    [("/api/v1", "/items", "/api/v1/items"), ("api/", "/", "/api/"), ("^v2/", "/x", "/v2/x"), ("", "/x", "/x")],
)
def test_join(prefix, path, joined):
    assert mounts.join(prefix, path) == joined


@pytest.mark.unit
def test_relative_imports_and_the_apps_own_router_classes():
    texts = {
        "recipes/routes/base.py": "from fastapi import APIRouter\nclass AuthedRouter(APIRouter):\n    pass\n",
        "recipes/routes/meals.py": (
            "from .base import AuthedRouter\n"
            'router = AuthedRouter(prefix="/meals")\n'
            '@router.get("/today")\ndef today(): ...\n'
        ),
        "recipes/routes/__init__.py": (
            "from fastapi import APIRouter\nfrom . import meals\n"
            'router = APIRouter(prefix="/api/v1")\nrouter.include_router(meals.router)\n'
        ),
        "recipes/app.py": "from .routes import router\napp = FastAPI()\napp.include_router(router)\n",
    }
    assert paths(texts) == {"GET /api/v1/meals/today"}
