"""Rung 4, continuous delivery: a deploy pipeline from main, a smoke test, a healthy app, frequent deploys."""

from __future__ import annotations

from . import ci
from .checks import DORA, HOST, INFERRED, MEASURED, REPO, SAMPLES, CheckResult, CheckSpec, inconclusive, result
from .dora import DoraReport
from .host_facts import HostFacts, HostReport, per_prod
from .repo_facts import RepoFacts

# ---- the repository --------------------------------------------------------------------------------


def deploy_pipeline(facts: RepoFacts) -> CheckResult:
    """A deploy job in CI, triggered from the main branch or from tags."""
    deploying = [c for c in facts.ci_configs if c.deploys and c.provider != "ci-script"]
    if not deploying:
        return result("deploy-pipeline", REPO, 0, "no deploy job in CI", configs=[])
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
    return result(
        "smoke-test", REPO, 0, "no smoke test or health check in CI or deploy scripts", label=INFERRED, files=[]
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


CHECKS = (
    CheckSpec("deploy-pipeline", REPO, deploy_pipeline),
    CheckSpec("smoke-test", REPO, smoke_test),
    CheckSpec("app-health", HOST, app_health),
    CheckSpec("deploy-frequency", DORA, deploy_frequency),
)
