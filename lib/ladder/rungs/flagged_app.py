"""What rung 2 adds to the team's app for feature flags: OpenFeature, a file provider and the redesign behind a flag."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from ..core.errors import LadderError

TEMPLATE = Path(__file__).with_name("template")
FLAG = "redesign"  # the unfinished feature: the home page's redesign, shown only where the flag is on
DEFAULTS = {"dev": True, "staging": True, "prod": False}  # per environment; set flips it later
REDESIGN_MARK = 'data-design="redesign"'

CONFIG_LINES = """
# Feature flags of this environment (JSON), in the host's shared config next to the checkout.
FLAGS_FILE = os.environ.get("APP_FLAGS_FILE", "../shared/flags.json")
"""

HOME = '''
REDESIGN_HTML = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>Items</title></head>
<body data-design="redesign">
<header><h1>Items</h1><nav><a href="/items">All items</a> · <a href="/health">Status</a></nav></header>
<main><p>Your list, redesigned. (Unfinished: behind the redesign flag.)</p></main>
</body>
</html>
"""


def home(environ):
    """Home page: the unfinished redesign where the redesign flag is on, else the current page."""
    if flags.enabled("redesign"):
        return "200 OK", REDESIGN_HTML
    return index(environ)


'''


def flags_defaults(environment: str) -> dict[str, bool]:
    """The flags file rung 2 installs on an environment's hosts: the redesign on in dev, off in prod."""
    return {FLAG: DEFAULTS.get(environment, False)}


def _edit(text: str, path: str, anchor: str, new: str) -> str:
    if text.count(anchor) != 1:
        raise LadderError(
            f"{path}: expected {anchor.strip()!r} once to add feature flags; "
            "add flags by hand (see the rung 2 runbook) or restore that line"
        )
    return text.replace(anchor, new)


def with_flags(files: Mapping[str, str]) -> dict[str, str]:
    """The files to change in the app (path -> new text): flags.py, config, the flagged home page, requirements."""
    if "flags.py" in files:
        return {}
    provider = (TEMPLATE / "flags.py").read_text()
    requirements = files.get("requirements.txt", "")
    pin = f"openfeature-sdk=={metadata.version('openfeature-sdk')}\n"
    app = files.get("app.py", "")
    for anchor, new in (
        ("import config\n", "import config\nimport flags\n"),
        ("\nROUTES = [\n", HOME + "ROUTES = [\n"),
        ('("GET", "/", index),', '("GET", "/", home),'),
    ):
        app = _edit(app, "app.py", anchor, new)
    return {
        "flags.py": provider,
        "config.py": files.get("config.py", "import os\n").rstrip("\n") + "\n" + CONFIG_LINES,
        "app.py": app,
        "requirements.txt": requirements + ("" if requirements.endswith("\n") or not requirements else "\n") + pin,
    }
