"""Hostile names for the HTML Ladder writes: planted where a person on a host or in the repository can put them,
then read back from the page as chromium builds it.

    box = plant(sandbox.up(tmp_path / "sandbox"))
    outcome = runner.run("1-separate-dev-and-prod", config=box.config_path)
    assert_inert(outcome.report, FILES)
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from browser import open_page

# Each would run script if it reached a page as markup. Names of files on prod (a file name holds no "/").
FILES = ("<img src=x onerror=alert(document.domain)>", '"><svg onload=alert(2)>')
BRANCH = "<svg/onload=alert(3)>"  # a valid git branch name
MESSAGE = '"><script>alert(4)</script>'
AUTHOR = "<img src=x onerror=alert(5)>"
ROUTE = "/<img src=x onerror=alert(6)>"  # a route in the app's code
ALL = (*FILES, BRANCH, MESSAGE, AUTHOR, ROUTE)
OLD = 30 * 86400  # seconds: the hostile branch is a long-lived one, which the assessment names

# Elements or attributes that only the planted names could have made (the pages themselves make none).
_MADE = """() => ({
    images: [...document.querySelectorAll('img')].filter(i => !i.src.startsWith('data:')).length,
    svgs_with_handlers: document.querySelectorAll('svg[onload]').length,
    handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length,
    scripts: [...document.querySelectorAll('script')].filter(s => !(s.type || '').startsWith('application/')).length,
    text: document.body.textContent,
})"""


def _git(cwd: Path, *args: str, env: dict | None = None) -> str:
    done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True, env=env)
    return done.stdout.strip()


def plant(box):  # -> sandbox.Sandbox
    """Hostile file names in every prod checkout; in the team's repository a route, an old branch, a commit's
    message and author, all hostile. Returns the sandbox."""
    for prod in sorted((box.dir / "hosts").glob("prod*")):
        for name in FILES:
            (prod / "app" / name).write_text("planted on prod\n")
    when = f"{int(time.time()) - OLD} +0000"
    env = dict(os.environ, GIT_AUTHOR_NAME=AUTHOR, GIT_AUTHOR_EMAIL="a@example.com")
    env.update(GIT_COMMITTER_NAME=AUTHOR, GIT_COMMITTER_EMAIL="a@example.com")
    old = dict(env, GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    repo = box.repo
    _git(repo, "switch", "-q", "-c", BRANCH)
    (repo / "planted.py").write_text(f'@app.route("{ROUTE}")\ndef planted():\n    return ""\n')
    _git(repo, "add", "planted.py")
    _git(repo, "commit", "-q", "-m", MESSAGE, env=old)
    _git(repo, "switch", "-q", "master")
    (repo / "routes_planted.py").write_text(f'@app.route("{ROUTE}")\ndef planted():\n    return ""\n')
    _git(repo, "add", "routes_planted.py")
    _git(repo, "commit", "-q", "-m", MESSAGE, env=env)
    return box


def assert_inert(page: Path, shown: tuple[str, ...]) -> None:
    """The page shows each name in shown as text, and no planted name made an element, a handler or a dialog."""
    source = page.read_text()
    raw = [name for name in ALL if name in source]
    assert not raw, f"{page}: unescaped in the HTML: {raw}"
    with open_page(page) as viewed:
        made = viewed.page.evaluate(_MADE)
        text = made.pop("text")
        missing = [name for name in shown if name not in text]
        assert not missing, f"{page}: not shown as text: {missing}"
        assert made == {"images": 0, "svgs_with_handlers": 0, "handlers": 0, "scripts": 0}, f"{page}: {made}"
        assert viewed.dialogs == [], f"{page}: dialogs opened: {viewed.dialogs}"
        assert viewed.requests == [], f"{page}: requests made: {viewed.requests}"
        violations = [line for line in viewed.console if "Content Security Policy" in line]
        assert violations == [], f"{page}: {violations}"
