"""One small exception hierarchy; every error carries the data behind it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class LadderError(Exception):
    """Base of every error Ladder raises on purpose."""


class ConfigError(LadderError):
    """A ladder.yml (or an override) that is not valid."""

    def __init__(self, message: str, *, path: Any = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        self.message = message
        where = f"{path}" if path else "config"
        if key:
            # A key read from a user's YAML may hold a newline or a control character: keep the message one line.
            where += f": {key if key.isprintable() else key.encode('unicode_escape').decode()}"
        super().__init__(f"{where}: {message}")


class HostError(LadderError):
    """Something went wrong on, or on the way to, one host."""

    def __init__(self, message: str, *, host: str) -> None:
        self.host = host
        self.detail = message
        super().__init__(f"{host}: {message}")


class UnreachableHost(HostError):
    """The host could not be connected to within the connect timeout."""


class AuthenticationFailed(HostError):
    """The host refused our credentials, or the identity file is missing."""


class HostKeyError(HostError):
    """The host's key is unknown or differs from the recorded one."""

    def __init__(self, message: str, *, host: str, fingerprint: str, fix: str) -> None:
        self.fingerprint = fingerprint
        self.fix = fix
        super().__init__(f"{message} (fingerprint {fingerprint}). {fix}", host=host)


class UnexpectedExit(HostError):
    """A command exited non-zero; `result` holds what it printed."""

    def __init__(self, result: Any) -> None:
        self.result = result
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        detail = ("\n  " + "\n  ".join(tail)) if tail else ""
        super().__init__(f"command exited {result.exited}: {result.command}{detail}", host=result.host)


class CommandTimeout(HostError):
    """A command ran past its timeout and was killed."""

    def __init__(self, result: Any, timeout: float) -> None:
        self.result = result
        self.timeout = timeout
        super().__init__(f"command killed after {timeout:g}s: {result.command}", host=result.host)


class FleetError(LadderError):
    """One or more hosts failed; `results` holds every host's outcome."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results
        self.failed = {name: r for name, r in results.items() if isinstance(r, BaseException)}
        lines = [f"  {name}: {getattr(err, 'detail', err)}" for name, err in sorted(self.failed.items())]
        super().__init__(f"{len(self.failed)} of {len(results)} hosts failed:\n" + "\n".join(lines))


class ParameterError(LadderError):
    """A runbook parameter that is unknown or of the wrong type."""


class SecretParameterError(ParameterError):
    """A parameter that looks like a secret; secrets never travel as parameters."""


class RunbookError(LadderError):
    """A runbook that cannot be found or that failed while running."""


class CopyRefused(LadderError, FileExistsError):
    """Copying the notebooks would overwrite `existing` files."""

    def __init__(self, message: str, *, existing: Sequence[Path]) -> None:
        self.existing = list(existing)
        super().__init__(message)


class SourceMissing(LadderError, FileNotFoundError):
    """A file to copy to hosts is not a file on this machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path}: no such file to copy; check the path (relative to {Path.cwd()}) or build it first")


class SeedError(LadderError):
    """The sandbox app repo could not be created at `path`."""

    def __init__(self, message: str, *, path: Path) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class ConfirmationRequired(RunbookError):
    """A change to prod was requested without confirmation; carries the environment."""

    def __init__(self, environment: str) -> None:
        self.environment = environment
        super().__init__(
            f"applying to {environment!r} needs confirmation. In JupyterLab: click 'Apply to "
            f"{environment}' above, and the cells below run. Headless: pass --apply to `ladder run` "
            "(papermill: -p prod_confirmed True)."
        )

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: a pause, not a crash; the button above says the rest."""
        return [f"Paused before changing {self.environment}: waiting for your confirmation above."]


class ModelError(ConfigError):
    """A model.yml that is not valid: names the file, the key and the fix."""


class NotARepository(LadderError):
    """A path that is not the top folder of a git repository."""

    def __init__(self, path: str | Path, detail: str, fix: str = "pass the top folder of a git clone") -> None:
        self.path = str(path)
        self.detail = detail
        self.fix = fix
        super().__init__(f"{path}: not a git repository ({detail}); {fix}")


class GitError(LadderError):
    """A git command failed on a repository that is otherwise valid."""

    def __init__(self, args: Sequence[str], exited: int, stderr: str) -> None:
        self.args_ = list(args)
        self.exited = exited
        self.stderr = stderr
        super().__init__(f"git {' '.join(args)} exited {exited}: {stderr.strip()[-300:]}")


class MissingObjects(LadderError):
    """Objects the assessment needs are absent from a partial or damaged clone (nothing is fetched)."""

    def __init__(self, count: int, what: str) -> None:
        self.count = count
        self.what = what
        super().__init__(
            f"{count} objects missing from the clone; {what} cannot be read "
            "(fetch them, e.g. `git fetch --refetch`, or assess a full clone)"
        )


class AnswersError(ConfigError):
    """An answers file that cannot be used: names the file, the key and the fix."""


class DeadlineExceeded(HostError):
    """A host did not finish within the fleet's per-host deadline."""


class RefError(LadderError, ValueError):
    """A git ref that is not a plain branch, tag or commit name; carries the ref."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(
            f"ref {ref!r} is not a branch, tag or commit name; pass something like 'master', 'v1.2' or a commit id"
        )


class ScheduleError(LadderError):
    """A schedule that cannot be installed, found or removed; `option` names the flag to fix."""

    def __init__(self, message: str, *, option: str | None = None) -> None:
        self.option = option
        self.detail = message
        super().__init__(f"{option}: {message}" if option else message)


class RunLocked(RunbookError):
    """A scheduled run found, at time `at`, the previous one of its runbook still running (it holds `lock`)."""

    def __init__(self, runbook: str, lock: Path, holder: str, at: str) -> None:
        self.runbook = runbook
        self.lock = lock
        self.holder = holder
        self.at = at
        super().__init__(f"{runbook} at {at}: the previous scheduled run ({holder}) is still running; lock {lock}")


class EnvironmentLocked(LadderError):
    """An apply found an environment locked by another apply: which one, where the lock is, and who holds it."""

    def __init__(self, environment: str, lock: str, pid: object, host: object, since: object) -> None:
        self.environment = environment
        self.lock = lock
        self.pid = pid
        self.host = host
        self.since = since
        super().__init__(
            f"environment {environment} is being changed by another apply (pid {pid} on {host}, since {since}; "
            f"lock {lock}); wait for it with `ladder run --wait`, or run again when it ends"
        )


class OptionError(LadderError):
    """A command-line value that is not valid: names the flag, the value and the form it takes."""

    def __init__(self, option: str, value: str, fix: str) -> None:
        self.option = option
        self.value = value
        self.fix = fix
        super().__init__(f"{option} {value!r}: {fix}")


class MissingOptions(LadderError):
    """Required flags left out where nobody can be asked for them (stdin is not a terminal)."""

    def __init__(self, options: Sequence[str]) -> None:
        self.options = list(options)
        super().__init__(
            f"missing {', '.join(self.options)}; stdin is not a terminal, so Ladder cannot ask: pass them as flags"
        )


class PathOutside(LadderError, ValueError):
    """A name from outside data (host, run id, file name) that would make a path leave `folder`."""

    def __init__(self, value: str, folder: Path, what: str = "name") -> None:
        self.value = value
        self.folder = folder
        self.what = what
        super().__init__(
            f"{what} {value!r} would make a path outside {folder}; "
            "use a plain name (letters, digits, '.', '_', '-'), not '..', an absolute path or a symlink out"
        )


class NotASandbox(LadderError):
    """A folder `sandbox down` will not stop or remove, because `sandbox up` did not make it; `why` says how we know."""

    def __init__(self, folder: Path, why: str) -> None:
        self.folder = folder
        self.why = why
        super().__init__(
            f"--dir {folder}: not a sandbox made by `ladder sandbox up` ({why}); nothing was stopped or removed"
        )


class ReloadFailed(HostError):
    """A reload or restart of the app server that left it unhealthy or with its old workers; the log tells why."""

    def __init__(self, message: str, *, host: str, method: str, log: str) -> None:
        self.method = method
        self.log = log
        tail = f"\nlast log lines:\n{log}" if log.strip() else "\n(the server's log was empty or not found)"
        super().__init__(f"{method}: {message}{tail}", host=host)


class BalancerError(LadderError):
    """A load balancer's config or runtime API said no; `host` is the LB host when one was asked."""

    def __init__(self, message: str, *, host: str | None = None) -> None:
        self.host = host
        self.detail = message
        super().__init__(f"{host}: {message}" if host else message)


class UnknownServer(BalancerError):
    """A server name the balancer's backend does not have; `known` lists the ones it has."""

    def __init__(self, backend: str, server: str, known: Sequence[str]) -> None:
        self.backend = backend
        self.server = server
        self.known = tuple(known)
        super().__init__(
            f"backend {backend!r} has no server {server!r}; its servers: {', '.join(self.known) or 'none'}"
        )


class PrometheusError(LadderError):
    """Prometheus refused a config or a query, or did not answer; carries its URL, the query and its error type."""

    def __init__(
        self, message: str, *, url: str | None = None, query: str | None = None, error_type: str | None = None
    ) -> None:
        self.url = url
        self.query = query
        self.error_type = error_type
        self.detail = message
        where = f"Prometheus at {url}" if url else "Prometheus"
        what = f" (query {query!r})" if query else ""
        super().__init__(f"{where}{what}: {message}")


class UnknownBackup(HostError):
    """A database backup id that a host does not hold; names the ones it does."""

    def __init__(self, backup: str, known: Sequence[str], *, host: str, folder: str) -> None:
        self.backup = backup
        self.known = list(known)
        have = ", ".join(self.known) if self.known else "none yet (a migration makes one before it upgrades)"
        super().__init__(
            f"no backup {backup!r} in {folder}; backups there: {have}. Pass one of those to --backup", host=host
        )


class MigrationFailed(HostError):
    """A schema migration that failed: its error, the backup put back (if any), and whether the restore held."""

    def __init__(self, error: str, *, host: str, backup: str, restored: bool) -> None:
        self.error = error
        self.backup = backup
        self.restored = restored
        then = (
            f"backup {backup} was restored; the database is as it was before the run"
            if restored
            else f"the restore of backup {backup} did not match: run `ladder db restore --backup {backup} --apply`"
        )
        super().__init__(f"the migration failed: {error}\n{then}; fix the revision and run again", host=host)


class LoadRefused(LadderError, ValueError):
    """A load run asked for something the load generator will not do: a target off loopback, or a bad setting."""

    def __init__(self, field: str, value: object, fix: str) -> None:
        self.field = field
        self.value = value
        self.fix = fix
        super().__init__(f"load {field} {value!r} refused: {fix}")


class RolloutFailed(LadderError):
    """A rolling deploy or rollback that stopped at a host: `result` holds every host's outcome (Fabric's group style)."""

    def __init__(self, message: str, *, host: str, result: Any) -> None:
        self.host = host
        self.result = result
        super().__init__(message)


class AlertsFiring(LadderError):
    """Alerts that fire on the team's Prometheus: the run fails naming them, so a scheduler running it can page."""

    def __init__(self, firing: Sequence[tuple[str, str, str]], *, url: str) -> None:
        self.firing = list(firing)  # (alert name, what it is about, its summary)
        self.url = url
        self.names = sorted({name for name, _, _ in self.firing})
        said = "; ".join(
            f"{name} ({subject}): {summary}" if summary else f"{name} ({subject})"
            for name, subject, summary in self.firing
        )
        super().__init__(
            f"{len(self.firing)} alert(s) firing on Prometheus at {url}: {said}. "
            "Fix the cause (the runbook's Monitoring section charts each alert's series); the next run passes when none fires"
        )


class CanaryRolledBack(LadderError):
    """A canary the analysis rolled back, in a run asked to fail on it (the pipeline's prod stage): the build is red."""

    def __init__(self, version: str, stable_version: str, why: str) -> None:
        self.version = version
        self.stable_version = stable_version
        self.why = why
        super().__init__(
            f"the canary of {version} was rolled back ({why}); prod serves {stable_version} as before. "
            "Fix the release and push again; the runbook's Checks section shows each check"
        )
