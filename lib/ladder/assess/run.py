"""One call for a whole assessment: repository, hosts, DORA, answers, scores."""

from __future__ import annotations

from pathlib import Path

from ..app.git import open_repo
from ..core.config import Config
from .dora import dora_metrics
from .evidence import dora_evidence, gather_host_evidence, gather_repo_evidence
from .model import Model, load_model
from .questionnaire import Answers, load_answers
from .repo_facts import describe_repo
from .score import Assessment, score


def assess(
    repo: str | Path,
    *,
    config: Config | None = None,
    answers: Answers | str | Path | None = None,
    journal: str | Path | None = None,
    model: Model | None = None,
    now: float | None = None,
    window_days: int = 90,
) -> Assessment:
    """Assess a repository (and, given a loaded Config, its hosts) against the model."""
    model = model or load_model()
    git = open_repo(repo)
    if not isinstance(answers, Answers):
        answers = load_answers(answers, model)
    evidence = gather_repo_evidence(git, now=now, window_days=window_days)
    if config is not None:
        evidence += gather_host_evidence(config)
        if journal is None:
            candidate = Path(config.runs_dir) / "journal.sqlite"
            journal = candidate if candidate.is_file() else None
    dora = dora_metrics(git, journal, now=now, window_days=window_days)
    evidence += dora_evidence(dora)
    return score(model, evidence, answers, repo=describe_repo(git), dora=dora)
