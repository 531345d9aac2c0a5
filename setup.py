"""Build hook: the wheel carries copies of the top-level runbooks/ and notebooks/, which stay the only source.

Everything else about the package is in pyproject.toml. An editable install reads the source tree itself
(ladder.engine.notebooks), so the copies are made for a wheel only.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Top-level folder -> the files of it that the wheel carries, under ladder/shipped/<folder>/.
SHIPPED = {"runbooks": ("*.ipynb", "README.md"), "notebooks": ("*.ipynb",)}


class BuildWithNotebooks(build_py):
    """build_py, plus the runbooks and the assessment notebook as package data."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for folder, patterns in SHIPPED.items():
            sources = sorted(p for pattern in patterns for p in (HERE / folder).glob(pattern))
            if not any(p.suffix == ".ipynb" for p in sources):
                raise SystemExit(f"{HERE / folder}: no notebooks to ship; an sdist must include {folder}/")
            target = Path(self.build_lib) / "ladder" / "shipped" / folder
            self.mkpath(str(target))
            for source in sources:
                self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildWithNotebooks})
