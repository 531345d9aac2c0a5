"""The assessment, step by step: the assessment notebook runs one step per cell, and assess() runs them all.

Each step returns something that shows itself in a notebook. `ladder assess` runs the notebook, so these
steps are the one pipeline; assess() composes the same steps for a caller without a notebook.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..app.git import GitRepo
from ..core.config import Config, default_runs_dir
from ..core.private import write_private
from ..engine import session
from ..engine.journal import assessment_id, journal_path
from ..engine.notebooks import ASSESSMENT
from . import views
from .as_of import AsOf, resolve_as_of
from .catalogue import of_source
from .checks import REPO, CheckResult
from .dora import DoraReport, dora_metrics
from .evidence import Evidence, dora_evidence, gather_host_evidence, gather_repo_evidence
from .inputs import ANSWERS_YML, ASSESSMENT_JSON, REPORT, check_inputs, hosts_text, notebook_path
from .kept_answers import identity, keep, kept_path
from .kind import ProjectKind, check_kind
from .kind import project_kind as detect_project_kind
from .model import Model
from .progress import Progress
from .questionnaire import AnswerForm, Answers, load_answers
from .repo_facts import RepoFacts, describe_repo, same_repository
from .result import as_dict, journal_history, record_assessment, write_assessment
from .score import Assessment
from .score import score as score_model

# ---- inputs and where results go ---------------------------------------------------------------


@dataclass
class Setup:
    """Everything the steps share: the clone, config, model, answers files and where results go."""

    repo: GitRepo
    config: Config | None
    model: Model
    answers: Path | None  # the answers file given, which wins over the kept one
    kept: Path  # where this repository's answers are kept in the runs home; the form writes it on each click
    source: Path | None  # the file the answers are read from: the one given, else the kept one if it exists
    repo_id: dict  # the repository's folder name, root commit and remote: whose the kept answers are
    runs_dir: Path | None  # where run folders and the journal are written; None: no run folder
    run_dir: Path | None
    run_id: str
    journal: Path | None  # read for DORA and history (it may not exist yet)
    interactive: bool  # in JupyterLab (not run by `ladder assess`): show the questionnaire form
    now: float  # when the assessment runs (its "generated" time)
    window_days: int
    as_of: AsOf  # where every time window ends: now unless as_of was given
    kind: str = ""  # the project kind given (--kind); "" detects it

    @cached_property
    def facts(self) -> RepoFacts:
        """What the repository checks and the kind detection read, each piece once."""
        return RepoFacts(self.repo, int(self.as_of.time), self.window_days)

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
                "answers": self.answers_text(),
                "history window": f"last {self.window_days} days"
                + (f" up to {self.as_of.to_dict(self.window_days)['date'][:10]}" if self.as_of.option else ""),
                "saved to": str(self.run_dir)
                if self.run_dir
                else f"the answers only, to {self.kept} (no run folder: set out_dir, or run `ladder assess`)",
            }
        )

    def answers_text(self) -> str:
        """Where the answers come from, in words."""
        if self.answers:
            return f"{self.answers} (given)"
        if self.source:
            return f"{self.source} (kept for this repository)"
        if self.interactive:
            return f"none yet: the form keeps them in {self.kept}"
        return f"none: every question not answered (fill in {self.kept} after this run)"


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
    as_of: str = "",
    *,
    model: Model | str | Path | None = None,
    journal: str | Path | None = None,
    now: float | None = None,
    interactive: bool | None = None,
    kind: str = "",
) -> Setup:
    """Check the inputs and decide where results go: run_dir (the runner's), else out_dir, else nowhere.

    as_of ends every time window: "" now, YYYY-MM-DD that day's end (UTC), or last-commit.

    Answers are kept per repository in the runs home (run_dir's parent, else out_dir, else the config's or
    the default runs folder) and read from there unless an answers file is given. model is another
    model (loaded, or a model.yml's path; the notebook's `model` parameter). The other keyword arguments
    are for callers without a notebook: a given journal, a fixed time; interactive defaults to True
    unless the runner set run_id.
    """
    kind = check_kind(kind)
    inputs = check_inputs(repo, config, answers, model)
    now = time.time() if now is None else now
    ends = resolve_as_of(as_of, inputs.repo, now, option="as_of")
    interactive = not run_id if interactive is None else interactive  # before run_id names an own folder
    folder: Path | None
    runs: Path | None
    if run_dir:
        folder = Path(run_dir)
        runs = folder.parent
    elif out_dir:
        runs = Path(out_dir).expanduser().absolute()
        folder = runs / (run_id or _folder_name())
    else:
        folder = _own_folder(inputs.config) if interactive else None
        runs = folder.parent if folder is not None else None
        run_id = folder.name if folder is not None else run_id
    repo_id = identity(describe_repo(inputs.repo))
    kept = kept_path(runs or (inputs.config.runs_dir if inputs.config else default_runs_dir()), repo_id)
    source = inputs.answers or (kept if kept.is_file() else None)
    if source == kept:  # kept answers edited into a mistake stop here, naming the file, the key and the fix
        load_answers(kept, inputs.model)
    return Setup(
        inputs.repo,
        inputs.config,
        inputs.model,
        inputs.answers,
        kept,
        source,
        repo_id,
        runs,
        folder,
        run_id,
        Path(journal) if journal is not None else find_journal(runs, inputs.config),
        interactive=interactive,
        now=now,
        window_days=window_days,
        as_of=ends,
        kind=kind,
    )


# ---- evidence ------------------------------------------------------------------------------------


def repo_evidence(s: Setup) -> Evidence:
    """Run every repository check on the clone, with a progress bar (the history pass is the long part)."""
    bar = Progress("repository checks", len(of_source(REPO)))
    results = gather_repo_evidence(s.facts, progress=bar.update)
    bar.finish()
    info = describe_repo(s.repo)
    partial = [r.id for r in results if "missing_objects" in r.evidence]
    notes = [f"{info['path']} at {(info['head'] or 'no commits')[:10]} on {info['trunk'] or 'no main branch'}"]
    flags = (
        ("a shallow clone: history checks see part of it", info["shallow"]),
        ("a detached HEAD", info["detached_head"]),
        ("no commits yet", info["empty"]),
        (
            f"{info['missing_objects']} objects missing; "
            + (f"these checks are partial: {', '.join(partial)}" if partial else "no check needed them"),
            info["missing_objects"],
        ),
    )
    notes += [flag for flag, on in flags if on]
    return Evidence(results, "Repository", "; ".join(notes) + ".")


def project_kind(s: Setup) -> ProjectKind:
    """The kind of project (service, library, self-hosted) with its evidence, or the one given by --kind."""
    return detect_project_kind(s.facts, s.kind)


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
    return Dora(dora_metrics(s.repo, s.journal_file(), now=s.as_of.time, window_days=s.window_days))


# ---- questionnaire -------------------------------------------------------------------------------


@dataclass
class Questionnaire:
    """The answers used: a form in JupyterLab, pre-filled and kept on each click; headless the file read."""

    model: Model
    loaded: Answers
    where: str  # where the answers come from, in words
    form: AnswerForm | None = None
    kept: Path | None = None  # where this repository's answers are kept

    def answers(self) -> Answers:
        """The answers as they stand now (the form's, when there is one)."""
        return self.form.answers() if self.form is not None else self.loaded

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        if self.form is not None:
            display(
                HTML(
                    f"<p>Answer what the evidence cannot show (answers: {html.escape(self.where)}). Each answer "
                    f"is kept at once in {html.escape(str(self.kept))}, so Run All and a restarted kernel start "
                    "from it; run the notebook again to score with it (<i>Run &gt; Run All Cells</i>).</p>"
                )
            )
            # A report (no widget state) shows the answers the form was pre-filled with, not the widget's repr.
            bundle = {**self.form.widget._repr_mimebundle_(), "text/html": self._table()}
            display(bundle, raw=True)
            return
        answered = len(self.loaded.answered())
        head = f"{answered} of {len(self.model.practices)} questions answered; answers: {self.where}."
        if answered:
            display(HTML(f"<p>{html.escape(head)}</p>" + self._table()))
        else:
            more = (
                f" The scores rest on evidence alone: fill in {self.kept}, which lists every question, and run again."
            )
            display(HTML(f"<p>{html.escape(head + more)}</p>"))

    def _table(self) -> str:
        return views.answers_table(self.model, self.loaded).to_html()


def questionnaire(s: Setup) -> Questionnaire:
    """The answers: the file given, else those kept for this repository; in JupyterLab a form that keeps each click."""
    loaded = load_answers(s.source, s.model) if s.source else Answers()
    if not s.interactive:
        return Questionnaire(s.model, loaded, s.answers_text(), kept=s.kept)
    form = AnswerForm(s.model, loaded, on_change=lambda answers: keep(answers, s.kept, s.repo_id, s.model))
    return Questionnaire(s.model, loaded, s.answers_text(), form, s.kept)


# ---- scores, history, saving -----------------------------------------------------------------------


def score(
    s: Setup, evidence: Sequence[CheckResult], metrics: Dora, answers: Questionnaire, kind: ProjectKind | None = None
) -> Assessment:
    """Score every practice and rung from the evidence, the DORA checks and the answers, for the project's kind."""
    a = score_model(
        s.model,
        [*evidence, *dora_evidence(metrics.report)],
        answers.answers(),
        repo=describe_repo(s.repo),
        dora=metrics.report,
        kind=kind,
    )
    a.generated = s.now
    a.as_of = s.as_of.to_dict(s.window_days)
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


@dataclass
class Saved:
    """Where the assessment and its answers were written, or why the assessment was not."""

    kept: Path  # the answers kept for this repository, which the next assessment of it starts from
    assessment: Path | None = None
    answers: Path | None = None  # the copy in the run folder
    journal: Path | None = None
    journal_id: str | None = None
    note: str = ""

    def _repr_html_(self) -> str:
        if self.assessment is None:
            return f"<p>Answers kept in {html.escape(str(self.kept))}. {html.escape(self.note)}</p>"
        return views.html_table(
            {
                "assessment.json": str(self.assessment),
                "answers used": str(self.answers),
                "answers kept": str(self.kept),
                "journal": f"{self.journal} (row {self.journal_id})",
            }
        )


def save(s: Setup, assessment: Assessment, answers: Questionnaire) -> Saved:
    """Keep the answers used for this repository; with a run folder, write them and assessment.json there, and journal it."""
    from ..engine.redact import redact_value

    kept = keep(answers.answers(), s.kept, s.repo_id, s.model)
    if s.run_dir is None or s.runs_dir is None:
        return Saved(
            kept,
            note="The assessment is not saved: no run folder. Run `ladder assess`, or set out_dir, to keep it "
            "and see it in the trend next time.",
        )
    doc = redact_value(as_dict(assessment))
    json_path = write_assessment(doc, s.run_dir / ASSESSMENT_JSON)
    answers_path = write_private(s.run_dir / ANSWERS_YML, kept.read_bytes())
    journal = journal_path(s.runs_dir)
    row = record_assessment(doc, journal, run_id=assessment_id(s.run_id) if s.run_id else None)
    return Saved(kept, json_path, answers_path, journal, row)


def result(s: Setup, assessment: Assessment, before: Sequence[Any], saved: Saved) -> dict[str, Any]:
    """Keyword arguments for ladder.record: key figures and what the report's header shows."""
    d = as_dict(assessment)
    step = d["next_steps"][0] if d["next_steps"] else None
    where = str(saved.assessment) if saved.assessment else "not saved"
    figures = {
        "level": f"{d['level']} ({d['level_title']}){views.unconfirmed_text(d)}",
        "project kind": views.kind_text(d["kind"]) if d["kind"] else "not detected",
        "overall score": f"{views.score_text(d['overall']['score'])} / 10 over {d['overall']['coverage']:.0%} "
        "of practices",
        "next step": f"rung {step['rung']}: {step['title']} ({views.where_to(step)})" if step else "none",
        "assessment.json": where,
        "answers": s.answers_text(),
    }
    return {
        "figures": figures,
        "assessment": views.summary(d, before, hosts=hosts_text(s.config), answers=s.answers_text(), saved=where),
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
    as_of: str = "",
    kind: str = "",
) -> Assessment:
    """The notebook's steps in order, headless and saving nothing: repository, hosts, DORA, answers, scores.

    config is a loaded Config or a ladder.yml's path (its hosts are read); journal defaults to the
    config's runs folder's journal; answers default to those kept for the repository in that runs folder.
    """
    given, answers_file = (answers, "") if isinstance(answers, Answers) else (None, answers or "")
    s = setup(
        repo,
        config or "",
        answers_file,
        window_days=window_days,
        as_of=as_of,
        model=model,
        journal=journal,
        now=now,
        interactive=False,
        kind=kind,
    )
    questions = Questionnaire(s.model, given, "given by the caller") if given is not None else questionnaire(s)
    return score(s, repo_evidence(s) + host_evidence(s), dora(s), questions, project_kind(s))
