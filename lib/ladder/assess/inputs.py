"""What an assessment starts from, checked before anything runs, and the names of what it leaves behind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..app.git import GitRepo, open_repo
from ..core.config import Config, load_config
from ..core.errors import ConfigError, LadderError
from ..engine.notebooks import ASSESSMENT, notebooks_dir
from .model import Model, load_model
from .questionnaire import load_answers

REPORT = "assessment.html"
ASSESSMENT_JSON = "assessment.json"
ANSWERS_YML = "answers.yml"


def notebook_path() -> Path:
    """The assessment notebook: $LADDER_NOTEBOOKS, ./notebooks, the source tree's, or the installed copy."""
    path = notebooks_dir() / ASSESSMENT
    if not path.is_file():
        raise LadderError(f"{path}: assessment notebook not found; set LADDER_NOTEBOOKS to the folder that holds it")
    return path


@dataclass(frozen=True)
class Inputs:
    """Checked inputs of an assessment: the clone, the config (or None) and the answers file (or None)."""

    repo: GitRepo
    config: Config | None
    answers: Path | None
    model: Model


def check_inputs(
    repo: str | Path | None = "",
    config: str | Path | Config | None = "",
    answers: str | Path | None = "",
    model: Model | str | Path | None = None,
) -> Inputs:
    """Check repo, config, answers and model before anything runs; a LadderError names what is wrong and the fix.

    config is a ladder.yml's path (or "sandbox"), an already loaded Config, or "" for no hosts; model is
    a loaded Model, a team's own model.yml's path, or None (or "") for Ladder's.
    """
    model = model if isinstance(model, Model) else load_model(model or None)
    cfg = config if isinstance(config, Config) else load_config(config) if config else None
    if repo:
        path: str | Path = repo
    elif cfg is not None:
        path = cfg.app.repo
        if "://" in path or not Path(path).is_absolute():
            raise ConfigError(
                f"{path!r} is a git URL; clone it and pass the clone's folder as the repository "
                "to assess (ladder assess PATH --config ...)",
                path=cfg.path,
                key="app.repo",
            )
    else:
        raise LadderError(
            "nothing to assess: pass a repository (a git clone) or a ladder.yml whose app.repo "
            "is a clone on this machine"
        )
    git = open_repo(path)
    answers_file = Path(answers).expanduser().absolute() if answers else None
    load_answers(answers_file, model)  # an unreadable or invalid file fails here, naming file, key and fix
    return Inputs(git, cfg, answers_file, model)


def hosts_text(config: Config | None) -> str:
    """Which hosts of which environments a config names, in one line."""
    if config is None:
        return "not read: no ladder.yml given"
    envs = [f"{name}: {', '.join(h.name for h in env.hosts) or 'none'}" for name, env in config.environments.items()]
    return f"{'; '.join(envs)} (from {config.path})"
