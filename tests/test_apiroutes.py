"""ladder.app.apiroutes: which routes serve an API and which serve web pages, framework by framework."""

from __future__ import annotations

import pytest

from ladder.app import apiroutes, routes

pytestmark = pytest.mark.unit

BAKERY_URLS = """\
from django.urls import include, path
from rest_framework.routers import DefaultRouter
from . import views
router = DefaultRouter()
router.register("loaves", views.LoafViewSet)
urlpatterns = [
    path("", views.home),
    path("menu/", views.MenuView.as_view()),
    path("orders/<int:pk>/", views.order),
    path("basket/count.json", views.basket_count),
    path("api/v1/", include(router.urls)),
    path("api/stock/", views.stock),
]
"""
BAKERY_VIEWS = """\
from django.http import JsonResponse
from django.shortcuts import render
from django.views.generic import TemplateView
from rest_framework.viewsets import ModelViewSet
def home(request):
    return render(request, "home.html")
class MenuView(TemplateView):
    template_name = "menu.html"
def order(request, pk):
    return render(request, "order.html", {"pk": pk})
def basket_count(request):
    return JsonResponse({"count": 1})
def stock(request):
    return JsonResponse({"rye": 3})
class LoafViewSet(ModelViewSet):
    pass
"""


def kinds_of(texts: dict[str, str]) -> dict[str, str]:
    return {f"{r.method} {r.path}": k for r, k in apiroutes.kinds(routes.found_in(texts), texts).items()}


def test_a_website_with_an_api_has_its_pages_and_a_pages_json_helper_apart():
    got = kinds_of({"bakery/urls.py": BAKERY_URLS, "bakery/views.py": BAKERY_VIEWS})
    assert got == {
        "* /": "page",
        "* /menu/": "page",
        "* /orders/<int:pk>/": "page",
        "* /basket/count.json": "page",  # a JSON helper beside pages serves them, it is no public contract
        "* /api/v1/loaves/": "api",
        "* /api/stock/": "api",
    }


def test_fastapi_routes_are_an_api_unless_they_render_html():
    app = (
        "from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse\napp = FastAPI()\n"
        '@app.get("/kettles")\ndef kettles():\n    return [1]\n'
        '@app.get("/about", response_class=HTMLResponse)\ndef about():\n    return HTMLResponse("<p>hi</p>")\n'
    )
    assert kinds_of({"svc/main.py": app}) == {"GET /kettles": "api", "GET /about": "page"}


def test_flask_views_are_pages_unless_they_return_json_and_an_app_of_json_views_is_an_api():
    pages = (
        "from flask import Flask, jsonify, render_template\napp = Flask(__name__)\n"
        '@app.route("/garden")\ndef garden():\n    return render_template("garden.html")\n'
        '@app.route("/plants")\ndef plants():\n    return "<ul></ul>"\n'
    )
    assert set(kinds_of({"garden.py": pages}).values()) == {"page"}
    json_only = (
        "from flask import Flask, jsonify\napp = Flask(__name__)\n"
        '@app.route("/plants")\ndef plants():\n    return jsonify([])\n'
        '@app.route("/seeds")\ndef seeds():\n    return {"seeds": []}\n'
    )
    assert set(kinds_of({"garden.py": json_only}).values()) == {"api"}


def test_an_api_module_and_a_front_end_script():
    texts = {
        "shop/api.py": 'from django.urls import path\nurlpatterns = [path("stock/", stock)]\n',
        "static/js/cart.js": "fetch('/cart/items').then(r => r.json())\napp.get('/cart/items', f)\n",
        "server/index.js": "const app = express()\napp.get('/orders', (req, res) => res.json([]))\n",
    }
    assert kinds_of(texts) == {"* /stock/": "api", "GET /cart/items": "page", "GET /orders": "api"}


def test_a_route_table_of_no_known_framework_is_still_counted_as_an_api():
    assert kinds_of({"app.py": 'ROUTES = [("GET", "/items", items)]\n'}) == {"GET /items": "api"}
