"""Committed secrets in a repository's tree, gitleaks-style: where they are, never their values."""

from __future__ import annotations

import re

from ..app.history import is_test_path
from .repo_facts import RepoFacts

# gitleaks-style rules: (name, ERE for git grep, Python regex to confirm the line).
SECRET_RULES: tuple[tuple[str, str], ...] = (
    ("aws-access-key-id", r"(A3T[A-Z0-9]|AKIA|ASIA)[A-Z0-9]{16}"),
    ("private-key", r"-----BEGIN[ A-Z]*PRIVATE KEY( BLOCK)?-----"),
    ("github-token", r"gh[pousr]_[A-Za-z0-9]{36}"),
    ("gitlab-token", r"glpat-[A-Za-z0-9_-]{20}"),
    ("slack-token", r"xox[baprs]-[0-9A-Za-z-]{10,}"),
    ("stripe-live-key", r"[rs]k_live_[0-9A-Za-z]{16,}"),
    ("google-api-key", r"AIza[0-9A-Za-z_-]{35}"),
)
GENERIC_SECRET = (
    r"(password|passwd|pwd|secret|secret_key|api_key|apikey|access_token|auth_token|private_key)"
    r"['\"]?[[:space:]]*[:=][[:space:]]*['\"][^'\"[:space:]]{8,}['\"]"
)
_GENERIC_VALUE = re.compile(
    r"(password|passwd|pwd|secret|secret_key|api_key|apikey|access_token|auth_token|private_key)['\"]?\s*[:=]\s*['\"]([^'\"\s]{8,})['\"]",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(
    r"example|change|xxx|dummy|fake|placeholder|your|sample|redact|\*\*\*|<|\$\{|\{\{|%\(|test", re.I
)
SECRET_FILES = re.compile(
    r"(^|/)(\.env(\.(local|dev|development|prod|production|staging))?|id_rsa|id_dsa|id_ecdsa|id_ed25519"
    r"|[^/]*\.(pem|p12|pfx|keystore|jks)|credentials\.json|\.htpasswd|\.netrc|\.pgpass)$"
)


def find_secrets(facts: RepoFacts) -> list[dict]:
    """Committed secrets in the tip's tree: path, line and rule, never the value itself."""
    findings: list[dict] = []
    hits = facts.grep([pat for _, pat in SECRET_RULES])
    rules = [(name, re.compile(pat.replace("[[:space:]]", r"\s"))) for name, pat in SECRET_RULES]
    for path, line, text in hits:
        for name, rx in rules:
            m = rx.search(text)
            if not m or "example" in text[m.start() : m.end() + 8].lower():
                continue
            # A real key file has the header on a line of its own; a one-line literal is a test fixture.
            if name == "private-key" and not text.strip().strip("'\"").startswith("-----BEGIN"):
                continue
            if name == "private-key" and "\\n" in text:
                continue
            findings.append({"path": path, "line": line, "rule": name})
            break
    for path, line, text in facts.grep([GENERIC_SECRET], ignore_case=True, tests=False):
        m = _GENERIC_VALUE.search(text)
        value = m.group(2) if m else ""
        # An UPPER_SNAKE value names an environment variable; it is not the secret itself.
        if (
            m
            and not PLACEHOLDER.search(value)
            and not value.startswith(("os.", "env"))
            and not re.fullmatch(r"[A-Z][A-Z0-9_]*", value)
        ):
            findings.append({"path": path, "line": line, "rule": "generic-secret-assignment"})
    for f in facts.matching(SECRET_FILES):
        if not is_test_path(f.path):
            findings.append({"path": f.path, "line": None, "rule": "secret-file"})
    return findings


CHECKS = ()
