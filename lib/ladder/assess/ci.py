"""CI configuration files: which provider, what triggers them, whether they test and deploy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

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
    r"pytest|py\.test|\btox\b|\bnox\b|-m unittest|manage\.py test|\b(npm|yarn|pnpm)( run)? test|\bjest\b"
    r"|\bvitest\b|\bmocha\b|\bgo test\b|\bcargo test\b|\bmvn\b.*\b(test|verify)\b|gradlew?\b.*\b(test|check)\b"
    r"|\brspec\b|\brake test\b|\bphpunit\b|\bdotnet test\b|\bmake (test|check)\b|\.ci/run\b"
)
DEPLOY_COMMAND = re.compile(
    r"environment:\s*(name:\s*)?['\"]?(production|prod)\b|\bdeploy\b|kubectl (apply|set image|rollout)"
    r"|helm (upgrade|install)|\bcap [\w:]*deploy|ansible-playbook|fly(ctl)? deploy|git push heroku"
    r"|aws (ecs|deploy|elasticbeanstalk)|gcloud (app|run) deploy|\baz webapp\b|serverless deploy"
    r"|\bsam deploy\b|terraform apply|4-continuous-delivery",
    re.IGNORECASE,
)
MAIN_OR_TAGS = re.compile(
    r"refs/heads/(main|master)|refs/tags|\bbranches:\s*\[?\s*['\"]?(main|master)\b|^\s*-\s*['\"]?(main|master)['\"]?\s*$"
    r"|\btags:|CI_COMMIT_TAG|CI_DEFAULT_BRANCH|\brelease:|\bbranch\s*\(?\s*['\"](main|master)['\"]|buildingTag\(\)",
    re.MULTILINE,
)
SMOKE = re.compile(r"smoke|curl[^\n]*(health|status|ready)|wait-for|healthcheck|check_health", re.IGNORECASE)
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


def parse_ci(path: str, text: str) -> CIConfig | None:
    """Read one CI file; None when the path is not a CI file."""
    provider = provider_of(path)
    if provider is None:
        return None
    doc = _load_yaml(text) if path.endswith((".yml", ".yaml")) else None
    push, pr = _triggers(provider, text, doc)
    deploys = bool(DEPLOY_COMMAND.search(text))
    if provider == "github-actions":
        main_or_tags = _github_main_or_tags(doc, text)
    else:
        main_or_tags = bool(MAIN_OR_TAGS.search(text))
    return CIConfig(
        provider=provider,
        path=path,
        runs_tests=bool(TEST_COMMAND.search(text)),
        push=push,
        pull_request=pr,
        deploys=deploys,
        deploys_from_main_or_tags=deploys and main_or_tags,
        smoke_test=bool(SMOKE.search(text)),
        migrates=bool(MIGRATE.search(text)),
    )


def ci_score(config: CIConfig) -> float:
    """0-10 for one CI file: 4 for running tests, 3 each for push and pull-request triggers (1 if unknown)."""
    if not config.runs_tests:
        return 2.0

    def part(flag: bool | None) -> float:
        return 1.0 if flag is None else (3.0 if flag else 0.0)

    return 4.0 + part(config.push) + part(config.pull_request)
