"""Tests for ladder.sandbox.app: the seeded repo (real git) and the app it holds (WSGI and real gunicorn)."""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest

from ladder.core.errors import SeedError
from ladder.sandbox.app import STALE_BRANCH, app_files, master_history, seed_repo

NOW = datetime(2024, 3, 15, 17, 30, tzinfo=UTC)
DAY = 86400
NOT_THE_STORY = re.compile(
    r"(^|/)(tests?/|test_[^/]*\.py$|[^/]*_test\.py$|conftest\.py$|\.github/|\.gitlab-ci\.yml$"
    r"|Jenkinsfile$|\.circleci/|tox\.ini$|pyproject\.toml$|setup\.py$|setup\.cfg$)"
)


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in `repo` without the user's config; return stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=60, check=check)
    return done.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_repo(tmp_path_factory.mktemp("seeded") / "items", now=NOW)


def commit_times(repo: Path, ref: str) -> list[int]:
    return [int(t) for t in git(repo, "log", "--format=%ct", ref).split()]


@pytest.mark.local
def test_seed_repo_returns_the_path_it_filled(tmp_path: Path) -> None:
    target = tmp_path / "new" / "items"
    assert seed_repo(target, now=NOW) == target
    assert (target / ".git").is_dir() and (target / "app.py").is_file()


@pytest.mark.local
def test_history_spans_six_months_and_ends_at_now(repo: Path) -> None:
    times = commit_times(repo, "master")
    assert max(times) == int(NOW.timestamp())
    assert max(times) - min(times) >= 150 * DAY


@pytest.mark.local
def test_default_now_is_the_current_time(tmp_path: Path) -> None:
    before = int(time.time())
    seed_repo(tmp_path / "items")
    after = int(time.time())
    assert before <= max(commit_times(tmp_path / "items", "master")) <= after


@pytest.mark.local
def test_master_has_100_to_150_commits_by_one_developer_and_no_merges(repo: Path) -> None:
    assert 100 <= int(git(repo, "rev-list", "--count", "master")) <= 150
    assert git(repo, "rev-list", "--merges", "--all") == ""
    assert set(git(repo, "log", "--all", "--format=%an <%ae>|%cn <%ce>").splitlines()) == {
        "Sam Solo <sam@example.com>|Sam Solo <sam@example.com>"
    }


@pytest.mark.local
def test_messages_read_like_a_solo_developers(repo: Path) -> None:
    subjects = git(repo, "log", "--format=%s", "master").splitlines()
    assert {"fix typo", "wip", "initial commit", "add items endpoint"} <= set(subjects)
    assert any(s.startswith("hotfix") for s in subjects)
    assert sum(s.startswith('Revert "') for s in subjects) >= 3


@pytest.mark.local
def test_commit_sizes_vary(repo: Path) -> None:
    sizes = []
    for block in git(repo, "log", "--numstat", "--format=format:@", "master").split("@")[1:]:
        sizes.append(sum(int(a) + int(d) for a, d, _ in (ln.split("\t") for ln in block.split("\n") if ln)))
    assert min(sizes) <= 2 and max(sizes) >= 30


@pytest.mark.local
def test_every_master_commit_holds_an_app_py_that_compiles(repo: Path) -> None:
    commits = git(repo, "rev-list", "master").split()
    requests = "".join(f"{c}:app.py\n" for c in commits)
    batch = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=repo, input=requests.encode(), capture_output=True, timeout=60, check=True
    ).stdout
    compiled = 0
    while batch:
        header, _, batch = batch.partition(b"\n")
        if header.endswith(b"missing"):
            continue
        size = int(header.split()[2])
        compile(batch[:size], "app.py", "exec")
        batch = batch[size + 1 :]
        compiled += 1
    assert compiled >= len(commits) - 3  # only the first commits predate app.py


@pytest.mark.local
def test_stale_branch_is_old_and_never_merged(repo: Path) -> None:
    assert set(git(repo, "branch", "--format=%(refname:short)").split()) == {"master", STALE_BRANCH}
    ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", STALE_BRANCH, "master"], cwd=repo, timeout=60)
    assert ancestor.returncode == 1
    fork = git(repo, "merge-base", "master", STALE_BRANCH).strip()
    fork_age = NOW.timestamp() - int(git(repo, "log", "-1", "--format=%ct", fork))
    assert 100 * DAY <= fork_age <= 140 * DAY
    assert NOW.timestamp() - max(commit_times(repo, STALE_BRANCH)) >= 90 * DAY
    assert int(git(repo, "rev-list", "--count", f"master..{STALE_BRANCH}")) >= 3


@pytest.mark.local
def test_no_tags(repo: Path) -> None:
    assert git(repo, "tag") == ""


@pytest.mark.local
def test_no_tests_ci_or_packaging_anywhere_in_history(repo: Path) -> None:
    paths = set(git(repo, "log", "--all", "--name-only", "--format=").split())
    assert {"app.py", "config.py", "README.md", "requirements.txt"} <= paths
    assert [p for p in paths if NOT_THE_STORY.search(p)] == []


@pytest.mark.local
def test_final_tree_of_master_is_the_template_app(repo: Path) -> None:
    files = app_files()
    assert sorted(git(repo, "ls-tree", "-r", "--name-only", "master").split()) == sorted(files)
    for path, text in files.items():
        assert git(repo, "show", f"master:{path}") == text, path
        assert (repo / path).read_text() == text, path


@pytest.mark.local
def test_work_tree_is_clean_on_master(repo: Path) -> None:
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/master"
    assert git(repo, "status", "--porcelain", "--ignored") == ""


@pytest.mark.local
def test_seeding_is_deterministic(repo: Path, tmp_path: Path) -> None:
    again = seed_repo(tmp_path / "again", now=NOW)
    refs = ["master", STALE_BRANCH]
    assert git(again, "rev-parse", *refs) == git(repo, "rev-parse", *refs)


@pytest.mark.local
def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    with pytest.raises(SeedError, match="not an empty folder") as caught:
        seed_repo(tmp_path, now=NOW)
    assert caught.value.path == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.unit
def test_requirements_pin_the_installed_gunicorn() -> None:
    assert app_files()["requirements.txt"] == f"gunicorn=={metadata.version('gunicorn')}\n"


@pytest.mark.unit
def test_routes_are_a_static_table_of_unversioned_literals() -> None:
    tree = ast.parse(app_files()["app.py"])
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "ROUTES")
    routes = {(e.elts[0].value, e.elts[1].value) for e in table.elts}
    assert routes == {("GET", "/"), ("GET", "/health"), ("GET", "/items"), ("POST", "/items"), ("GET", "/items/<id>")}


@pytest.mark.unit
def test_history_still_ends_at_the_template_when_the_template_grows() -> None:
    files = app_files()
    files["app.py"] += '\n\ndef extra(environ):\n    """Not in PLAN yet."""\n    return "200 OK", {}\n'
    files["docs/NOTES.md"] = "# notes\n\nsomething new\n"
    commits = master_history(files)
    assert commits[-1] == ("more changes", files)


# --- the app itself, called as WSGI without a server ---


@pytest.fixture
def load_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write the app to a folder and import it fresh, with the environment given."""
    src = tmp_path / "src"
    src.mkdir()
    for path, text in app_files().items():
        (src / path).write_text(text)
    monkeypatch.syspath_prepend(str(src))

    def load(**env: str):
        for name in ("APP_DB_PATH", "APP_VERSION", "APP_SECRET_KEY", "APP_ENV"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "items.db"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        sys.modules.pop("config", None)
        spec = importlib.util.spec_from_file_location("sandbox_items_app", src / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    load.src = src
    yield load
    sys.modules.pop("config", None)


def call(app, method: str, path: str, body: object = None) -> tuple[str, dict, bytes]:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD=method, PATH_INFO=path)
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        environ.update({"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))})
    seen: dict = {}
    out = b"".join(app.application(environ, lambda status, headers: seen.update(s=status, h=dict(headers))))
    assert int(seen["h"]["Content-Length"]) == len(out)
    return seen["s"], seen["h"], out


@pytest.mark.local
def test_health_reports_the_version_from_env_then_file_then_unknown(load_app) -> None:
    assert json.loads(call(load_app(), "GET", "/health")[2]) == {"status": "ok", "version": "unknown"}
    (load_app.src / "VERSION").write_text("2024.03.1\n")
    assert json.loads(call(load_app(), "GET", "/health")[2])["version"] == "2024.03.1"
    status, headers, body = call(load_app(APP_VERSION="abc123"), "GET", "/health")
    assert (status, headers["Content-Type"]) == ("200 OK", "application/json")
    assert json.loads(body) == {"status": "ok", "version": "abc123"}


@pytest.mark.local
def test_items_are_created_listed_and_fetched(load_app) -> None:
    app = load_app(APP_SECRET_KEY="s3cret-value")
    assert json.loads(call(app, "GET", "/items")[2]) == []
    status, _, body = call(app, "POST", "/items", {"name": " milk "})
    assert (status, json.loads(body)) == ("201 Created", {"id": 1, "name": "milk"})
    listed = json.loads(call(app, "GET", "/items")[2])
    assert [(i["id"], i["name"]) for i in listed] == [(1, "milk")]
    status, _, body = call(app, "GET", "/items/1")
    assert status == "200 OK" and json.loads(body)["name"] == "milk"


@pytest.mark.local
def test_bad_requests_get_clear_statuses(load_app) -> None:
    app = load_app()
    assert call(app, "GET", "/items/7")[0] == "404 Not Found"
    assert call(app, "GET", "/items/abc")[0] == "404 Not Found"
    assert call(app, "GET", "/nope")[0] == "404 Not Found"
    assert call(app, "DELETE", "/items")[0] == "405 Method Not Allowed"
    assert call(app, "POST", "/items", b"not json")[0] == "400 Bad Request"
    assert call(app, "POST", "/items", {"name": ""})[0] == "400 Bad Request"


@pytest.mark.local
def test_home_page_is_html(load_app) -> None:
    status, headers, body = call(load_app(), "GET", "/")
    assert status == "200 OK" and headers["Content-Type"].startswith("text/html")
    assert b'href="/items"' in body


# --- the seeded repo served by a real gunicorn over real HTTP ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def served(tmp_path: Path):
    """The seeded repo served by gunicorn on a free loopback port; yields (base url, repo, log file)."""
    repo = seed_repo(tmp_path / "items", now=NOW)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "APP_DB_PATH": str(tmp_path / "items.db"),
        "APP_SECRET_KEY": "s3cret-value",
        "APP_ENV": "production",
        "APP_VERSION": "seeded-1",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--chdir",
                str(repo),
                "app:application",
                "-b",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"gunicorn exited early:\n{log.read_text()}"
            try:
                http("GET", url + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text()}"
                time.sleep(0.1)
        yield url, repo, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.local
def test_gunicorn_serves_health_and_items_over_http(served) -> None:
    url, repo, log = served
    assert http("GET", url + "/health") == (200, {"status": "ok", "version": "seeded-1"})
    status, created = http("POST", url + "/items", {"name": "bread"})
    assert status == 201 and created["name"] == "bread"
    status, items = http("GET", url + "/items")
    assert status == 200 and [i["name"] for i in items] == ["bread"]
    assert http("GET", f"{url}/items/{created['id']}")[1]["name"] == "bread"
    assert "s3cret-value" not in log.read_text()
    assert git(repo, "status", "--porcelain") == ""  # bytecode and db stay out of git's way
