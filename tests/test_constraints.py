"""constraints.txt, the lock `make setup` installs: within pyproject.toml's ranges, and the versions in use."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
# What runs the notebooks: a new major of any of these can break a run.
CAPPED = ("papermill", "nbconvert", "nbformat", "jsonschema", "ipykernel", "jupyterlab", "fabric", "pandas")


def pins() -> dict[str, Version]:
    """constraints.txt as {canonical name: pinned version}."""
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{line}: a lock pins one version"
            found[canonicalize_name(req.name)] = Version(spec.version)
    return found


def requirements() -> list[Requirement]:
    """Ladder's own requirements, its extras (dev, bench, gates) included."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in project["dependencies"] + extras]


def test_the_lock_pins_every_requirement_within_its_range():
    locked = pins()
    for req in requirements():
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in constraints.txt"
        assert req.specifier.contains(locked[name]), f"constraints.txt pins {req.name} {locked[name]}, outside {req}"


def test_ladder_itself_is_not_locked():
    assert "ladder" not in pins()


@pytest.mark.parametrize("name", CAPPED)
def test_what_runs_the_notebooks_is_capped_below_its_next_major(name):
    (req,) = [r for r in requirements() if canonicalize_name(r.name) == name]
    assert any(s.operator == "<" for s in req.specifier), f"{req}: no upper bound"
    assert req.specifier.contains(pins()[name])


def test_the_installed_versions_are_the_locked_ones():
    wrong = {
        name: f"{installed} installed, {pinned} locked"
        for name, pinned in pins().items()
        if (installed := Version(metadata.version(name))) != pinned
    }
    assert wrong == {}, "run `make setup` (pip install -c constraints.txt -e '.[dev,bench,gates]')"


def test_the_pre_commit_hooks_use_the_locked_versions():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    deps = [Requirement(dep) for hook in hooks for dep in hook.get("additional_dependencies", [])]
    assert {canonicalize_name(d.name) for d in deps} >= {"ruff", "nbstripout"}
    locked = pins()
    for dep in deps:
        assert str(dep.specifier) == f"=={locked[canonicalize_name(dep.name)]}", f"{dep} differs from the lock"
