"""Committed secrets in a repository's tree, gitleaks-style: where they are, never their values."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from ..app.history import is_test_path
from ..core.errors import ConfigError
from .repo_facts import EXCLUDE_SPECS, RepoFacts

RULES_FILE = Path(__file__).with_name("secret_rules.yml")
KEY = "key"  # a live key format: one in the app's own code is a 0
GENERIC = "generic"  # a secret-named assignment with a random-looking value: low confidence
KINDS = (KEY, GENERIC)
TESTS_REASON = "tests and fixtures"
MAX_SCAN_BYTES = 1_000_000  # text files larger than this are not searched for secrets


@dataclass(frozen=True)
class Rule:
    """One secret format: a grep prefilter, a confirming regex and the value's entropy floor."""

    id: str
    kind: str
    grep: str
    regex: re.Pattern
    entropy: float = 0.0
    min_length: int = 0
    ignore_case: bool = False


@dataclass(frozen=True)
class Allow:
    """An allowlist entry: a path or value regex, why it is not a finding, and the kinds or rule ids it covers."""

    reason: str
    regex: re.Pattern
    covers: frozenset[str] = frozenset(KINDS)

    def applies(self, rule: Rule) -> bool:
        """True when the entry covers this rule, by its kind or by its id."""
        return rule.kind in self.covers or rule.id in self.covers


@dataclass(frozen=True)
class Rules:
    """The secret scan's rules and allowlists, as secret_rules.yml states them."""

    rules: tuple[Rule, ...]
    files: tuple[Rule, ...]
    paths: tuple[Allow, ...]
    values: tuple[Allow, ...]


@dataclass
class SecretScan:
    """What the scan found (path, line, rule, kind; never the value) and how many it ignored, by reason."""

    findings: list[dict] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)

    def of_kind(self, kind: str) -> list[dict]:
        """The findings of one kind."""
        return [f for f in self.findings if f["kind"] == kind]


def entropy(value: str) -> float:
    """Shannon entropy of a string, in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _compile(text: object, where: str, file: Path, flags: int = 0) -> re.Pattern:
    try:
        return re.compile(str(text), flags)
    except re.error as exc:
        raise ConfigError(f"not a valid regex ({exc}); fix the pattern", path=file, key=where) from exc


def _rule(data: dict, where: str, file: Path) -> Rule:
    kind = data.get("kind")
    if kind not in KINDS or "id" not in data or "regex" not in data:
        raise ConfigError(f"needs id, regex and kind ({' or '.join(KINDS)})", path=file, key=where)
    ignore_case = bool(data.get("ignore_case", False))
    return Rule(
        id=str(data["id"]),
        kind=kind,
        grep=str(data.get("grep", "")),
        regex=_compile(data["regex"], where, file, re.IGNORECASE if ignore_case else 0),
        entropy=float(data.get("entropy", 0.0)),
        min_length=int(data.get("min_length", 0)),
        ignore_case=ignore_case,
    )


def _allow(data: dict, where: str, file: Path, ids: set[str]) -> Allow:
    covers = frozenset(data.get("applies_to", KINDS))
    if "reason" not in data or "regex" not in data or not covers <= set(KINDS) | ids:
        raise ConfigError(
            f"needs reason and regex; applies_to names kinds ({' or '.join(KINDS)}) or rule ids of this file",
            path=file,
            key=where,
        )
    return Allow(str(data["reason"]), _compile(data["regex"], where, file), covers)


@cache
def load_rules(file: Path = RULES_FILE) -> Rules:
    """The rules and allowlists of a secret_rules.yml (Ladder's own by default), validated."""
    data = yaml.safe_load(file.read_text()) or {}
    allow = data.get("allowlist") or {}
    rules = tuple(_rule(r, f"rules[{i}]", file) for i, r in enumerate(data.get("rules") or []))
    files = tuple(_rule(r, f"files[{i}]", file) for i, r in enumerate(data.get("files") or []))
    ids = {r.id for r in rules + files}
    return Rules(
        rules=rules,
        files=files,
        paths=tuple(_allow(a, f"allowlist.paths[{i}]", file, ids) for i, a in enumerate(allow.get("paths") or [])),
        values=tuple(_allow(a, f"allowlist.values[{i}]", file, ids) for i, a in enumerate(allow.get("values") or [])),
    )


def _path_reason(rules: Rules, path: str, rule: Rule) -> str | None:
    if is_test_path(path):
        return TESTS_REASON
    return next((a.reason for a in rules.paths if a.applies(rule) and a.regex.search(path)), None)


def _judge(rules: Rules, path: str, text: str) -> tuple[Rule | None, str | None]:
    """The first rule a line breaks, or the reason the first match on it is ignored."""
    ignored: str | None = None
    for rule in rules.rules:
        m = rule.regex.search(text)
        if not m:
            continue
        value = m.groupdict().get("secret") or m.group(0)
        why = _path_reason(rules, path, rule)
        why = why or next((a.reason for a in rules.values if a.applies(rule) and a.regex.search(value)), None)
        if why is None and (len(value) < rule.min_length or entropy(value) < rule.entropy):
            why = "low entropy (not random enough to be a key)"
        if why is None:
            return rule, None
        ignored = ignored or why
    return None, ignored


def find_secrets(facts: RepoFacts, rules: Rules | None = None) -> SecretScan:
    """Committed secrets in the tip's tree: path, line, rule and kind, never the value itself.

    Text files over MAX_SCAN_BYTES are not searched (as gitleaks' --max-target-megabytes): a key lives in a
    config file, and git's regex engine can take minutes on a 10 MB data file. They are counted as ignored.
    """
    rules = rules or load_rules()
    scan = SecretScan()
    lines: dict[tuple[str, int], str] = {}
    big = [f.path for f in facts.files if f.size > MAX_SCAN_BYTES]
    specs = ["."] + EXCLUDE_SPECS + [f":(exclude,literal){path}" for path in big]
    for ignore_case in (False, True):
        patterns = [r.grep for r in rules.rules if r.ignore_case == ignore_case and r.grep]
        if patterns:
            for path, line, text in facts.grep(patterns, specs, ignore_case=ignore_case):
                lines[(path, line)] = text
    if big:
        scan.ignored[f"larger than {MAX_SCAN_BYTES // 1_000_000} MB (not searched)"] += len(big)
    for (path, line), text in sorted(lines.items()):
        rule, why = _judge(rules, path, text)
        if rule:
            scan.findings.append({"path": path, "line": line, "rule": rule.id, "kind": rule.kind})
        elif why:
            scan.ignored[why] += 1
    for f in facts.source_files:
        rule = next((r for r in rules.files if r.regex.search(f.path)), None)
        if rule is None:
            continue
        why = _path_reason(rules, f.path, rule)
        if why:
            scan.ignored[why] += 1
        else:
            scan.findings.append({"path": f.path, "line": None, "rule": rule.id, "kind": rule.kind})
    return scan


CHECKS = ()
