"""Answers kept per repository in the runs home: where the form and every later assessment of it start from.

One YAML file per repository under <runs home>/answers/: an answers file like any other (`ladder assess
--answers` reads it) with a repository: block whose root commit and remote say whose answers they are.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from ..core.errors import AnswersError
from ..core.paths import inside
from ..core.private import write_private
from ..engine.redact import redact_text
from .model import Model
from .questionnaire import Answers, dump_answers
from .repo_facts import same_repository

FOLDER = "answers"
IDENTITY = ("path", "root", "remote")


def identity(repo: dict) -> dict:
    """The facts of describe_repo that say which repository it is: folder name, root commit, remote."""
    return {key: repo.get(key) for key in IDENTITY}


def owner(file: Path) -> dict:
    """The repository a kept answers file belongs to, from its repository: block."""
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise AnswersError(f"not valid YAML: {exc}; fix it or delete the file", path=file) from None
    found = data.get("repository") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise AnswersError(
            "names no repository; add repository: {root: ..., remote: ...} or delete the file",
            path=file,
            key="repository",
        )
    return found


def find_kept(runs_dir: Path, repo: dict) -> Path | None:
    """The answers file kept for this repository under runs_dir (the newest when several match), or None."""
    folder = runs_dir / FOLDER
    files = sorted(folder.glob("*.yml"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    return next((f for f in files if same_repository(owner(f), repo)), None)


def file_name(repo: dict) -> str:
    """A new kept file's name: the folder's name, then the root commit (and the remote's hash) that make it unique."""
    key = repo.get("root") or hashlib.sha256(str(repo.get("path")).encode()).hexdigest()
    remote = repo.get("remote")
    suffix = f"-{hashlib.sha256(remote.encode()).hexdigest()[:8]}" if remote else ""
    return f"{repo.get('path') or 'repository'}-{key[:12]}{suffix}.yml"


def kept_path(runs_dir: Path, repo: dict) -> Path:
    """Where this repository's answers are kept under runs_dir: its existing file, else a new one's path."""
    return find_kept(runs_dir, repo) or inside(runs_dir, FOLDER, file_name(repo), what="repository name")


def keep(answers: Answers, path: Path, repo: dict, model: Model | None = None) -> Path:
    """Write the answers, redacted, with the repository they belong to; atomically, never half a file."""
    text = dump_answers(answers, model) + yaml.safe_dump({"repository": identity(repo)}, sort_keys=False)
    return write_private(path, redact_text(text))
