"""Secret redaction: find known secret values and scrub them from text and notebooks."""

from __future__ import annotations

import html
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import state

MARK = "[redacted]"
MIN_LENGTH = 4

# Names of environment variables whose values are secrets.
SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|TOKEN|SECRET|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY|_KEY$|^KEY$|_PAT$|AUTH",
    re.IGNORECASE,
)
# Variables that name where a secret lives (a path or socket), not the secret itself.
LOCATION_SUFFIX = re.compile(r"_(FILE|PATH|DIR|SOCK|SOCKET)$", re.IGNORECASE)
# Values too common to be secrets; replacing them would mangle every output.
NOT_SECRET = {"true", "false", "none", "null", "yes", "no", "on", "off"}
# Extra variable names to treat as secret, comma separated (inherited by kernels).
EXTRA_NAMES_VAR = "LADDER_SECRET_ENV"
# Base64 payloads: a replacement inside them would corrupt the image, and they carry no text.
BINARY_MIMES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}

# A runbook's kernel is not the process that redacts its outputs: the runner names, in this variable,
# a file in the run folder where register() hands each value over (one JSON string per line, mode 600).
HANDOFF_VAR = "LADDER_REDACT_FILE"
HANDOFF_FILE = ".registered-secrets"


def register(value: str) -> None:
    """Mark a value as secret for this run, so every redaction of the run removes it (the runner's too)."""
    if not isinstance(value, str) or len(value) < MIN_LENGTH:
        return
    run = state.current()
    if value in run.secrets:
        return
    run.secrets.add(value)
    path = os.environ.get(HANDOFF_VAR)
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(value) + "\n")


def take_registered(path: str | Path) -> set[str]:
    """The values a kernel handed over in path (see HANDOFF_VAR); the file is deleted."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    finally:
        path.unlink(missing_ok=True)
    found = set()
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:  # a line cut short by a killed kernel
            continue
        if isinstance(value, str) and len(value) >= MIN_LENGTH:
            found.add(value)
    return found


def is_secret_name(name: str) -> bool:
    """True when an environment variable's name says it holds a secret."""
    extra = {n.strip() for n in os.environ.get(EXTRA_NAMES_VAR, "").split(",") if n.strip()}
    if name in extra:
        return True
    return bool(SECRET_NAME.search(name)) and not LOCATION_SUFFIX.search(name)


def secret_values(environ: Mapping[str, str] | None = None) -> set[str]:
    """Every known secret value: secret-named environment variables plus the values this run registered."""
    env = os.environ if environ is None else environ
    found = {
        value
        for name, value in env.items()
        if is_secret_name(name) and len(value) >= MIN_LENGTH and value.strip().lower() not in NOT_SECRET
    }
    run = state.active()
    return (found | run.secrets) if run is not None else found


def _variants(value: str) -> set[str]:
    """The forms a secret takes once printed, JSON-encoded, HTML-escaped or URL-quoted."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        repr(value)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
    }
    return {f for f in forms if len(f) >= MIN_LENGTH}


def _pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    forms = set().union(*(_variants(s) for s in secrets)) if secrets else set()
    if not forms:
        return None
    # Longest first, so a secret that contains another is replaced whole.
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def redact_text(text: str, secrets: Iterable[str] | None = None) -> str:
    """Replace every known secret value (and its encoded forms) in text with [redacted]."""
    pattern = _pattern(secret_values() if secrets is None else set(secrets))
    return text if pattern is None else pattern.sub(MARK, text)


def redact_value(value: Any, secrets: Iterable[str] | None = None) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists, strings)."""
    pattern = _pattern(secret_values() if secrets is None else set(secrets))
    return _walk(value, pattern) if pattern is not None else value


def _walk(value: Any, pattern: re.Pattern[str], key: str | None = None) -> Any:
    if isinstance(value, str):
        return value if key in BINARY_MIMES else pattern.sub(MARK, value)
    if isinstance(value, Mapping):
        return {pattern.sub(MARK, k) if isinstance(k, str) else k: _walk(v, pattern, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, pattern, key) for v in value]
    if isinstance(value, tuple):
        return tuple(_walk(v, pattern, key) for v in value)
    return value


def redact_notebook(nb: Any, secrets: Iterable[str] | None = None) -> Any:
    """A copy of a notebook with secrets removed everywhere: sources, outputs, metadata, parameters."""
    import nbformat

    pattern = _pattern(secret_values() if secrets is None else set(secrets))
    if pattern is None:
        return nbformat.from_dict(json.loads(json.dumps(nb)))
    # The whole document is walked, which covers the injected-parameters cell and
    # metadata.papermill.parameters as well as every output and widget state.
    return nbformat.from_dict(_walk(json.loads(json.dumps(nb)), pattern))
