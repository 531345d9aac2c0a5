"""Rung 1+, endpoint versioning: public routes carry a version (/v1/..., or by Accept header, namespace, header)."""

from __future__ import annotations

import re

from ..app import routes, schemes
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


def _aside(texts: dict[str, str]) -> str:
    """'; N routes in tests, examples or docs not counted', or '' without any."""
    n = len(routes.aside_in(texts))
    return f"; {n} routes in tests, examples or docs not counted" if n else ""


def versioned_routes(facts: RepoFacts) -> CheckResult:
    """Public routes carry a version: in the path (the runbook's count, app.routes), by header, else an OpenAPI spec."""
    texts = routes.source_texts(facts.repo, facts.tip) if facts.tip else {}
    declared = routes.found_in(texts)
    counted = routes.count(declared)
    other = [
        s for s in schemes.found_in({p: t for p, t in texts.items() if routes.is_source(p)}) if s.name != "URL path"
    ]
    files = sorted({r.file for r in declared})[:SAMPLES]
    if other and counted.public and len(counted.versioned) < counted.public:
        how = "; ".join(f"{s.evidence} in {s.file}" for s in other)
        return result(
            "versioned-routes",
            REPO,
            10,
            f"versioned by {' and '.join(s.name for s in other)} ({how}); in the path, {counted.summary()}{_aside(texts)}",
            label=INFERRED,
            scheme=other[0].name,
            files=files,
            unversioned=list(counted.unversioned[:SAMPLES]),
        )
    if counted.score is None:
        if counted.graphql:
            why = "a GraphQL API: its one endpoint evolves by deprecating fields, which this check does not measure"
            return inconclusive("versioned-routes", REPO, why, scheme="GraphQL", files=files)
        return _from_openapi(facts) or inconclusive(
            "versioned-routes",
            REPO,
            "no public routes or OpenAPI spec found" + _aside(texts),
            operational_routes=sorted({r.path for r in declared})[:SAMPLES],
        )
    return result(
        "versioned-routes",
        REPO,
        counted.score,
        counted.summary() + _aside(texts),
        label=INFERRED,
        scheme="URL path" if counted.versioned else "",
        files=files,
        unversioned=list(counted.unversioned[:SAMPLES]),
    )


CHECKS = (CheckSpec("versioned-routes", REPO, versioned_routes),)
