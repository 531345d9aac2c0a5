"""Rung 1+, endpoint versioning: public routes carry a version (/v1/...)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..app import routes
from .checks import INFERRED, REPO, SAMPLES, CheckResult, CheckSpec, inconclusive, result
from .repo_facts import CODE_SPECS, RepoFacts

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
                REPO,
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
            REPO,
            "no public routes or OpenAPI spec found",
            operational_routes=sorted(set(declared))[:SAMPLES],
        )
    versioned = [r for r in public if routes.is_versioned(r)]
    files = sorted({p for p, _, _ in hits})[:SAMPLES]
    return result(
        "versioned-routes",
        REPO,
        10 * len(versioned) / len(public),
        f"{len(versioned)} of {len(public)} public routes carry a version",
        label=INFERRED,
        files=files,
        unversioned=[r for r in public if r not in versioned][:SAMPLES],
    )


CHECKS = (CheckSpec("versioned-routes", REPO, versioned_routes),)
