"""The wheel works away from the repository: built, installed in a fresh venv, run from an unrelated folder.

How the fresh venv gets its dependencies, honestly and fast: the wheel is installed with --no-deps into a
venv made without pip; a .pth file then appends this venv's site-packages (which `make setup` filled from
constraints.txt) to its sys.path, and JUPYTER_PATH names this venv's Jupyter data (nbconvert's templates).
A .pth line is only a path: the editable install's own .pth hook in that folder never runs, so `import
ladder` finds the wheel's copy and nothing of the source tree. A test checks that, and that the wheel's
declared requirements are met by what it sees. Installing the dependencies for real takes about 40 s
more and would test pip, not Ladder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = "1-separate-dev-and-prod"


def run(*args: str | Path, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command; fail the test with everything it printed when it exits non-zero."""
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def source_files() -> list[str]:
    """The source tree as a contributor has it: tracked and new files, none that git ignores."""
    listed = run("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


class Installed:
    """Ladder installed from its wheel in a fresh venv, and a clean environment to run it in."""

    def __init__(self, tmp: Path) -> None:
        source = tmp / "source"  # a copy, so the build leaves nothing in the repository
        for name in source_files():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
        run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", source)
        (self.wheel,) = (tmp / "dist").glob("ladder-*.whl")
        self.venv = tmp / "venv"
        run(sys.executable, "-m", "venv", "--without-pip", self.venv)
        self.python = self.venv / "bin" / "python"
        run(
            sys.executable, "-m", "pip", "--python", self.python, "install", "-q", "--no-deps", "--no-index", self.wheel
        )
        site = run(self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
        deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        Path(site, "ladder-test-dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
        self.env = {k: v for k, v in os.environ.items() if k not in ("LADDER_RUNBOOKS", "LADDER_NOTEBOOKS")}
        for name in ("PYTHONPATH", "VIRTUAL_ENV", "LADDER_CONFIG"):
            self.env.pop(name, None)
        ours = str(Path(sys.executable).parent)
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p != ours]
        self.env["PATH"] = os.pathsep.join([str(self.venv / "bin"), *path])
        self.env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
        self.env["LADDER_HOME"] = str(tmp / "home")
        self.elsewhere = tmp / "elsewhere"  # an unrelated folder: no runbooks/, no notebooks/, no ladder.yml
        self.elsewhere.mkdir()

    def ladder(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run the installed `ladder` command, from the unrelated folder unless told otherwise."""
        return subprocess.run(
            [str(self.venv / "bin" / "ladder"), *args],
            cwd=cwd or self.elsewhere,
            env=self.env,
            capture_output=True,
            text=True,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    return Installed(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_carries_every_runbook_the_assessment_and_the_sandbox_template(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    runbooks = {p.name for p in (ROOT / "runbooks").iterdir() if p.suffix == ".ipynb" or p.name == "README.md"}
    assert {f"ladder/shipped/runbooks/{name}" for name in runbooks} <= names
    assert "ladder/shipped/notebooks/assessment.ipynb" in names
    template = {p.relative_to(ROOT / "lib").as_posix() for p in (ROOT / "lib/ladder/sandbox/template").rglob("*")}
    assert {t for t in template if "__pycache__" not in t and not t.endswith("template")} <= names


def test_ladder_comes_from_the_wheel_and_its_requirements_are_met(installed):
    check = """
import importlib.metadata as md, ladder
from packaging.requirements import Requirement
print(ladder.__file__)
for line in md.requires("ladder"):
    req = Requirement(line)
    if req.marker is None or req.marker.evaluate({"extra": ""}):
        assert req.specifier.contains(md.version(req.name)), f"{req}: {md.version(req.name)} installed"
"""
    out = run(installed.python, "-c", check, cwd=installed.elsewhere, env=installed.env).stdout
    assert Path(out.strip()).is_relative_to(installed.venv)


def test_ladder_list_from_an_unrelated_folder_shows_rung_1_and_its_parameters(installed):
    done = installed.ladder("list")
    assert done.returncode == 0, done.stderr
    assert f"1    {RUNBOOK}  Rung 1: separate dev and prod" in done.stdout
    for parameter in ('config: str = "sandbox"', "dry_run: bool = True", 'ref: str = "master"'):
        assert parameter in done.stdout


def test_a_rung_1_dry_run_and_an_assessment_against_a_sandbox(installed):
    up = installed.ladder("sandbox", "up")
    assert up.returncode == 0, up.stderr
    try:
        done = installed.ladder("run", "1", "--config", "sandbox")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"ok: {RUNBOOK} (dry run): ")
        runs = Path(installed.env["LADDER_HOME"]) / "runs"  # the runs home, not the folder ladder ran in
        (report,) = runs.glob("*/report.html")
        assert not (installed.elsewhere / "runs").exists()
        assert "Rung 1: separate dev and prod" in report.read_text()
        assessed = installed.ladder("assess", "--config", "sandbox")
        assert assessed.returncode == 0, assessed.stderr
        assert "next step: rung 1, " in assessed.stdout
        assert len(list(runs.glob("*/assessment.html"))) == 1
    finally:
        down = installed.ladder("sandbox", "down")
    assert down.returncode == 0, down.stderr


def test_notebooks_copy_gives_the_installed_notebooks_to_edit(installed):
    done = installed.ladder("notebooks", "copy", "mine")
    assert done.returncode == 0, done.stderr
    mine = installed.elsewhere / "mine"
    assert (mine / "runbooks" / f"{RUNBOOK}.ipynb").read_bytes() == (
        ROOT / "runbooks" / f"{RUNBOOK}.ipynb"
    ).read_bytes()
    assert (mine / "notebooks" / "assessment.ipynb").read_bytes() == (ROOT / "notebooks/assessment.ipynb").read_bytes()
    again = installed.ladder("notebooks", "copy", "mine")
    assert again.returncode == 2
    assert "would overwrite" in again.stderr
