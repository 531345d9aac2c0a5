"""Test artifacts until the 3a build lands: the sandbox app as a wheel, its wheelhouse and manifest, in a store."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ladder.app import manifest as mf
from ladder.sandbox import APP_NAME
from ladder.sandbox.app import app_files

PIP_TIMEOUT = 300


def pyproject(name: str, version: str, requirements: list[str]) -> str:
    """A minimal setuptools project: the root modules of the app, its requirements as dependencies."""
    deps = ", ".join(f'"{r}"' for r in requirements)
    return (
        '[build-system]\nrequires = ["setuptools", "wheel"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndependencies = [{deps}]\n\n'
        '[tool.setuptools]\npy-modules = ["app", "config"]\n'
    )


def build(store: Path, version: str, name: str = APP_NAME) -> mf.Manifest:
    """Build the sandbox app at version into store/<name>/<version>/ (wheelhouse/ + manifest.json)."""
    folder = Path(mf.folder(str(store), name, version))
    wheelhouse = folder / mf.WHEELHOUSE
    with tempfile.TemporaryDirectory(prefix="ladder-app-src-") as tmp:
        _wheels(Path(tmp), wheelhouse, name, version)
    wheels = sorted(p.relative_to(folder).as_posix() for p in wheelhouse.glob("*.whl"))
    own = next(w for w in wheels if Path(w).name.startswith(f"{name}-{version}-"))
    manifest = mf.Manifest(
        name=name,
        version=version,
        git_sha="0" * 40,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        python=".".join(map(str, sys.version_info[:3])),
        wheel=own,
        files={w: mf.sha256_file(folder / w) for w in wheels},
    )
    (folder / mf.MANIFEST).write_text(manifest.to_json())
    return manifest


def _wheels(src: Path, wheelhouse: Path, name: str, version: str) -> None:
    """The app's wheel (built from src) and its requirements' wheels, into wheelhouse."""
    files = app_files()
    for path, text in files.items():
        (src / path).write_text(text)
    requirements = [line for line in files["requirements.txt"].splitlines() if line.strip()]
    (src / "pyproject.toml").write_text(pyproject(name, version, requirements))
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheelhouse)]
    subprocess.run([*pip, "--no-deps", str(src)], check=True, timeout=PIP_TIMEOUT)
    subprocess.run([*pip, "-r", str(src / "requirements.txt")], check=True, timeout=PIP_TIMEOUT)
