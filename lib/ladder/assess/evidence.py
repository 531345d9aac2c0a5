"""Evidence from a plain git clone: one registered check per practice, all reading one RepoFacts."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path

from ..app import routes
from ..app.git import GitRepo, Ref, TreeFile, open_repo
from ..app.history import HistoryStats, is_artifact, is_test_path, log_args, median, parse_log
from . import ci
from .checks import INFERRED, MEASURED, CheckResult, inconclusive, register, registered, result, run_check

DAY = 86400
SOURCE = "repo"
LARGE_FILE_BYTES = 10 * 1024 * 1024
MIN_COMMITS = 10
MIN_ACTIVE_DAYS = 5
LONG_LIVED_DAYS = 7
ACTIVE_DAYS = 30
MAX_BRANCHES = 50
SAMPLES = 20

VENDORED = re.compile(r"(^|/)(node_modules|vendor|third_party|dist|build|\.venv|venv|site-packages|\.tox)/")
CODE_SUFFIXES = (
    ".py",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".tsx",
    ".jsx",
    ".rb",
    ".go",
    ".java",
    ".kt",
    ".php",
    ".cs",
    ".rs",
    ".scala",
    ".swift",
    ".ex",
    ".exs",
    ".c",
    ".cc",
    ".cpp",
    ".h",
    ".hpp",
)
EXCLUDE_SPECS = [
    ":(exclude,glob)**/node_modules/**",
    ":(exclude,glob)**/vendor/**",
    ":(exclude,glob)**/*.min.js",
    ":(exclude,glob)**/.venv/**",
    ":(exclude,glob)**/site-packages/**",
]
CODE_SPECS = [f":(glob)**/*{s}" for s in CODE_SUFFIXES] + EXCLUDE_SPECS
MANIFEST = re.compile(
    r"(^|/)(requirements[^/]*\.(txt|in)|pyproject\.toml|setup\.py|setup\.cfg|Pipfile|package\.json|Gemfile"
    r"|go\.mod|composer\.json|pom\.xml|build\.gradle(\.kts)?|Cargo\.toml|environment\.ya?ml)$"
)


class RepoFacts:
    """What the checks read from one repository, each piece fetched once and only when asked for."""

    def __init__(self, repo: GitRepo, now: int, window_days: int = 90) -> None:
        self.repo = repo
        self.now = now
        self.window_days = window_days
        self.since = now - window_days * DAY
        self._texts: dict[str, str] = {}

    @property
    def tip(self) -> str | None:
        """The assessed commit: trunk tip, else HEAD; None when there are no commits."""
        return self.repo.tip

    @cached_property
    def files(self) -> list[TreeFile]:
        """Files in the assessed tree."""
        return self.repo.files(self.tip) if self.tip else []

    @cached_property
    def source_files(self) -> list[TreeFile]:
        """Files outside vendored and build folders."""
        return [f for f in self.files if not VENDORED.search(f.path)]

    def matching(self, pattern: str | re.Pattern) -> list[TreeFile]:
        """Non-vendored files whose path matches a regex."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        return [f for f in self.source_files if rx.search(f.path)]

    def read(self, paths: Iterable[str]) -> dict[str, str]:
        """Texts of files in the tree (cached; big files skipped)."""
        paths = list(paths)
        wanted = [p for p in dict.fromkeys(paths) if p not in self._texts]
        if wanted and self.tip:
            got = self.repo.read(self.tip, wanted)
            for p in wanted:
                self._texts[p] = got.get(p, "")
        return {p: self._texts[p] for p in paths if self._texts.get(p)}

    def grep(
        self, patterns: list[str], specs: list[str] | None = None, *, ignore_case: bool = False, tests: bool = True
    ) -> list[tuple[str, int, str]]:
        """Matching lines in the tree's text files, vendored folders excluded (and tests, unless tests=True)."""
        if not self.tip:
            return []
        hits = self.repo.grep(self.tip, patterns, specs or ["."] + EXCLUDE_SPECS, ignore_case=ignore_case)
        return [h for h in hits if tests or not is_test_path(h[0])]

    @cached_property
    def manifests(self) -> str:
        """Dependency manifests joined, lower-cased: what libraries the project declares."""
        texts = self.read(f.path for f in self.matching(MANIFEST))
        return "\n".join(texts.values()).lower()

    @cached_property
    def ci_configs(self) -> list[ci.CIConfig]:
        """Every CI file in the tree, parsed."""
        paths = [f.path for f in self.source_files if ci.provider_of(f.path)]
        texts = self.read(paths)
        parsed = (ci.parse_ci(p, texts.get(p, "")) for p in paths)
        return [c for c in parsed if c is not None]

    @cached_property
    def deploy_texts(self) -> dict[str, str]:
        """CI files and deploy scripts or manifests, by path."""
        rx = re.compile(
            r"(^|/)(k8s|kubernetes|deploy|deployment|manifests|helm|charts|infra|terraform|ops)/[^/]*\.(ya?ml|json|tf|hcl|toml|sh)$"
            r"|(^|/)(fabfile\.py|deploy[^/]*\.(sh|py|rb|ya?ml)|fly\.toml|app\.ya?ml|skaffold\.ya?ml|Makefile|justfile|ladder\.ya?ml)$"
        )
        paths = [f.path for f in self.source_files if rx.search(f.path)] + [c.path for c in self.ci_configs]
        return self.read(paths)

    @cached_property
    def history(self) -> HistoryStats:
        """One streamed `git log --numstat` pass over the assessed history."""
        if not self.tip:
            return HistoryStats(since=self.since)
        return parse_log(self.repo.stream(*log_args(self.tip)), self.since)

    @cached_property
    def shallow(self) -> bool:
        """True for a shallow clone."""
        return self.repo.shallow

    def history_note(self) -> dict:
        """Evidence fields every history-based check carries."""
        note = {"shallow_clone": self.shallow}
        if self.repo.trunk is None:
            note["history_of"] = "HEAD (no main or master branch)"
        else:
            note["history_of"] = self.repo.trunk.short
        return note


def repo_check(check_id: str) -> Callable[[Callable[[RepoFacts], CheckResult]], Callable[[RepoFacts], CheckResult]]:
    """Register a repository check; an empty repository makes it inconclusive without calling it."""

    def deco(fn: Callable[[RepoFacts], CheckResult]) -> Callable[[RepoFacts], CheckResult]:
        def wrapper(facts: RepoFacts) -> CheckResult:
            if facts.tip is None:
                return inconclusive(check_id, SOURCE, "the repository has no commits")
            return fn(facts)

        wrapper.__doc__ = fn.__doc__
        wrapper.__name__ = fn.__name__
        register(check_id, SOURCE)(wrapper)
        return wrapper

    return deco


def _paths(files: Iterable[TreeFile]) -> list[str]:
    return sorted(f.path for f in files)[:SAMPLES]


def _days(seconds: float) -> float:
    return round(seconds / DAY, 1)


# ---- rung 1 ------------------------------------------------------------------------------------

ENV_EXAMPLE = re.compile(r"(^|/)(\.env\.(example|sample|template|dist)|example\.env|env\.example|\.env-example)$")
ENV_SETTINGS = re.compile(
    r"(^|/)(settings|config|conf|environments?)/(dev|development|local|prod|production|staging|test)\.[a-z]+$"
    r"|(^|/)(settings|config|application)[._-](dev|development|local|prod|production|staging)\.[a-z]+$"
)
COMPOSE_OVERRIDE = re.compile(r"(^|/)(docker-)?compose\.(override|dev|development|prod|production|staging)\.ya?ml$")
ENV_READ = r"os\.environ|os\.getenv|process\.env|ENV\[|ENV\.fetch|System\.getenv|getenv\("


@repo_check("env-separation")
def env_separation(facts: RepoFacts) -> CheckResult:
    """Per-environment settings: an example env file, per-environment config, compose overrides, env vars."""
    example = facts.matching(ENV_EXAMPLE)
    settings = facts.matching(ENV_SETTINGS)
    compose = facts.matching(COMPOSE_OVERRIDE)
    env_reads = facts.grep([ENV_READ], CODE_SPECS, tests=False)
    score = 4 * bool(example) + 4 * bool(settings) + 2 * bool(compose) + 3 * bool(env_reads)
    found = [
        name
        for name, hit in (
            ("example env file", example),
            ("per-environment config", settings),
            ("compose overrides", compose),
            ("settings from environment variables", env_reads),
        )
        if hit
    ]
    reason = (
        ("found " + ", ".join(found)) if found else "no per-environment settings, example env file or compose override"
    )
    return result(
        "env-separation",
        SOURCE,
        score,
        reason,
        label=INFERRED,
        example_env_files=_paths(example),
        environment_config=_paths(settings),
        compose_overrides=_paths(compose),
        env_var_reads=sorted({p for p, _, _ in env_reads})[:SAMPLES],
    )


# gitleaks-style rules: (name, ERE for git grep, Python regex to confirm the line).
SECRET_RULES: tuple[tuple[str, str], ...] = (
    ("aws-access-key-id", r"(A3T[A-Z0-9]|AKIA|ASIA)[A-Z0-9]{16}"),
    ("private-key", r"-----BEGIN[ A-Z]*PRIVATE KEY( BLOCK)?-----"),
    ("github-token", r"gh[pousr]_[A-Za-z0-9]{36}"),
    ("gitlab-token", r"glpat-[A-Za-z0-9_-]{20}"),
    ("slack-token", r"xox[baprs]-[0-9A-Za-z-]{10,}"),
    ("stripe-live-key", r"[rs]k_live_[0-9A-Za-z]{16,}"),
    ("google-api-key", r"AIza[0-9A-Za-z_-]{35}"),
)
GENERIC_SECRET = (
    r"(password|passwd|pwd|secret|secret_key|api_key|apikey|access_token|auth_token|private_key)"
    r"['\"]?[[:space:]]*[:=][[:space:]]*['\"][^'\"[:space:]]{8,}['\"]"
)
_GENERIC_VALUE = re.compile(
    r"(password|passwd|pwd|secret|secret_key|api_key|apikey|access_token|auth_token|private_key)['\"]?\s*[:=]\s*['\"]([^'\"\s]{8,})['\"]",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(
    r"example|change|xxx|dummy|fake|placeholder|your|sample|redact|\*\*\*|<|\$\{|\{\{|%\(|test", re.I
)
SECRET_FILES = re.compile(
    r"(^|/)(\.env(\.(local|dev|development|prod|production|staging))?|id_rsa|id_dsa|id_ecdsa|id_ed25519"
    r"|[^/]*\.(pem|p12|pfx|keystore|jks)|credentials\.json|\.htpasswd|\.netrc|\.pgpass)$"
)


def find_secrets(facts: RepoFacts) -> list[dict]:
    """Committed secrets in the tip's tree: path, line and rule, never the value itself."""
    findings: list[dict] = []
    hits = facts.grep([pat for _, pat in SECRET_RULES])
    rules = [(name, re.compile(pat.replace("[[:space:]]", r"\s"))) for name, pat in SECRET_RULES]
    for path, line, text in hits:
        for name, rx in rules:
            m = rx.search(text)
            if not m or "example" in text[m.start() : m.end() + 8].lower():
                continue
            # A real key file has the header on a line of its own; a one-line literal is a test fixture.
            if name == "private-key" and not text.strip().strip("'\"").startswith("-----BEGIN"):
                continue
            if name == "private-key" and "\\n" in text:
                continue
            findings.append({"path": path, "line": line, "rule": name})
            break
    for path, line, text in facts.grep([GENERIC_SECRET], ignore_case=True, tests=False):
        m = _GENERIC_VALUE.search(text)
        value = m.group(2) if m else ""
        # An UPPER_SNAKE value names an environment variable; it is not the secret itself.
        if (
            m
            and not PLACEHOLDER.search(value)
            and not value.startswith(("os.", "env"))
            and not re.fullmatch(r"[A-Z][A-Z0-9_]*", value)
        ):
            findings.append({"path": path, "line": line, "rule": "generic-secret-assignment"})
    for f in facts.matching(SECRET_FILES):
        if not is_test_path(f.path):
            findings.append({"path": f.path, "line": None, "rule": "secret-file"})
    return findings


@repo_check("config-out-of-code")
def config_out_of_code(facts: RepoFacts) -> CheckResult:
    """No committed secrets: keys, tokens, private keys, password assignments, .env files."""
    findings = find_secrets(facts)
    if not findings:
        return result(
            "config-out-of-code",
            SOURCE,
            10,
            "no committed keys, tokens or secret files found",
            findings=[],
            scanned="tree at the assessed commit",
        )
    return result(
        "config-out-of-code",
        SOURCE,
        10 - 4 * len(findings),
        f"{len(findings)} possible committed secret(s); move them to the environment and rotate them",
        findings=findings[:SAMPLES],
        scanned="tree at the assessed commit",
    )


DEV_SETUP_FILES = re.compile(
    r"^(docker-compose\.ya?ml|compose\.ya?ml|\.devcontainer/devcontainer\.json|\.devcontainer\.json|Vagrantfile"
    r"|tox\.ini|noxfile\.py|flake\.nix|shell\.nix|devbox\.json|Procfile\.dev|(bin|script|scripts)/(setup|bootstrap|dev)[^/]*)$"
)
DEV_TARGETS = ("dev", "setup", "bootstrap", "install", "develop", "up", "run", "serve", "start", "demo")
TASK_FILES = re.compile(r"^(Makefile|GNUmakefile|justfile|Justfile|Taskfile\.ya?ml)$")


def _targets(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.M)}


@repo_check("dev-setup")
def dev_setup(facts: RepoFacts) -> CheckResult:
    """A dev environment made by one command: a make/just target, compose file, devcontainer or setup script."""
    files = facts.matching(DEV_SETUP_FILES)
    task_texts = facts.read(f.path for f in facts.matching(TASK_FILES))
    targets = sorted({t for text in task_texts.values() for t in _targets(text) if t in DEV_TARGETS})
    signals = _paths(files) + [f"target: {t}" for t in targets]
    if not signals:
        return result(
            "dev-setup",
            SOURCE,
            0,
            "no one-command dev setup (make target, compose file, devcontainer, setup script)",
            label=INFERRED,
            found=[],
        )
    score = 8 if len(signals) == 1 else 10
    return result(
        "dev-setup", SOURCE, score, f"one-command setup found: {', '.join(signals[:3])}", label=INFERRED, found=signals
    )


DEPLOY_FILES = re.compile(
    r"^(fabfile\.py|config/deploy\.rb|Capfile|(bin|script|scripts)/deploy[^/]*|deploy[^/]*\.(sh|py|ya?ml)"
    r"|fly\.toml|render\.ya?ml|app\.json|Procfile|playbooks?/deploy[^/]*\.ya?ml|ladder\.ya?ml)$"
)


@repo_check("one-step-deploy")
def one_step_deploy(facts: RepoFacts) -> CheckResult:
    """Code reaches prod by one repeatable step: a deploy script, fabfile, make target or CI deploy job."""
    files = _paths(facts.matching(DEPLOY_FILES))
    task_texts = facts.read(f.path for f in facts.matching(TASK_FILES))
    targets = sorted({t for text in task_texts.values() for t in _targets(text) if "deploy" in t or "release" in t})
    jobs = [c.path for c in facts.ci_configs if c.deploys]
    signals = files + [f"target: {t}" for t in targets] + [f"CI deploy job: {p}" for p in jobs]
    if not signals:
        return result(
            "one-step-deploy",
            SOURCE,
            0,
            "no deploy script, deploy target or CI deploy job in the repository",
            label=INFERRED,
            found=[],
        )
    return result(
        "one-step-deploy",
        SOURCE,
        8 if len(signals) == 1 else 10,
        f"deploy step found: {', '.join(signals[:3])}",
        label=INFERRED,
        found=signals,
    )


ROUTE_GREP = [
    r"\.(route|get|post|put|patch|delete|api_route|add_url_rule|add_api_route)\([[:space:]]*[rfb]?['\"]/",
    r"['\"](GET|POST|PUT|PATCH|DELETE)['\"][[:space:]]*,[[:space:]]*['\"]/",
    r"(^|[^A-Za-z0-9_.])(re_)?path\([[:space:]]*r?['\"]",
]
ROUTE_PARSE = (
    re.compile(
        r"\.(?:route|get|post|put|patch|delete|api_route|add_url_rule|add_api_route)\(\s*[rfb]?['\"](/[^'\"]*)['\"]"
    ),
    re.compile(r"['\"](?:GET|POST|PUT|PATCH|DELETE)['\"]\s*,\s*['\"](/[^'\"]*)['\"]"),
    re.compile(r"(?:^|[^\w.])(?:re_)?path\(\s*r?['\"]\^?([^'\"]*)['\"]"),
)
OPENAPI = re.compile(r"(^|/)(openapi|swagger)[^/]*\.(ya?ml|json)$")


def parse_routes(lines: Iterable[str]) -> list[str]:
    """Route paths declared on source lines (Flask/FastAPI/Express decorators, method tuples, Django path())."""
    routes = []
    for text in lines:
        for rx in ROUTE_PARSE:
            for m in rx.finditer(text):
                path = m.group(1)
                routes.append(path if path.startswith("/") else "/" + path)
    return routes


def is_public_route(path: str) -> bool:
    """False for the root and operational endpoints (health, metrics, static) that need no version."""
    return routes.exemption(path) is None


@repo_check("versioned-routes")
def versioned_routes(facts: RepoFacts) -> CheckResult:
    """Public routes carry a version (/v1/...), from route declarations or an OpenAPI spec."""
    specs = facts.matching(OPENAPI)
    spec_texts = facts.read(f.path for f in specs)
    if spec_texts:
        spec_paths = re.findall(r"^\s{0,4}['\"]?(/[^'\":\s]*)['\"]?\s*:", "\n".join(spec_texts.values()), re.M)
        servers_versioned = bool(re.search(r"url:\s*\S*/v\d+", "\n".join(spec_texts.values())))
        public = [p for p in spec_paths if is_public_route(p)]
        if public:
            versioned = [p for p in public if servers_versioned or routes.is_versioned(p)]
            return result(
                "versioned-routes",
                SOURCE,
                10 * len(versioned) / len(public),
                f"{len(versioned)} of {len(public)} public paths in the OpenAPI spec are versioned",
                specs=sorted(spec_texts),
                unversioned=sorted(set(public) - set(versioned))[:SAMPLES],
            )
    hits = facts.grep(ROUTE_GREP, CODE_SPECS, tests=False)
    declared = parse_routes(text for _, _, text in hits)
    public = sorted({r for r in declared if is_public_route(r)})
    if not public:
        return inconclusive(
            "versioned-routes",
            SOURCE,
            "no public routes or OpenAPI spec found",
            operational_routes=sorted(set(declared))[:SAMPLES],
        )
    versioned = [r for r in public if routes.is_versioned(r)]
    files = sorted({p for p, _, _ in hits})[:SAMPLES]
    return result(
        "versioned-routes",
        SOURCE,
        10 * len(versioned) / len(public),
        f"{len(versioned)} of {len(public)} public routes carry a version",
        label=INFERRED,
        files=files,
        unversioned=[r for r in public if r not in versioned][:SAMPLES],
    )


# ---- rung 2 ------------------------------------------------------------------------------------


def _dedupe(branches: Iterable[Ref]) -> list[Ref]:
    best: dict[str, Ref] = {}
    for b in branches:
        if b.short not in best or b.time > best[b.short].time:
            best[b.short] = b
    return list(best.values())


@repo_check("long-lived-branches")
def long_lived_branches(facts: RepoFacts) -> CheckResult:
    """Unmerged branches older than a week, and whether they are still active."""
    trunk = facts.repo.trunk
    if trunk is None:
        return inconclusive(
            "long-lived-branches",
            SOURCE,
            "no main or master branch to measure branches against",
            branches=[b.short for b in facts.repo.branches][:SAMPLES],
        )
    unmerged = [b for b in _dedupe(facts.repo.unmerged_branches(trunk)) if b.short != trunk.short]
    unmerged.sort(key=lambda b: -b.time)
    rows = []
    for b in unmerged[:MAX_BRANCHES]:
        oldest, count = b.time, 0
        for t in facts.repo.commit_times(f"{trunk.commit}..{b.commit}"):
            oldest, count = min(oldest, t), count + 1
        rows.append(
            {
                "branch": b.short,
                "age_days": _days(facts.now - oldest),
                "last_commit_days_ago": _days(facts.now - b.time),
                "active": facts.now - b.time <= ACTIVE_DAYS * DAY,
                "unmerged_commits": count,
            }
        )
    long_lived = [r for r in rows if r["age_days"] > LONG_LIVED_DAYS]
    active = [r for r in long_lived if r["active"]]
    stale = [r for r in long_lived if not r["active"]]
    score = 10 - 4 * len(active) - 2 * len(stale)
    if not long_lived:
        reason = f"no unmerged branch older than {LONG_LIVED_DAYS} days"
    else:
        oldest = max(long_lived, key=lambda r: r["age_days"])
        reason = (
            f"{len(active)} active and {len(stale)} stale long-lived branch(es); "
            f"oldest {oldest['branch']!r} at {oldest['age_days']:g} days"
        )
    return result(
        "long-lived-branches",
        SOURCE,
        score,
        reason,
        trunk=trunk.short,
        long_lived=long_lived[:SAMPLES],
        unmerged_branches=len(unmerged),
        **facts.history_note(),
    )


@repo_check("trunk-frequency")
def trunk_frequency(facts: RepoFacts) -> CheckResult:
    """How often work lands on the main branch: first-parent commits per active day, last 90 days."""
    trunk = facts.repo.trunk
    if trunk is None:
        return inconclusive("trunk-frequency", SOURCE, "no main or master branch")
    landings = sum(1 for _ in facts.repo.commit_times(trunk.commit, since=facts.since, first_parent=True))
    # A set of day numbers: at most window_days entries however many commits there are.
    days = {t // DAY for t in facts.repo.commit_times("--branches", "--remotes", since=facts.since) if t <= facts.now}
    evidence = {
        "window_days": facts.window_days,
        "landings": landings,
        "active_days": len(days),
        **facts.history_note(),
    }
    if len(days) < MIN_ACTIVE_DAYS:
        return inconclusive(
            "trunk-frequency",
            SOURCE,
            f"only {len(days)} active day(s) in the last {facts.window_days} days; need {MIN_ACTIVE_DAYS}",
            **evidence,
        )
    rate = landings / len(days)
    return result(
        "trunk-frequency",
        SOURCE,
        10 * rate,
        f"{rate:.2f} landings on {trunk.short} per active day over the last {facts.window_days} days",
        landings_per_active_day=round(rate, 2),
        **evidence,
    )


def _window(facts: RepoFacts, recent: int, total: int) -> tuple[str, bool] | None:
    if recent >= MIN_COMMITS:
        return f"last {facts.window_days} days", True
    if total >= MIN_COMMITS:
        return "all history", False
    return None


def size_score(median_lines: float) -> float:
    """10 at 50 changed lines or fewer, 0 at 1000 or more, falling on a log scale between."""
    if median_lines <= 50:
        return 10.0
    if median_lines >= 1000:
        return 0.0
    return 10 * (math.log(1000) - math.log(median_lines)) / (math.log(1000) - math.log(50))


@repo_check("change-size")
def change_size(facts: RepoFacts) -> CheckResult:
    """Median lines changed per commit (lock files and binaries not counted)."""
    h = facts.history
    span = _window(facts, h.recent_changed, h.changed)
    if span is None:
        return inconclusive(
            "change-size",
            SOURCE,
            f"only {h.changed} commit(s) with changes; need {MIN_COMMITS}",
            commits=h.commits,
            **facts.history_note(),
        )
    label, recent = span
    m = median(h.recent_sizes if recent else h.sizes)
    n = h.recent_changed if recent else h.changed
    return result(
        "change-size",
        SOURCE,
        size_score(m),
        f"median change is {m:g} lines over {n} commits ({label})",
        median_lines=m,
        commits=n,
        span=label,
        **facts.history_note(),
    )


FLAG_LIBRARIES = (
    "openfeature",
    "unleash",
    "flagsmith",
    "growthbook",
    "django-waffle",
    "waffle",
    "launchdarkly",
    "ldclient",
    "flipper",
    "configcat",
    "flagd",
    "splitio",
    "@splitsoftware",
    "posthog",
    "featureflags",
)
FLAG_MODULE = re.compile(r"(^|/)(feature_?flags?|flags|toggles|feature_?toggles)(\.(py|js|ts|rb|go)|/)")


@repo_check("feature-flags")
def feature_flags(facts: RepoFacts) -> CheckResult:
    """Unfinished work hidden behind flags: a feature-flag library or a flags module."""
    libs = sorted({lib for lib in FLAG_LIBRARIES if re.search(rf"(^|[^a-z0-9_-]){re.escape(lib)}", facts.manifests)})
    modules = [f for f in facts.matching(FLAG_MODULE) if not is_test_path(f.path)]
    if libs or modules:
        found = libs + _paths(modules)
        return result(
            "feature-flags",
            SOURCE,
            10,
            f"feature flags: {', '.join(found[:3])}",
            label=INFERRED,
            libraries=libs,
            modules=_paths(modules),
        )
    return result(
        "feature-flags", SOURCE, 0, "no feature-flag library or flags module", label=INFERRED, libraries=[], modules=[]
    )


@repo_check("tests-present")
def tests_present(facts: RepoFacts) -> CheckResult:
    """Tests exist, and their share of the code (by size)."""
    code = [f for f in facts.source_files if f.path.endswith(CODE_SUFFIXES)]
    if not code:
        return inconclusive("tests-present", SOURCE, "no source code files found", files=len(facts.files))
    tests = [f for f in code if is_test_path(f.path)]
    test_bytes = sum(f.size for f in tests)
    code_bytes = sum(f.size for f in code)
    share = test_bytes / code_bytes if code_bytes else 0.0
    reason = f"{len(tests)} test file(s), {share:.0%} of the code" if tests else "no test files"
    return result(
        "tests-present",
        SOURCE,
        10 * share / 0.3,
        reason,
        test_files=len(tests),
        code_files=len(code),
        test_share=round(share, 3),
        examples=_paths(tests)[:5],
    )


@repo_check("tests-with-changes")
def tests_with_changes(facts: RepoFacts) -> CheckResult:
    """Share of commits that touch tests."""
    h = facts.history
    span = _window(facts, h.recent_changed, h.changed)
    if span is None:
        return inconclusive(
            "tests-with-changes",
            SOURCE,
            f"only {h.changed} commit(s) with changes; need {MIN_COMMITS}",
            commits=h.commits,
            **facts.history_note(),
        )
    label, recent = span
    touched, n = (h.recent_touched_tests, h.recent_changed) if recent else (h.touched_tests, h.changed)
    share = touched / n
    return result(
        "tests-with-changes",
        SOURCE,
        10 * share / 0.4,
        f"{share:.0%} of {n} commits touch tests ({label})",
        share=round(share, 3),
        commits=n,
        touching_tests=touched,
        span=label,
        **facts.history_note(),
    )


# ---- rung 3a -----------------------------------------------------------------------------------

DOCKERFILE = re.compile(r"(^|/)(Dockerfile[^/]*|[^/]+\.Dockerfile|Containerfile)$")
OTHER_RECIPES = re.compile(r"(^|/)(Cargo\.toml|[^/]+\.gemspec|pom\.xml|build\.gradle(\.kts)?|\.goreleaser\.ya?ml)$")


def parse_from_lines(text: str) -> list[tuple[str, bool]]:
    """Base images of a Dockerfile and whether each is pinned (a version tag or a digest, not latest)."""
    stages: set[str] = set()
    bases = []
    for m in re.finditer(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I):
        image, alias = m.group(1), m.group(2)
        if alias:
            stages.add(alias.lower())
        if image.lower() in stages or image == "scratch":
            continue
        if "@sha256:" in image:
            pinned = True
        else:
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            pinned = bool(tag) and tag != "latest" and "$" not in image and any(c.isdigit() for c in tag)
        bases.append((image, pinned))
    return bases


@repo_check("packaging")
def packaging(facts: RepoFacts) -> CheckResult:
    """A packaging recipe: a pyproject build system, setup.py or another recipe; a Dockerfile with a pinned base."""
    recipes = []
    pyprojects = facts.read(f.path for f in facts.matching(r"(^|/)pyproject\.toml$"))
    recipes += [p for p, text in pyprojects.items() if re.search(r"^\[build-system\]", text, re.M)]
    recipes += [f.path for f in facts.matching(r"(^|/)setup\.py$")]
    recipes += [f.path for f in facts.matching(OTHER_RECIPES)]
    dockerfiles = facts.read(f.path for f in facts.matching(DOCKERFILE))
    bases = [(p, image, pinned) for p, text in dockerfiles.items() for image, pinned in parse_from_lines(text)]
    docker_pinned = bool(bases) and all(pinned for _, _, pinned in bases)
    if recipes:
        score = 10 if docker_pinned else 8
    elif bases:
        score = 8 if docker_pinned else 4
    else:
        score = 0
    parts = []
    if recipes:
        parts.append(f"recipe {recipes[0]}")
    if bases:
        parts.append("Dockerfile with pinned base" if docker_pinned else "Dockerfile with an unpinned base")
    reason = ", ".join(parts) if parts else "no packaging recipe (pyproject build system, setup.py, Dockerfile)"
    return result(
        "packaging",
        SOURCE,
        score,
        reason,
        recipes=sorted(recipes)[:SAMPLES],
        docker_bases=[{"file": p, "image": i, "pinned": ok} for p, i, ok in bases][:SAMPLES],
    )


VERSION_TAG = re.compile(r"^(v|release[-/]|rel-)?\d+(\.\d+){1,3}([-+.][0-9A-Za-z.-]+)?$|^v?\d{4}[.-]\d{2}([.-]\d{2})?")


@repo_check("release-tags")
def release_tags(facts: RepoFacts) -> CheckResult:
    """Versioned release tags, and how recent they are."""
    tags = [t for t in facts.repo.tags if VERSION_TAG.search(t.short)]
    if not tags:
        others = [t.short for t in facts.repo.tags][:SAMPLES]
        return result("release-tags", SOURCE, 0, "no versioned release tags", other_tags=others)
    tags.sort(key=lambda t: t.time)
    latest = tags[-1]
    recent = [t for t in tags if facts.now - t.time <= 180 * DAY]
    score = 10 if len(recent) >= 3 else 8 if recent else 5
    return result(
        "release-tags",
        SOURCE,
        score,
        f"{len(tags)} versioned tag(s), latest {latest.short} {_days(facts.now - latest.time):g} days ago",
        tags=len(tags),
        recent_180_days=len(recent),
        latest=latest.short,
        latest_days_ago=_days(facts.now - latest.time),
    )


@repo_check("no-binaries")
def no_binaries(facts: RepoFacts) -> CheckResult:
    """No build outputs, archives or very large files committed."""
    # All files, vendored or not: a wheel under dist/ is exactly what does not belong in git.
    artifacts = [f for f in facts.files if is_artifact(f.path) and not is_test_path(f.path)]
    large = [f for f in facts.files if f.size > LARGE_FILE_BYTES]
    h = facts.history
    score = 10 - 3 * len(artifacts) - 2 * len(large)
    if not artifacts and not large and h.artifact_changes:
        score = 9
    parts = []
    if artifacts:
        parts.append(f"{len(artifacts)} committed binary artifact(s)")
    if large:
        parts.append(f"{len(large)} file(s) over {LARGE_FILE_BYTES // 2**20} MB")
    if not parts:
        parts.append(
            "no committed build outputs or very large files"
            + (f" (history once held {h.artifact_changes})" if h.artifact_changes else "")
        )
    return result(
        "no-binaries",
        SOURCE,
        score,
        "; ".join(parts),
        artifacts=_paths(artifacts),
        large_files=[{"path": f.path, "bytes": f.size} for f in large][:SAMPLES],
        history_artifact_changes=h.artifact_changes,
        history_artifacts=h.artifact_samples,
    )


# ---- rung 3b -----------------------------------------------------------------------------------


@repo_check("ci-tests")
def ci_tests(facts: RepoFacts) -> CheckResult:
    """CI config that runs the tests on every push and pull request."""
    configs = facts.ci_configs
    if not configs:
        return result(
            "ci-tests", SOURCE, 0, "no CI configuration (GitHub Actions, GitLab CI, Jenkins, ...)", configs=[]
        )
    best = max(configs, key=ci.ci_score)
    score = ci.ci_score(best)
    what = ["runs tests" if best.runs_tests else "does not run tests"]
    for name, flag in (("push", best.push), ("pull requests", best.pull_request)):
        what.append(f"on {name}: {'unknown' if flag is None else 'yes' if flag else 'no'}")
    return result(
        "ci-tests",
        SOURCE,
        score,
        f"{best.provider} ({best.path}) " + ", ".join(what),
        label=MEASURED if best.certain else INFERRED,
        configs=[c.to_dict() for c in configs][:SAMPLES],
    )


# ---- rung 4 ------------------------------------------------------------------------------------


@repo_check("deploy-pipeline")
def deploy_pipeline(facts: RepoFacts) -> CheckResult:
    """A deploy job in CI, triggered from the main branch or from tags."""
    deploying = [c for c in facts.ci_configs if c.deploys and c.provider != "ci-script"]
    if not deploying:
        return result("deploy-pipeline", SOURCE, 0, "no deploy job in CI", configs=[])
    triggered = [c for c in deploying if c.deploys_from_main_or_tags]
    if triggered:
        return result(
            "deploy-pipeline",
            SOURCE,
            10,
            f"deploy job in {triggered[0].path} runs from main or tags",
            configs=[c.path for c in triggered],
        )
    return result(
        "deploy-pipeline",
        SOURCE,
        6,
        f"deploy job in {deploying[0].path}, but not clearly from main or tags",
        configs=[c.path for c in deploying],
    )


@repo_check("smoke-test")
def smoke_test(facts: RepoFacts) -> CheckResult:
    """A smoke test or health check run by the pipeline or deploy scripts."""
    hits = [p for p, text in facts.deploy_texts.items() if ci.SMOKE.search(text)]
    if hits:
        return result(
            "smoke-test",
            SOURCE,
            10,
            f"smoke test or health check in {hits[0]}",
            label=INFERRED,
            files=sorted(hits)[:SAMPLES],
        )
    return result(
        "smoke-test", SOURCE, 0, "no smoke test or health check in CI or deploy scripts", label=INFERRED, files=[]
    )


# ---- rung 5 ------------------------------------------------------------------------------------

CANARY = re.compile(r"canary|kind:\s*Rollout|setWeight|flagger|trafficSplit|5-canary-rollback", re.I)


@repo_check("canary")
def canary(facts: RepoFacts) -> CheckResult:
    """Canary or progressive rollout config in CI or deploy manifests."""
    hits = sorted(p for p, text in facts.deploy_texts.items() if CANARY.search(text))
    if hits:
        return result(
            "canary", SOURCE, 10, f"canary or rollout config in {hits[0]}", label=INFERRED, files=hits[:SAMPLES]
        )
    return result("canary", SOURCE, 0, "no canary or rollout config in CI or deploy files", label=INFERRED, files=[])


ROLLBACK = re.compile(r"rollback|roll back|rollout undo|deploy:rollback|5-canary-rollback", re.I)
ROLLBACK_FILE = re.compile(r"(^|/)[^/]*roll_?back[^/]*$", re.I)
DOC_SUFFIXES = (".md", ".rst", ".txt", ".ipynb", ".html", ".adoc")


@repo_check("rollback-tooling")
def rollback_tooling(facts: RepoFacts) -> CheckResult:
    """One-command rollback: a rollback script, make target or pipeline job."""
    files = [
        f.path for f in facts.matching(ROLLBACK_FILE) if not f.path.endswith(DOC_SUFFIXES) and not is_test_path(f.path)
    ]
    in_pipeline = sorted(p for p, text in facts.deploy_texts.items() if ROLLBACK.search(text))
    found = sorted(set(files)) + [p for p in in_pipeline if p not in files]
    if found:
        return result(
            "rollback-tooling", SOURCE, 10, f"rollback tooling in {found[0]}", label=INFERRED, files=found[:SAMPLES]
        )
    return result("rollback-tooling", SOURCE, 0, "no rollback script, target or pipeline job", label=INFERRED, files=[])


OBSERVABILITY_LIBS = (
    "structlog",
    "opentelemetry",
    "sentry-sdk",
    "sentry_sdk",
    "@sentry/",
    "prometheus-client",
    "prometheus_client",
    "prom-client",
    "ddtrace",
    "datadog",
    "newrelic",
    "elastic-apm",
    "honeycomb",
    "python-json-logger",
    "statsd",
    "loki",
)
OBSERVABILITY_FILES = re.compile(
    r"(^|/)(prometheus\.ya?ml|alertmanager\.ya?ml|otel[^/]*\.ya?ml|fluent-?bit\.(conf|ya?ml)|fluentd?\.conf"
    r"|vector\.(toml|ya?ml)|promtail[^/]*\.ya?ml|filebeat\.ya?ml|datadog\.ya?ml|newrelic\.(ini|yml)|grafana/)"
)


@repo_check("observability")
def observability(facts: RepoFacts) -> CheckResult:
    """Logging and monitoring: structlog, OpenTelemetry, Sentry, Prometheus libraries or collector config."""
    libs = sorted({lib for lib in OBSERVABILITY_LIBS if lib in facts.manifests})
    files = _paths(facts.matching(OBSERVABILITY_FILES))
    score = 10 if libs and files else 7 if libs or files else 0
    reason = ("monitoring: " + ", ".join((libs + files)[:4])) if score else "no logging or monitoring library or config"
    return result("observability", SOURCE, score, reason, label=INFERRED, libraries=libs, config_files=files)


MIGRATION_DIRS = re.compile(
    r"(^|/)(alembic\.ini|alembic/|migrations/|db/migrate/|db/migration/|changelog[^/]*\.(xml|ya?ml))"
    r"|(^|/)V\d+(_\d+)*__[^/]+\.sql$"
)
DATABASE_USE = r"import sqlite3|sqlalchemy|psycopg|pymysql|mysqlclient|django\.db|mongoose|typeorm|prisma|ActiveRecord|knex|sequelize|gorm"


@repo_check("migrations")
def migrations(facts: RepoFacts) -> CheckResult:
    """Schema migrations: a migrations folder (alembic, django, flyway) and a migrate step in the pipeline."""
    folders = sorted({f.path for f in facts.matching(MIGRATION_DIRS)})
    step = sorted(p for p, text in facts.deploy_texts.items() if ci.MIGRATE.search(text))
    if not folders and not step:
        uses_db = facts.grep([DATABASE_USE], CODE_SPECS, tests=False) or re.search(
            DATABASE_USE.lower(), facts.manifests
        )
        if not uses_db:
            return inconclusive("migrations", SOURCE, "no database use found, so no migrations are expected")
        return result(
            "migrations",
            SOURCE,
            0,
            "the app uses a database but has no migrations folder or migrate step",
            folders=[],
            pipeline=[],
        )
    score = 5 * bool(folders) + 5 * bool(step)
    parts = []
    parts.append(f"migrations in {folders[0].split('/')[0]}" if folders else "no migrations folder")
    parts.append(f"migrate step in {step[0]}" if step else "no migrate step in the pipeline")
    return result("migrations", SOURCE, score, "; ".join(parts), folders=folders[:SAMPLES], pipeline=step)


# ---- all rungs ---------------------------------------------------------------------------------

DEPENDENCY_BOTS = re.compile(
    r"^(\.github/dependabot\.ya?ml|renovate\.json5?|\.renovaterc(\.json5?)?|\.github/renovate\.json5?"
    r"|\.gitlab/renovate\.json5?|\.pyup\.ya?ml)$"
)


@repo_check("dependency-updates")
def dependency_updates(facts: RepoFacts) -> CheckResult:
    """A dependency update tool: dependabot or renovate."""
    files = _paths(facts.matching(DEPENDENCY_BOTS))
    if not files and '"renovate"' in facts.manifests:
        files = ["package.json (renovate key)"]
    if files:
        return result("dependency-updates", SOURCE, 10, f"dependency updates configured in {files[0]}", files=files)
    return result("dependency-updates", SOURCE, 0, "no dependabot or renovate config", files=[])


# ---- gathering ---------------------------------------------------------------------------------


def gather_repo_evidence(
    repo: str | Path | GitRepo, *, now: float | None = None, window_days: int = 90, checks: Iterable[str] | None = None
) -> list[CheckResult]:
    """Run every repository check (or the named ones) on a clone; NotARepository if it is not one."""
    r = repo if isinstance(repo, GitRepo) else open_repo(repo)
    facts = RepoFacts(r, int(time.time() if now is None else now), window_days)
    wanted = set(checks) if checks is not None else None
    return [run_check(spec, facts) for cid, spec in registered(SOURCE).items() if wanted is None or cid in wanted]


def describe_repo(repo: str | Path | GitRepo) -> dict:
    """Facts about the clone itself for the report: trunk, HEAD, shallow, empty."""
    r = repo if isinstance(repo, GitRepo) else open_repo(repo)
    return {
        "path": r.path.name,
        "trunk": r.trunk.short if r.trunk else None,
        "head": r.head,
        "detached_head": r.detached,
        "shallow": r.shallow,
        "empty": r.head is None,
        "bare": r.bare,
    }
