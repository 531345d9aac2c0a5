"""CI configuration files: which provider, what triggers them, whether they test and deploy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..app.history import is_test_path
from .ci_follow import Read, followed, gitlab_includes, lines, own_test_runner, runner_runs_tests, templates

# (provider, regex over the repository path)
PROVIDERS: tuple[tuple[str, re.Pattern], ...] = (
    ("github-actions", re.compile(r"^\.github/workflows/[^/]+\.ya?ml$")),
    ("gitlab-ci", re.compile(r"^\.gitlab-ci\.ya?ml$")),
    ("jenkins", re.compile(r"(^|/)Jenkinsfile$")),
    ("circleci", re.compile(r"^\.circleci/config\.ya?ml$")),
    ("azure-pipelines", re.compile(r"^(azure-pipelines\.ya?ml|\.azure-pipelines/[^/]+\.ya?ml)$")),
    ("bitbucket-pipelines", re.compile(r"^bitbucket-pipelines\.ya?ml$")),
    ("travis", re.compile(r"^\.travis\.ya?ml$")),
    ("drone", re.compile(r"^\.drone\.ya?ml$")),
    ("woodpecker", re.compile(r"^(\.woodpecker\.ya?ml|\.woodpecker/[^/]+\.ya?ml)$")),
    # A CI entry script with no server config in the repository: it may run on a server, we cannot tell.
    ("ci-script", re.compile(r"^(\.ci/[^/]+|ci/[^/]+\.sh|scripts/ci[^/]*)$")),
)

TEST_COMMAND = re.compile(
    r"pytest|py\.test|-m unittest|manage\.py test|\b(npm|yarn|pnpm)( run)? test|\bjest\b"
    r"|\bvitest\b|\bmocha\b|\bgo test\b|\bcargo test\b|\bmvn\b.*\b(test|verify)\b|gradlew?\b.*\b(test|check)\b"
    r"|\brspec\b|\brake test\b|\bphpunit\b|\bdotnet test\b|\bmake (test|check)\b|\.ci/run\b"
    r"|\bplaywright test\b|\bcypress run\b|\b(bun|deno) test\b|\bctest\b|command:\s*['\"]?test\b"
    # A task runner's test target: `task py:test`, `just test`, `uv run poe test`, `hatch run test:unit`.
    r"|\b(task|just|poe|invoke|inv|make|hatch run|pdm run|poetry run|uv run|npm run|yarn|pnpm|bun run|composer)"
    r"\s+[^\n;&|]*?(?<![\w.])([\w.-]*[-_:.])?tests?\b"
)
# A job or step name that says it runs tests, unless it prepares, reports or deploys something for them.
TEST_NAME = re.compile(r"\b(tests?|unit|e2e|integration|pytest)\b", re.IGNORECASE)
NOT_TEST_NAME = re.compile(
    r"deploy|environment|\benv\b|set ?up|install|upload|publish|report|results|artifact|cache|coverage", re.IGNORECASE
)
# A deploy to an environment made for testing is not a delivery.
TEST_ENVIRONMENT = re.compile(r"\b(test|tests|testing|e2e|preview|review|qa|ephemeral)\b", re.IGNORECASE)
DEPLOY_COMMAND = re.compile(
    r"environment:\s*(name:\s*)?['\"]?(production|prod)\b|(?<!--)\bdeploy\b|kubectl (apply|set image|rollout)"
    r"|helm (upgrade|install)|\bcap [\w:]*deploy|ansible-playbook|fly(ctl)? deploy|git push heroku"
    r"|aws (ecs|deploy|elasticbeanstalk)|gcloud (app|run) deploy|\baz webapp\b|serverless deploy"
    r"|\bsam deploy\b|terraform apply|4-continuous-delivery",
    re.IGNORECASE,
)
# Publishing documentation (GitHub Pages, Read the Docs, a docs site on Netlify) is not delivering the app.
DOCS_DEPLOY = re.compile(
    r"actions/deploy-pages|actions/upload-pages-artifact|peaceiris/actions-gh-pages|github-pages-deploy-action"
    r"|\bgh-pages\b|github-pages|\bgh-deploy\b|\bmkdocs\b|\bsphinx|readthedocs|\bmike deploy\b"
    r"|netlify[^\n]*\bdocs?\b|\bdocs?\b[^\n]*netlify",
    re.IGNORECASE,
)
MAIN_OR_TAGS = re.compile(
    r"refs/heads/(main|master)|refs/tags|\bbranches:\s*\[?\s*['\"]?(main|master)\b|^\s*-\s*['\"]?(main|master)['\"]?\s*$"
    r"|\btags:|CI_COMMIT_TAG|CI_DEFAULT_BRANCH|\brelease:|\bbranch\s*\(?\s*['\"](main|master)['\"]|buildingTag\(\)",
    re.MULTILINE,
)
# Waiting for a service (`wait-for-docker`) is setup, not a smoke test; waiting for its health URL is one.
# `smoke` as a word: smokeshow (a coverage-report upload) is not a smoke test.
SMOKE = re.compile(
    r"\bsmoke(?:[-_ ]?tests?)?\b|curl[^\n]*(health|status|ready)|wait-for[-\w]*\s[^\n]*(health|ready|status)|healthcheck|check_health",
    re.IGNORECASE,
)
PRODUCTION_ENVIRONMENT = re.compile(r"environment:\s*(name:\s*)?['\"]?(production|prod)\b", re.IGNORECASE)
MIGRATE = re.compile(
    r"alembic upgrade|manage\.py migrate|flyway[^\n]*migrate|(rake|rails) db:migrate|knex migrate|prisma migrate"
    r"|sequelize[^\n]*db:migrate|liquibase[^\n]*update|\bmigrate\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CIConfig:
    """What one CI file shows. push/pull_request are None when the file cannot tell."""

    provider: str
    path: str
    runs_tests: bool
    push: bool | None
    pull_request: bool | None
    deploys: bool
    deploys_from_main_or_tags: bool
    smoke_test: bool
    migrates: bool
    job: str | None = None
    evidence: str | None = None
    deploy_evidence: str | None = None

    @property
    def certain(self) -> bool:
        """True when both triggers were read from the file rather than assumed."""
        return self.push is not None and self.pull_request is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for evidence."""
        return {
            k: getattr(self, k)
            for k in (
                "provider",
                "path",
                "runs_tests",
                "push",
                "pull_request",
                "deploys",
                "deploys_from_main_or_tags",
                "smoke_test",
                "migrates",
                "job",
                "evidence",
                "deploy_evidence",
            )
        }


def provider_of(path: str) -> str | None:
    """The CI provider a repository path belongs to, or None."""
    for name, pattern in PROVIDERS:
        if pattern.search(path):
            return name
    return None


def _load_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _github_events(doc: Any) -> set[str]:
    if not isinstance(doc, dict):
        return set()
    # YAML 1.1 reads a bare `on:` key as the boolean True.
    on = doc.get("on", doc.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(x) for x in on}
    if isinstance(on, dict):
        return {str(k) for k in on}
    return set()


def _github_main_or_tags(doc: Any, text: str) -> bool:
    on = doc.get("on", doc.get(True)) if isinstance(doc, dict) else None
    if isinstance(on, dict):
        push = on.get("push")
        if isinstance(push, dict):
            branches = push.get("branches") or []
            if push.get("tags") is not None or any(b in ("main", "master") for b in branches):
                return True
        if "release" in on:
            return True
    return bool(
        re.search(r"github\.ref\s*==\s*['\"]refs/heads/(main|master)|startsWith\(github\.ref,\s*'refs/tags", text)
    )


def _triggers(provider: str, text: str, doc: Any) -> tuple[bool | None, bool | None]:
    """(runs on push, runs on pull requests); None where the file cannot tell."""
    if provider == "github-actions":
        events = _github_events(doc)
        return "push" in events, bool(events & {"pull_request", "pull_request_target"})
    if provider == "gitlab-ci":
        return True, bool(re.search(r"merge_request", text))
    if provider == "azure-pipelines":
        d = doc if isinstance(doc, dict) else {}
        return d.get("trigger") != "none", d.get("pr") != "none"
    if provider == "bitbucket-pipelines":
        return bool(re.search(r"^\s+(default|branches):", text, re.M)), "pull-requests:" in text
    if provider in ("drone", "woodpecker"):
        has_event = "event" in text
        return (not has_event or "push" in text), (not has_event or "pull_request" in text)
    if provider == "travis":
        return True, True
    if provider == "jenkins":
        return True, (True if re.search(r"changeRequest|CHANGE_ID", text) else None)
    if provider == "circleci":
        return True, None
    return None, None


@dataclass(frozen=True)
class Entry:
    """One thing a CI file does or says: a job or step name, or a command line (maybe in a file it runs)."""

    job: str | None
    where: str
    text: str
    is_name: bool = False

    def __str__(self) -> str:
        return " ".join(x for x in (f"job {self.job}:" if self.job else "", f"{self.where}:", self.text) if x)


def _commands(job: str | None, where: str, text: str, read: Read) -> list[Entry]:
    out = [Entry(job, where, line) for line in lines(text)]
    return out + [Entry(job, w, line) for w, line in followed(text, read)]


def _github_entries(doc: Any, read: Read, depth: int = 0) -> list[Entry]:
    """Entries of every job of a workflow, following local reusable workflows one level deep."""
    jobs = doc.get("jobs") if isinstance(doc, dict) else None
    out: list[Entry] = []
    for key, job in (jobs or {}).items() if isinstance(jobs, dict) else ():
        if not isinstance(job, dict):
            continue
        key = str(key)
        out += [Entry(key, "job", n, True) for n in dict.fromkeys((key, str(job.get("name") or key)))]
        env = job.get("environment")
        env = env.get("name") if isinstance(env, dict) else env
        if env:
            out.append(Entry(key, "job", f"environment: {env}"))
        uses = job.get("uses")
        if isinstance(uses, str) and uses.startswith("./") and depth == 0:
            path = uses[2:].split("@")[0]
            nested = _github_entries(_load_yaml(read(path)), read, 1)
            out += [Entry(key, f"{path} job {e.job}, {e.where}", e.text, e.is_name) for e in nested]
        for step in job.get("steps") or []:
            if not isinstance(step, dict):
                continue
            if step.get("name"):
                out.append(Entry(key, "step", str(step["name"]), True))
            if isinstance(step.get("run"), str):
                out += _commands(key, "run", step["run"], read)
            if step.get("uses"):
                out.append(Entry(key, "uses", str(step["uses"])))
            args = step.get("with")
            for k, v in args.items() if isinstance(args, dict) else ():
                if isinstance(v, str):
                    out += _commands(key, f"with.{k}", v, read)
    return out


def _entries(provider: str, path: str, text: str, doc: Any, read: Read) -> list[Entry]:
    """What a CI file does, line by line; GitHub workflows by job and step."""
    if provider == "github-actions" and isinstance(doc, dict) and isinstance(doc.get("jobs"), dict):
        return _github_entries(doc, read)
    out = _commands(None, path, text, read)
    if provider == "azure-pipelines":
        for where, line in templates(text, path, read):
            out += [Entry(None, where, line)] + [Entry(None, w, x) for w, x in followed(line, read)]
    if provider == "gitlab-ci" and isinstance(doc, dict):
        included = gitlab_includes(doc, read)
        for where, body in included:
            out += _commands(None, where, body, read)
        for part in [doc] + [_load_yaml(body) for _, body in included]:
            jobs = part.items() if isinstance(part, dict) else ()
            out += [Entry(str(k), "job", str(k), True) for k, v in jobs if isinstance(v, dict) and "script" in v]
    return out


def _runs_tests(e: Entry, read: Read) -> bool:
    if e.is_name:
        return bool(TEST_NAME.search(e.text)) and not NOT_TEST_NAME.search(e.text)
    if TEST_COMMAND.search(e.text) or own_test_runner(e.text, read):
        return True
    return bool(runner_runs_tests(e.text, read, lambda line: bool(TEST_COMMAND.search(line))))


def _deploys(e: Entry) -> bool:
    # A script under tests/ that builds and runs containers (or checks deploy settings) tests the app.
    return bool(DEPLOY_COMMAND.search(e.text)) and not TEST_ENVIRONMENT.search(e.text) and not is_test_path(e.where)


def _app_deploy(entries: list[Entry]) -> Entry | None:
    """The first entry that deploys the app, leaving out every job (or line) that publishes documentation."""
    docs_jobs = {e.job for e in entries if e.job is not None and DOCS_DEPLOY.search(e.text)}
    return next((e for e in entries if _deploys(e) and e.job not in docs_jobs and not DOCS_DEPLOY.search(e.text)), None)


def parse_ci(path: str, text: str, read: Read | None = None) -> CIConfig | None:
    """Read one CI file, and the repository files it runs through `read`; None when the path is not a CI file."""
    provider = provider_of(path)
    if provider is None:
        return None
    doc = _load_yaml(text) if path.endswith((".yml", ".yaml")) else None
    read = read or (lambda _: "")
    entries = _entries(provider, path, text, doc, read)
    push, pr = _triggers(provider, text, doc)
    if provider == "github-actions" and "workflow_call" in _github_events(doc) and not (push or pr):
        push = pr = None  # a reusable workflow runs when its callers do
    # A command is better evidence than a name that says "test".
    tests = min((e for e in entries if _runs_tests(e, read)), key=lambda e: e.is_name, default=None)
    deploy = _app_deploy(entries)
    if deploy is None and provider != "github-actions" and PRODUCTION_ENVIRONMENT.search(text):
        deploy = Entry(None, path, "environment: production")
    if provider == "github-actions":
        main_or_tags = _github_main_or_tags(doc, text)
    else:
        main_or_tags = bool(MAIN_OR_TAGS.search(text))
    return CIConfig(
        provider=provider,
        path=path,
        runs_tests=tests is not None,
        push=push,
        pull_request=pr,
        deploys=deploy is not None,
        deploys_from_main_or_tags=deploy is not None and main_or_tags,
        smoke_test=any(SMOKE.search(e.text) for e in entries),
        migrates=any(MIGRATE.search(e.text) for e in entries if not e.is_name),
        job=tests.job if tests else None,
        evidence=str(tests) if tests else None,
        deploy_evidence=str(deploy) if deploy else None,
    )


def ci_score(config: CIConfig) -> float:
    """0-10 for one CI file: 4 for running tests, 3 each for push and pull-request triggers (1 if unknown)."""
    if not config.runs_tests:
        return 2.0

    def part(flag: bool | None) -> float:
        return 1.0 if flag is None else (3.0 if flag else 0.0)

    return 4.0 + part(config.push) + part(config.pull_request)
