"""A prod folder that is not a git checkout (code copied by scp, then edited): its kind and files (facts), its
archive, and the operation that makes it a checkout of the nearest commit without touching one of its files."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from ..core import ops
from ..core.errors import HostError
from ..core.hosts import Host
from ..core.paths import inside
from .checkout import CLONE_TIMEOUT
from .git import GIT

q = shlex.quote
CHECKOUT, FILES, MISSING = "checkout", "files", "missing"
MAX_FILES = 20_000  # a bound on the listing: an app folder, not a disk
LIST_TIMEOUT = 120
ARCHIVE_TIMEOUT = 300
# What a deploy keeps apart from the code (at the folder's top), and Python's caches anywhere in it.
KEPT_APART = (".git", "venv", ".venv", "shared", "logs")
CACHES = ("__pycache__",)
CACHE_SUFFIXES = (".pyc",)


@dataclass(frozen=True)
class FileInfo:
    """One file of a plain folder: its path inside it, size, sha256 and git blob id."""

    path: str
    size: int
    sha256: str
    blob: str


def kept_apart(path: str) -> bool:
    """True for a path a deploy keeps apart from the code (venv, shared/, logs, caches), never compared."""
    parts = path.split("/")
    return parts[0] in KEPT_APART or any(p in CACHES for p in parts) or path.endswith(CACHE_SUFFIXES)


def kind_command(path: str) -> str:
    """Shell printing checkout, files or missing for the folder at path."""
    p = q(path)
    return f"if [ -e {p}/.git ]; then echo {CHECKOUT}; elif [ -d {p} ]; then echo {FILES}; else echo {MISSING}; fi"


def get_kind(host: Host, path: str, timeout: float | None = None) -> str:
    """What the folder at path is: a git checkout, a plain folder of files, or missing."""
    kind = host.run(kind_command(path), timeout=timeout).stdout.strip()
    if kind not in (CHECKOUT, FILES, MISSING):
        raise HostError(f"unexpected answer {kind!r} about {path}", host=host.name)
    return kind


def list_command(path: str, limit: int = MAX_FILES) -> str:
    """Shell printing 'size sha256 blob path' NUL-terminated records for each file of the folder (one more than limit
    at most, so a caller sees that it was cut); what kept_apart names is pruned."""
    top = " -o ".join(f"-path ./{q(name)}" for name in KEPT_APART)
    caches = " -o ".join(f"-name {q(name)}" for name in CACHES)
    suffixes = " ".join(f"! -name {q('*' + s)}" for s in CACHE_SUFFIXES)
    return (
        f"cd {q(path)} && find . -mindepth 1 \\( {top} -o {caches} \\) -prune -o -type f {suffixes} -print0 "
        f"| head -z -n {limit + 1} | while IFS= read -r -d '' f; do "
        f'printf \'%s %s %s %s\\0\' "$(stat -c %s -- "$f")" "$(sha256sum < "$f" | cut -c1-64)" '
        f'"$({GIT} hash-object --no-filters -- "$f")" "${{f#./}}"; done'
    )


def parse_listing(output: str, limit: int = MAX_FILES) -> tuple[FileInfo, ...]:
    """Parse list_command's output, sorted by path; ValueError when the folder holds more than limit files."""
    files = []
    for record in output.split("\0"):
        if not record:
            continue
        size, sha256, blob, path = record.split(" ", 3)
        files.append(FileInfo(path, int(size), sha256, blob))
    if len(files) > limit:
        raise ValueError(f"more than {limit} files; this is not an app folder")
    return tuple(sorted(files, key=lambda f: f.path))


def get_files(host: Host, path: str, timeout: float = LIST_TIMEOUT) -> tuple[FileInfo, ...]:
    """The files of a plain folder with sizes and hashes (kept-apart paths left out); read-only."""
    try:
        return parse_listing(host.run(list_command(path), timeout=timeout).stdout)
    except ValueError as err:
        raise HostError(f"{path}: {err}; point the host's base at the app's folder", host=host.name) from None


def archive_command(path: str, target: str) -> str:
    """Shell writing a tar.gz of the whole folder (every byte, kept-apart paths included) to target, atomically."""
    folder = path.rstrip("/")
    parent, name = folder.rsplit("/", 1) if "/" in folder else (".", folder)
    part = target + ".part"
    return f"tar czf {q(part)} -C {q(parent or '/')} -- {q(name)} && mv -f -- {q(part)} {q(target)}"


def fetch_archive(host: Host, path: str, folder: Path, *, keep: str = "") -> Path:
    """Archive the folder on the host and copy it to <folder>/<host>.tar.gz here; kept on the host at keep, if given.

    Without keep the host's copy is a temporary file, removed after the copy: nothing stays on the host.
    """
    local = inside(folder, f"{host.name}.tar.gz", what="host name")
    remote = keep or host.run("mktemp", timeout=30).stdout.strip()
    try:
        host.run(archive_command(path, remote), timeout=ARCHIVE_TIMEOUT)
        local.parent.mkdir(parents=True, exist_ok=True)
        host.get(remote, local)
        local.chmod(0o600)  # prod's files may hold its secrets
    finally:
        if not keep:
            host.run(f"rm -f -- {q(remote)} {q(remote + '.part')}", timeout=30)
    return local


def beside(path: str, stamp: str) -> str:
    """Where adopt keeps the folder's archive on the host: next to the folder, never inside it."""
    return f"{path.rstrip('/')}.adopted-{stamp}.tar.gz"


def git_dir_aside(path: str) -> str:
    """Where adopt prepares the git directory before moving it into the folder in one rename."""
    return f"{path.rstrip('/')}.adopt-git"


def prepare_command(path: str, repo: str, commit: str) -> str:
    """Shell preparing, beside the folder, a git directory whose HEAD and index are commit and whose origin is repo.

    The folder's files are only read (to refresh the index); a leftover from a killed run is made again.
    """
    gd = git_dir_aside(path)
    g = f"{GIT} --git-dir={q(gd)}"
    w = f"{g} --work-tree={q(path)}"
    return (
        f"rm -rf -- {q(gd)} && {GIT} init -q --bare -- {q(gd)} && {g} config core.bare false"
        f" && {g} remote add origin {q(repo)} && {g} fetch -q --tags origin"
        f" && {g} update-ref --no-deref HEAD {q(commit)} && {w} read-tree {q(commit)}"
        f" && {{ {w} update-index -q --refresh >/dev/null || true; }}"
    )


def adopt(host: Host, path: str, repo: str, commit: str, stamp: str, *, dry_run: bool = True) -> ops.Change:
    """Make the plain folder at path a checkout of commit, its files untouched (edits then show as git status).

    First its archive is kept beside it; the git directory is prepared aside and renamed in last, so a kill
    leaves a plain folder (adopted again by the next run) or a checkout, never half of one. Nothing is deleted.
    A checkout is left as it is: a second call changes nothing.
    """
    kind = get_kind(host, path)
    if kind == CHECKOUT:
        return ops.settle(host, "adopt", path, [], dry_run=dry_run)
    if kind == MISSING:
        raise HostError(f"{path} is missing or not a folder; there is nothing to adopt", host=host.name)
    actions = [
        ops.command(host, archive_command(path, beside(path, stamp)), ARCHIVE_TIMEOUT),
        ops.command(host, prepare_command(path, repo, commit), CLONE_TIMEOUT),
        ops.command(host, f"mv -T -- {q(git_dir_aside(path))} {q(path.rstrip('/') + '/.git')}", 30),
    ]
    reason = f"a copied folder, not a checkout: made a checkout of {commit[:12]}, its files untouched"
    return ops.settle(host, "adopt", path, actions, reason, dry_run=dry_run)
