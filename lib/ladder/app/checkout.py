"""A git checkout on a host: its state (facts) and its in-place edits, saved as a patch."""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..core import ops
from ..core.errors import HostError
from ..core.hosts import Host
from ..core.names import check_ref  # checked up front by the runner too; kept here for callers
from ..core.paths import inside
from ..core.private import write_private
from .git import GIT

q = shlex.quote
CLONE_TIMEOUT = 120
_HEX = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class Status:
    """A checkout's HEAD and what differs from it: modified (tracked) and untracked paths."""

    head: str
    modified: tuple[str, ...] = ()
    untracked: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """True when the work tree matches HEAD and nothing is untracked."""
        return not self.modified and not self.untracked

    @property
    def edited(self) -> tuple[str, ...]:
        """Every path that differs from HEAD."""
        return self.modified + self.untracked


def parse_status(output: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Parse `git status --porcelain=v1 -z` into (modified, untracked) paths."""
    modified: list[str] = []
    untracked: list[str] = []
    entries = output.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.append(path)
        elif code != "!!":
            modified.append(path)
            if "R" in code or "C" in code:
                i += 1  # a rename or copy is followed by its source path
    return tuple(modified), tuple(untracked)


def get_status(host: Host, path: str, timeout: float | None = None) -> Status | None:
    """The checkout's HEAD and edits; None when path is not a git checkout."""
    p = q(path)
    probe = host.run(f"{GIT} -C {p} rev-parse --verify -q HEAD", warn=True, timeout=timeout)
    if probe.failed:
        return None
    out = host.run(f"{GIT} -C {p} status --porcelain=v1 -z --untracked-files=all", timeout=timeout).stdout
    modified, untracked = parse_status(out)
    return Status(probe.stdout.strip(), modified, untracked)


def parse_ls_remote(output: str) -> dict[str, str]:
    """Parse `git ls-remote` into {ref name: commit}; an annotated tag maps to the commit it points at."""
    refs: dict[str, str] = {}
    for line in output.splitlines():
        sha, _, name = line.strip().partition("\t")
        if not name:
            continue
        if name.endswith("^{}"):
            refs[name[:-3]] = sha  # the peeled commit wins over the tag object
        else:
            refs.setdefault(name, sha)
    return refs


def resolve(refs: dict[str, str], ref: str) -> str | None:
    """The commit a branch or tag name stands for in an ls-remote listing, or None."""
    for name in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
        if name in refs:
            return refs[name]
    return None


def is_commit_id(ref: str) -> bool:
    """True when ref looks like an abbreviated or full commit id."""
    return bool(_HEX.match(ref))


def get_remote_refs(host: Host, path: str, remote: str = "origin", timeout: float | None = None) -> dict[str, str]:
    """Branches and tags of the checkout's remote, read without fetching (nothing changes)."""
    out = host.run(f"{GIT} -C {q(path)} ls-remote --heads --tags {q(remote)}", timeout=timeout).stdout
    return parse_ls_remote(out)


def remote_commit(host: Host, path: str, ref: str, remote: str = "origin") -> str | None:
    """The commit ref names on the remote (or locally, for a commit id); None when it names nothing known."""
    check_ref(ref)
    found = resolve(get_remote_refs(host, path, remote), ref)
    if found or not is_commit_id(ref):
        return found
    local = host.run(f"{GIT} -C {q(path)} rev-parse --verify -q {q(ref + '^{commit}')}", warn=True)
    return local.stdout.strip() if local.ok else None


def is_ancestor(host: Host, path: str, commit: str, of: str = "HEAD") -> bool:
    """True when commit is in the checkout and is of, or one of its ancestors (a checkout ahead of its origin)."""
    cmd = f"{GIT} -C {q(path)} merge-base --is-ancestor {q(commit)} {q(of)}"
    return host.run(cmd, warn=True).ok


def sync(host: Host, path: str, repo: str, branch: str, *, dry_run: bool = True) -> ops.Change:
    """Clone repo's branch into path, or fast-forward a clean checkout to origin's; local edits and commits are kept."""
    status = get_status(host, path)
    if status is None:
        if host.exists(path):
            raise HostError(
                f"{path} exists but is not a git checkout; move it away so the repo can be cloned there", host=host.name
            )
        cmd = f"{GIT} clone --quiet --branch {q(branch)} -- {q(repo)} {q(path)}"
        return ops.settle(
            host, "checkout", path, [ops.command(host, cmd, CLONE_TIMEOUT)], f"clone {repo}", dry_run=dry_run
        )
    if not status.clean:
        return ops.Change(
            host.name, "checkout", path, reason=f"local edits kept, not updated: {', '.join(status.edited)}"
        )
    remote = remote_commit(host, path, branch)
    if remote is None or remote == status.head or is_ancestor(host, path, remote):
        return ops.settle(host, "checkout", path, [], dry_run=dry_run)
    cmd = f"{GIT} -C {q(path)} pull --quiet --ff-only origin {q(branch)}"
    reason = f"{status.head[:12]} -> {remote[:12]} (fast-forward)"
    return ops.settle(host, "checkout", path, [ops.command(host, cmd, CLONE_TIMEOUT)], reason, dry_run=dry_run)


def patch_command(git: str = GIT) -> str:
    """Shell run inside a checkout that prints a patch of every edit against HEAD, untracked files included.

    Read-only. A subshell with its own errexit, so it fails alike inside the deploy script (which
    embeds it with git="$GIT") and on its own.
    """
    diff = f"{git} diff --binary --no-ext-diff --full-index"
    # `diff --no-index` exits 1 when the files differ, which is the point here; 2+ is an error.
    return (
        f"(set -eo pipefail; {diff} HEAD; "
        f"{git} ls-files -z --others --exclude-standard | while IFS= read -r -d '' f; do "
        f'rc=0; {diff} --no-index -- /dev/null "$f" || rc=$?; [ "$rc" -le 1 ] || exit "$rc"; done)'
    )


def diff_command(path: str) -> str:
    """A read-only command printing a patch of every edit in the checkout at path (see patch_command)."""
    return f"cd {q(path)} && {patch_command()}"


@dataclass(frozen=True)
class SavedPatch:
    """In-place edits of one host's checkout, saved on this machine as a patch that applies to `head`."""

    host: str
    path: Path
    head: str
    modified: tuple[str, ...] = ()
    untracked: tuple[str, ...] = ()
    size: int = 0
    sha256: str = ""

    def to_dict(self) -> dict:
        """A plain dict for tables and the record."""
        return {
            "host": self.host,
            "patch": str(self.path),
            "head": self.head[:12],
            "modified": ", ".join(self.modified),
            "untracked": ", ".join(self.untracked),
            "bytes": self.size,
            "sha256": self.sha256[:12],
        }


def get_diff(host: Host, path: str, timeout: float | None = None) -> str:
    """The patch of the checkout's edits against HEAD (empty when clean); changes nothing on the host."""
    return host.run(diff_command(path), timeout=timeout).stdout


def save_edits(host: Host, path: str, folder: str | Path, status: Status | None = None) -> SavedPatch | None:
    """Save the checkout's in-place edits as `<folder>/<host>.patch`; None when the tree is clean."""
    target = inside(folder, f"{host.name}.patch", what="host name")  # refused before the host is asked
    status = status or get_status(host, path)
    if status is None:
        raise HostError(f"{path} is not a git checkout; nothing to save", host=host.name)
    if status.clean:
        return None
    patch = get_diff(host, path)
    if not patch.strip():
        raise HostError(f"git status shows edits in {path} but git diff printed nothing", host=host.name)
    data = patch.encode()
    target = write_private(target, data)  # prod's edits may hold its secrets
    return SavedPatch(
        host.name, target, status.head, status.modified, status.untracked, len(data), hashlib.sha256(data).hexdigest()
    )
