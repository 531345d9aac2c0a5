"""The app's versioned artifact: its wheel and the wheelhouse of its locked dependencies, with a manifest.

Built once per version on the build host, into the artifact store (a folder on a host); `<store>/<name>/<version>/`
appears by a rename, so a half-built artifact is never visible, and a version in the store is never built again.
Facts read git and the store; `build` is the operation, planned unless dry_run is False.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..core import ops
from ..core.config import Config
from ..core.errors import ConfigError, LadderError, ParameterError
from ..core.hosts import Host, connect
from . import packages, parity
from .branches import mirror
from .git import open_repo
from .manifest import MANIFEST, VERSION, WHEELHOUSE, Manifest, ManifestError, check, folder, parse
from .recipe import PYPROJECT, REQUIREMENTS

q = shlex.quote
BUILDER = "builder"  # under the build host's base: the builder's venv and its scratch folders
TOOLS = ("build", "setuptools", "setuptools-scm", "wheel")
GIT_TIMEOUT = 120
VENV_TIMEOUT = 120
BUILD_TIMEOUT = 600
# No prompt can hang a headless build: git and ssh fail instead of asking.
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}
_DESCRIBE = re.compile(r"^(?P<tag>.+)-(?P<distance>[0-9]+)-g(?P<node>[0-9a-f]+)$")
_RELEASE = re.compile(r"^v?(?P<release>[0-9]+(\.[0-9]+)*)$")


# --- the version of a commit --------------------------------------------------------------
def version_of(describe: str, count: int, node: str) -> str:
    """A commit's PEP 440 version by setuptools-scm's default rule (guess-next-dev).

    describe is `git describe --tags --long` ('' when no tag is reachable); count the commits up to the commit,
    node its abbreviated id. On a tag vX.Y.Z: X.Y.Z. N commits past it: X.Y.(Z+1).devN+g<node>, which sorts
    after X.Y.Z (a plain X.Y.Z.devN would sort before the tag it follows). No tag: 0.1.dev<count>+g<node>.
    """
    if not describe:
        return f"0.1.dev{count}+g{node}"
    m = _DESCRIBE.match(describe)
    release = _RELEASE.match(m.group("tag")) if m else None
    if m is None or release is None:
        raise ParameterError(
            f"tag {describe.rsplit('-', 2)[0]!r} is not a release tag like v1.2.0; tag the commit vX.Y.Z and build again"
        )
    parts = release.group("release").split(".")
    distance = int(m.group("distance"))
    if distance == 0:
        return ".".join(parts)
    bumped = ".".join([*parts[:-1], str(int(parts[-1]) + 1)])
    return f"{bumped}.dev{distance}+g{m.group('node')}"


def version_key(version: str) -> tuple[tuple[int, ...], int, int]:
    """Sort key for the versions Ladder builds: the release, then X.Y.Z.devN before X.Y.Z."""
    public = version.split("+", 1)[0]
    release, _, dev = public.partition(".dev")
    numbers = tuple(int(p) for p in re.findall(r"[0-9]+", release.split("a")[0].split("b")[0].split("rc")[0]))
    return (numbers, 0 if dev else 1, int(dev or 0))


@dataclass(frozen=True)
class Source:
    """A commit of the shared repository to build, and its version."""

    repo: str
    ref: str
    sha: str
    version: str


def get_source(repo: str, ref: str = "HEAD", *, packaged: bool = True) -> Source:
    """Resolve ref in the shared repository and give its version; ParameterError for an unknown ref, or a commit
    without requirements.txt or (unless packaged is False: a plan made before the recipe lands) the recipe."""
    if ref.startswith("-"):
        raise ParameterError(f"parameter 'ref': {ref!r} is not a branch, tag or commit of {repo}")
    with mirror(repo) as path:
        local = open_repo(path)
        sha = local.text("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok_codes=(0, 1)).strip()
        if not sha:
            raise ParameterError(f"parameter 'ref': {ref!r} is not a branch, tag or commit of {repo}")
        needs = [(REQUIREMENTS, "commit the locked requirements"), (PYPROJECT, "land recipe.land first")]
        for needed, fix in needs[: 2 if packaged else 1]:
            if not local.text("ls-tree", "--name-only", sha, "--", needed).strip():
                raise ParameterError(f"{repo} at {ref} ({sha[:12]}) has no {needed}; {fix}, then build again")
        describe = local.text(
            "describe", "--tags", "--long", "--match", "v[0-9]*", "--match", "[0-9]*", sha, ok_codes=(0, 128)
        ).strip()
        count = int(local.text("rev-list", "--count", sha))
        node = local.text("rev-parse", "--short", sha).strip()
    return Source(repo, ref, sha, version_of(describe, count, node))


def check_reachable(host: Host, repo: str) -> None:
    """ParameterError unless the build host can read the shared repository (git ls-remote, no prompt)."""
    done = host.run(f"git ls-remote --exit-code -- {q(repo)} HEAD", timeout=GIT_TIMEOUT, warn=True, env=GIT_ENV)
    if not done.ok:
        said = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise ParameterError(
            f"build host {host.name} cannot reach the repository {repo} ({said}); give it read access "
            "(a path it can read or a deploy key), or choose another with build: host: in ladder.yml"
        )


# --- the store ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Store:
    """The artifact store: a folder on a host."""

    host: Host
    path: str

    def folder(self, name: str, version: str) -> str:
        """An artifact's folder in this store."""
        return folder(self.path, name, version)

    def where(self, name: str, version: str) -> str:
        """host:folder, for messages and Changes."""
        return f"{self.host.name}:{self.folder(name, version)}"


def parse_listing(text: str) -> list[str]:
    """The versions among `<version>/manifest.json` lines (half-built `.`-folders are never versions), sorted."""
    found = {line.split("/", 1)[0] for line in text.splitlines() if line.endswith("/" + MANIFEST)}
    return sorted((v for v in found if VERSION.match(v)), key=version_key)


def versions(store: Store, name: str) -> list[str]:
    """The versions of name in the store that have a manifest, oldest first."""
    top = f"{store.path.rstrip('/')}/{name}"
    cmd = f'cd {q(top)} 2>/dev/null && for m in */{MANIFEST}; do [ -f "$m" ] && echo "$m"; done; true'
    return parse_listing(store.host.run(cmd).stdout)


def read_manifest(store: Store, name: str, version: str) -> Manifest:
    """One version's manifest; ParameterError when the store lacks it, ManifestError (naming the file) when bad."""
    path = f"{store.folder(name, version)}/{MANIFEST}"
    if not store.host.exists(path):
        built = ", ".join(versions(store, name)) or "none yet"
        raise ParameterError(
            f"no version {version!r} of {name} in the store {store.host.name}:{store.path}; built: {built}"
        )
    return parse(store.host.read_text(path), f"{store.host.name}:{path}")


# --- building -----------------------------------------------------------------------------
def builder_python(host: Host) -> str:
    """The builder venv's interpreter on the build host (its own venv: the build tools stay out of the dev venv)."""
    return host.path(BUILDER, "venv", "bin", "python")


def builder(host: Host, python: str, *, dry_run: bool = True) -> list[ops.Change]:
    """The builder's venv on the build host, made with python, with build, setuptools, setuptools-scm and wheel."""
    vpy = builder_python(host)
    venv = host.path(BUILDER, "venv")
    made = host.exists(vpy)
    make = [] if made else [ops.command(host, f"{q(python)} -m venv {q(venv)}", VENV_TIMEOUT)]
    have = parity.get_packages(host, vpy) if made else {}
    missing = [t for t in TOOLS if parity.normalize(t) not in have]
    install = [ops.command(host, packages.install_command(vpy, missing), BUILD_TIMEOUT)] if missing else []
    return [
        ops.settle(host, "builder venv", venv, make, "missing", dry_run=dry_run),
        ops.settle(host, "build tools", vpy, install, f"not installed: {', '.join(missing)}", dry_run=dry_run),
    ]


@dataclass(frozen=True)
class Built:
    """A version in the store: built now, planned (manifest None on a dry run), or reused as it was."""

    source: Source
    where: str  # host:folder of the artifact in the store
    manifest: Manifest | None
    changes: tuple[ops.Change, ...]
    reused: bool = False

    def summary(self) -> str:
        """One line: the version, and whether it was reused, built or would be built."""
        how = "reused (already in the store)" if self.reused else "built" if self.manifest else "would be built"
        return f"{self.source.version} ({self.source.sha[:12]}): {how} at {self.where}"

    def __repr__(self) -> str:
        return self.summary()


def parse_sums(text: str) -> dict[str, str]:
    """`sha256sum` output as {path: sha256}."""
    out = {}
    for line in text.splitlines():
        digest, _, name = line.partition(" ")
        if name[1:]:  # the first character says text (' ') or binary ('*') mode
            out[name[1:]] = digest
    return out


def wheel_name(name: str, version: str) -> str:
    """The app's own wheel in the wheelhouse (PEP 427 file name: - and . in the name become _)."""
    return f"{WHEELHOUSE}/{re.sub(r'[-_.]+', '_', name).lower()}-{version}-py3-none-any.whl"


def build(
    host: Host, store: Store, source: Source, name: str, *, python: str = "python3", dry_run: bool = True
) -> Built:
    """Build source's version on host into the store, once; a version already stored is reused and said so."""
    where = store.where(name, source.version)
    final = store.folder(name, source.version)
    if store.host.exists(f"{final}/{MANIFEST}"):
        kept = read_manifest(store, name, source.version)
        reason = (
            f"reused: {name} {source.version} is in the store already (built {kept.built_at} from {kept.git_sha[:12]})"
        )
        return Built(source, where, kept, (ops.Change(host.name, "artifact", where, reason=reason),), reused=True)
    if store.host.exists(final):
        raise ManifestError(
            "missing from a version folder; move the folder away and build again", path=where, key=MANIFEST
        )
    check_reachable(host, source.repo)
    changes = builder(host, python, dry_run=dry_run)
    made: list[Manifest] = []
    steps = [
        f"git clone {source.repo} && git checkout {source.sha[:12]} (scratch folder under {host.path(BUILDER)})",
        f"SETUPTOOLS_SCM_PRETEND_VERSION={source.version} python -m build --wheel --no-isolation",
        f"python -m pip wheel -r {REQUIREMENTS} -w {WHEELHOUSE}/",
        f"write {MANIFEST} (sha256 of every file), then rename into {final}",
    ]
    act = (" && ".join(steps), lambda: made.append(_make(host, store, source, name)))
    changes.append(ops.settle(host, "artifact", where, [act], "not in the store", dry_run=dry_run))
    return Built(source, where, made[0] if made else None, tuple(changes))


def _make(host: Host, store: Store, source: Source, name: str) -> Manifest:
    """Build in a scratch folder on host, then place the artifact in the store by a rename."""
    vpy = builder_python(host)
    scratch = host.run(f"mkdir -p {q(host.path(BUILDER))} && mktemp -d {q(host.path(BUILDER, 'build.XXXXXX'))}")
    work = scratch.stdout.strip()
    try:
        src, out = f"{work}/src", f"{work}/out"
        host.run(
            f"git clone --quiet --no-checkout -- {q(source.repo)} {q(src)} && "
            f"git -C {q(src)} checkout --quiet --detach {q(source.sha)}",
            timeout=GIT_TIMEOUT,
            env=GIT_ENV,
        )
        wheels = f"{out}/{WHEELHOUSE}"
        host.run(
            f"{q(vpy)} -m build --wheel --no-isolation --outdir {q(wheels)} .",
            cwd=src,
            env={"SETUPTOOLS_SCM_PRETEND_VERSION": source.version},
            timeout=BUILD_TIMEOUT,
        )
        pip = f"{q(vpy)} -m pip wheel --quiet --disable-pip-version-check"
        host.run(f"{pip} -r {REQUIREMENTS} -w {q(wheels)}", cwd=src, timeout=BUILD_TIMEOUT)
        files = parse_sums(host.run(f"cd {q(out)} && sha256sum -- {WHEELHOUSE}/*").stdout)
        version = host.run(f"{q(vpy)} -c 'import platform; print(platform.python_version())'").stdout.strip()
        built_at = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = Manifest(
            name, source.version, source.sha, built_at, version, wheel_name(name, source.version), files
        )
        check(manifest, f"{host.name}:{out}/{MANIFEST}")  # the wheel's version is the one Ladder computed
        _place(host, out, store, manifest)
        return manifest
    finally:
        host.run(f"rm -rf -- {q(work)}", warn=True)


def _place(host: Host, out: str, store: Store, manifest: Manifest) -> None:
    """Copy the built files (from host's out folder) to a hidden temp folder in the store, verify, rename into place."""
    top = f"{store.path.rstrip('/')}/{manifest.name}"
    final = store.folder(manifest.name, manifest.version)
    tmp = store.host.run(f"mkdir -p {q(top)} && mktemp -d {q(f'{top}/.{manifest.version}.XXXXXX')}").stdout.strip()
    try:
        if store.host.name == host.name:
            store.host.run(f"cp -r -- {q(f'{out}/{WHEELHOUSE}')} {q(tmp)}/")
        else:
            with tempfile.TemporaryDirectory(prefix="ladder-artifact-") as tmp_here:
                here = Path(tmp_here)
                store.host.run(f"mkdir -p {q(f'{tmp}/{WHEELHOUSE}')}")
                for rel in manifest.files:
                    host.get(f"{out}/{rel}", here / Path(rel).name)
                    store.host.put(here / Path(rel).name, f"{tmp}/{rel}")
        copied = parse_sums(store.host.run(f"cd {q(tmp)} && sha256sum -- {WHEELHOUSE}/*").stdout)
        if copied != dict(manifest.files):
            raise LadderError(f"{store.host.name}:{tmp}: the copied files' sha256 differ from the build's; build again")
        store.host.write_text(f"{tmp}/{MANIFEST}", manifest.to_json())
        store.host.run(f"chmod 755 {q(tmp)} && mv -T -- {q(tmp)} {q(final)}")
    except BaseException:
        store.host.run(f"rm -rf -- {q(tmp)}", warn=True)
        raise


# --- from ladder.yml ----------------------------------------------------------------------
def open_store(cfg: Config) -> Store:
    """The store ladder.yml names (artifacts:), on a Host not yet connected."""
    if not cfg.artifacts.host:
        raise ConfigError(
            "no dev host to keep the store; name one with artifacts: host:", path=cfg.path, key="artifacts.host"
        )
    return Store(connect(cfg.host_config(cfg.artifacts.host), cfg.ssh), cfg.artifacts.path)


def build_host(cfg: Config) -> Host:
    """The build host ladder.yml names (build:), not yet connected."""
    if not cfg.build.host:
        raise ConfigError("no dev host to build on; name one with build: host:", path=cfg.path, key="build.host")
    return connect(cfg.host_config(cfg.build.host), cfg.ssh)


def build_from_config(cfg: Config, ref: str = "HEAD", *, dry_run: bool = True) -> Built:
    """Build ref of app.repo on the configured build host into the configured store (planned by default)."""
    source = get_source(str(cfg.app.repo), ref)
    store = open_store(cfg)
    with build_host(cfg) as host:
        try:
            return build(host, store, source, cfg.app.name, python=cfg.host_config(host.name).python, dry_run=dry_run)
        finally:
            store.host.close()
