"""The assessment, step by step: the assessment notebook runs one step per cell, and assess() runs them all.

Each step returns something that shows itself in a notebook. `ladder assess` runs the notebook, so these
steps are the one pipeline; assess() composes the same steps for a caller without a notebook.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..app.git import GitRepo
from ..core.config import Config, default_runs_dir
from ..engine import session
from ..engine.journal import assessment_id, journal_path
from ..engine.notebooks import ASSESSMENT
from . import views
from .catalogue import of_source
from .checks import INCONCLUSIVE, LABELS, REPO, CheckResult
from .dora import DoraReport, dora_metrics
from .evidence import dora_evidence, gather_host_evidence, gather_repo_evidence
from .inputs import ANSWERS_YML, ASSESSMENT_JSON, REPORT, check_inputs, hosts_text, notebook_path
from .model import Model
from .progress import Progress
from .questionnaire import AnswerForm, Answers, dump_answers, load_answers
from .repo_facts import describe_repo
from .result import as_dict, journal_history, record_assessment, write_assessment
from .score import Assessment
from .score import score as score_model

# ---- inputs and where results go ---------------------------------------------------------------


@dataclass
class Setup:
    """Everything the steps share: the clone, config, model, answers file and where results go."""

    repo: GitRepo
    config: Config | None
    model: Model
    answers: Path | None
    runs_dir: Path | None  # where run folders and the journal are written; None: nothing is saved
    run_dir: Path | None
    run_id: str
    journal: Path | None  # read for DORA and history (it may not exist yet)
    interactive: bool  # in JupyterLab (not run by `ladder assess`): show the questionnaire form
    now: float
    window_days: int

    def journal_file(self) -> Path | None:
        """The journal to read, when it exists."""
        return self.journal if self.journal is not None and self.journal.is_file() else None

    def _repr_html_(self) -> str:
        info = describe_repo(self.repo)
        head = (info["head"] or "no commits")[:10]
        return views.html_table(
            {
                "repository": f"{info['path']} (trunk {info['trunk'] or 'none'}, HEAD {head})",
                "hosts": hosts_text(self.config),
                "answers": str(self.answers) if self.answers else "none given",
                "history window": f"last {self.window_days} days",
                "saved to": str(self.run_dir)
                if self.run_dir
                else "nothing is saved (no run folder: set out_dir, or run `ladder assess`)",
            }
        )


def _folder_name() -> str:
    """A sortable, unique folder name for an assessment saved outside the runner."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-assessment-" + secrets.token_hex(3)


def _own_folder(config: Config | None) -> Path | None:
    """In a kernel the runner did not start (JupyterLab, plain papermill), the run's own folder: it is journaled."""
    runs = config.runs_dir if config is not None else default_runs_dir()
    recording = session.declare(
        notebook_path(), runs, notebook_name=ASSESSMENT, report_name=REPORT, report_header=views.report_header
    )
    return session.folder(runs) if recording is not None else None


def find_journal(runs_dir: Path | None, config: Config | None) -> Path | None:
    """The journal an assessment reads: its own runs folder's, else its config's runs folder's, else none."""
    if runs_dir is not None:
        return journal_path(runs_dir)
    if config is not None:
        return journal_path(config.runs_dir)
    return None


def setup(
    repo: str | Path = "",
    config: str | Path | Config | None = "",
    answers: str | Path | None = "",
    out_dir: str = "",
    run_dir: str = "",
    run_id: str = "",
    window_days: int = 90,
    *,
    model: Model | None = None,
    journal: str | Path | None = None,
    now: float | None = None,
    interactive: bool | None = None,
) -> Setup:
    """Check the inputs and decide where results go: run_dir (the runner's), else out_dir, else nowhere.

    The keyword arguments are for callers without a notebook: another model, a given journal, a fixed
    time; interactive defaults to True unless the runner set run_id.
    """
    inputs = check_inputs(repo, config, answers, model)
    folder: Path | None
    runs: Path | None
    if run_dir:
        folder = Path(run_dir)
        runs = folder.parent
    elif out_dir:
        runs = Path(out_dir).expanduser().absolute()
        folder = runs / (run_id or _folder_name())
    else:
        folder = _own_folder(inputs.config) if (not run_id if interactive is None else interactive) else None
        runs = folder.parent if folder is not None else None
        run_id = folder.name if folder is not None else run_id
    return Setup(
        inputs.repo,
        inputs.config,
        inputs.model,
        inputs.answers,
        runs,
        folder,
        run_id,
        Path(journal) if journal is not None else find_journal(runs, inputs.config),
        interactive=not run_id if interactive is None else interactive,
        now=time.time() if now is None else now,
        window_days=window_days,
    )


# ---- evidence ------------------------------------------------------------------------------------


# ---- evidence ------------------------------------------------------------------------------------


class Evidence(list):
    """Check results of one source, shown as a one-line summary (the detail table comes after scoring)."""

    def __init__(self, results: Iterable[CheckResult] = (), what: str = "Evidence", note: str = "") -> None:
        super().__init__(results)
        self.what, self.note = what, note

    def counts(self) -> dict[str, int]:
        """How many checks carry each label."""
        labels = [INCONCLUSIVE if c.score is None else c.label for c in self]
        return {label: labels.count(label) for label in LABELS if label in labels}

    def summary(self) -> str:
        """One line: how many checks, by label, and a note."""
        if not self:
            return f"{self.what}: none. {self.note}".strip()
        counts = ", ".join(f"{n} {label}" for label, n in self.counts().items())
        return f"{self.what}: {len(self)} checks ({counts}). {self.note}".strip()

    def __add__(self, other: Iterable[CheckResult]) -> Evidence:  # type: ignore[override]  # list's takes a list
        return Evidence([*self, *other])

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"

    def __repr__(self) -> str:
        return self.summary()


def repo_evidence(s: Setup) -> Evidence:
    """Run every repository check on the clone, with a progress bar (the history pass is the long part)."""
    bar = Progress("repository checks", len(of_source(REPO)))
    results = gather_repo_evidence(s.repo, now=s.now, window_days=s.window_days, progress=bar.update)
    bar.finish()
    info = describe_repo(s.repo)
    notes = [f"{info['path']} at {(info['head'] or 'no commits')[:10]} on {info['trunk'] or 'no main branch'}"]
    flags = (
        ("a shallow clone: history checks see part of it", info["shallow"]),
        ("a detached HEAD", info["detached_head"]),
        ("no commits yet", info["empty"]),
    )
    notes += [flag for flag, on in flags if on]
    return Evidence(results, "Repository", "; ".join(notes) + ".")


def host_evidence(s: Setup) -> Evidence:
    """Read every host of the config (read-only); no config gives no host evidence, and says so."""
    if s.config is None:
        return Evidence([], "Hosts", "No ladder.yml given, so no host was read; host checks count as not gathered.")
    return Evidence(gather_host_evidence(s.config), "Hosts", f"Read {hosts_text(s.config)}.")


@dataclass
class Dora:
    """The DORA report, shown as its banded table."""

    report: DoraReport

    def _repr_html_(self) -> str:
        return views.dora_table(self.report).to_html()


def dora(s: Setup) -> Dora:
    """DORA metrics from the journal's deploys (when it has any), else from release tags."""
    return Dora(dora_metrics(s.repo, s.journal_file(), now=s.now, window_days=s.window_days))


# ---- questionnaire -------------------------------------------------------------------------------


def previous_answers(runs_dir: Path | None) -> Path | None:
    """The newest answers.yml kept in a run folder under runs_dir, if any."""
    if runs_dir is None or not runs_dir.is_dir():
        return None
    files = sorted(runs_dir.glob(f"*/{ANSWERS_YML}"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


@dataclass
class Questionnaire:
    """The answers used: a form in JupyterLab (pre-filled), the answers file headless."""

    model: Model
    loaded: Answers
    source: Path | None
    form: AnswerForm | None = None

    def answers(self) -> Answers:
        """The answers as they stand now (the form's, when there is one)."""
        return self.form.answers() if self.form is not None else self.loaded

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        total = len(self.model.practices)
        if self.form is not None:
            where = f" (pre-filled from {self.source})" if self.source else ""
            display(
                HTML(
                    f"<p>Answer what the evidence cannot show{html.escape(where)}, then run the cells "
                    "below again (<i>Run &gt; Run Selected Cell and All Below</i> from the next cell).</p>"
                )
            )
            display(self.form.widget)
        elif self.source is None:
            display(
                HTML(
                    f"<p>No answers file given: all {total} questions are 'not answered', and the scores "
                    "rest on evidence alone. The answers.yml saved with this assessment lists every "
                    "question; fill it in and pass it with <code>--answers</code>.</p>"
                )
            )
        else:
            head = f"{len(self.loaded.answered())} of {total} questions answered in {self.source}."
            display(HTML(f"<p>{html.escape(head)}</p>" + views.answers_table(self.model, self.loaded).to_html()))


def questionnaire(s: Setup) -> Questionnaire:
    """The answers: in JupyterLab a form pre-filled from the answers file (or the last saved); headless the file."""
    if s.interactive:
        source = s.answers or previous_answers(s.runs_dir)
        loaded = load_answers(source, s.model) if source else Answers()
        return Questionnaire(s.model, loaded, source, AnswerForm(s.model, loaded))
    return Questionnaire(s.model, load_answers(s.answers, s.model), s.answers)


# ---- scores, history, saving -----------------------------------------------------------------------


def score(s: Setup, evidence: Sequence[CheckResult], metrics: Dora, answers: Questionnaire) -> Assessment:
    """Score every practice and rung from the evidence, the DORA checks and the answers."""
    a = score_model(
        s.model,
        [*evidence, *dora_evidence(metrics.report)],
        answers.answers(),
        repo=describe_repo(s.repo),
        dora=metrics.report,
    )
    a.generated = s.now
    return a


def history(s: Setup, assessment: Assessment) -> list[dict]:
    """Assessments of the same repository kept in the journal before this one, oldest first."""
    journal = s.journal_file()
    if journal is None:
        return []
    current = json.loads(json.dumps(as_dict(assessment)))
    # Times are to the second, so an equal time is earlier unless it is this very assessment (saved, re-run).
    return [
        d
        for d in journal_history(journal)
        if d["generated"] <= current["generated"]
        and d != current
        and same_repository(d.get("repo"), current.get("repo"))
    ]


def same_repository(a: dict | None, b: dict | None) -> bool:
    """Whether two assessments looked at one repository: the same root commit and, where both have one, remote.

    A folder's name says nothing (every sandbox clone is "app"); it decides only for an empty repository
    or an assessment saved before roots were recorded.
    """
    a, b = a or {}, b or {}
    if a.get("root") and b.get("root"):
        remotes = a.get("remote"), b.get("remote")
        return a["root"] == b["root"] and (None in remotes or remotes[0] == remotes[1])
    return a.get("path") == b.get("path")


@dataclass
class Saved:
    """Where the assessment was written, or why it was not."""

    assessment: Path | None = None
    answers: Path | None = None
    journal: Path | None = None
    journal_id: str | None = None
    note: str = ""

    def _repr_html_(self) -> str:
        if self.assessment is None:
            return f"<p>{html.escape(self.note)}</p>"
        return views.html_table(
            {
                "assessment.json": str(self.assessment),
                "answers used": str(self.answers),
                "journal": f"{self.journal} (row {self.journal_id})",
            }
        )


def save(s: Setup, assessment: Assessment, answers: Questionnaire) -> Saved:
    """Write assessment.json and the answers used into the run folder, and keep the assessment in the journal."""
    from ..engine.redact import redact_text, redact_value

    if s.run_dir is None or s.runs_dir is None:
        return Saved(
            note="Not saved: no run folder. Run `ladder assess`, or set out_dir, to keep this assessment "
            "and see it in the trend next time."
        )
    doc = redact_value(as_dict(assessment))
    json_path = write_assessment(doc, s.run_dir / ASSESSMENT_JSON)
    answers_path = s.run_dir / ANSWERS_YML
    answers_path.write_text(redact_text(dump_answers(answers.answers(), s.model)))
    journal = journal_path(s.runs_dir)
    row = record_assessment(doc, journal, run_id=assessment_id(s.run_id) if s.run_id else None)
    return Saved(json_path, answers_path, journal, row)


def result(s: Setup, assessment: Assessment, before: Sequence[Any], saved: Saved) -> dict[str, Any]:
    """Keyword arguments for ladder.record: key figures and what the report's header shows."""
    d = as_dict(assessment)
    step = d["next_steps"][0] if d["next_steps"] else None
    where = str(saved.assessment) if saved.assessment else "not saved"
    figures = {
        "level": f"{d['level']} ({d['level_title']})",
        "overall score": f"{views.score_text(d['overall']['score'])} / 10 over {d['overall']['coverage']:.0%} "
        "of practices",
        "next step": f"rung {step['rung']}: {step['title']} ({views.where_to(step)})" if step else "none",
        "assessment.json": where,
    }
    answers = str(s.answers) if s.answers else "none given (every question not answered)"
    return {
        "figures": figures,
        "assessment": views.summary(d, before, hosts=hosts_text(s.config), answers=answers, saved=where),
    }


# ---- every step at once ------------------------------------------------------------------------------


def assess(
    repo: str | Path,
    *,
    config: Config | str | Path | None = None,
    answers: Answers | str | Path | None = None,
    journal: str | Path | None = None,
    model: Model | None = None,
    now: float | None = None,
    window_days: int = 90,
) -> Assessment:
    """The notebook's steps in order, headless and saving nothing: repository, hosts, DORA, answers, scores.

    config is a loaded Config or a ladder.yml's path (its hosts are read); journal defaults to the
    config's runs folder's journal.
    """
    given, answers_file = (answers, "") if isinstance(answers, Answers) else (None, answers or "")
    s = setup(
        repo,
        config or "",
        answers_file,
        window_days=window_days,
        model=model,
        journal=journal,
        now=now,
        interactive=False,
    )
    questions = Questionnaire(s.model, given, None) if given is not None else questionnaire(s)
    return score(s, repo_evidence(s) + host_evidence(s), dora(s), questions)
