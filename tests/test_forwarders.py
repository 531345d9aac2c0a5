"""ladder.app.forwarders: a project's own helpers that forward paths to add_url_rule, one level deep."""

from __future__ import annotations

import pytest

from ladder.app import routes

pytestmark = pytest.mark.unit

HELPERS = """\
def attach(target, rules, view_func, **options):
    for rule in rules:
        target.add_url_rule(rule, view_func=view_func, **options)

def attach_one(target, rule, view_func):
    target.add_url_rule(rule, view_func=view_func)

def unrelated(app, name):
    app.add_url_rule("/fixed", view_func=name)
"""
VIEWS = """\
from flask import Blueprint
from .helpers import attach, attach_one, unrelated
shelf = Blueprint("shelf", __name__)
attach(shelf, rules=["/books", "/books/<int:id>"], view_func=Books.as_view("books"), methods=["GET", "POST"])
attach_one(shelf, "/authors", view_func=authors)
shelf.add_url_rule("/genres", view_func=genres)
unrelated(shelf, "/not-a-path")
"""
APP = """\
from flask import Flask
from .views import shelf
app = Flask(__name__)
app.register_blueprint(shelf, url_prefix="/library")
"""


def test_paths_passed_to_a_helper_are_routes_of_its_target_under_its_prefix():
    found = routes.found_in({"lib/helpers.py": HELPERS, "lib/views.py": VIEWS, "lib/app.py": APP})
    assert sorted(str(r) for r in found if r.file == "lib/views.py") == [
        "* /library/authors",
        "* /library/genres",
        "GET /library/books",
        "GET /library/books/<int:id>",
        "POST /library/books",
        "POST /library/books/<int:id>",
    ]


def test_a_helper_is_followed_one_level_only():
    wrapper = HELPERS + "\ndef attach_twice(target, rules, view_func):\n    attach(target, rules, view_func)\n"
    views = 'shelf = Blueprint("shelf", __name__)\nattach_twice(shelf, ["/deep"], view_func=deep)\n'
    assert routes.found_in({"lib/helpers.py": wrapper, "lib/views.py": views}) == [
        r for r in routes.found_in({"lib/helpers.py": HELPERS}) if r.path == "/fixed"
    ]
