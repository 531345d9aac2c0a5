"""Route paths: which carry a version, what is left of them without it, and which may stay unversioned."""

from __future__ import annotations

import re

# A version segment: v1, v2.1, or a captured version (DRF URLPathVersioning: <version>, {version}, (?P<version>...)).
VERSION = r"(?:v\d+(?:\.\d+)*|<(?:\w+:)?version>|\{version\}|\(\?P<version>[^)]*\))"
VERSIONED = re.compile(rf"^/(?:api/)?{VERSION}(?=/|$)")
VERSION_PREFIX = re.compile(rf"^(/(?:api/)?){VERSION}(?=/|$)")
# First path segments that may stay unversioned: what machines probe, and files, not API contracts.
OPERATIONAL = frozenset(
    "health healthz healthcheck ready readyz live livez ping metrics "
    "status favicon.ico robots.txt static assets admin .well-known".split()
)
HOME = "the home page: a page people open, not an API contract"
PROBE = "operational: load balancers, monitors and browsers fetch it by a fixed path; it should never move"
# A GraphQL API is one endpoint whose schema evolves by deprecating fields (@deprecated), not by new paths.
GRAPHQL = "GraphQL: one endpoint; its schema evolves by deprecating fields, not by versioned paths"


def exemption(path: str) -> str | None:
    """Why a path may stay unversioned (the home page, operational endpoints, static files), or None."""
    first = base_path(path).strip("/").split("/", 1)[0].lower()
    if not first:
        return HOME
    if base_path(path).strip("/").rsplit("/", 1)[-1].lower() == "graphql":
        return GRAPHQL
    return PROBE if first in OPERATIONAL else None


def is_versioned(path: str) -> bool:
    """True when a path starts with a version like /v1/ or /api/v2/."""
    return bool(VERSIONED.match(path))


def base_path(path: str) -> str:
    """The path without its version prefix: /v1/items -> /items, /api/v2/users -> /api/users."""
    m = VERSION_PREFIX.match(path)
    if not m:
        return path
    return (m.group(1).rstrip("/") + path[m.end() :]) or "/"
