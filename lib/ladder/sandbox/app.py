"""The team's app as it stands today: its files, from the template, with requirements pinned to this install."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from ..core.errors import SeedError

TEMPLATE = Path(__file__).with_name("template")
PINNED = ("gunicorn", "prometheus-client", "python-json-logger")  # the app's requirements: server, metrics, JSON logs


def app_files() -> dict[str, str]:
    """The app's final tree: relative path -> content (requirements pin the installed PINNED packages)."""
    files = {
        p.relative_to(TEMPLATE).as_posix(): p.read_text()
        for p in sorted(TEMPLATE.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    files["requirements.txt"] = "".join(f"{name}=={_version(name)}\n" for name in PINNED)
    return files


def _version(name: str) -> str:
    """The version of a package installed next to Ladder, which the app's requirements pin."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        raise SeedError(f"{name} is not installed; run `pip install {name}`", path=TEMPLATE) from None
