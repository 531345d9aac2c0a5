"""Rung 1+, endpoint versioning: public routes carry a version (/v1/...)."""

from __future__ import annotations

import re

from ..app import routes
from .checks import INFERRED, REPO, SAMPLES, CheckResult, CheckSpec, inconclusive, result
from .repo_facts import RepoFacts

OPENAPI = re.compile(r"(^|/)(openapi|swagger)[^/]*\.(ya?ml|json)$")


def is_public_route(path: str) -> bool:
    """False for the root and operational endpoints (health, metrics, static) that need no version."""
    return routes.exemption(path) is None


def _from_openapi(facts: RepoFacts) -> CheckResult | None:
    """The share of versioned public paths in an OpenAPI spec, for apps whose routes the source does not show."""
    specs = facts.matching(OPENAPI)
    spec_texts = facts.read(f.path for f in specs)
    if not spec_texts:
        return None
    text = "\n".join(spec_texts.values())
    spec_paths = re.findall(r"^\s{0,4}['\"]?(/[^'\":\s]*)['\"]?\s*:", text, re.M)
    servers_versioned = bool(re.search(r"url:\s*\S*/v\d+", text))
    public = [p for p in spec_paths if is_public_route(p)]
    if not public:
        return None
    versioned = [p for p in public if servers_versioned or routes.is_versioned(p)]
    return result(
        "versioned-routes",
        REPO,
        10 * len(versioned) / len(public),
        f"{len(versioned)} of {len(public)} public paths in the OpenAPI spec are versioned",
        specs=sorted(spec_texts),
        unversioned=sorted(set(public) - set(versioned))[:SAMPLES],
    )


def versioned_routes(facts: RepoFacts) -> CheckResult:
    """Public routes carry a version (/v1/...): the runbook's count (app.routes), else an OpenAPI spec."""
    declared = routes.in_commit(facts.repo, facts.tip) if facts.tip else []
    counted = routes.count(declared)
    if counted.score is None:
        return _from_openapi(facts) or inconclusive(
            "versioned-routes",
            REPO,
            "no public routes or OpenAPI spec found",
            operational_routes=sorted({r.path for r in declared})[:SAMPLES],
        )
    return result(
        "versioned-routes",
        REPO,
        counted.score,
        counted.summary(),
        label=INFERRED,
        files=sorted({r.file for r in declared})[:SAMPLES],
        unversioned=list(counted.unversioned[:SAMPLES]),
    )


CHECKS = (CheckSpec("versioned-routes", REPO, versioned_routes),)
