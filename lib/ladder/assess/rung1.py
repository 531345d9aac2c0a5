"""Rung 1, separate dev and prod: the checks of its practices, on the repository, the hosts and the journal."""

from __future__ import annotations

import re
from typing import Any

from ..app import parity
from ..app.history import is_sample_path
from ..app.layout import Layout
from .checks import DORA, ELSEWHERE, HOST, INFERRED, REPO, SAMPLES, CheckResult, CheckSpec, inconclusive, result
from .dora import DoraReport
from .host_facts import HostFacts, HostReport, per_prod
from .probes import Deployment
from .publishing import own_pipeline, publishing
from .repo_facts import CODE_SPECS, RepoFacts, sample_paths
from .secret_scan import GENERIC, KEY, find_secrets

# ---- the repository --------------------------------------------------------------------------------


ENV_EXAMPLE = re.compile(r"(^|/)(\.env\.(example|sample|template|dist)|example\.env|env\.example|\.env-example)$")
ENV_SETTINGS = re.compile(
    r"(^|/)(settings|config|conf|environments?)/(dev|development|local|prod|production|staging|test)\.[a-z]+$"
    r"|(^|/)(settings|config|application)[._-](dev|development|local|prod|production|staging)\.[a-z]+$"
)
COMPOSE_OVERRIDE = re.compile(r"(^|/)(docker-)?compose\.(override|dev|development|prod|production|staging)\.ya?ml$")
ENV_READ = r"os\.environ|os\.getenv|process\.env|ENV\[|ENV\.fetch|System\.getenv|getenv\("


def env_separation(facts: RepoFacts) -> CheckResult:
    """Per-environment settings: an example env file, per-environment config, compose overrides, env vars."""
    example = facts.matching(ENV_EXAMPLE)
    settings = facts.matching(ENV_SETTINGS)
    compose = facts.matching(COMPOSE_OVERRIDE)
    env_reads = facts.grep([ENV_READ], CODE_SPECS, tests=False)
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
    if not found:
        # Settings may come from the servers or a platform alone: the repository cannot show they are shared.
        return inconclusive(
            "env-separation", REPO, "no per-environment settings, example env file or compose override" + ELSEWHERE
        )
    # Each sign is a way to give an environment its own settings; one is enough to have the practice.
    return result(
        "env-separation",
        REPO,
        {1: 7, 2: 9}.get(len(found), 10),
        "found " + ", ".join(found),
        label=INFERRED,
        example_env_files=sample_paths(example),
        environment_config=sample_paths(settings),
        compose_overrides=sample_paths(compose),
        env_var_reads=sorted({p for p, _, _ in env_reads})[:SAMPLES],
    )


def _places(findings: list[dict]) -> str:
    return ", ".join(f"{f['rule']} in {f['path']}" + (f":{f['line']}" if f["line"] else "") for f in findings[:3])


def config_out_of_code(facts: RepoFacts) -> CheckResult:
    """No committed secrets: a live key format is a 0, a generic secret-named assignment costs part of the score."""
    scan = find_secrets(facts)
    keys, generic = scan.of_kind(KEY), scan.of_kind(GENERIC)
    ignored = sum(scan.ignored.values())
    note = (
        f"; ignored {ignored} ({', '.join(f'{why}: {n}' for why, n in scan.ignored.most_common())})" if ignored else ""
    )
    if keys:
        score, reason = 0, f"{len(keys)} committed key(s) in a live format ({_places(keys)}); rotate them now"
    elif generic:
        score = max(3, 8 - 2 * len(generic))
        reason = (
            f"{len(generic)} possible secret(s): secret-named setting(s) with a random-looking value "
            f"({_places(generic)}); check them, move them to the environment and rotate them"
        )
    else:
        score, reason = 10, "no committed keys, tokens or secret files found"
    return result(
        "config-out-of-code",
        REPO,
        score,
        reason + note,
        findings=scan.findings[:SAMPLES],
        ignored=dict(scan.ignored),
        scanned="tree at the assessed commit",
    )


DEV_SETUP_FILES = re.compile(
    r"^([^/]+/){0,2}(docker-)?compose([.-][\w.-]+)?\.ya?ml$"
    r"|^(([^/]+/)?\.devcontainer/devcontainer\.json|\.devcontainer\.json|Vagrantfile|Pipfile\.lock"
    r"|tox\.ini|noxfile\.py|flake\.nix|shell\.nix|devbox\.json|Procfile\.dev|(bin|script|scripts)/(setup|bootstrap|dev|install)[^/]*)$"
)
DEV_TARGETS = ("dev", "setup", "bootstrap", "install", "develop", "up", "run", "serve", "start", "demo")
TASK_FILES = re.compile(r"^(Makefile|GNUmakefile|justfile|Justfile|Taskfile\.ya?ml)$")


# Dev dependencies declared in the manifest: `pip install -e .[dev]`, `uv sync`, `npm install` make the environment.
DEV_DEPENDENCIES = re.compile(
    r"^\[dependency-groups\]|^\[project\.optional-dependencies\](\n(?!\[)[^\n]*)*?\n(dev|test|tests|develop)\s*="
    r"|^\[tool\.poetry\.(group\.dev|dev-dependencies)|^\[tool\.hatch\.envs\.|^\[tool\.pdm\.dev-dependencies\]"
    r"|\"devDependencies\"\s*:",
    re.M,
)
# A lock file beside its manifest: `uv sync`, `poetry install`, `pdm install`, `npm ci` rebuild the environment exactly.
LOCK_FILES = re.compile(
    r"^(uv\.lock|poetry\.lock|pdm\.lock|package-lock\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?)$"
)
NO_DEV_SETUP = 2  # measured: a dev setup lives in the repository, so finding none is evidence, not a gap


def _targets(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.M)}


def dev_setup(facts: RepoFacts) -> CheckResult:
    """A dev environment made by one command: a make/just target, compose file, devcontainer, lock file or script."""
    # A compose file may sit in a subfolder (docker/, deploy/), but one among the tests, docs or a template is not.
    files = [f for f in facts.matching(DEV_SETUP_FILES) if not is_sample_path(f.path)]
    task_texts = facts.read(f.path for f in facts.matching(TASK_FILES))
    targets = sorted({t for text in task_texts.values() for t in _targets(text) if t in DEV_TARGETS})
    manifests = facts.read(f.path for f in facts.matching(r"^(pyproject\.toml|package\.json)$"))
    deps = sorted(p for p, text in manifests.items() if DEV_DEPENDENCIES.search(text))
    locks = [f.path for f in facts.matching(LOCK_FILES)] if manifests else []
    signals = (
        sample_paths(files)
        + [f"target: {t}" for t in targets]
        + [f"dev dependencies: {p}" for p in deps]
        + [f"lock file: {p}" for p in locks]
    )
    if not signals:
        return result(
            "dev-setup",
            REPO,
            NO_DEV_SETUP,
            "no one-command dev setup in the repository (make target, compose file, devcontainer, setup script, "
            "tox/nox, dev dependencies or a lock file)",
            absent=True,
        )
    score = 8 if len(signals) == 1 else 10
    return result(
        "dev-setup", REPO, score, f"one-command setup found: {', '.join(signals[:3])}", label=INFERRED, found=signals
    )


DEPLOY_FILES = re.compile(
    r"^(fabfile\.py|config/deploy\.rb|Capfile|(bin|script|scripts)/deploy[^/]*|deploy[^/]*\.(sh|py|ya?ml)"
    r"|fly\.toml|render\.ya?ml|app\.json|Procfile|playbooks?/deploy[^/]*\.ya?ml|ladder\.ya?ml)$"
)


def one_step_deploy(facts: RepoFacts) -> CheckResult:
    """Code reaches prod by one repeatable step: a deploy script, fabfile, make target or CI deploy job."""
    files = sample_paths(facts.matching(DEPLOY_FILES))
    task_texts = facts.read(f.path for f in facts.matching(TASK_FILES))
    targets = sorted({t for text in task_texts.values() for t in _targets(text) if "deploy" in t or "release" in t})
    jobs = [c.path for c in facts.ci_configs if c.deploys]
    signals = files + [f"target: {t}" for t in targets] + [f"CI deploy job: {p}" for p in jobs]
    if not signals:
        # Deploys may be made by a platform watching the repository, or from another one.
        return inconclusive(
            "one-step-deploy", REPO, "no deploy script, deploy target or CI deploy job in the repository" + ELSEWHERE
        )
    return result(
        "one-step-deploy",
        REPO,
        8 if len(signals) == 1 else 10,
        f"deploy step found: {', '.join(signals[:3])}",
        label=INFERRED,
        found=signals,
    )


def no_publishing(check: str, facts: RepoFacts, meaning: str) -> CheckResult:
    """A check's result when no CI job publishes: 2 (inferred) when the pipeline lives here, else inconclusive."""
    ci = own_pipeline(facts)
    if not ci:
        # With no CI here, releases may be published from elsewhere: the repository cannot tell, the question can.
        return inconclusive(check, REPO, "no CI job in the repository publishes a release")
    return result(
        check,
        REPO,
        2,
        f"CI runs from this repository ({', '.join(ci[:3])}), but no job of it publishes a release: {meaning}",
        label=INFERRED,
        ci=ci[:SAMPLES],
    )


def release_pipeline(facts: RepoFacts) -> CheckResult:
    """A CI job publishes the releases (a package or an image): a library's or self-hosted app's one-step deploy."""
    found = publishing(facts)
    if not found:
        return no_publishing("release-pipeline", facts, "releases are made by hand")
    shown = next((p for p in found if p.on_tag), found[0])
    return result(
        "release-pipeline",
        REPO,
        10,
        f"{shown.path} publishes a {' and a '.join(shown.publishes)}",
        pipelines=[p.to_dict() for p in found][:SAMPLES],
    )


# ---- the hosts --------------------------------------------------------------------------------


def separate_hosts(facts: HostFacts) -> CheckResult:
    """Dev and prod are separate hosts (or at least separate folders)."""
    if not facts.prod:
        return inconclusive("separate-hosts", HOST, "no prod environment in ladder.yml")
    if not facts.dev:
        return inconclusive(
            "separate-hosts", HOST, "no dev environment in ladder.yml", prod=[r.name for r in facts.prod]
        )
    empty = [d for d in facts.dev if d.deployment is None or not d.deployment.found]
    if len(empty) == len(facts.dev):
        # A dev host with no copy of the app separates nothing: nobody works apart from prod yet.
        return result(
            "separate-hosts",
            HOST,
            0,
            f"no dev host holds the app yet ({empty[0].name}: {empty[0].nothing_deployed()})",
            dev=[r.name for r in facts.dev],
            prod=[r.name for r in facts.prod],
        )
    shared_machine, shared_folder = [], []
    for d in facts.dev:
        for p in facts.prod:
            if d.identity == p.identity:
                shared_machine.append(f"{d.name}/{p.name}")
                db, pb = d.base.rstrip("/") + "/", p.base.rstrip("/") + "/"
                if db.startswith(pb) or pb.startswith(db):
                    shared_folder.append(f"{d.name}/{p.name}")
    evidence: dict[str, Any] = {
        "dev": [r.name for r in facts.dev],
        "prod": [r.name for r in facts.prod],
        "same_machine": shared_machine,
        "same_folder": shared_folder,
    }
    if shared_folder:
        return result("separate-hosts", HOST, 0, f"dev and prod share a folder: {', '.join(shared_folder)}", **evidence)
    if shared_machine:
        return result("separate-hosts", HOST, 8, "dev and prod are separate folders on the same machine", **evidence)
    return result("separate-hosts", HOST, 10, "dev and prod are separate hosts", **evidence)


def prod_unmodified(facts: HostFacts) -> CheckResult:
    """Prod's code has no edits made in place: a clean checkout, or a release matching its checksums."""

    def judge(r: HostReport) -> CheckResult | None:
        lay = r.deployment
        if lay is None or not lay.found:
            return inconclusive("prod-unmodified", HOST, r.nothing_deployed(), host=r.name)
        if lay.modified:
            return result(
                "prod-unmodified",
                HOST,
                0,
                f"{len(lay.modified)} file(s) edited in place on prod",
                host=r.name,
                modified=list(lay.modified[:SAMPLES]),
            )
        if lay.checksum_failures:
            return result(
                "prod-unmodified",
                HOST,
                0,
                f"{len(lay.checksum_failures)} file(s) differ from {lay.checksum_file}",
                host=r.name,
                modified=list(lay.checksum_failures[:SAMPLES]),
            )
        if lay.git:
            return result("prod-unmodified", HOST, 10, "no uncommitted edits in prod's code", host=r.name)
        if lay.checksum_file:
            return result("prod-unmodified", HOST, 10, f"release matches its {lay.checksum_file}", host=r.name)
        return result(
            "prod-unmodified",
            HOST,
            8,
            "release folder without a checksum manifest to verify it against",
            label=INFERRED,
            host=r.name,
        )

    return per_prod(facts, "prod-unmodified", judge)


def dev_prod_parity(facts: HostFacts) -> CheckResult:
    """Dev and prod run the same Python, OS, packages and config names: app.parity's measure, scored as it scores."""
    dev = [r.platform for r in facts.dev if r.error is None and r.platform is not None]
    prod = [r.platform for r in facts.prod if r.error is None and r.platform is not None]
    if not dev or not prod:
        return inconclusive("dev-prod-parity", HOST, "needs a readable dev host and prod host in ladder.yml")
    measured = parity.measure(dev[0], prod)
    if measured.score is None:
        return inconclusive("dev-prod-parity", HOST, "nothing comparable (no Python, OS, packages or settings read)")
    return result("dev-prod-parity", HOST, measured.score, measured.reason(), **measured.evidence(SAMPLES))


def dev_environment(facts: HostFacts) -> CheckResult:
    """Every dev host has the app checked out with its own virtualenv."""
    dev = facts.dev
    if not dev:
        return inconclusive("dev-environment", HOST, "no dev environment in ladder.yml")
    readable = [r for r in dev if r.error is None]
    if not readable:
        return inconclusive("dev-environment", HOST, f"no dev host could be read: {dev[0].error}")
    rows: list[dict[str, Any]] = []
    for r in readable:
        code = r.deployment.checkout or r.deployment.current if r.deployment else None
        venv = r.platform.venv if r.platform else None
        rows.append({"host": r.name, "code": code, "venv": venv, "score": 10 if code and venv else 5 if code else 0})
    worst = min(rows, key=lambda row: row["score"])
    reason = {
        10: "the app is checked out with its virtualenv",
        5: "the app is checked out, but without a virtualenv",
        0: "no app checkout",
    }[worst["score"]]
    if len(rows) > 1:
        reason = f"{worst['host']}: {reason}"
    return result("dev-environment", HOST, worst["score"], reason, hosts=rows)


def deploy_step(facts: HostFacts) -> CheckResult:
    """Prod has a deploy script (bin/deploy*) or a release layout made by deploy tooling."""

    def judge(r: HostReport) -> CheckResult | None:
        lay = r.deployment or Deployment()
        if lay.deploy_scripts:
            return result(
                "deploy-step",
                HOST,
                10,
                f"deploy script {lay.deploy_scripts[0]}",
                host=r.name,
                scripts=list(lay.deploy_scripts),
            )
        if lay.runs_release:
            return result("deploy-step", HOST, 10, "releases switched by the current link", host=r.name)
        return result(
            "deploy-step", HOST, 0, f"no deploy script in {Layout(r.base).bin} and no release layout", host=r.name
        )

    return per_prod(facts, "deploy-step", judge)


# ---- the journal --------------------------------------------------------------------------------


def deploys_recorded(report: DoraReport) -> CheckResult:
    """Deploys made through Ladder's runbooks and recorded in its journal: one repeatable step."""
    if not report.journal_found:
        return inconclusive("deploys-recorded", DORA, "no Ladder journal given or found")
    if not report.journal_deploys:
        return inconclusive("deploys-recorded", DORA, "the journal records no deploys yet")
    return result(
        "deploys-recorded",
        DORA,
        10,
        f"{report.journal_deploys} deploy(s) made by Ladder runbooks are recorded in the journal",
        deploys=report.journal_deploys,
    )


CHECKS = (
    CheckSpec("env-separation", REPO, env_separation),
    CheckSpec("config-out-of-code", REPO, config_out_of_code),
    CheckSpec("dev-setup", REPO, dev_setup),
    CheckSpec("one-step-deploy", REPO, one_step_deploy),
    CheckSpec("release-pipeline", REPO, release_pipeline),
    CheckSpec("separate-hosts", HOST, separate_hosts),
    CheckSpec("prod-unmodified", HOST, prod_unmodified),
    CheckSpec("dev-prod-parity", HOST, dev_prod_parity),
    CheckSpec("dev-environment", HOST, dev_environment),
    CheckSpec("deploy-step", HOST, deploy_step),
    CheckSpec("deploys-recorded", DORA, deploys_recorded),
)
