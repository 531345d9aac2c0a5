"""The working folder on this machine: a clone of the team's repository, and the small first changes made in it."""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass
from pathlib import Path

from ..app import devenv, trunk
from ..core import ops
from ..core.errors import HostError, ParameterError
from ..core.hosts import LocalHost
from ..core.paths import inside
from ..engine.record import record_step
from . import steps

LOCAL = "local"  # this machine, where the working folder is, as a host name in the run's record


@dataclass(frozen=True)
class Edit:
    """A small change the library offers: new text for old in one file, seen on one page of the app."""

    title: str
    file: str
    old: str
    new: str
    page: str  # the app's URL path that shows it
    marker: str  # what the page shows both before and after, to find the line that changes
    shows: str  # what the page shows only after the change

    def diff(self, text: str | None = None) -> str:
        """The change as a unified diff of the file (text), or of the changed text alone when the file is unknown."""
        before = text if text is not None and self.old in text else self.old + "\n"
        after = before.replace(self.old, self.new, 1)
        lines = difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{self.file}", f"b/{self.file}"
        )
        return "".join(lines)


CHANGES: dict[str, Edit] = {
    "greeting": Edit(
        "Greet visitors on the home page",
        "app.py",
        "<h1>Items</h1>",
        "<h1>Items, kept by the whole team</h1>",
        "/",
        "<h1>",
        "kept by the whole team",
    ),
    "not-found": Edit(
        "Say where the list is when an item is missing",
        "app.py",
        '{"error": f"no item {item_id}"}',
        '{"error": f"no item {item_id}; the list is at /items"}',
        "/items/0",
        "no item",
        "the list is at /items",
    ),
    "newcomer-hint": Edit(
        "Point newcomers at the README from the home page",
        "app.py",
        'Status: <a href="/health">/health</a>.',
        'Status: <a href="/health">/health</a>. New here? Start with the README.',
        "/",
        "Status:",
        "New here? Start with the README.",
    ),
}
DEFAULT_CHANGE = "greeting"


@dataclass(frozen=True)
class WorkFolder:
    """A clone of the team's repository on this machine, on the team's branch."""

    path: Path
    repo: str
    branch: str = devenv.BRANCH

    @property
    def host(self) -> LocalHost:
        """This machine, as the host the working folder's commands run on."""
        return LocalHost(LOCAL, self.path)

    @property
    def exists(self) -> bool:
        """True once the clone is made."""
        return (self.path / ".git").exists()

    @property
    def workspace(self) -> trunk.Workspace:
        """The clone as a work tree on the team's branch, which commits and pushes go through."""
        return trunk.Workspace(self.path, self.branch, self.repo, pushes=False)

    def ahead(self) -> list[str]:
        """Commits here that the team's repository does not have ('abbrev subject', newest first)."""
        if not self.exists:
            return []
        return trunk.git(self.path, "log", "--format=%h %s", f"origin/{self.branch}..HEAD", "--").splitlines()

    def base(self) -> str:
        """The team's commit this clone's work starts from."""
        return trunk.git(self.path, "rev-parse", f"origin/{self.branch}")

    def changed(self) -> dict[str, str]:
        """The files this clone adds or modifies against the team's commit (committed or not), with their text."""
        names = trunk.git(self.path, "diff", "--name-only", "-z", "--diff-filter=AM", self.base(), "--")
        return {name: inside(self.path, name, what="file name").read_text() for name in names.split("\0") if name}

    def _repr_html_(self) -> str:
        if not self.exists:
            return f"<p>Not cloned (dry run): the code would go to <code>{html.escape(str(self.path))}</code>.</p>"
        files = trunk.git(self.path, "ls-files").splitlines()
        rows = {
            "folder": str(self.path),
            "cloned from": self.repo,
            "branch": self.branch,
            "last commit": trunk.git(self.path, "log", "-1", "--format=%h %s (%cr)"),
            "files": f"{len(files)}: {', '.join(files[:12])}{' ...' if len(files) > 12 else ''}",
        }
        return steps.pairs(rows)


@dataclass(frozen=True)
class Made:
    """The change made in the working folder: what it is, its diff, and the commit it became."""

    edit: Edit
    change: ops.Change
    diff: str
    commit: str = ""  # the commit's abbreviated id; "" in a dry run

    def summary(self) -> str:
        """One line: the change and what became of it."""
        if self.change.outcome == "planned":
            return f"{self.edit.title}: planned (dry run: nothing is edited)."
        if self.change.outcome == "ok":
            return f"{self.edit.title}: already made in your working folder."
        return f"{self.edit.title}: committed in your working folder as {self.commit}."

    def __repr__(self) -> str:
        return f"{self.summary()}\n{self.diff}"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p><pre>{html.escape(self.diff)}</pre>"


def edit_of(change: str) -> Edit:
    """The change on offer by its key; ParameterError naming the keys for another."""
    if change not in CHANGES:
        raise ParameterError(f"change {change!r} is not on offer; use one of: {', '.join(CHANGES)}")
    return CHANGES[change]


def make_change(folder: WorkFolder, change: str, *, dry_run: bool = True) -> Made:
    """Make the chosen change in the working folder and commit it on the branch; record the step."""
    edit = edit_of(change)
    target = folder.path / edit.file
    if not folder.exists:
        if not dry_run:
            raise HostError(f"{folder.path} is not cloned yet; get the code first", host=LOCAL)
        made = ops.Change(LOCAL, "commit", str(target), changed=True, reason=edit.title)
        record_step("your change", [made])
        return Made(edit, made, edit.diff())
    if not target.is_file():
        raise HostError(f"{target} does not exist; this change does not fit the repository", host=LOCAL)
    text = target.read_text()
    if edit.new not in text and edit.old not in text:
        raise HostError(f"{target} does not contain {edit.old!r}; this change does not fit the repository", host=LOCAL)
    actions: list[ops.Action] = []
    if edit.new not in text:
        head = trunk.git(folder.path, "rev-parse", "HEAD")
        texts = {edit.file: text.replace(edit.old, edit.new, 1)}

        def commit() -> str:
            return trunk.commit(folder.workspace, texts, edit.title, expected=head)

        actions.append((f"in {edit.file}: replace {edit.old!r} with {edit.new!r}; commit on {folder.branch}", commit))
    made = ops.settle(folder.host, "commit", str(target), actions, edit.title, dry_run=dry_run)
    record_step("your change", [made])
    ahead = folder.ahead() if made.applied else []
    return Made(edit, made, edit.diff(text), ahead[0].split()[0] if ahead else "")
