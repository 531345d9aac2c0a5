"""Commits that are not a person's code change: made by a bot, or touching only translations or dependencies."""

from __future__ import annotations

import re
from functools import lru_cache

# Commit authors that are bots, by name or email (lower case, matched as a word). Any name or
# email local part ending in "[bot]" (GitHub Apps: dependabot[bot], renovate[bot], ...) is one too.
BOT_AUTHORS = (
    "dependabot",
    "renovate",
    "renovate-bot",
    "github-actions",
    "pre-commit-ci",
    "greenkeeper",
    "snyk-bot",
    "pyup-bot",
    "imgbot",
    "imgbotapp",
    "mergify",
    "allcontributors",
    "crowdin",
    "crowdin-bot",
    "weblate",
    "transifex",
    "lokalise",
)
BOT_EMAILS = ("noreply@weblate.org", "hosted@weblate.org", "support+bot@crowdin.com")

# Translation files: gettext catalogues and XLIFF, and anything in a locale or translations folder
# (where crowdin.yml and Weblate write their output).
TRANSLATION_PATH = re.compile(
    rb"\.(po|pot|mo|xlf|xliff)$|(^|/)(locale|locales|translations|l10n|i18n)/",
    re.IGNORECASE,
)
# Dependency lock files and the manifests a bump edits with them.
DEPENDENCY_PATH = re.compile(
    rb"(^|/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock|Pipfile(\.lock)?"
    rb"|uv\.lock|pdm\.lock|Cargo\.(lock|toml)|go\.(sum|mod)|composer\.(lock|json)|Gemfile(\.lock)?|package\.json"
    rb"|pyproject\.toml|requirements[^/]*\.(txt|in)|constraints[^/]*\.txt|pom\.xml|build\.gradle(\.kts)?)$"
)
_BOT_WORD = re.compile(r"(^|[^a-z0-9])(" + "|".join(re.escape(b) for b in BOT_AUTHORS) + r")($|[^a-z0-9])")

BOT, TRANSLATION, DEPENDENCY = "bot", "translation", "dependency"


@lru_cache(maxsize=4096)  # a history has few authors and many commits
def is_bot(name: str, email: str) -> bool:
    """True when a commit's author (name, email) is a bot; the committer is not read: a bot may merge people's work."""
    name, email = name.strip().lower(), email.strip().lower()
    local = email.split("@", 1)[0]
    if name.endswith("[bot]") or local.endswith("[bot]") or email in BOT_EMAILS:
        return True
    return bool(_BOT_WORD.search(name) or _BOT_WORD.search(local))
