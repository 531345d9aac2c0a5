"""Release pipelines: CI files that publish a versioned artifact (a package, an image, a GitHub release), and whether on a tag."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..app.history import is_sample_path
from .ci_follow import followed
from .repo_facts import RepoFacts

# (what is published, how a CI file says it)
PUBLISHERS: tuple[tuple[str, re.Pattern], ...] = (
    ("python package", re.compile(r"twine upload|pypa/gh-action-pypi-publish|\b(uv|poetry|flit|hatch) publish\b")),
    ("npm package", re.compile(r"\b(npm|yarn|pnpm) publish\b|JS-DevTools/npm-publish")),
    ("gem", re.compile(r"\bgem push\b")),
    ("crate", re.compile(r"\bcargo publish\b")),
    ("release binaries", re.compile(r"goreleaser")),
    (
        "GitHub release",
        re.compile(
            r"\bgh release create\b|softprops/action-gh-release|ncipollo/release-action|actions/create-release"
            r"|\.create_git_release\(|\.createRelease\("
        ),
    ),
    (
        "container image",
        re.compile(
            r"\b(docker|podman|buildah) push\b|docker buildx imagetools create"
            r"|(docker|depot)/build-push-action@[^\n]*\n(?:[^\n]*\n){0,12}?\s*push:\s*(true|\$\{\{)"
        ),
    ),
)
# What a build publishes as a versioned artifact; a GitHub release is a release, but its files are the source's.
ARTIFACTS = ("python package", "npm package", "gem", "crate", "release binaries", "container image")
# Tag triggers outside GitHub Actions: GitLab, Jenkins, Travis, CircleCI, Drone/Woodpecker.
TAG_TRIGGER = re.compile(
    r"CI_COMMIT_TAG|refs/tags|buildingTag\(\)|^\s*-\s*tags\s*$|only:\s*\[?\s*tags\b|tags:\s*true|tags:\s*\n\s*only:"
    r"|event:\s*\[?\s*tag\b",
    re.MULTILINE,
)
# A job that calls a reusable workflow of the same repository: what it publishes, the caller publishes.
LOCAL_WORKFLOW = re.compile(r"^\s*uses:\s*['\"]?\./(\.github/workflows/[\w.-]+\.ya?ml)", re.M)
GITHUB_TAG_CONDITION = re.compile(
    r"startsWith\(\s*github\.ref\s*,\s*'refs/tags|github\.ref_type\s*==\s*'tag'|github\.event_name\s*==\s*'release'"
)


@dataclass(frozen=True)
class Publishing:
    """One CI file that publishes: what it publishes and whether a tag (or a release) triggers it."""

    path: str
    publishes: tuple[str, ...]
    on_tag: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for evidence."""
        return {"file": self.path, "publishes": list(self.publishes), "on_tag": self.on_tag}

    @property
    def artifacts(self) -> tuple[str, ...]:
        """What it publishes as a built artifact (a package, an image, binaries)."""
        return tuple(p for p in self.publishes if p in ARTIFACTS)


def _github_on_tag(text: str) -> bool:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        doc = None
    # YAML 1.1 reads a bare `on:` key as the boolean True.
    on = doc.get("on", doc.get(True)) if isinstance(doc, dict) else None
    if on == "release" or (isinstance(on, list) and "release" in on):
        return True
    if isinstance(on, dict):
        push = on.get("push")
        if "release" in on or (isinstance(push, dict) and push.get("tags") is not None):
            return True
    return bool(GITHUB_TAG_CONDITION.search(text))


def on_tag(path: str, text: str) -> bool:
    """Whether a CI file runs when a version is tagged or a release is made."""
    if path.startswith(".github/workflows/"):
        return _github_on_tag(text)
    return bool(TAG_TRIGGER.search(text))


def publishing(facts: RepoFacts) -> list[Publishing]:
    """The repository's CI files that publish, themselves, through a script they run or a reusable workflow they call."""
    texts = facts.read(c.path for c in facts.ci_configs)
    found = []
    for path, text in sorted(texts.items()):
        called = [facts.read_one(p) for p in dict.fromkeys(LOCAL_WORKFLOW.findall(text))]
        runs = "\n".join([text, *called, *(line for t in [text, *called] for _, line in followed(t, facts.read_one))])
        kinds = tuple(kind for kind, rx in PUBLISHERS if rx.search(runs))
        if kinds:
            found.append(Publishing(path, kinds, on_tag(path, text)))
    return found


def own_pipeline(facts: RepoFacts) -> list[str]:
    """The repository's own CI files (not a CI script, not a template's): where its releases would be published."""
    return [c.path for c in facts.ci_configs if c.provider != "ci-script" and not is_sample_path(c.path)]
