"""Rung 4, continuous delivery: a deploy pipeline from main, a smoke test, a healthy app, frequent deploys."""

from __future__ import annotations

from . import ci
from .checks import (
    DORA,
    ELSEWHERE,
    HOST,
    INFERRED,
    MEASURED,
    REPO,
    SAMPLES,
    CheckResult,
    CheckSpec,
    inconclusive,
    result,
)
from .dora import DoraReport
from .host_facts import HostFacts, HostReport, per_prod
from .publishing import publishing
from .repo_facts import RepoFacts, sample_paths
from .rung1 import DEPLOY_FILES, no_publishing

# ---- the repository --------------------------------------------------------------------------------


def deploy_pipeline(facts: RepoFacts) -> CheckResult:
    """A deploy job in CI, triggered from the main branch or from tags."""
    deploying = [c for c in facts.ci_configs if c.deploys and c.provider != "ci-script"]
    if not deploying:
        # Deploys may be made by a platform watching the repository, or from another one.
        return inconclusive("deploy-pipeline", REPO, "no deploy job in CI" + ELSEWHERE)
    triggered = [c for c in deploying if c.deploys_from_main_or_tags]
    if triggered:
        return result(
            "deploy-pipeline",
            REPO,
            10,
            f"deploy job in {triggered[0].path} runs from main or tags ({triggered[0].deploy_evidence})",
            configs=[c.path for c in triggered],
        )
    return result(
        "deploy-pipeline",
        REPO,
        6,
        f"deploy job in {deploying[0].path} ({deploying[0].deploy_evidence}), but not clearly from main or tags",
        configs=[c.path for c in deploying],
    )


def smoke_test(facts: RepoFacts) -> CheckResult:
    """A smoke test or health check run by the pipeline or deploy scripts."""
    hits = [p for p, text in facts.deploy_texts.items() if ci.SMOKE.search(text)]
    if hits:
        return result(
            "smoke-test",
            REPO,
            10,
            f"smoke test or health check in {hits[0]}",
            label=INFERRED,
            files=sorted(hits)[:SAMPLES],
        )
    deploys = [c.path for c in facts.ci_configs if c.deploys] + sample_paths(facts.matching(DEPLOY_FILES))
    if deploys:  # the deploys the repository shows check nothing afterwards
        return result(
            "smoke-test",
            REPO,
            0,
            f"the deploy in {deploys[0]} runs no smoke test or health check",
            label=INFERRED,
            files=[],
            deploys=deploys[:SAMPLES],
        )
    return inconclusive("smoke-test", REPO, "no deploy and no smoke test in CI or deploy scripts" + ELSEWHERE)


def release_on_tag(facts: RepoFacts) -> CheckResult:
    """Tagging a version publishes it: a CI job that publishes a release runs on a tag or a release."""
    found = publishing(facts)
    if not found:
        return no_publishing("release-on-tag", facts, "tagging a version publishes nothing")
    tagged = [p for p in found if p.on_tag]
    if tagged:
        return result(
            "release-on-tag",
            REPO,
            10,
            f"{tagged[0].path} publishes a {' and a '.join(tagged[0].publishes)} on a tag",
            pipelines=[p.to_dict() for p in found][:SAMPLES],
        )
    return result(
        "release-on-tag",
        REPO,
        5,
        f"{found[0].path} publishes, but not when a version is tagged",
        pipelines=[p.to_dict() for p in found][:SAMPLES],
    )


# ---- the hosts --------------------------------------------------------------------------------


def app_health(facts: HostFacts) -> CheckResult:
    """The app answers its health check on every prod host."""

    def judge(r: HostReport) -> CheckResult | None:
        h = r.health
        if h is None:
            return inconclusive("app-health", HOST, "no health URL for this host", host=r.name)
        if h.status is not None and 200 <= h.status < 300:
            # An app that answers is what a smoke test would check, not evidence that deploys are checked;
            # only a failing answer says something about the practice (nothing can be smoke tested green).
            return inconclusive(
                "app-health",
                HOST,
                f"{h.url} answered {h.status}: the app is up, which does not show that deploys are smoke tested",
                host=r.name,
                url=h.url,
            )
        if h.status is not None:
            return result("app-health", HOST, 2, f"{h.url} answered {h.status}", host=r.name, url=h.url)
        return result("app-health", HOST, 0, f"{h.url} did not answer: {h.error}", host=r.name, url=h.url)

    return per_prod(facts, "app-health", judge)


# ---- the journal or release tags ------------------------------------------------------------


def deploy_frequency(report: DoraReport) -> CheckResult:
    """Deployment frequency on the 0-10 DORA scale."""
    m = report.metric("deploy_frequency")
    if m.score is None:
        return inconclusive("deploy-frequency", DORA, m.note, data_source=report.source)
    return result(
        "deploy-frequency",
        DORA,
        m.score,
        f"{m.display} ({m.band}), from {report.source}",
        label=MEASURED,
        deploys=m.samples,
        band=m.band,
        data_source=report.source,
    )


def staged_deploys(report: DoraReport) -> CheckResult:
    """Prod deploys the journal shows reaching prod through staging: the same version deployed to staging first."""
    done = [r for r in report.rollouts if r.status == "ok" and r.changes > 0]
    staged: set[str] = set()
    prod: list[tuple[str, bool]] = []
    for r in sorted(done, key=lambda r: r.ended or r.started or 0):
        env, version = r.params.get("environment"), str(r.params.get("version"))
        if env == "staging":
            staged.add(version)
        elif env == "prod":
            prod.append((version, version in staged))
    if not prod:
        return inconclusive(
            "staged-deploys", DORA, "no deploy to prod in the journal's window (ladder deploy journals them)"
        )
    through = [v for v, ok in prod if ok]
    return result(
        "staged-deploys",
        DORA,
        10 * len(through) / len(prod),
        f"{len(through)} of {len(prod)} deploy(s) to prod in the journal went to staging first",
        label=MEASURED,
        deploys=len(prod),
        staged=len(through),
        versions=[v for v, _ in prod][-SAMPLES:],
    )


CHECKS = (
    CheckSpec("deploy-pipeline", REPO, deploy_pipeline),
    CheckSpec("smoke-test", REPO, smoke_test),
    CheckSpec("release-on-tag", REPO, release_on_tag),
    CheckSpec("app-health", HOST, app_health),
    CheckSpec("deploy-frequency", DORA, deploy_frequency),
    CheckSpec("staged-deploys", DORA, staged_deploys),
)
