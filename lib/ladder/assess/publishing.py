"""Release pipelines: CI files that publish a versioned artifact (a package or an image), and whether on a tag."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from .repo_facts import RepoFacts

# (what is published, how a CI file says it)
PUBLISHERS: tuple[tuple[str, re.Pattern], ...] = (
    ("python package", re.compile(r"twine upload|pypa/gh-action-pypi-publish|\b(uv|poetry|flit|hatch) publish\b")),
    ("npm package", re.compile(r"\b(npm|yarn|pnpm) publish\b|JS-DevTools/npm-publish")),
    ("gem", re.compile(r"\bgem push\b")),
    ("crate", re.compile(r"\bcargo publish\b")),
    ("release binaries", re.compile(r"goreleaser")),
    (
        "container image",
        re.compile(
            r"\b(docker|podman|buildah) push\b|docker buildx imagetools create|docker/build-push-action@[^\n]*\n(?:[^\n]*\n){0,12}?\s*push:\s*(true|\$\{\{)"
        ),
    ),
)
# Tag triggers outside GitHub Actions: GitLab, Jenkins, Travis, CircleCI, Drone/Woodpecker.
TAG_TRIGGER = re.compile(
    r"CI_COMMIT_TAG|refs/tags|buildingTag\(\)|^\s*-\s*tags\s*$|only:\s*\[?\s*tags\b|tags:\s*true|tags:\s*\n\s*only:"
    r"|event:\s*\[?\s*tag\b",
    re.MULTILINE,
)
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
    """The repository's CI files that publish a package or an image."""
    texts = facts.read(c.path for c in facts.ci_configs)
    found = []
    for path, text in sorted(texts.items()):
        kinds = tuple(kind for kind, rx in PUBLISHERS if rx.search(text))
        if kinds:
            found.append(Publishing(path, kinds, on_tag(path, text)))
    return found
