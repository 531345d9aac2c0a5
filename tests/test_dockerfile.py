"""ladder.app.dockerfile: the container recipe of an artifact passes hadolint, pins its base, and is never built."""

from __future__ import annotations

import pytest

from ladder.app import dockerfile
from ladder.app.manifest import Manifest
from ladder.assess.rung3a import parse_from_lines
from ladder.core.errors import LadderError, ParameterError

DIGEST = "sha256:" + "4f" * 32


def artifact(name: str, version: str, python: str, *wheels: str) -> Manifest:
    """A manifest as the 3a build writes it: the app's wheel and its dependencies' in wheelhouse/."""
    own = f"wheelhouse/{name.replace('-', '_')}-{version}-py3-none-any.whl"
    files = {own: "0" * 64, **{f"wheelhouse/{w}": f"{i + 1:064x}" for i, w in enumerate(wheels)}}
    return Manifest(name, version, "ab" * 20, "2026-11-27T00:00:00Z", python, own, files)


# name: (manifest, render keywords): the sandbox app under each of its servers, and two other shapes.
SHAPES = {
    "sandbox app, gunicorn": (
        artifact("items", "0.1.dev12+g1a2b3c4", "3.11.7", "gunicorn-27.0.1-py3-none-any.whl"),
        dict(server="gunicorn", wsgi="app:application", port=8000, health_path="/health"),
    ),
    "sandbox app, uWSGI": (
        artifact("items", "1.0.0", "3.11.7", "pyuwsgi-2.0.30.post1-cp311-cp311-manylinux_2_28_x86_64.whl"),
        dict(server="uwsgi", wsgi="app:application", port=8000, health_path="/health"),
    ),
    "src-layout package with a digest": (
        artifact(
            "shop-api",
            "2.3.1",
            "3.12.4",
            "Flask-3.1.0-py3-none-any.whl",
            "gunicorn-23.0.0-py3-none-any.whl",
        ),
        dict(server="gunicorn", wsgi="shop.wsgi:app", port=5000, health_path="/v1/status", digest=DIGEST),
    ),
}


@pytest.mark.local
@pytest.mark.parametrize("name", SHAPES)
def test_hadolint_finds_nothing_in_what_is_rendered(name):
    manifest, keywords = SHAPES[name]
    text = dockerfile.render(manifest, **keywords)
    assert dockerfile.lint(text) == []
    assert dockerfile.checked(text) == text


@pytest.mark.local
def test_hadolint_catches_a_broken_dockerfile():
    found = dockerfile.lint("FROM python:latest\nRUN pip install flask\nCMD python app.py\n")
    assert {f.rule for f in found} >= {"DL3007", "DL3013", "DL3042", "DL3025"}
    assert all(f.file == dockerfile.PATH and f.line > 0 and f.message for f in found)
    manifest, keywords = SHAPES["sandbox app, gunicorn"]
    broken = dockerfile.render(manifest, **keywords).replace("USER 10001:10001", "USER app")
    with pytest.raises(LadderError, match="fails hadolint.*DL3066"):
        dockerfile.checked(broken)


@pytest.mark.unit
@pytest.mark.parametrize("name", SHAPES)
def test_the_recipe_installs_the_wheelhouse_offline_as_a_non_root_user_with_a_healthcheck(name):
    manifest, keywords = SHAPES[name]
    text = dockerfile.render(manifest, **keywords)
    assert "--no-index --find-links=/wheelhouse" in text and f'"{manifest.name}=={manifest.version}"' in text
    assert "USER 10001:10001" in text and "useradd" in text
    health = next(line for line in text.splitlines() if line.startswith("    CMD "))
    assert f"http://127.0.0.1:{keywords['port']}{keywords['health_path']}" in health and "curl" not in text
    assert text.splitlines()[-1].startswith(f'CMD ["/opt/app/bin/{keywords["server"]}"')
    assert keywords["wsgi"] in text.splitlines()[-1]
    assert "Not built by Ladder" in text  # the recipe says it was never built
    assert text == dockerfile.render(manifest, **keywords)  # deterministic


@pytest.mark.unit
@pytest.mark.parametrize("name", SHAPES)
def test_the_assessment_sees_the_base_image_as_pinned(name):
    manifest, keywords = SHAPES[name]
    (base,) = parse_from_lines(dockerfile.render(manifest, **keywords))
    assert base == (dockerfile.base_image(manifest.python, keywords.get("digest", "")), True)
    assert base[0].startswith(f"python:{manifest.python}-slim-bookworm")
    assert ("@" + DIGEST in base[0]) == ("digest" in keywords)


@pytest.mark.unit
def test_the_server_is_pinned_to_the_wheel_in_the_wheelhouse():
    manifest, keywords = SHAPES["src-layout package with a digest"]
    assert '"gunicorn==23.0.0"' in dockerfile.render(manifest, **keywords)
    assert dockerfile.wheel_version(manifest, ("flask",)) == ("Flask", "3.1.0")


@pytest.mark.unit
def test_a_server_missing_from_the_wheelhouse_is_refused_with_the_fix():
    manifest, keywords = SHAPES["sandbox app, gunicorn"]
    with pytest.raises(LadderError, match="no uwsgi wheel.*add pyuwsgi to requirements.txt"):
        dockerfile.render(manifest, **{**keywords, "server": "uwsgi"})


@pytest.mark.unit
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"server": "waitress"}, "parameter 'server'"),
        ({"wsgi": "app; rm -rf /"}, "app.wsgi"),
        ({"port": 0}, "app.port"),
        ({"health_path": "health'); import os"}, "app.health_path"),
        ({"digest": "latest"}, "parameter 'digest'"),
    ],
)
def test_bad_input_is_refused_naming_the_field(change, words):
    manifest, keywords = SHAPES["sandbox app, gunicorn"]
    with pytest.raises(ParameterError, match=words):
        dockerfile.render(manifest, **{**keywords, **change})


@pytest.mark.unit
def test_a_python_without_its_patch_version_is_refused():
    with pytest.raises(ParameterError, match="X.Y.Z"):
        dockerfile.base_image("3.11")
