"""The project kind: a service its team deploys, a library, or an app its users host, read from small real repos."""

from __future__ import annotations

import time

import pytest

from gitrepo import GitRepo
from ladder.app.git import open_repo
from ladder.assess.kind import LIBRARY, SELF_HOSTED, SERVICE, check_kind, project_kind, weigh
from ladder.assess.repo_facts import RepoFacts
from ladder.core.errors import OptionError

PUBLISH_PYPI = """\
on:
  push:
    tags: ["v*"]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python -m build
      - uses: pypa/gh-action-pypi-publish@release/v1
"""
PUBLISH_IMAGE = """\
on:
  release:
    types: [published]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: docker build -t ghcr.io/acme/notes:${{ github.ref_name }} . && docker push ghcr.io/acme/notes:${{ github.ref_name }}
"""
DEPLOY = """\
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: flyctl deploy --remote-only
"""


def kind_of(repo: GitRepo, given: str = ""):
    return project_kind(RepoFacts(open_repo(repo.path), int(time.time())), given)


@pytest.fixture
def library(tmp_path) -> GitRepo:
    repo = GitRepo(tmp_path / "parsley")
    repo.commit(
        {
            "pyproject.toml": '[project]\nname = "parsley"\nclassifiers = ["Programming Language :: Python"]\n'
            '[build-system]\nrequires = ["hatchling"]\n',
            "src/parsley/__init__.py": "def parse(text): return text.split()\n",
            "tests/test_parse.py": "from parsley import parse\ndef test_parse(): assert parse('a b') == ['a', 'b']\n",
            "docs/installation.rst": "pip install parsley\n",
            ".github/workflows/publish.yml": PUBLISH_PYPI,
        }
    )
    return repo


@pytest.mark.local
def test_a_package_published_on_a_tag_is_a_library(library):
    k = kind_of(library)
    assert (k.kind, k.confidence, k.overridden) == (LIBRARY, "high", False)
    assert "package published on a tag: .github/workflows/publish.yml" in k.evidence
    assert "src layout: src/parsley/__init__.py" in k.evidence


@pytest.mark.local
def test_a_team_deployed_web_app_is_a_service(tmp_path):
    repo = GitRepo(tmp_path / "shop")
    repo.commit(
        {
            "manage.py": "import django\n",
            "shop/settings.py": "import os\nALLOWED_HOSTS = ['shop.example.com']\nSECRET_KEY = os.environ['KEY']\n",
            "Dockerfile": "FROM python:3.12-slim\n",
            "docker-compose.yml": "services:\n  web:\n    build: .\n    ports: ['8000:8000']\n",
            "fly.toml": 'app = "shop"\n',
            ".github/workflows/deploy.yml": DEPLOY,
        }
    )
    k = kind_of(repo)
    assert (k.kind, k.confidence) == (SERVICE, "high")
    assert "deploy target: fly.toml" in k.evidence
    assert "CI deploy job: .github/workflows/deploy.yml" in k.evidence
    assert "one site in ALLOWED_HOSTS: shop/settings.py" in k.evidence


@pytest.mark.local
def test_a_web_app_its_users_run_from_a_published_image_is_self_hosted(tmp_path):
    repo = GitRepo(tmp_path / "notes")
    repo.commit(
        {
            "manage.py": "import django\n",
            "notes/settings.py": "import os\nALLOWED_HOSTS = os.environ['ALLOWED_HOSTS'].split(',')\n",
            "Dockerfile": "FROM python:3.12-slim\n",
            "docker-compose.yml": "services:\n  notes:\n    image: ghcr.io/acme/notes:latest\n",
            "docs/installation/docker.md": "docker compose up -d\n",
            ".github/workflows/image.yml": PUBLISH_IMAGE,
        }
    )
    k = kind_of(repo)
    assert k.kind == SELF_HOSTED and k.confidence == "high"
    assert "image or binaries published on a tag: .github/workflows/image.yml" in k.evidence
    assert "compose file pulling a published image: docker-compose.yml" in k.evidence
    assert "install docs: docs/installation/docker.md" in k.evidence


@pytest.mark.local
def test_a_single_install_page_that_sets_up_a_server_stack_is_self_hosting_docs(tmp_path):
    forum = GitRepo(tmp_path / "forum")
    forum.commit(
        {
            "wsgi.py": "from forum import create_app\napplication = create_app()\n",
            "docs/installation.rst": "Install\n=======\n\nRun it with uWSGI behind nginx, with Redis for the queue.\n",
        }
    )
    k = kind_of(forum)
    assert k.kind == SELF_HOSTED
    assert "install docs: docs/installation.rst (sets up nginx, redis, uwsgi)" in k.evidence
    lib = GitRepo(tmp_path / "lib")
    lib.commit({"wsgi.py": "application = None\n", "docs/installation.rst": "Install\n=======\n\npip install lib\n"})
    assert not any("install docs" in e for e in kind_of(lib).evidence)  # a page that only says `pip install`


@pytest.mark.local
def test_an_app_that_publishes_a_package_is_not_a_library(tmp_path):
    # A web app installed with pip is still run by its users: its package is its release, not a library.
    repo = GitRepo(tmp_path / "wiki")
    repo.commit({"wiki/manage.py": "import django\n", ".github/workflows/release.yml": PUBLISH_PYPI})
    k = kind_of(repo)
    assert k.kind == SELF_HOSTED
    assert "package published on a tag: .github/workflows/release.yml" in k.evidence


@pytest.mark.local
def test_an_ambiguous_repo_is_assumed_a_service_with_low_confidence_and_says_why(tmp_path):
    app = GitRepo(tmp_path / "app")
    app.commit({"manage.py": "import django\n", "app/settings.py": "DEBUG = False\n"})  # deployed by whom?
    k = kind_of(app)
    assert (k.kind, k.confidence) == (SERVICE, "low")
    assert k.evidence[0] == "as much sign of a service as of a self-hosted: assumed a service"
    both = GitRepo(tmp_path / "both")
    both.commit({"Procfile": "web: gunicorn app:app\n", "docs/install/index.md": "pip install both\n"})
    k = kind_of(both)  # a deploy target (3) against install docs (2): a service, but not surely
    assert (k.kind, k.confidence) == (SERVICE, "low")
    assert k.evidence == ("deploy target: Procfile", "but self-hosted: install docs: docs/install/index.md")
    empty = GitRepo(tmp_path / "bare")
    empty.commit({"README.md": "hello\n"})
    nothing = kind_of(empty)
    assert (nothing.kind, nothing.confidence) == (SERVICE, "low") and "assumed a service" in nothing.evidence[0]


@pytest.mark.local
def test_a_given_kind_wins_and_still_shows_what_was_detected(library):
    k = kind_of(library, SERVICE)
    assert (k.kind, k.confidence, k.overridden) == (SERVICE, "set", True)
    assert k.evidence == ("set by --kind", "detected library (high)")
    assert k.to_dict() == {"kind": SERVICE, "confidence": "set", "evidence": list(k.evidence), "overridden": True}


@pytest.mark.unit
def test_a_bad_kind_names_the_option_and_the_allowed_values():
    assert check_kind("") == "" and check_kind(" library ") == LIBRARY
    with pytest.raises(OptionError, match=r"--kind 'app': use one of service, library, self-hosted"):
        check_kind("app", option="--kind")


@pytest.mark.unit
def test_vendored_files_and_docs_hosts_weigh_little():
    k = weigh(["node_modules/x/Procfile", "netlify.toml", "docs/install/index.md"], {})
    # netlify.toml (1: often just the docs' host) loses to install docs (2); the vendored Procfile is not seen.
    assert k.kind == SELF_HOSTED and k.confidence == "low"
    assert k.evidence == ("install docs: docs/install/index.md", "but service: static site host: netlify.toml")


@pytest.mark.local
def test_a_cookiecutter_template_is_library_like_and_its_template_folder_is_not_its_own(tmp_path):
    repo = GitRepo(tmp_path / "template")
    app = "{{cookiecutter.project_slug}}"
    repo.commit(
        {
            "cookiecutter.json": '{"project_slug": "shop"}\n',
            "hooks/post_gen_project.py": "print('done')\n",
            "tests/test_generate.py": "def test_bake(cookies): assert cookies.bake().exit_code == 0\n",
            f"{app}/manage.py": "import django\n",
            f"{app}/config/settings.py": "ALLOWED_HOSTS = ['shop.example.com']\n",
            f"{app}/fly.toml": 'app = "shop"\n',
            f"{app}/Dockerfile": "FROM python:3.12-slim\n",
        }
    )
    k = kind_of(repo)
    assert k.kind == LIBRARY and k.evidence[0] == "project template: cookiecutter.json"
    assert not any("shop" in e or "fly.toml" in e for e in k.evidence)  # the generated app's signs are set aside
    from ladder.app.history import is_sample_path

    assert is_sample_path(f"{app}/config/settings.py") and is_sample_path("src/{{ project_name }}/app.py")
    assert not is_sample_path("hooks/post_gen_project.py") and not is_sample_path("config/settings.py")
