"""Rung 3a, upgrade prod: a versioned artifact built once, deployed as is, releases kept for rollback."""

from __future__ import annotations

import re

from ..app.history import is_artifact, is_sample_path, is_test_path
from .checks import HOST, REPO, SAMPLES, CheckResult, CheckSpec, inconclusive, result
from .deploys import VERSION_TAG
from .host_facts import HostFacts, HostReport, per_prod
from .publishing import publishing
from .repo_facts import DAY, RepoFacts, days, sample_paths

LARGE_FILE_BYTES = 10 * 1024 * 1024


# ---- the repository --------------------------------------------------------------------------------


DOCKERFILE = re.compile(r"(^|/)(Dockerfile[^/]*|[^/]+\.Dockerfile|Containerfile)$")
OTHER_RECIPES = re.compile(r"(^|/)(Cargo\.toml|[^/]+\.gemspec|pom\.xml|build\.gradle(\.kts)?|\.goreleaser\.ya?ml)$")


def parse_from_lines(text: str) -> list[tuple[str, bool]]:
    """Base images of a Dockerfile and whether each is pinned (a version tag or a digest, not latest)."""
    stages: set[str] = set()
    bases = []
    for m in re.finditer(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I):
        image, alias = m.group(1), m.group(2)
        if alias:
            stages.add(alias.lower())
        if image.lower() in stages or image == "scratch":
            continue
        if "@sha256:" in image:
            pinned = True
        else:
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            pinned = bool(tag) and tag != "latest" and "$" not in image and any(c.isdigit() for c in tag)
        bases.append((image, pinned))
    return bases


def _depth_first(path: str) -> tuple[int, str]:
    return path.count("/"), path


def packaging(facts: RepoFacts) -> CheckResult:
    """A packaging recipe, a Dockerfile with a pinned base, or a pipeline that publishes a package or image on a tag."""

    def own(pattern: str | re.Pattern[str]) -> list[str]:
        """The project's own files matching, shallowest first: an example's recipe is not the project's."""
        return sorted((f.path for f in facts.matching(pattern) if not is_sample_path(f.path)), key=_depth_first)

    recipes = []
    pyprojects = facts.read(own(r"(^|/)pyproject\.toml$"))
    recipes += [p for p, text in pyprojects.items() if re.search(r"^\[build-system\]", text, re.M)]
    recipes += own(r"(^|/)setup\.py$")
    recipes += own(OTHER_RECIPES)
    recipes.sort(key=_depth_first)
    dockerfiles = facts.read(own(DOCKERFILE))
    bases = [(p, image, pinned) for p, text in dockerfiles.items() for image, pinned in parse_from_lines(text)]
    docker_pinned = bool(bases) and all(pinned for _, _, pinned in bases)
    pipelines = [p for p in publishing(facts) if p.artifacts]
    on_tag = [p for p in pipelines if p.on_tag]
    if on_tag:
        # Publishing on a tag is the practice itself: one versioned artifact per release, built by CI.
        score = 10
    elif recipes or pipelines:
        score = 10 if docker_pinned else 8
    elif bases:
        score = 8 if docker_pinned else 4
    else:
        score = 0
    parts = []
    if pipelines:
        shown = (on_tag or pipelines)[0]
        parts.append(
            f"{shown.path} publishes a {' and a '.join(shown.artifacts)}" + (" on a tag" if shown.on_tag else "")
        )
    if recipes:
        parts.append(f"recipe {recipes[0]}")
    if bases:
        parts.append("Dockerfile with pinned base" if docker_pinned else "Dockerfile with an unpinned base")
    reason = (
        ", ".join(parts)
        if parts
        else "no packaging recipe (pyproject build system, setup.py, Dockerfile) or publishing pipeline"
    )
    return result(
        "packaging",
        REPO,
        score,
        reason,
        recipes=recipes[:SAMPLES],
        docker_bases=[{"file": p, "image": i, "pinned": ok} for p, i, ok in bases][:SAMPLES],
        publishing=[p.to_dict() for p in pipelines][:SAMPLES],
    )


def release_tags(facts: RepoFacts) -> CheckResult:
    """Versioned release tags, and how recent they are."""
    tags = [t for t in facts.repo.tags if VERSION_TAG.search(t.short) and t.time <= facts.now]
    if not tags:
        others = [t.short for t in facts.repo.tags][:SAMPLES]
        return result("release-tags", REPO, 0, "no versioned release tags", other_tags=others)
    tags.sort(key=lambda t: t.time)
    latest = tags[-1]
    recent = [t for t in tags if facts.now - t.time <= 180 * DAY]
    score = 10 if len(recent) >= 3 else 8 if recent else 5
    return result(
        "release-tags",
        REPO,
        score,
        f"{len(tags)} versioned tag(s), latest {latest.short} {days(facts.now - latest.time):g} days ago",
        tags=len(tags),
        recent_180_days=len(recent),
        latest=latest.short,
        latest_days_ago=days(facts.now - latest.time),
    )


def no_binaries(facts: RepoFacts) -> CheckResult:
    """No build outputs, archives or very large files committed."""
    # All files, vendored or not: a wheel under dist/ is exactly what does not belong in git.
    artifacts = [f for f in facts.files if is_artifact(f.path) and not is_test_path(f.path)]
    large = [f for f in facts.files if f.size > LARGE_FILE_BYTES]
    h = facts.history
    score = 10 - 3 * len(artifacts) - 2 * len(large)
    if not artifacts and not large and h.artifact_changes:
        score = 9
    parts = []
    if artifacts:
        parts.append(f"{len(artifacts)} committed binary artifact(s)")
    if large:
        parts.append(f"{len(large)} file(s) over {LARGE_FILE_BYTES // 2**20} MB")
    if not parts:
        parts.append(
            "no committed build outputs or very large files"
            + (f" (history once held {h.artifact_changes})" if h.artifact_changes else "")
        )
    return result(
        "no-binaries",
        REPO,
        score,
        "; ".join(parts),
        artifacts=sample_paths(artifacts),
        large_files=[{"path": f.path, "bytes": f.size} for f in large][:SAMPLES],
        history_artifact_changes=h.artifact_changes,
        history_artifacts=h.artifact_samples,
    )


# ---- the hosts --------------------------------------------------------------------------------


def prod_runs_release(facts: HostFacts) -> CheckResult:
    """Prod runs a release folder switched by the `current` link, not a git checkout."""

    def judge(r: HostReport) -> CheckResult | None:
        lay = r.deployment
        if lay is None or not lay.found:
            return inconclusive("prod-runs-release", HOST, r.nothing_deployed(), host=r.name)
        if lay.runs_release:
            return result("prod-runs-release", HOST, 10, f"current -> {lay.current}", host=r.name)
        if lay.current:
            return result("prod-runs-release", HOST, 5, f"current -> {lay.current}, outside releases/", host=r.name)
        return result("prod-runs-release", HOST, 0, f"prod runs a git checkout at {lay.checkout}", host=r.name)

    return per_prod(facts, "prod-runs-release", judge)


def releases_kept(facts: HostFacts) -> CheckResult:
    """How many releases are kept on prod for rollback."""

    def judge(r: HostReport) -> CheckResult | None:
        lay = r.deployment
        if lay is None:
            return inconclusive("releases-kept", HOST, r.nothing_deployed(), host=r.name)
        n = len(lay.releases)
        score = {0: 0, 1: 3, 2: 7}.get(n, 10)
        what = f"{n} release(s) kept in releases/" if lay.releases_dir else "no releases/ folder"
        return result("releases-kept", HOST, score, what, host=r.name, releases=list(lay.releases[-SAMPLES:]))

    return per_prod(facts, "releases-kept", judge)


CHECKS = (
    CheckSpec("packaging", REPO, packaging),
    CheckSpec("release-tags", REPO, release_tags),
    CheckSpec("no-binaries", REPO, no_binaries),
    CheckSpec("prod-runs-release", HOST, prod_runs_release),
    CheckSpec("releases-kept", HOST, releases_kept),
)
