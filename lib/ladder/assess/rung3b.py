"""Rung 3b, CI: every push and pull request runs the tests on a server."""

from __future__ import annotations

from . import ci
from .checks import INFERRED, MEASURED, REPO, SAMPLES, CheckResult, CheckSpec, result
from .repo_facts import RepoFacts


def ci_tests(facts: RepoFacts) -> CheckResult:
    """CI config that runs the tests on every push and pull request."""
    configs = facts.ci_configs
    if not configs:
        return result("ci-tests", REPO, 0, "no CI configuration (GitHub Actions, GitLab CI, Jenkins, ...)", configs=[])
    # The file that best shows the practice; a sure reading beats a guess of the same score.
    best = max(configs, key=lambda c: (ci.ci_score(c), c.certain))
    score = ci.ci_score(best)
    what = [f"runs tests ({best.evidence})" if best.runs_tests else "does not run tests"]
    for name, flag in (("push", best.push), ("pull requests", best.pull_request)):
        what.append(f"on {name}: {'unknown' if flag is None else 'yes' if flag else 'no'}")
    return result(
        "ci-tests",
        REPO,
        score,
        f"{best.provider} ({best.path}) " + ", ".join(what),
        label=MEASURED if best.certain else INFERRED,
        configs=[c.to_dict() for c in configs][:SAMPLES],
    )


CHECKS = (CheckSpec("ci-tests", REPO, ci_tests),)
