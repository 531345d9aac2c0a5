"""Rung 3b, CI: every push and pull request runs the tests on a server."""

from __future__ import annotations

from . import ci
from .checks import HOST, INFERRED, MEASURED, REPO, SAMPLES, CheckResult, CheckSpec, inconclusive, result
from .host_facts import HostFacts
from .repo_facts import RepoFacts


def ci_tests(facts: RepoFacts) -> CheckResult:
    """CI config that runs the tests on every push and pull request."""
    configs = facts.ci_configs
    if not configs:
        # absent: a CI server seen building (ci-server) outranks the missing file.
        reason = "no CI configuration (GitHub Actions, GitLab CI, Jenkins, ...)"
        return result("ci-tests", REPO, 0, reason, configs=[], absent=True)
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


def ci_server(facts: HostFacts) -> CheckResult:
    """The CI server's builds: how many of trunk's commits since it started were built, with a result back."""
    sb = facts.ci
    if sb is None:
        return inconclusive("ci-server", HOST, "no ci: section in ladder.yml, so no CI server was read")
    if sb.error is not None:
        return inconclusive(
            "ci-server", HOST, f"the CI server at {sb.url} did not answer ({sb.error}); the question settles it"
        )
    if not sb.builds:
        return result("ci-server", HOST, 2, f"the CI server at {sb.url} answers but has built nothing yet", url=sb.url)
    expected, results = sb.expected(), sb.results()
    built = [c for c in expected if c in results]
    green = [c for c in built if results[c] == "success"]
    score = 10 * len(built) / len(expected) if expected else 0
    head = expected[0][:12] if expected else "none"
    return result(
        "ci-server",
        HOST,
        score,
        f"{sb.url}: {len(built)} of trunk's {len(expected)} commit(s) since CI started have a result "
        f"({len(green)} green; trunk's head {head}: {results.get(expected[0], 'not built') if expected else '-'}); "
        f"{len(sb.builds)} recent build(s)",
        url=sb.url,
        expected=len(expected),
        built=len(built),
        green=len(green),
        builds=len(sb.builds),
        results={c[:12]: results.get(c, "not built") for c in expected[:SAMPLES]},
    )


CHECKS = (CheckSpec("ci-tests", REPO, ci_tests), CheckSpec("ci-server", HOST, ci_server))
