"""The text of a team's Buildbot: master.cfg, the master's and the worker's buildbot.tac, and the post-receive hook."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass

from . import artifact, coverage_gate, load_gate, migrations, smoke

q = shlex.quote
PYTEST = next(p for p in smoke.LOCKED if p.startswith("pytest=="))  # the version rung 2 locks
MARK = "# Written by Ladder (rung 3b)"
PIPELINE_MARK = "# Ladder pipeline:"  # rung 4's settings (and 5a's canary), as JSON on one line
SECRET = "worker.secret"  # the worker's password, read by master.cfg and by the worker's buildbot.tac
BUILDER = "ci"  # trunk pushes: lint, tests, build
REVIEW_BUILDER = "review"  # review/<name> pushes: the same steps on their merge into trunk, then the merge
REVIEW_PREFIX = "review/"
# Where a review build's outcome lands for its author: `git fetch` prints this branch as new or updated.
STATUS_PREFIX = "ci/"  # ci/passed/review/<name> or ci/failed/review/<name>, at the commit that was tested
# The 3a artifact build fills this step in; until then it builds a wheel when the app has a pyproject.toml.
BUILD_STEP = "build artifact"
CI_NAME = "Ladder CI <ci@ladder.invalid>"


SHIPS = ("auto", "gate")  # auto: a green staging promotes to prod; gate: a person's `ladder approve` does
COVERAGE_STEP, LOAD_STEP = "coverage gate", "load staging"  # the gates before prod (rung 5's "more testing")
GATE_TIMEOUT = 3600  # how long a gated build waits for the approval before it gives up (prod untouched)
CANARY_RUNBOOK, CANARY_STEP = "5a-canary-release", "canary prod"
CANARY_TIMEOUT = 3600  # Buildbot's silence timeout: `ladder run` prints only when the canary is done


@dataclass(frozen=True)
class Pipeline:
    """Rung 4's delivery steps after a green trunk build: how the worker runs `ladder`, its environment, the ship rule."""

    ladder: tuple[str, ...]  # the command line of Ladder's CLI on the build host
    env: tuple[tuple[str, str], ...]  # e.g. LADDER_CONFIG: the build host's ladder.yml
    ship: str = "auto"
    gate_timeout: int = GATE_TIMEOUT
    load_users: int = load_gate.DEFAULT_USERS  # the load-test gate's bounds against staging
    load_duration: int = load_gate.DEFAULT_DURATION  # seconds
    # Rung 5a: prod's stage is a canary, `ladder run 5a-canary-release` with these runbook parameters (name, value).
    canary: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class CISetup:
    """What a team's Buildbot is made of: the repository, its trunk, the worker and the master's ports."""

    app: str
    repo: str  # the shared repository, as the worker reaches it
    trunk: str
    worker: str  # the build host's name, the worker's name
    python: str  # the interpreter the steps run on the worker
    www_port: int
    pb_port: int
    pipeline: Pipeline | None = None  # rung 4: trunk builds deliver through staging to prod

    @property
    def url(self) -> str:
        """The master's web root: REST at api/v2, the change hook at change_hook/base."""
        return f"http://127.0.0.1:{self.www_port}/"


def lint_command(python: str) -> str:
    """ruff when the app configures it, else a byte-compile of every file (a syntax error fails the build)."""
    py = q(python)
    return (
        "if [ -f ruff.toml ] || [ -f .ruff.toml ] || grep -qs '^\\[tool.ruff' pyproject.toml; "
        f"then {py} -m ruff check .; else {py} -m compileall -q -x '/[.]' .; fi"
    )


def test_command(python: str, *, coverage: bool = False) -> str:
    """Rung 2's tests with pytest when a tests/ folder exists, in a venv with the app's locked requirements; else a
    logged reason and success. With coverage (the pipeline's trunk build), under coverage.py, writing coverage.json.

    The venv sits beside the builder's checkout and is kept between builds (pip only adds what is missing), as a
    developer's is; the workflow's fresh runner is the clean-room check.
    """
    venv = "../venv/bin/python"
    pip = f"{venv} -m pip install -q --disable-pip-version-check"
    return (
        "if [ -d tests ]; then set -e; "
        f"[ -x {venv} ] || {q(python)} -m venv ../venv; "
        f"for r in requirements.txt {smoke.DEV_REQUIREMENTS}; do if [ -f $r ]; then {pip} -r $r; fi; done; "
        f"{venv} -m pytest --version >/dev/null 2>&1 || {pip} {q(PYTEST)}; "
        + (coverage_gate.measure_command(venv) if coverage else f"{venv} -m pytest -q -p no:cacheprovider")
        + "; else echo 'no tests/ folder: nothing to run (rung 2 adds tests)'; fi"
    )


def build_command(python: str) -> str:
    """The artifact build: a wheel when there is a pyproject.toml, built in the test step's kept venv with rung 3a's
    build tools (no isolation, as the 3a build does); else a logged skip."""
    venv = "../venv/bin/python"
    pip = f"{venv} -m pip install -q --disable-pip-version-check"
    return (
        "if [ -f pyproject.toml ]; then set -e; "
        f"[ -x {venv} ] || {q(python)} -m venv ../venv; "
        f"{venv} -m build --version >/dev/null 2>&1 || {pip} {' '.join(artifact.TOOLS)}; "
        f"{venv} -m build --wheel --no-isolation --outdir dist .; "
        "else echo 'no pyproject.toml: no artifact to build (rung 3a packages the app)'; fi"
    )


def merge_command(trunk: str) -> str:
    """Merge trunk into the checked-out review branch, as the result of the pull request would be."""
    name, email = CI_NAME.rstrip(">").split(" <")
    return (
        f"git fetch -q origin {q(trunk)} && git -c user.name={q(name)} -c user.email={q(email)} "
        'merge --no-ff --no-edit -m "Merge $(git rev-parse --short HEAD) into trunk (CI)" FETCH_HEAD'
    )


def status_command(outcome: str, other: str) -> str:
    """Point ci/<outcome>/<branch> at the tested commit and drop ci/<other>/<branch>; never fails the build."""
    new, old = f"refs/heads/{STATUS_PREFIX}{outcome}/$BRANCH", f"refs/heads/{STATUS_PREFIX}{other}/$BRANCH"
    return f'git push -q -f origin "$REVISION:{new}"; git push -q origin --delete "{old}" 2>/dev/null; exit 0'


def _argv(*parts: str) -> str:
    """A Python list literal of a command; a part in {braces} is a build property, rendered %(prop:...)s."""
    out = [f"util.Interpolate('%(prop:{p[1:-1]})s')" if p.startswith("{") else repr(p) for p in parts]
    return "[" + ", ".join(out) + "]"


def pipeline_line(p: Pipeline | None) -> str:
    """The comment in master.cfg that keeps its pipeline, read back when a rung applies again ('' without one)."""
    return f"{PIPELINE_MARK} {json.dumps(asdict(p), sort_keys=True)}\n" if p is not None else ""


def pipeline_of(master_cfg_text: str) -> Pipeline | None:
    """The pipeline a master.cfg Ladder wrote delivers by; None when it has none (rung 3b's CI only)."""
    for line in master_cfg_text.splitlines():
        if line.startswith(PIPELINE_MARK + " "):
            d = json.loads(line[len(PIPELINE_MARK) + 1 :])
            canary = d.pop("canary")
            return Pipeline(
                ladder=tuple(d.pop("ladder")),
                env=tuple((k, v) for k, v in d.pop("env")),
                canary=tuple((k, v) for k, v in canary) if canary is not None else None,
                **d,
            )
    return None


def pipeline_steps(p: Pipeline) -> str:
    """The trunk builder's delivery steps: build once, staging, smoke over HTTP, the ship decision, prod."""
    if p.ship not in SHIPS:
        raise ValueError(f"ship must be one of {', '.join(SHIPS)}, got {p.ship!r}")
    ladder, env = p.ladder, f"env={dict(p.env)!r}, haltOnFailure=True"
    version = ("--version", "{version}")
    load = ("gate", "load", "--env", "staging", *version, "--users", str(p.load_users),
            "--duration", str(p.load_duration))  # fmt: skip
    # Rung 5c's backup, upgrade, verify and restore on failure, before each switch; silent until it is done.
    migrate = ("db", "migrate", *version, "--apply", "--env")
    migrate_timeout = int(migrations.BACKUP_TIMEOUT + migrations.UPGRADE_TIMEOUT + 120)
    load_timeout = p.load_duration + 1200  # Buildbot's silence timeout: locust prints only its summary
    decide = (
        f"    steps.SetPropertyFromCommand(name='wait for approval', property='approver', timeout={p.gate_timeout + 60}, "
        f"command={_argv(*ladder, 'approve', '--env', 'prod', *version, '--wait', str(p.gate_timeout))}, {env}),\n"
        if p.ship == "gate"
        else "    steps.SetProperty(name='ship: auto', property='approver', value='pipeline (ship=auto)'),\n"
    )
    return (
        f"    steps.ShellCommand(name={BUILD_STEP!r}, "
        f"command={_argv(*ladder, 'artifact', 'build', '--ref', '{got_revision}', '--apply')}, {env}),\n"
        "    steps.SetPropertyFromCommand(name='version', property='version', "
        f"command={_argv(*ladder, 'artifact', 'version', '--ref', '{got_revision}')}, {env}),\n"
        f"    steps.ShellCommand(name={COVERAGE_STEP!r}, "
        f"command={_argv(*ladder, 'gate', 'coverage', *version, '--sha', '{got_revision}')}, {env}),\n"
        f"    steps.ShellCommand(name='migrate staging', command={_argv(*ladder, *migrate, 'staging')}, "
        f"timeout={migrate_timeout}, {env}),\n"
        "    steps.ShellCommand(name='deploy staging', "
        f"command={_argv(*ladder, 'deploy', '--env', 'staging', *version, '--apply', '--approver', 'pipeline')}, {env}),\n"
        f"    steps.ShellCommand(name='smoke staging', command={_argv(*ladder, 'smoke', '--env', 'staging', *version)}, "
        f"{env}),\n"
        f"    steps.ShellCommand(name={LOAD_STEP!r}, command={_argv(*ladder, *load)}, timeout={load_timeout}, {env}),\n"
        + decide
        + f"    steps.ShellCommand(name='migrate prod', command={_argv(*ladder, *migrate, 'prod')}, "
        f"timeout={migrate_timeout}, {env}),\n" + prod_step(p)
    )


def prod_step(p: Pipeline) -> str:
    """The pipeline's last step: a rolling deploy to prod, or (rung 5a) a canary that fails the build when rolled back."""
    env = f"env={dict(p.env)!r}, haltOnFailure=True"
    if p.canary is None:
        deploy = (*p.ladder, "deploy", "--env", "prod", "--version", "{version}", "--apply", "--approver", "{approver}")
        return f"    steps.ShellCommand(name='deploy prod', command={_argv(*deploy)}, {env}),\n"
    params = [("version", "{version}"), ("approver", "{approver}"), ("fail_on_rollback", "true"), *p.canary]
    # `ladder run` takes the runbook's own default config ("sandbox") over LADDER_CONFIG: name the build host's.
    config = dict(p.env).get("LADDER_CONFIG")
    run = (*p.ladder, "run", CANARY_RUNBOOK, "--apply", *(["--config", config] if config else []),
           *(a for name, value in params for a in ("-p", name, value)))  # fmt: skip
    return f"    steps.ShellCommand(name={CANARY_STEP!r}, command={_argv(*run)}, timeout={CANARY_TIMEOUT}, {env}),\n"


def master_cfg(s: CISetup) -> str:
    """The master's configuration: one worker, a builder for trunk and one for review branches, REST and the hook."""
    lint = (
        f"    steps.ShellCommand(name='lint', command=['sh', '-c', {lint_command(s.python)!r}], haltOnFailure=True),\n"
    )
    tests = (
        f"    steps.ShellCommand(name='test', command=['sh', '-c', {test_command(s.python)!r}], haltOnFailure=True),\n"
    )
    # The pipeline's trunk build runs the tests under coverage.py: its figure feeds the coverage gate.
    trunk_tests = test_command(s.python, coverage=s.pipeline is not None)
    trunk_tests = f"    steps.ShellCommand(name='test', command=['sh', '-c', {trunk_tests!r}], haltOnFailure=True),\n"
    build = (
        f"    steps.ShellCommand(name={BUILD_STEP!r}, command=['sh', '-c', {build_command(s.python)!r}], "
        "haltOnFailure=True),\n"
    )
    delivery = pipeline_steps(s.pipeline) if s.pipeline else build
    push = f"git push -q origin HEAD:refs/heads/{s.trunk}"
    return f"""{MARK}: edit ladder.yml and apply again rather than this file.
{pipeline_line(s.pipeline)}import os

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SUCCESS

BASEDIR = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(BASEDIR, {SECRET!r})) as secret:
    PASSWORD = secret.read().strip()

c = BuildmasterConfig = {{}}
c['title'] = {s.app!r}
c['buildbotURL'] = {s.url!r}
c['buildbotNetUsageData'] = None
c['collapseRequests'] = False  # every push gets its own result, as its author expects
c['db'] = {{'db_url': 'sqlite:///state.sqlite'}}
c['protocols'] = {{'pb': {{'port': 'tcp:{s.pb_port}:interface=127.0.0.1'}}}}
c['workers'] = [worker.Worker({s.worker!r}, PASSWORD, max_builds=1)]
# Pushes arrive through the change hook, which the repository's post-receive hook calls: no poller.
c['change_source'] = []
c['www'] = {{'port': 'tcp:{s.www_port}:interface=127.0.0.1', 'plugins': {{}}, 'change_hook_dialects': {{'base': True}}}}

checkout = steps.Git(repourl={s.repo!r}, mode='full', method='fresh', haltOnFailure=True)
checks = [
{lint}{tests}]
trunk = util.BuildFactory([checkout,
{lint}{trunk_tests}{delivery}])
status_env = {{'BRANCH': util.Property('branch'), 'REVISION': util.Property('revision')}}
review = util.BuildFactory([
    checkout,
    steps.ShellCommand(name='merge trunk', command=['sh', '-c', {merge_command(s.trunk)!r}], haltOnFailure=True),
    *checks,
{build.rstrip()}
    # A merge queue: trunk only moves to a merge that passed; a trunk that moved meanwhile refuses the push.
    steps.ShellCommand(name='push to trunk', command=['sh', '-c', {push!r}], haltOnFailure=True),
    # The author's status line: a ci/passed/... or ci/failed/... branch that their next `git fetch` prints.
    steps.ShellCommand(
        name='report passed', command=['sh', '-c', {status_command("passed", "failed")!r}], env=status_env,
        alwaysRun=True, doStepIf=lambda step: step.build.results == SUCCESS),
    steps.ShellCommand(
        name='report failed', command=['sh', '-c', {status_command("failed", "passed")!r}], env=status_env,
        alwaysRun=True, doStepIf=lambda step: step.build.results != SUCCESS),
])
c['builders'] = [
    util.BuilderConfig(name={BUILDER!r}, workernames=[{s.worker!r}], factory=trunk),
    util.BuilderConfig(name={REVIEW_BUILDER!r}, workernames=[{s.worker!r}], factory=review),
]
c['schedulers'] = [
    schedulers.SingleBranchScheduler(
        name='trunk', change_filter=util.ChangeFilter(branch={s.trunk!r}), treeStableTimer=None,
        builderNames=[{BUILDER!r}]),
    schedulers.AnyBranchScheduler(
        name='review', change_filter=util.ChangeFilter(branch_re={"^" + REVIEW_PREFIX!r}), treeStableTimer=None,
        builderNames=[{REVIEW_BUILDER!r}]),
]
"""


def master_tac(basedir: str) -> str:
    """The master's twistd application file, as `buildbot create-master` writes it (log rotation kept)."""
    return f"""{MARK}
import os

from twisted.application import service
from twisted.python.log import FileLogObserver, ILogObserver
from twisted.python.logfile import LogFile

from buildbot.master import BuildMaster

basedir = {basedir!r}
application = service.Application('buildmaster')
logfile = LogFile.fromFullPath(os.path.join(basedir, 'twistd.log'), rotateLength=10000000, maxRotatedFiles=10)
application.setComponent(ILogObserver, FileLogObserver(logfile).emit)
BuildMaster(basedir, 'master.cfg', None).setServiceParent(application)
"""


def worker_tac(basedir: str, name: str, pb_port: int) -> str:
    """The worker's twistd application file, as `buildbot-worker create-worker` writes it, password from a file."""
    return f"""{MARK}
import os

from twisted.application import service
from twisted.python.log import FileLogObserver, ILogObserver
from twisted.python.logfile import LogFile

from buildbot_worker.bot import Worker

basedir = {basedir!r}
application = service.Application('buildbot-worker')
logfile = LogFile.fromFullPath(os.path.join(basedir, 'twistd.log'), rotateLength=10000000, maxRotatedFiles=10)
application.setComponent(ILogObserver, FileLogObserver(logfile).emit)
with open(os.path.join(basedir, {SECRET!r})) as secret:
    passwd = secret.read().strip()
Worker('127.0.0.1', {pb_port}, {name!r}, passwd, basedir, 600, umask=0o22, maxdelay=30).setServiceParent(application)
"""


def post_receive(url: str, repo: str) -> str:
    """A post-receive hook: one change per pushed branch to the master's change hook, stamped with the push time.

    curl over HTTP rather than `buildbot sendchange`: the repository's host needs no Buildbot (nor Twisted), and
    a master that is down costs the pusher one line of warning, never a refused or hanging push.
    """
    hook = url.rstrip("/") + "/change_hook/base"
    return f"""#!/bin/sh
{MARK}: tell the CI server (Buildbot) about every pushed branch.
zero=0000000000000000000000000000000000000000
while read -r old new ref; do
  case "$ref" in refs/heads/*) ;; *) continue ;; esac
  [ "$new" = "$zero" ] && continue
  branch=${{ref#refs/heads/}}
  curl -fsS --max-time 10 -o /dev/null \\
    --data-urlencode "revision=$new" --data-urlencode "branch=$branch" \\
    --data-urlencode {q("repository=" + repo)} --data-urlencode "when_timestamp=$(date +%s)" \\
    --data-urlencode "author=$(git log -1 --format='%an <%ae>' "$new")" \\
    --data-urlencode "comments=$(git log -1 --format=%s "$new")" \\
    {q(hook)} || echo "ci: could not reach {hook}; $branch was not built" >&2
done
exit 0
"""
