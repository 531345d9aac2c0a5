"""Practices of every rung: dependencies kept up to date."""

from __future__ import annotations

import re

from .checks import REPO, CheckResult, CheckSpec, result
from .repo_facts import RepoFacts, sample_paths

DEPENDENCY_BOTS = re.compile(
    r"^(\.github/dependabot\.ya?ml|renovate\.json5?|\.renovaterc(\.json5?)?|\.github/renovate\.json5?"
    r"|\.gitlab/renovate\.json5?|\.pyup\.ya?ml)$"
)


def dependency_updates(facts: RepoFacts) -> CheckResult:
    """A dependency update tool: dependabot or renovate."""
    files = sample_paths(facts.matching(DEPENDENCY_BOTS))
    if not files and '"renovate"' in facts.manifests:
        files = ["package.json (renovate key)"]
    if files:
        return result("dependency-updates", REPO, 10, f"dependency updates configured in {files[0]}", files=files)
    return result("dependency-updates", REPO, 0, "no dependabot or renovate config", files=[])


CHECKS = (CheckSpec("dependency-updates", REPO, dependency_updates),)
