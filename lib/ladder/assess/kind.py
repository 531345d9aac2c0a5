"""The kind of project assessed: a service its team deploys, a library, or software its users host themselves."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..app.history import is_sample_path, is_test_path
from ..core.errors import OptionError
from .publishing import Publishing, publishing
from .repo_facts import VENDORED, RepoFacts

SERVICE, LIBRARY, SELF_HOSTED = "service", "library", "self-hosted"
KINDS = (SERVICE, LIBRARY, SELF_HOSTED)
PACKAGES = ("python package", "npm package", "gem", "crate")

# A deploy target only the team itself uses: a platform's app file, manifests, a deploy recipe.
DEPLOY_TARGET = re.compile(
    r"^(Procfile|fly\.toml|app\.ya?ml|app\.json|render\.ya?ml|now\.json|Capfile"
    r"|config/deploy\.rb|fabfile\.py|skaffold\.ya?ml|\.platform\.app\.yaml|appspec\.ya?ml|serverless\.ya?ml)$"
    r"|^(k8s|kubernetes|deploy|deployment|infra|terraform|ansible|playbooks)/"
)
# A folder of install or administration docs is written for people who run the software themselves.
STATIC_HOST = re.compile(r"^(vercel\.json|netlify\.toml)$")
INSTALL_DOCS = re.compile(r"^docs?/(.*/)?(install(ation)?|self-?host(ing)?|admin(istration)?|deployment)/", re.I)
# ... as is a single install page that sets up a server stack (a library's says `pip install`).
INSTALL_PAGE = re.compile(
    r"^docs?/(.*/)?(install(ation|ing)?|self-?host(ing|ed)?|deploy(ment|ing)?)\.(rst|md|txt|adoc)$", re.I
)
SERVER_STACK = re.compile(
    r"\b(nginx|apache2?|systemd|supervisor(d|ctl)?|gunicorn|uwsgi|postgres(ql)?|mysql|redis)\b", re.I
)
COMPOSE = re.compile(r"^([^/]+/)?(docker-)?compose(\.(prod|production))?\.ya?ml$")
# An app's entry point: a library or a tool has none.
WEB_APP = re.compile(
    r"^(([^/]+/){0,2}manage\.py|wsgi\.py|asgi\.py|config\.ru|([^/]+/)?(next|nuxt)\.config\.[mc]?[jt]s)$"
)
# A compose file for end users pulls a published image rather than building the source.
PUBLISHED_IMAGE = re.compile(r"^\s*image:\s*['\"]?(ghcr\.io|docker\.io|quay\.io|[a-z0-9-]+/[a-z0-9._-]+)", re.M)
PACKAGE_META = re.compile(r"(^|/)(pyproject\.toml|setup\.py|setup\.cfg|[^/]+\.gemspec|Cargo\.toml|package\.json)$")
CLASSIFIERS = re.compile(r"classifiers\s*=|\"(main|exports|module)\"\s*:|\[lib\]|Gem::Specification", re.I)
SRC_PACKAGE = re.compile(r"^src/[A-Za-z_][\w-]*/(__init__\.py|index\.[jt]s|lib\.rs)$")
# A cookiecutter or copier template: its users generate projects from it, as they install a library.
PROJECT_TEMPLATE = re.compile(r"^(cookiecutter\.json|copier\.ya?ml)$")
SETTINGS = re.compile(r"(^|/)settings(/[^/]+|[^/]*)\.py$")
# One real domain in ALLOWED_HOSTS is the single site its team runs; a self-hosted app reads it from the environment.
ONE_SITE = re.compile(r"ALLOWED_HOSTS\s*=\s*\[[^\]]*['\"]\.?[a-z0-9-]+\.[a-z0-9.-]*[a-z]{2,}['\"]", re.I)


@dataclass(frozen=True)
class ProjectKind:
    """What kind of project this is, how sure, and the evidence: what was seen, and where."""

    kind: str
    confidence: str  # high, medium, low; "set" when overridden
    evidence: tuple[str, ...] = ()
    overridden: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for assessment.json."""
        return {
            "kind": self.kind,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "overridden": self.overridden,
        }

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(e)}</li>" for e in self.evidence)
        head = f"{self.kind} (set by --kind)" if self.overridden else f"{self.kind} ({self.confidence} confidence)"
        return f"<p>Project kind: <b>{html.escape(head)}</b></p>" + (f"<ul>{items}</ul>" if items else "")


def check_kind(value: str | None, *, option: str = "kind") -> str:
    """A kind given by the user (option names where: --kind, or the notebook's kind): "" detects it."""
    value = (value or "").strip()
    if value and value not in KINDS:
        raise OptionError(option, value, f"use one of {', '.join(KINDS)}, or leave it out to detect the kind")
    return value


def weigh(
    paths: Iterable[str],
    texts: Mapping[str, str],
    pipelines: Iterable[Publishing] = (),
    deploy_jobs: Iterable[str] = (),
) -> ProjectKind:
    """The kind from the tree's paths, the texts of its packaging, compose and settings files, publishing and deploy jobs."""
    paths = [p for p in paths if not VENDORED.search(p)]
    points = dict.fromkeys(KINDS, 0)
    seen: dict[str, list[str]] = {k: [] for k in KINDS}

    def sign(kind: str, weight: int, what: str) -> None:
        points[kind] += weight
        seen[kind].append(what)

    template = [p for p in paths if PROJECT_TEMPLATE.search(p)]
    if template:
        # The generated project's app, deploy files and settings are its users', not the template's.
        sign(LIBRARY, 6, f"project template: {template[0]}")
        paths = [p for p in paths if not is_sample_path(p)]
        texts = {p: t for p, t in texts.items() if not is_sample_path(p)}

    apps = [p for p in paths if WEB_APP.search(p) and not is_test_path(p)]
    if apps:
        # An app is deployed by its team or by its users; whatever it publishes, it is not a library.
        sign(SERVICE, 1, f"web app entry point: {apps[0]}")
        sign(SELF_HOSTED, 1, f"web app entry point: {apps[0]}")
    targets = [p for p in paths if DEPLOY_TARGET.search(p)]
    if targets:
        sign(SERVICE, 3, f"deploy target: {', '.join(targets[:3])}")
    sites = [p for p in paths if STATIC_HOST.search(p)]
    if sites:  # often only the docs' or the front end's host
        sign(SERVICE, 1, f"static site host: {sites[0]}")
    for job in list(deploy_jobs)[:2]:
        sign(SERVICE, 2, f"CI deploy job: {job}")
    hosts = [p for p, t in texts.items() if SETTINGS.search(p) and ONE_SITE.search(t)]
    if hosts:
        sign(SERVICE, 2, f"one site in ALLOWED_HOSTS: {hosts[0]}")

    pipelines = list(pipelines)
    packages = [p for p in pipelines if p.on_tag and set(p.publishes) & set(PACKAGES)]
    if packages:
        sign(SELF_HOSTED if apps else LIBRARY, 4, f"package published on a tag: {packages[0].path}")
    meta = [p for p, t in texts.items() if PACKAGE_META.search(p) and "/" not in p and CLASSIFIERS.search(t)]
    if meta and not apps:
        sign(LIBRARY, 1, f"package metadata: {meta[0]}")
    src = [p for p in paths if SRC_PACKAGE.search(p)]
    if src and not apps:
        sign(LIBRARY, 1, f"src layout: {src[0]}")

    images = [p for p in pipelines if p.on_tag and {"container image", "release binaries"} & set(p.publishes)]
    if images:
        sign(SELF_HOSTED, 3, f"image or binaries published on a tag: {images[0].path}")
    docs = [p for p in paths if INSTALL_DOCS.search(p)]
    pages = {
        p: sorted({m.group(0).lower() for m in SERVER_STACK.finditer(t)})
        for p, t in texts.items()
        if INSTALL_PAGE.search(p)
    }
    pages = {p: stack for p, stack in pages.items() if stack}
    if docs:
        sign(SELF_HOSTED, 2, f"install docs: {docs[0]}")
    elif pages:
        page, stack = next(iter(pages.items()))
        sign(SELF_HOSTED, 2, f"install docs: {page} (sets up {', '.join(stack[:4])})")
    compose = [p for p, t in texts.items() if COMPOSE.search(p) and PUBLISHED_IMAGE.search(t) and "build:" not in t]
    if compose:
        sign(SELF_HOSTED, 2, f"compose file pulling a published image: {compose[0]}")
    return _verdict(points, seen)


def _verdict(points: dict[str, int], seen: dict[str, list[str]]) -> ProjectKind:
    ranked = sorted(KINDS, key=lambda k: -points[k])  # stable: a tie goes to the earlier kind, service first
    top, runner = ranked[0], ranked[1]
    margin = points[top] - points[runner]
    if points[top] == 0:
        return ProjectKind(SERVICE, "low", ("no deploy target, package or install docs seen: assumed a service",))
    if margin == 0:
        tied = [k for k in KINDS if points[k] == points[top]]
        why = [f"{k}: {s}" for k in tied for s in seen[k]]
        return ProjectKind(SERVICE, "low", (f"as much sign of a {' as of a '.join(tied)}: assumed a service", *why))
    confidence = "high" if margin >= 3 and points[top] >= 4 else "medium" if margin >= 2 else "low"
    against = [f"but {k}: {s}" for k in ranked[1:] for s in seen[k]]
    return ProjectKind(top, confidence, (*seen[top], *against))


def detect_kind(facts: RepoFacts) -> ProjectKind:
    """The project's kind, from the file listing, a few small files, the publishing and deploy jobs the checks read."""
    paths = [f.path for f in facts.source_files]
    wanted = [
        p
        for p in paths
        if (PACKAGE_META.search(p) and "/" not in p)
        or COMPOSE.search(p)
        or SETTINGS.search(p)
        or INSTALL_PAGE.search(p)
    ]
    texts = facts.read(wanted)
    pipelines = publishing(facts)
    # A workflow that publishes a package or builds the docs deploys nothing the team runs.
    skip = {p.path for p in pipelines} | {
        p for p in paths if re.search(r"docs?|pages|publish|release", p.rsplit("/", 1)[-1], re.I)
    }
    deploy_jobs = [
        c.path
        for c in facts.ci_configs
        if c.deploys_from_main_or_tags and c.provider != "ci-script" and c.path not in skip
    ]
    return weigh(paths, texts, pipelines, deploy_jobs)


def project_kind(facts: RepoFacts, given: str = "") -> ProjectKind:
    """The kind given by --kind, else the one detected."""
    if given:
        detected = detect_kind(facts) if facts.tip else None
        note = (f"detected {detected.kind} ({detected.confidence})",) if detected else ()
        return ProjectKind(check_kind(given), "set", ("set by --kind", *note), overridden=True)
    if facts.tip is None:
        return ProjectKind(SERVICE, "low", ("no commits: assumed a service",))
    return detect_kind(facts)
