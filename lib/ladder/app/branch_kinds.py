"""Which unmerged branches are not unfinished work: release lines, published pages, bots' branches."""

from __future__ import annotations

import re

from .branch_work import BranchWork

# Branching for release is a trunk-based pattern: a maintenance line (release/1.x, release1.5, stable-2.17, 2.x,
# v3-maintenance, gitflow's support/) takes fixes from the trunk and never merges back.
RELEASE_NAME = re.compile(
    r"^(release|releases|rel|stable|maint|maintenance|lts|support)([/_.-]|\d|$)"
    r"|[/_.-](release|stable|maint|maintenance|lts)$"
    r"|^v?\d+(\.(\d+|x|\*))*(\.x|\.\*|[/_.-](stable|maint|maintenance|lts|branch))?$",
    re.IGNORECASE,
)
PAGES_NAME = re.compile(r"^(gh-pages|pages)$")
# The merge queue's report to a review branch's author (rung 3b): ci/passed/<branch> or ci/failed/<branch>.
CI_STATUS_NAME = re.compile(r"^ci/(passed|failed)/")
BOT_NAME = re.compile(
    r"^(dependabot|renovate|snyk-|pre-commit-ci|imgbot|greenkeeper|whitesource)"
    r"|^(l10n|i18n)([/_-]|$)|^(crowdin|weblate|transifex|lokalise|translations?)([/_-]|$)",
    re.IGNORECASE,
)


def set_aside_by_name(name: str) -> tuple[str, str] | None:
    """(kind, why) when a branch's name says it is not unfinished work; None otherwise."""
    if PAGES_NAME.search(name):
        return "published pages", "a branch that holds the built site, never merged"
    if CI_STATUS_NAME.search(name):
        return "ci status", "the CI merge queue's report on a review branch, not work"
    if BOT_NAME.search(name):
        return "bot", "a dependency or translation bot's branch"
    if RELEASE_NAME.search(name):
        return "release line", "its name says release, stable, maintenance or a version"
    return None


def set_aside_by_work(work: BranchWork) -> tuple[str, str] | None:
    """(kind, why) when what a branch holds shows a release line: tags on it, or fixes cherry-picked onto it."""
    if work.tags:
        shown = ", ".join(work.tags[:3]) + (" ..." if len(work.tags) > 3 else "")
        return "release line", f"{len(work.tags)} tag(s) on it ({shown})"
    if work.cherry_picks:
        return "release line", f"receives fixes: {work.cherry_picks} cherry-picked commit(s)"
    return None
