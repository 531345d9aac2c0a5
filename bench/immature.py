"""Small immature repositories for calibration, built with real git in a folder: name -> builder."""

from __future__ import annotations

import os
import random
import string
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

DAY = 86400


def _git(path: Path, *args: str, when: int | None = None) -> str:
    """Run git in path with a fixed identity and, when given, commit dates."""
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="Dev",
        GIT_AUTHOR_EMAIL="dev@example.com",
        GIT_COMMITTER_NAME="Dev",
        GIT_COMMITTER_EMAIL="dev@example.com",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
    )
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    done = subprocess.run(["git", *args], cwd=path, env=env, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


def _commit(path: Path, files: dict[str, str], message: str, when: int) -> None:
    for name, text in files.items():
        file = path / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", message, when=when)


def _init(path: Path, branch: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q", "-b", branch)
    return path


def _days(count: int, now: int, step: int = 2) -> list[int]:
    """Commit times every `step` days, the last one a day before now, oldest first."""
    return [now - DAY * (1 + step * i) for i in reversed(range(count))]


FLASK_APP = """from flask import Flask, jsonify, request

app = Flask(__name__)
ITEMS = []


@app.route("/items", methods=["GET", "POST"])
def items():
    if request.method == "POST":
        ITEMS.append(request.json)
    return jsonify(ITEMS)


@app.route("/orders/<int:order_id>")
def order(order_id):
    return jsonify({"id": order_id})
"""


def build_flask_single_file(path: Path, now: int | None = None) -> Path:
    """One app.py on master, edited a few times a week; no tests, no CI, no Docker."""
    now = now or int(time.time())
    repo = _init(path, "master")
    times = _days(12, now)
    _commit(repo, {"app.py": FLASK_APP, "requirements.txt": "flask\n"}, "first version", times[0])
    for i, when in enumerate(times[1:], start=1):
        _commit(repo, {"app.py": FLASK_APP + f"\n# tweak {i}\n"}, f"fix on the server {i}", when)
    return repo


DJANGO_SETTINGS = """SECRET_KEY = "dev-only-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "shop"]
ROOT_URLCONF = "shop.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
"""
DJANGO_URLS = """from django.urls import path

from . import views

urlpatterns = [path("api/orders/", views.orders), path("api/orders/<int:pk>/", views.order)]
"""


def build_django_tests_no_ci(path: Path, now: int | None = None) -> Path:
    """A Django app on master with tests alongside most changes and migrations; no CI, no Docker."""
    now = now or int(time.time())
    repo = _init(path, "master")
    times = _days(10, now)
    base = {
        "manage.py": "import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n"
        "from django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n",
        "requirements.txt": "django\n",
        "shop/__init__.py": "",
        "shop/settings.py": DJANGO_SETTINGS,
        "shop/urls.py": DJANGO_URLS,
        "shop/models.py": "from django.db import models\n\n\nclass Order(models.Model):\n    total = models.IntegerField()\n",
        "shop/views.py": "from django.http import JsonResponse\n\n\ndef orders(request):\n    return JsonResponse([], safe=False)\n"
        "\n\ndef order(request, pk):\n    return JsonResponse({'id': pk})\n",
        "shop/migrations/__init__.py": "",
        "shop/migrations/0001_initial.py": "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    initial = True\n    dependencies = []\n    operations = []\n",
        "shop/tests/__init__.py": "",
        "shop/tests/test_views.py": "def test_orders(client):\n    assert client.get('/api/orders/').status_code == 200\n",
    }
    _commit(repo, base, "django shop", times[0])
    for i, when in enumerate(times[1:], start=1):
        files = {"shop/views.py": base["shop/views.py"] + f"\n# change {i}\n"}
        if i % 3:
            files[f"shop/tests/test_change_{i}.py"] = f"def test_change_{i}():\n    assert {i} == {i}\n"
        _commit(repo, files, f"orders: change {i}", when)
    return repo


def fake_aws_key(seed: int = 10) -> str:
    """An access key id shaped like AWS's (AKIA + 16), made up here so no key-like string is in this source."""
    rng = random.Random(seed)
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))


def build_service_with_aws_key(path: Path, now: int | None = None) -> Path:
    """A FastAPI service with /v1 routes, tests, Dockerfile and a CI workflow, but an AWS key in config.py."""
    now = now or int(time.time())
    repo = _init(path, "main")
    times = _days(10, now)
    secret = "".join(random.Random(11).choice(string.ascii_letters + string.digits + "/+") for _ in range(40))
    base = {
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/v1/items')\ndef items():\n"
        "    return []\n\n\n@app.get('/v1/orders/{order_id}')\ndef order(order_id: int):\n    return {'id': order_id}\n",
        "app/config.py": f'AWS_ACCESS_KEY_ID = "{fake_aws_key()}"\nAWS_SECRET_ACCESS_KEY = "{secret}"\n',
        "tests/test_main.py": "from fastapi.testclient import TestClient\n\nfrom app.main import app\n\n\n"
        "def test_items():\n    assert TestClient(app).get('/v1/items').json() == []\n",
        "requirements.txt": "fastapi\nhttpx\npytest\n",
        "Dockerfile": "FROM python:3.12-slim\nCOPY . /srv\nRUN pip install -r /srv/requirements.txt\n"
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n',
        ".github/workflows/tests.yml": "on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - run: pip install -r requirements.txt\n"
        "      - run: pytest\n",
    }
    _commit(repo, base, "service with tests and CI", times[0])
    for i, when in enumerate(times[1:], start=1):
        files = {"app/main.py": base["app/main.py"] + f"\n# change {i}\n"}
        if i % 2:
            files[f"tests/test_change_{i}.py"] = f"def test_change_{i}():\n    assert {i} == {i}\n"
        _commit(repo, files, f"items: change {i}", when)
    return repo


BUILDERS: dict[str, Callable[..., Path]] = {
    "flask-single-file": build_flask_single_file,
    "django-tests-no-ci": build_django_tests_no_ci,
    "service-with-aws-key": build_service_with_aws_key,
}
