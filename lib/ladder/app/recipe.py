"""The packaging recipe for the team's repository: a pyproject.toml that builds the app's top-level modules as a wheel.

The version comes from git through setuptools-scm, the tool the Python packaging guide names for it: a developer's
`python -m build` in a checkout gets the same kind of version as Ladder's build (X.Y.Z on a tag vX.Y.Z, else the
next version's .devN plus the commit), with no version line to edit and no file to forget. Ladder's own build passes
the version it computed (artifact.version_of) to setuptools-scm, so the wheel carries exactly the store's version.
The dependencies are read from requirements.txt at build time (setuptools' dynamic dependencies), so the locked
requirements stay in one file and the recipe never goes stale when they change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from ..core import ops
from . import trunk

PYPROJECT = "pyproject.toml"
REQUIREMENTS = "requirements.txt"
MESSAGE = "Package the app: pyproject.toml (setuptools, version from git tags by setuptools-scm)"
# Root files that are tooling, not the app: a setup script, pytest's conftest, a test module.
NOT_APP = re.compile(r"^(setup|conftest|test_.*|.*_test|noxfile|tasks)$")
BUILD_REQUIRES = ("setuptools>=61", "setuptools-scm>=8")
REPO = "repository"  # the Change's host column for the team's shared repository


def modules(paths: list[str] | Mapping[str, str]) -> list[str]:
    """The app's top-level modules: every importable *.py at the repository's root but setup and test files.

    A root file whose stem is no Python name (gunicorn.conf.py) is a tool's config, not a module: setuptools
    would read it as a package.
    """
    names = (PurePosixPath(p) for p in paths)
    return sorted(
        p.stem
        for p in names
        if len(p.parts) == 1 and p.suffix == ".py" and p.stem.isidentifier() and not NOT_APP.match(p.stem)
    )


def pyproject(name: str, mods: list[str]) -> str:
    """The pyproject.toml text that packages mods as the distribution name."""
    requires = ", ".join(f'"{r}"' for r in BUILD_REQUIRES)
    listed = ", ".join(f'"{m}"' for m in mods)
    return (
        "# Written by Ladder (rung 3a): `python -m build` makes a wheel; the version comes from git tags (vX.Y.Z).\n"
        "[build-system]\n"
        f"requires = [{requires}]\n"
        'build-backend = "setuptools.build_meta"\n'
        "\n"
        "[project]\n"
        f'name = "{name}"\n'
        'dynamic = ["version", "dependencies"]\n'
        "\n"
        "[tool.setuptools]\n"
        f"py-modules = [{listed}]\n"
        "\n"
        "[tool.setuptools.dynamic]\n"
        f'dependencies = {{file = ["{REQUIREMENTS}"]}}\n'
        "\n"
        "[tool.setuptools_scm]\n"
    )


def files(tree: Mapping[str, str], name: str) -> dict[str, str]:
    """What to commit so the repository builds (tree: its files at trunk's head); {} when the recipe is current."""
    text = pyproject(name, modules(tree))
    return {} if tree.get(PYPROJECT) == text else {PYPROJECT: text}


def land(repo: str, name: str, *, dry_run: bool = True) -> ops.Change:
    """Commit the recipe on the team's trunk (pushed, never forced), as rung 2 lands its files; planned by default."""
    where, texts, made = trunk.commit_made(repo, lambda tree, _: files(tree, name), MESSAGE, dry_run=dry_run)
    return ops.Change(
        REPO,
        "packaging recipe",
        where,
        (f"git commit -m {MESSAGE!r}",) if texts else (),
        bool(texts),
        bool(made),
        reason=f"{PYPROJECT} {'missing or out of date' if texts else 'already on trunk'}"
        + (f" (committed {made[:12]})" if made else ""),
    )
