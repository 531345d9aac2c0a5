"""Rung 2, trunk-based development: short-lived branches, frequent small landings, flags and tests."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from ..app.bots import BOT, DEPENDENCY, TRANSLATION
from ..app.branch_work import Beyond
from ..app.git import Ref
from ..app.history import is_test_path, median
from .branches import set_aside_by_name, set_aside_by_work
from .checks import INFERRED, REPO, SAMPLES, CheckResult, CheckSpec, inconclusive, result
from .repo_facts import CODE_SUFFIXES, DAY, RepoFacts, days, sample_paths

MIN_COMMITS = 10
MIN_ACTIVE_DAYS = 5
LONG_LIVED_DAYS = 7
ACTIVE_DAYS = 30
MAX_BRANCHES = 50


def _dedupe(branches: Iterable[Ref]) -> list[Ref]:
    best: dict[str, Ref] = {}
    for b in branches:
        if b.short not in best or b.time > best[b.short].time:
            best[b.short] = b
    return list(best.values())


STALE_ONLY_FLOOR = 7  # the lowest score when every long-lived branch is abandoned


def long_lived_branches(facts: RepoFacts) -> CheckResult:
    """Unmerged branches older than a week, and whether they are still active; release lines, pages and bots set aside."""
    trunk = facts.repo.trunk
    if trunk is None:
        return inconclusive(
            "long-lived-branches",
            REPO,
            "no main or master branch to measure branches against",
            branches=[b.short for b in facts.repo.branches][:SAMPLES],
        )
    beyond = Beyond(facts.repo, trunk.commit)  # one walk for every branch, not one per branch
    unmerged = [b for b in _dedupe(b for b in facts.repo.branches if beyond.holds(b.commit)) if b.short != trunk.short]
    unmerged.sort(key=lambda b: -b.time)
    set_aside: list[dict[str, str]] = []
    rows: list[dict[str, Any]] = []
    examined = 0
    for b in unmerged:
        why = set_aside_by_name(b.short)
        if why is None and examined < MAX_BRANCHES:
            examined += 1
            work = beyond.work(b.commit)
            if min(b.time, work.oldest or b.time) > facts.now:
                continue  # its work began after the as-of instant: it did not exist then
            why = set_aside_by_work(work)
            if why is None:
                last = min(b.time, facts.now)  # a later commit on it counts as activity at the as-of instant
                rows.append(
                    {
                        "branch": b.short,
                        "age_days": days(facts.now - min(b.time, work.oldest or b.time)),
                        "last_commit_days_ago": days(facts.now - last),
                        "active": facts.now - last <= ACTIVE_DAYS * DAY,
                        "unmerged_commits": work.commits,
                    }
                )
        if why is not None:
            set_aside.append({"branch": b.short, "kind": why[0], "why": why[1]})
    long_lived = [r for r in rows if r["age_days"] > LONG_LIVED_DAYS]
    active = [r for r in long_lived if r["active"]]
    stale = [r for r in long_lived if not r["active"]]
    score = 10 - 4 * len(active) - 2 * len(stale)
    if not long_lived:
        reason = f"no unmerged branch older than {LONG_LIVED_DAYS} days"
    elif not active:
        # Abandoned branches are housekeeping, not work kept off the trunk: they never drop it below the pass mark.
        score = max(score, STALE_ONLY_FLOOR)
        reason = f"{len(stale)} abandoned branch(es), none active: delete or archive them"
    else:
        eldest = max(long_lived, key=lambda r: r["age_days"])
        reason = (
            f"{len(active)} active and {len(stale)} stale long-lived branch(es); "
            f"oldest {eldest['branch']!r} at {eldest['age_days']:g} days"
        )
    if set_aside:
        kinds = sorted({s["kind"] for s in set_aside})
        reason += f"; {len(set_aside)} set aside as not unfinished work ({', '.join(kinds)})"
    return result(
        "long-lived-branches",
        REPO,
        score,
        reason,
        trunk=trunk.short,
        long_lived=long_lived[:SAMPLES],
        unmerged_branches=len(unmerged),
        set_aside=set_aside[:SAMPLES],
        set_aside_count=len(set_aside),
        **facts.history_note(),
    )


def trunk_frequency(facts: RepoFacts) -> CheckResult:
    """How often work lands on the main branch: first-parent commits per active day, last 90 days."""
    trunk = facts.repo.trunk
    if trunk is None:
        return inconclusive("trunk-frequency", REPO, "no main or master branch")
    landings = sum(
        1 for _ in facts.repo.commit_times(trunk.commit, since=facts.since, until=facts.now, first_parent=True)
    )
    # A set of day numbers: at most window_days entries however many commits there are.
    days = {t // DAY for t in facts.repo.commit_times("--branches", "--remotes", since=facts.since, until=facts.now)}
    evidence = {
        "window_days": facts.window_days,
        "landings": landings,
        "active_days": len(days),
        **facts.history_note(),
    }
    if len(days) < MIN_ACTIVE_DAYS:
        return inconclusive(
            "trunk-frequency",
            REPO,
            f"only {len(days)} active day(s) in the last {facts.window_days} days; need {MIN_ACTIVE_DAYS}",
            **evidence,
        )
    rate = landings / len(days)
    return result(
        "trunk-frequency",
        REPO,
        10 * rate,
        f"{rate:.2f} landings on {trunk.short} per active day over the last {facts.window_days} days",
        landings_per_active_day=round(rate, 2),
        **evidence,
    )


def _window(facts: RepoFacts, recent: int, total: int) -> tuple[str, bool] | None:
    if recent >= MIN_COMMITS:
        return f"last {facts.window_days} days", True
    if total >= MIN_COMMITS:
        return "all history", False
    return None


def _left_out(facts: RepoFacts, recent: bool) -> dict[str, int]:
    """Changes that are not people's code in the span, by kind (bot, translation, dependency)."""
    counts = facts.history.recent_left_out if recent else facts.history.left_out
    return {kind: counts[kind] for kind in (BOT, TRANSLATION, DEPENDENCY) if counts[kind]}


def _left_out_text(left_out: dict[str, int]) -> str:
    """The reason's tail naming the commits left out (3 bot and 2 translation-only), or ""."""
    words = {BOT: "bot", TRANSLATION: "translation-only", DEPENDENCY: "dependency-only"}
    parts = [f"{n} {words[kind]}" for kind, n in left_out.items()]
    if not parts:
        return ""
    listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return f"; {listed} commit(s) left out"


def _too_few_changes(check_id: str, facts: RepoFacts) -> CheckResult:
    """Inconclusive: the history holds too few commits with changes to judge their size or tests."""
    h = facts.history
    return inconclusive(
        check_id,
        REPO,
        f"only {h.changed} commit(s) with people's code changes; need {MIN_COMMITS}"
        + _left_out_text(_left_out(facts, False)),
        commits=h.commits,
        left_out=_left_out(facts, False),
        **facts.history_note(),
    )


def size_score(median_lines: float) -> float:
    """10 at 50 changed lines or fewer, 0 at 1000 or more, falling on a log scale between."""
    if median_lines <= 50:
        return 10.0
    if median_lines >= 1000:
        return 0.0
    return 10 * (math.log(1000) - math.log(median_lines)) / (math.log(1000) - math.log(50))


def change_size(facts: RepoFacts) -> CheckResult:
    """Median lines changed per commit (lock files and binaries not counted)."""
    h = facts.line_counts()
    span = _window(facts, h.recent_changed, h.changed)
    if span is None:
        return _too_few_changes("change-size", facts)
    label, recent = span
    m = median(h.recent_sizes if recent else h.sizes)
    assert m is not None  # the span holds at least MIN_COMMITS changes
    n = h.recent_changed if recent else h.changed
    left_out = _left_out(facts, recent)
    return result(
        "change-size",
        REPO,
        size_score(m),
        f"median change is {m:g} lines over {n} commits ({label})" + _left_out_text(left_out),
        median_lines=m,
        commits=n,
        span=label,
        left_out=left_out,
        **facts.history_note(),
    )


FLAG_LIBRARIES = (
    "openfeature",
    "unleash",
    "flagsmith",
    "growthbook",
    "django-waffle",
    "waffle",
    "launchdarkly",
    "ldclient",
    "flipper",
    "configcat",
    "flagd",
    "splitio",
    "@splitsoftware",
    "posthog",
    "featureflags",
)
FLAG_MODULE = re.compile(r"(^|/)(feature_?flags?|flags|toggles|feature_?toggles)(\.(py|js|ts|rb|go)|/)")


def feature_flags(facts: RepoFacts) -> CheckResult:
    """Unfinished work hidden behind flags: a feature-flag library or a flags module."""
    libs = sorted({lib for lib in FLAG_LIBRARIES if re.search(rf"(^|[^a-z0-9_-]){re.escape(lib)}", facts.manifests)})
    modules = [f for f in facts.matching(FLAG_MODULE) if not is_test_path(f.path)]
    if libs or modules:
        found = libs + sample_paths(modules)
        return result(
            "feature-flags",
            REPO,
            10,
            f"feature flags: {', '.join(found[:3])}",
            label=INFERRED,
            libraries=libs,
            modules=sample_paths(modules),
        )
    return result(
        "feature-flags", REPO, 0, "no feature-flag library or flags module", label=INFERRED, libraries=[], modules=[]
    )


def tests_present(facts: RepoFacts) -> CheckResult:
    """Tests exist, and their share of the code (by size)."""
    code = [f for f in facts.source_files if f.path.endswith(CODE_SUFFIXES)]
    if not code:
        return inconclusive("tests-present", REPO, "no source code files found", files=len(facts.files))
    tests = [f for f in code if is_test_path(f.path)]
    test_bytes = sum(f.size for f in tests)
    code_bytes = sum(f.size for f in code)
    share = test_bytes / code_bytes if code_bytes else 0.0
    reason = f"{len(tests)} test file(s), {share:.0%} of the code" if tests else "no test files"
    return result(
        "tests-present",
        REPO,
        10 * share / 0.3,
        reason,
        test_files=len(tests),
        code_files=len(code),
        test_share=round(share, 3),
        examples=sample_paths(tests)[:5],
    )


def tests_with_changes(facts: RepoFacts) -> CheckResult:
    """Share of commits that touch tests."""
    h = facts.history
    span = _window(facts, h.recent_changed, h.changed)
    if span is None:
        return _too_few_changes("tests-with-changes", facts)
    label, recent = span
    touched, n = (h.recent_touched_tests, h.recent_changed) if recent else (h.touched_tests, h.changed)
    share = touched / n
    left_out = _left_out(facts, recent)
    return result(
        "tests-with-changes",
        REPO,
        10 * share / 0.4,
        f"{share:.0%} of {n} people's code changes touch tests ({label})" + _left_out_text(left_out),
        share=round(share, 3),
        commits=n,
        touching_tests=touched,
        span=label,
        left_out=left_out,
        **facts.history_note(),
    )


CHECKS = (
    CheckSpec("long-lived-branches", REPO, long_lived_branches),
    CheckSpec("trunk-frequency", REPO, trunk_frequency),
    CheckSpec("change-size", REPO, change_size),
    CheckSpec("feature-flags", REPO, feature_flags),
    CheckSpec("tests-present", REPO, tests_present),
    CheckSpec("tests-with-changes", REPO, tests_with_changes),
)
