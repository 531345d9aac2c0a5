"""A real headless chromium (the system's, never a downloaded one): local pages offline, JupyterLab like a person.

    with open_page(report) as viewed:                                       # a local file, offline
        assert overflow(viewed.page) == {"page": 0, "table": 0}

    with jupyter_lab(tmp_path) as lab, chromium(lab, tmp_path, request) as page:
        nb = open_notebook(page, lab, "notebooks/assessment.ipynb")
        nb.run_all()
        nb.click("yes", within="Do you deploy to prod at least weekly?")

The JupyterLab server runs from this virtualenv with its own Jupyter config, runtime, data and IPython
folders, on a free loopback port with a token; its kernels inherit LADDER_HOME from the test. JupyterLab
exposes its app as window.jupyterapp, so Run All is its own command and "done" is read from its model.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def executable() -> str:
    """The system's chromium; an AssertionError naming the package when there is none."""
    path = shutil.which("chromium")
    assert path is not None, "no chromium on PATH: install Debian's chromium package (apt-get install chromium)"
    return path


# ---- a local page, offline ------------------------------------------------------------------------------


@dataclass
class Viewed:
    """A page open in chromium: what it wrote to its console, the requests it made, the dialogs it opened."""

    page: Page
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL asked for after the page itself
    dialogs: list[str] = field(default_factory=list)  # alert(), confirm(), prompt(): dismissed, and kept here


def _serve_local(viewed: Viewed, home: str, route: Any) -> None:
    """Let a file: or data: request through, refuse one that would leave this machine; note all but the page's."""
    url = route.request.url
    if url != home and not url.startswith("data:"):
        viewed.requests.append(url)
    route.continue_() if url.startswith(("file:", "data:")) else route.abort()


def _dismiss(viewed: Viewed, dialog: Any) -> None:
    viewed.dialogs.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


@contextmanager
def open_page(path: Path, width: int = 1000, height: int = 900) -> Iterator[Viewed]:
    """A local file shown at this viewport; requests that would leave this machine are refused."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable(), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            viewed, home = Viewed(page), path.resolve().as_uri()
            page.route("**/*", lambda r: _serve_local(viewed, home, r))
            page.on("console", lambda m: viewed.console.append(f"{m.type}: {m.text}"))
            page.on("dialog", lambda d: _dismiss(viewed, d))
            page.goto(home)
            yield viewed
        finally:
            browser.close()


def overflow(page: Page) -> dict:
    """How far the page and its widest shown table reach past the viewport, in CSS pixels (0: nothing overflows)."""
    return page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth - window.innerWidth,
            table: Math.max(0, ...[...document.querySelectorAll('table')].filter(t => t.checkVisibility())
                .map(t => Math.ceil(t.getBoundingClientRect().right) - window.innerWidth)),
        })"""
    )


# ---- JupyterLab ------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks", "runbooks")
STARTUP = 90  # seconds for the server to answer /api on a loaded machine
RUN = 180  # seconds for a Run All of the longest notebook
STEP = 30  # seconds for one click, one page or one output to show

# Read in the page: JupyterLab's app, the notebook's panel in the main area (each function takes the notebook's
# path), and whether it has finished running.
_PANEL = """path => window.jupyterapp
  ? Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context && w.context.path === path && w.content)
  : undefined"""
_READY = f"""path => {{
  const panel = ({_PANEL})(path);
  if (!panel || !panel.context.isReady || !panel.sessionContext.isReady) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}}"""
_IDLE = f"""path => {{
  const panel = ({_PANEL})(path);
  const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  return panel.content.widgets.every(c => c.model.type !== 'code' || c.model.executionState !== 'running');
}}"""
# Started, not awaited: each sets window.ladder to how it ended, so a hung kernel ends in the timeout of
# wait_for_function rather than in a hung test.
_RUN_ALL = f"""path => {{
  const panel = ({_PANEL})(path);
  window.jupyterapp.shell.activateById(panel.id);
  window.ladder = 'running';
  panel.sessionContext.ready
    .then(() => window.jupyterapp.commands.execute('notebook:run-all-cells'))
    .then(ok => {{ window.ladder = ok ? 'done' : 'stopped at an error'; }},
          error => {{ window.ladder = 'failed: ' + error; }});
}}"""
_RESTART = f"""path => {{
  const panel = ({_PANEL})(path);
  window.ladder = 'running';
  panel.sessionContext.session.kernel.restart()
    .then(() => {{ window.ladder = 'done'; }}, error => {{ window.ladder = 'failed: ' + error; }});
}}"""
_ENDED = "() => window.ladder !== 'running'"
_EDIT = f"""({{path, index, old, text}}) => {{
  const shared = ({_PANEL})(path).content.widgets[index].model.sharedModel;
  if (!shared.getSource().includes(old)) throw Error(`cell ${{index}} has no ${{old}}`);
  shared.setSource(shared.getSource().replace(old, text));
}}"""
_ERRORS = f"""path => ({_PANEL})(path).content.widgets
  .map((c, i) => [i, c.model.type === 'code' ? c.model.outputs.toJSON().filter(o => o.output_type === 'error') : []])
  .filter(([i, errors]) => errors.length)
  .map(([i, errors]) => `cell ${{i}}: ${{errors[0].ename}}: ${{errors[0].evalue}}`)"""


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], deadline: float = STEP, every: float = 0.2) -> Any:
    """Poll check() until it returns something true and return that; AssertionError naming what after deadline."""
    end = time.monotonic() + deadline
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what} after {deadline} s")
        time.sleep(every)


@dataclass
class Lab:
    """A running JupyterLab server: its base URL, token, root folder (copies of the notebooks) and log file."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """Call the server's REST API (path under /api/) with a JSON body; its JSON answer, or None when empty."""
        request = urllib.request.Request(
            f"{self.url}api/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=STEP) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def wait_ready(self) -> None:
        """Wait until the server answers /api; an AssertionError with its log if it exits instead."""
        wait_for(f"JupyterLab to answer at {self.url}", self._answers, STARTUP)

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            return "version" in self.api("")
        except OSError:
            return False

    def start_kernel(self, path: str) -> None:
        """Start the kernel of a notebook (named in its metadata) as a session, which the page then joins."""
        name = json.loads((self.root / path).read_text())["metadata"]["kernelspec"]["name"]
        self.api("sessions", "POST", {"path": path, "type": "notebook", "name": "", "kernel": {"name": name}})

    def page_url(self, path: str) -> str:
        """The URL that opens a file of the root folder in JupyterLab."""
        return f"{self.url}lab/tree/{path}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for an error message."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# User settings of the test server: every cell kept in the DOM (no windowing), so a locator finds it wherever
# the page is scrolled; no news prompt over the page and no request to the internet.
SETTINGS = {
    "notebook-extension/tracker": {"windowingMode": "none"},
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _config(base: Path) -> dict:
    """Jupyter config of a test server: its settings, the app exposed to the page, no build check, no news."""
    settings = base / "settings"
    for name, values in SETTINGS.items():
        file = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    labconfig = base / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    # The build check costs seconds of CPU at every page load; the installed JupyterLab is prebuilt.
    (labconfig / "page_config.json").write_text(json.dumps({"buildCheck": False, "buildAvailable": False}))
    return {
        "ServerApp": {"ip": "127.0.0.1", "port_retries": 0, "jpserver_extensions": {"jupyter_lsp": False}},
        "LabApp": {
            "expose_app_in_browser": True,
            "news_url": None,
            "user_settings_dir": str(settings),
            "workspaces_dir": str(base / "workspaces"),
        },
    }


@contextmanager
def jupyter_lab(base: Path, folders: tuple[str, ...] = FOLDERS, wait: bool = True) -> Iterator[Lab]:
    """Start JupyterLab on a copy of the project's folders under base/lab; stop it and its kernels at the end.

    wait=False yields at once, so a browser starts meanwhile; open_notebook waits for the server.
    """
    root = base / "lab"
    for name in folders:
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    jupyter = base / "jupyter"
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
        JUPYTER_DATA_DIR=str(jupyter / "data"),
        IPYTHONDIR=str(jupyter / "ipython"),
    )
    (jupyter / "config").mkdir(parents=True)
    (jupyter / "config" / "jupyter_server_config.json").write_text(json.dumps(_config(jupyter)))
    port, token = free_port(), secrets.token_hex(16)
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", f"--ServerApp.root_dir={root}"]
    args += [f"--IdentityProvider.token={token}", *(["--allow-root"] if os.geteuid() == 0 else [])]
    log = base / "jupyter-lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}/", token, root, log, process)
    try:
        if wait:
            lab.wait_ready()
        yield lab
    finally:
        _stop(lab)


def _stop(lab: Lab) -> None:
    """Shut down every kernel through the API (each waits for its process), then the server by its pid."""
    if lab.process.poll() is None:
        try:
            for kernel in lab.api("kernels"):
                lab.api(f"kernels/{kernel['id']}", "DELETE")
        except OSError:
            pass
        lab.process.terminate()
    try:
        lab.process.wait(STEP)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait()


@contextmanager
def chromium(lab: Lab, shots: Path, request: pytest.FixtureRequest | None = None) -> Iterator[Page]:
    """A page in Debian's chromium (never a downloaded browser); shots/failure.png when the test fails.

    Used in a test's body, an error raised in the block is the failure; used in a fixture, pass the fixture's
    request so that a test failing after the fixture's yield is one too.
    """
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable(), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(STEP * 1000)
            failures = request.session.testsfailed if request is not None else 0
            try:
                yield page
            except BaseException:
                _show_failure(page, shots, lab)
                raise
            # A failed call phase is counted before its fixtures are torn down.
            if request is not None and request.session.testsfailed > failures:
                _show_failure(page, shots, lab)
        finally:
            browser.close()


def _show_failure(page: Page, shots: Path, lab: Lab) -> None:
    """Save what the browser shows, scrolled to the first error output, and print where it and the server log are."""
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    if errors.count():
        errors.first.scroll_into_view_if_needed()
    print(f"browser test failed: screenshot {screenshot(page, shots / 'failure.png')}, server log {lab.log}")


def screenshot(page: Page, path: Path) -> Path:
    """Save a full-page PNG of what the browser shows and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


class Notebook:
    """A notebook open in JupyterLab, driven as a person does: Run All, read outputs, click widgets."""

    def __init__(self, page: Page, path: str) -> None:
        self.page, self.path = page, path

    def wait_ready(self) -> None:
        """Wait until the notebook is loaded and its kernel is started and idle."""
        self.page.wait_for_function(_READY, arg=self.path, timeout=STARTUP * 1000)

    def run_all(self, stops_at: str | None = None) -> None:
        """Run > Run All Cells (JupyterLab's own command); wait until every cell ran; fail naming an error cell.

        stops_at names the one error (e.g. ConfirmationRequired) at which Run All must stop instead.
        """
        self.page.evaluate(_RUN_ALL, self.path)
        ended = self._ended(RUN)
        self.wait_idle()
        errors = self.page.evaluate(_ERRORS, self.path)
        if stops_at is None:
            assert ended == "done" and not errors, f"{self.path}: Run All {ended}; {'; '.join(errors)}"
        else:
            stopped = ended == "stopped at an error" and len(errors) == 1 and f": {stops_at}: " in errors[0]
            assert stopped, f"{self.path}: Run All {ended}, not stopped at {stops_at}; {'; '.join(errors)}"

    def errors(self) -> list[str]:
        """The error outputs the notebook shows now, one line each: cell index, error name and value."""
        return self.page.evaluate(_ERRORS, self.path)

    def edit(self, index: int, old: str, new: str) -> None:
        """Replace old with new in a cell's source, in the notebook's model as the editor does."""
        self.page.evaluate(_EDIT, {"path": self.path, "index": index, "old": old, "text": new})

    def restart_kernel(self) -> None:
        """Restart the notebook's kernel (as Kernel > Restart Kernel does) and wait until it is idle."""
        self.page.evaluate(_RESTART, self.path)
        ended = self._ended(STARTUP)
        assert ended == "done", f"{self.path}: kernel restart {ended}"
        self.wait_ready()

    def _ended(self, deadline: float) -> str:
        """How the command _RUN_ALL or _RESTART started ended, once it has."""
        self.page.wait_for_function(_ENDED, timeout=deadline * 1000)
        return self.page.evaluate("() => window.ladder")

    def wait_idle(self) -> None:
        """Wait until the kernel is idle and no cell is running."""
        self.page.wait_for_function(_IDLE, arg=self.path, timeout=RUN * 1000)

    def cell(self, index: int) -> Any:
        """The locator of a cell by its index in the notebook file (markdown cells count)."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def output(self, index: int) -> str:
        """The text a cell's outputs show, without the prompt."""
        return "\n".join(self.cell(index).locator(".jp-OutputArea-output").all_inner_texts())

    def widget(self, within: str) -> Any:
        """The innermost widget that holds both the text within (a question, a label) and a control."""
        controls = self.page.locator("button, select, input")
        widgets = self.page.locator(".jp-Notebook .jp-OutputArea-output .lm-Widget")  # every ipywidget's view
        return widgets.filter(has_text=within, has=controls).last

    def click(self, label: str, within: str | None = None) -> None:
        """Click the widget button labelled label, in the widget box that holds within when given."""
        scope = self.widget(within) if within else self.page
        scope.get_by_role("button", name=label, exact=True).click()

    def choose(self, option: str, within: str) -> None:
        """Pick option in a dropdown, radio or toggle-buttons widget inside the box that holds within."""
        box = self.widget(within)
        if box.locator("select").count():
            box.locator("select").select_option(label=option)
        elif box.locator(".widget-radio-box").count():
            box.get_by_label(option, exact=True).check()
        else:
            box.get_by_role("button", name=option, exact=True).click()

    def selected(self, within: str) -> str:
        """The option shown as chosen in the toggle buttons, dropdown or radio inside the box that holds within."""
        box = self.widget(within)
        if box.locator("select").count():
            return box.locator("select").evaluate("s => s.options[s.selectedIndex].text")
        if box.locator(".widget-radio-box").count():
            return box.locator("label:has(input:checked)").inner_text()
        return box.locator("button.mod-active").inner_text()

    def screenshot(self, path: Path, within: str | None = None) -> Path:
        """Save what the browser shows, scrolled to the widget that holds within when given, and return the path."""
        if within:
            self.widget(within).scroll_into_view_if_needed()
        return screenshot(self.page, path)

    def wait_for_text(self, text: str, deadline: float = RUN) -> None:
        """Wait until text shows anywhere in the notebook (an output after a click, say)."""
        self.page.locator(".jp-Notebook").get_by_text(text).first.wait_for(timeout=deadline * 1000)


def open_notebook(page: Page, lab: Lab, path: str) -> Notebook:
    """Open a notebook of the lab's root folder by its path and wait until its kernel is idle."""
    lab.wait_ready()
    lab.start_kernel(path)  # the kernel starts while the page loads
    page.goto(lab.page_url(path))
    notebook = Notebook(page, path)
    notebook.wait_ready()
    return notebook
