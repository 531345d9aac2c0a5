"""A git repository read through the git CLI: refs, tree, blobs, grep and a streamed log."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..core.errors import GitError, LadderError, NotARepository

# Every git command Ladder runs, on this machine or on a host, starts so: no pager or colour from the
# user's config, and paths printed as they are rather than as quoted octal escapes.
GIT_ARGV: tuple[str, ...] = ("git", "--no-pager", "-c", "color.ui=false", "-c", "core.quotepath=false")
GIT = shlex.join(GIT_ARGV)
TRUNK_NAMES = ("main", "master", "trunk")
GIT_TIMEOUT = 600.0
# Bigger blobs are not read into memory; checks see their size only.
MAX_BLOB_BYTES = 1_000_000


@dataclass(frozen=True)
class Ref:
    """A branch or tag: full name, the commit it points to, and its date (unix seconds)."""

    name: str
    commit: str
    time: int
    symref: str = ""

    @property
    def short(self) -> str:
        """Name without refs/heads/, refs/tags/ or refs/remotes/<remote>/."""
        for prefix in ("refs/heads/", "refs/tags/"):
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        if self.name.startswith("refs/remotes/"):
            return self.name.split("/", 3)[3] if self.name.count("/") >= 3 else self.name
        return self.name


@dataclass(frozen=True)
class TreeFile:
    """One file in the assessed tree: path, size in bytes and git mode."""

    path: str
    size: int
    mode: str
    oid: str = ""
    present: bool = True  # False when the blob is missing from a partial or damaged clone

    @property
    def name(self) -> str:
        """The last path component."""
        return self.path.rsplit("/", 1)[-1]


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    # Read-only and non-interactive: no index refresh, no prompts, stable English output.
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C", LANG="C", GIT_PAGER="cat")
    # A partial clone would otherwise fetch every missing blob it touches from its promisor remote:
    # the reader reads what is present and nothing else (git >= 2.39.4 / 2.45.1 honour this).
    env["GIT_NO_LAZY_FETCH"] = "1"
    return env


def _git(
    cwd: Path,
    args: Sequence[str],
    *,
    ok_codes: tuple[int, ...] = (0,),
    timeout: float = GIT_TIMEOUT,
    ceiling: str | None = None,
    input: bytes | None = None,
) -> subprocess.CompletedProcess:
    env = _git_env()
    if ceiling:
        env["GIT_CEILING_DIRECTORIES"] = ceiling
    proc = subprocess.run(
        [*GIT_ARGV, *args],
        cwd=cwd,
        env=env,
        input=input,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
    )
    if proc.returncode not in ok_codes:
        raise GitError(args, proc.returncode, proc.stderr.decode(errors="replace"))
    return proc


def _tree_entries(out: bytes, *, sized: bool = False) -> Iterator[tuple[str, str, str, str, str]]:
    """(mode, kind, id, size, path) of each entry of `git ls-tree -z` output; size is "" without -l."""
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        fields = meta.decode().split(maxsplit=3 if sized else 2)
        mode, kind, oid = fields[:3]
        yield mode, kind, oid, fields[3].strip() if sized else "", path.decode(errors="replace")


def open_repo(path: str | Path) -> GitRepo:
    """Open the git repository whose top folder is path; raise NotARepository otherwise."""
    p = Path(path).expanduser()
    if not p.exists():
        raise NotARepository(p, "no such folder")
    if not p.is_dir():
        raise NotARepository(p, "a file, not a folder")
    p = p.resolve()
    # Stop git from walking up: a plain folder inside some other clone is still not a repository.
    ceiling = str(p.parent)
    try:
        proc = _git(
            p, ["rev-parse", "--is-bare-repository", "--git-dir"], ok_codes=(0, 128), ceiling=ceiling, timeout=60
        )
    except FileNotFoundError:
        raise LadderError("git is not installed; install git to assess a repository") from None
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        if "dubious ownership" in err:
            raise NotARepository(p, "owned by another user", f"run: git config --global --add safe.directory {p}")
        outer = _git(p, ["rev-parse", "--show-toplevel"], ok_codes=(0, 128), timeout=60)
        top = outer.stdout.decode().strip()
        if outer.returncode == 0 and top:
            raise NotARepository(p, f"a folder inside the repository at {top}", f"pass {top} instead")
        if "not a git repository" in err:
            raise NotARepository(p, "no .git here")
        raise NotARepository(p, err.strip().splitlines()[-1] if err.strip() else "git rev-parse failed")
    bare_flag, git_dir = proc.stdout.decode().split("\n")[:2]
    bare = bare_flag.strip() == "true"
    if not bare:
        top = _git(p, ["rev-parse", "--show-toplevel"], ceiling=ceiling, timeout=60).stdout.decode().strip()
        if Path(top).resolve() != p:
            raise NotARepository(p, f"a folder inside the repository at {top}", f"pass {top} instead")
    return GitRepo(p, bare=bare)


def without_credentials(url: str) -> str:
    """A remote URL with any user:password@ removed (https://token@host/x -> https://host/x)."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url, flags=re.IGNORECASE)


class GitRepo:
    """Read-only access to one repository; every call is a git subprocess."""

    def __init__(self, path: Path, *, bare: bool = False) -> None:
        self.path = path
        self.bare = bare

    def git(self, *args: str, ok_codes: tuple[int, ...] = (0,), input: bytes | None = None) -> bytes:
        """Run git in the repository and return its stdout bytes."""
        return _git(self.path, args, ok_codes=ok_codes, input=input).stdout

    def text(self, *args: str, ok_codes: tuple[int, ...] = (0,), input: bytes | None = None) -> str:
        """Run git and return stdout decoded (undecodable bytes replaced)."""
        return self.git(*args, ok_codes=ok_codes, input=input).decode(errors="replace")

    def stream(self, *args: str) -> Iterator[bytes]:
        """Yield git's stdout line by line as it is produced (memory stays flat)."""
        # stderr goes to a file: a pipe nobody reads could fill up and stall git.
        with tempfile.TemporaryFile() as errfile:
            proc = subprocess.Popen(
                [*GIT_ARGV, *args],
                cwd=self.path,
                env=_git_env(),
                stdout=subprocess.PIPE,
                stderr=errfile,
                bufsize=1 << 16,
            )
            assert proc.stdout is not None
            finished = False
            try:
                yield from proc.stdout
                finished = True
            finally:
                if not finished:
                    proc.kill()
                proc.stdout.close()
                code = proc.wait()
            if code != 0:
                errfile.seek(0)
                raise GitError(args, code, errfile.read().decode(errors="replace"))

    @cached_property
    def head(self) -> str | None:
        """The commit HEAD points to, or None in an empty repository."""
        out = self.text("rev-parse", "--verify", "-q", "HEAD^{commit}", ok_codes=(0, 1, 128)).strip()
        return out or None

    @property
    def empty(self) -> bool:
        """True when the repository has no commits at all."""
        return self.head is None and not self.refs

    @cached_property
    def shallow(self) -> bool:
        """True for a shallow clone (history cut off)."""
        return self.text("rev-parse", "--is-shallow-repository").strip() == "true"

    @cached_property
    def detached(self) -> bool:
        """True when HEAD points at a commit rather than a branch."""
        return self.head is not None and not self._head_branch

    @cached_property
    def refs(self) -> list[Ref]:
        """Branches (local and remote-tracking) and tags, with commit and date."""
        fmt = "%(refname)%00%(objectname)%00%(*objectname)%00%(creatordate:unix)%00%(symref)"
        out = self.text("for-each-ref", f"--format={fmt}", "refs/heads", "refs/remotes", "refs/tags")
        refs = []
        for line in out.splitlines():
            parts = line.split("\0")
            if len(parts) < 5:
                continue
            name, obj, peeled, when, symref = parts[:5]
            refs.append(Ref(name, peeled or obj, int(when or 0), symref))
        return refs

    @property
    def branches(self) -> list[Ref]:
        """Local and remote-tracking branches, without symbolic refs like origin/HEAD."""
        return [r for r in self.refs if r.name.startswith(("refs/heads/", "refs/remotes/")) and not r.symref]

    @property
    def tags(self) -> list[Ref]:
        """Tags, peeled to their commits."""
        return [r for r in self.refs if r.name.startswith("refs/tags/")]

    @cached_property
    def trunk(self) -> Ref | None:
        """The main branch: origin/HEAD's target, a bare repository's HEAD, main/master/trunk, else the only local branch."""
        by_name = {r.name: r for r in self.branches}
        for r in self.refs:
            if r.name == "refs/remotes/origin/HEAD" and r.symref in by_name:
                return by_name[r.symref]
        head = self._head_branch
        if self.bare and head in by_name:  # a bare clone or mirror: HEAD is the default branch (devel, develop...)
            return by_name[head]
        for name in TRUNK_NAMES:
            for full in (f"refs/heads/{name}", f"refs/remotes/origin/{name}"):
                if full in by_name:
                    return by_name[full]
        local = [r for r in self.branches if r.name.startswith("refs/heads/")]
        return local[0] if len(local) == 1 else None

    @cached_property
    def _head_branch(self) -> str:
        """The branch HEAD points to ('' when detached or unborn)."""
        return self.text("symbolic-ref", "-q", "HEAD", ok_codes=(0, 1)).strip()

    @cached_property
    def root(self) -> str | None:
        """The first commit of the history (the oldest root, by id when several): who the repository is."""
        if self.tip is None:
            return None
        roots = self.text("rev-list", "--max-parents=0", self.tip, "--").split()
        return min(roots) if roots else None

    @cached_property
    def origin(self) -> str | None:
        """Where origin points, without any user or password in the URL; None without an origin."""
        url = self.text("config", "--get", "remote.origin.url", ok_codes=(0, 1)).strip()
        return without_credentials(url) if url else None

    @property
    def tip(self) -> str | None:
        """The commit whose tree is assessed: the trunk's tip, else HEAD."""
        return self.trunk.commit if self.trunk else self.head

    def files(self, rev: str) -> list[TreeFile]:
        """Every file in a commit's tree (submodules excluded); a missing blob gives present=False, size 0."""
        proc = _git(self.path, ["ls-tree", "-r", "-z", "-l", "--full-tree", rev], ok_codes=(0, 128))
        if proc.returncode != 0:  # a partial clone dies on the first missing blob: list without sizes
            return self._files_without_sizes(rev)
        files = []
        for mode, kind, oid, size, path in _tree_entries(proc.stdout, sized=True):
            if kind == "blob":
                # A damaged clone prints BAD (or -) for the size of a blob it cannot find.
                known = size.isdigit()
                files.append(TreeFile(path, int(size) if known else 0, mode, oid, known))
        return files

    def _files_without_sizes(self, rev: str) -> list[TreeFile]:
        entries = [e for e in _tree_entries(self.git("ls-tree", "-r", "-z", "--full-tree", rev)) if e[1] == "blob"]
        missing = set(self.missing_objects(f"{rev}^{{tree}}"))
        present = [oid for _, _, oid, _, _ in entries if oid not in missing]
        out = self.text("cat-file", "--batch-check=%(objectname) %(objectsize)", input="\n".join(present).encode())
        sizes = dict(line.split() for line in out.splitlines() if len(line.split()) == 2)
        return [
            TreeFile(path, int(sizes.get(oid, 0)), mode, oid, oid not in missing) for mode, _, oid, _, path in entries
        ]

    def missing_objects(self, *revs: str) -> list[str]:
        """Ids of the objects reachable from revs that the clone does not have (none fetched)."""
        if not revs:
            return []
        out = self.text("rev-list", "--objects", "--missing=print", "--no-object-names", *revs, "--")
        return [line[1:] for line in out.splitlines() if line.startswith("?")]

    @cached_property
    def partial(self) -> bool:
        """True for a partial clone (`git clone --filter=...`): objects may be missing by design."""
        out = self.text("config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$", ok_codes=(0, 1))
        return any(line.split()[-1].lower() not in ("false", "0") for line in out.splitlines() if line.strip())

    def read(self, rev: str, paths: Sequence[str], max_bytes: int = MAX_BLOB_BYTES) -> dict[str, str]:
        """The text of some files at rev, in one `git cat-file --batch` call; missing files are skipped."""
        if not paths:
            return {}
        request = "".join(f"{rev}:{p}\n" for p in paths).encode()
        proc = _git(self.path, ["cat-file", "--batch"], ok_codes=(0, 128), input=request)
        if proc.returncode != 0:  # a partial clone dies on a missing blob: ask only for those present
            gone = {f.path for f in self.files(rev) if not f.present}
            kept = [p for p in paths if p not in gone]
            return self.read(rev, kept, max_bytes) if len(kept) < len(paths) else {}
        out = proc.stdout
        texts: dict[str, str] = {}
        pos = 0
        for p in paths:
            eol = out.index(b"\n", pos)
            header = out[pos:eol].split()
            pos = eol + 1
            if len(header) < 3 or header[-1] == b"missing":
                continue
            size = int(header[2])
            if header[1] == b"blob" and size <= max_bytes:
                texts[p] = out[pos : pos + size].decode(errors="replace")
            pos += size + 1
        return texts

    def grep(
        self,
        rev: str,
        patterns: Sequence[str],
        pathspecs: Sequence[str] = (),
        *,
        ignore_case: bool = False,
        limit: int = 5000,
    ) -> list[tuple[str, int, str]]:
        """Lines matching any extended regex in rev's text files: (path, line number, text); missing blobs skipped."""
        hits, code = self._grep(rev, patterns, pathspecs, ignore_case=ignore_case, limit=limit)
        if code == 128:  # a partial clone dies on the first missing blob: search again around them
            gone = [f":(exclude,literal){f.path}" for f in self.files(rev) if not f.present]
            hits, _ = self._grep(rev, patterns, [*(pathspecs or ["."]), *gone], ignore_case=ignore_case, limit=limit)
        return hits

    def _grep(
        self, rev: str, patterns: Sequence[str], pathspecs: Sequence[str], *, ignore_case: bool, limit: int
    ) -> tuple[list[tuple[str, int, str]], int | None]:
        args = ["grep", "-I", "-n", "--null", "--no-color", "-E"]
        if ignore_case:
            args.append("-i")
        for pat in patterns:
            args += ["-e", pat]
        args += [rev, "--", *(pathspecs or ["."])]
        hits: list[tuple[str, int, str]] = []
        prefix = f"{rev}:".encode()
        proc = subprocess.Popen(
            [*GIT_ARGV, *args],
            cwd=self.path,
            env=_git_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                parts = raw.rstrip(b"\n").split(b"\0", 2)
                if len(parts) < 3:
                    continue
                path = parts[0][len(prefix) :] if parts[0].startswith(prefix) else parts[0]
                try:
                    line_no = int(parts[1])
                except ValueError:
                    continue
                hits.append((path.decode(errors="replace"), line_no, parts[2].decode(errors="replace")))
                if len(hits) >= limit:
                    break
        finally:
            if proc.poll() is None and len(hits) >= limit:
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        return hits, code

    def commit_times(
        self, *revs: str, since: int | None = None, until: int | None = None, first_parent: bool = False
    ) -> Iterator[int]:
        """Committer times (unix) of the commits reachable from revs (optionally between times), streamed."""
        args = ["log", "--format=%ct"]
        if first_parent:
            args.append("--first-parent")
        if since is not None:
            args.append(f"--since=@{since}")
        if until is not None:
            args.append(f"--until=@{until}")
        for line in self.stream(*args, *revs, "--"):
            if line.strip():
                yield int(line)
