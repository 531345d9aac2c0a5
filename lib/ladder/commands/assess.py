"""`ladder assess` and `ladder report`: the assessment notebook headless, and the index over the runs home."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .console import shown, skip_iri_grammar


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `assess` and `report` to the CLI."""
    p = sub.add_parser("assess", help="assess a repository (and a config's hosts): where the team stands, what next")
    p.add_argument(
        "repo",
        nargs="?",
        default=None,
        help="git clone to assess (default: the config's app.repo, else the current folder)",
    )
    p.add_argument("--config", default=None, help="ladder.yml whose hosts are read, or 'sandbox' (default: none)")
    p.add_argument(
        "--answers",
        type=Path,
        default=None,
        help="questionnaire answers (YAML; a question left out is 'not answered'); "
        "default: the answers kept for the repository in the runs home",
    )
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a team's own copy of model.yml (practices, questions, effort estimates); default: Ladder's",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="runs folder for artifacts and journal (default: the runs home)"
    )
    p.add_argument(
        "--as-of",
        default="",
        metavar="DATE|last-commit",
        help="end every time window (active days, branch ages, DORA) at the end of DATE (YYYY-MM-DD, UTC) "
        "or at the newest commit, for an archived or mirrored clone (default: now)",
    )
    p.add_argument(
        "--kind",
        default=None,
        help="the kind of project: service, library or self-hosted; it decides which practices apply "
        "(default: detected from the repository)",
    )
    p.set_defaults(func=cmd_assess)
    p = sub.add_parser("report", help="write index.html over the runs home: every run, the level trend, DORA")
    p.add_argument(
        "--config", default=None, help="ladder.yml whose runs: to index (default: as every command finds it)"
    )
    p.add_argument("--out", type=Path, default=None, help="file to write (default: index.html in the runs home)")
    p.set_defaults(func=cmd_report)


def cmd_assess(args: argparse.Namespace) -> int:
    """Run notebooks/assessment.ipynb headless: executed notebook, assessment.html, assessment.json, journal."""
    skip_iri_grammar()
    from ..assess.as_of import resolve_as_of
    from ..assess.inputs import ASSESSMENT_JSON, REPORT, check_inputs, notebook_path
    from ..assess.kind import check_kind
    from ..assess.result import load_assessment
    from ..assess.views import kind_text, report_header, where_to
    from ..engine.notebooks import ASSESSMENT
    from ..engine.runner import execute, prepare

    repo = args.repo if args.repo is not None else ("" if args.config else ".")
    # A bad --kind, not a clone, a bad config, answers or model file: one error (exit 2), nothing executed or written.
    kind = check_kind(args.kind, option="--kind")
    inputs = check_inputs(repo, args.config or "", args.answers or "", args.model)
    resolve_as_of(args.as_of, inputs.repo, time.time())  # a bad --as-of: exit 2 before anything runs
    params = {"repo": str(inputs.repo.path), "answers": str(inputs.answers or ""), "as_of": args.as_of, "kind": kind}
    if args.model:
        params["model"] = str(args.model.expanduser().absolute())
    plan = prepare(
        notebook_path(),
        params,
        config=args.config or "",
        out_dir=args.out,
        notebook_name=ASSESSMENT,
        report_name=REPORT,
        report_header=report_header,
    )
    outcome = execute(plan)
    if not outcome.ok:
        error = outcome.error.describe() if outcome.error else "the notebook recorded a failure"
        print(f"ladder: assessment {error}", file=sys.stderr)
        print(f"  run:      {outcome.run_id}", file=sys.stderr)
        if outcome.report.exists():
            print(f"  report:   {shown(outcome.report)}", file=sys.stderr)
        return 1
    doc = load_assessment(outcome.run_dir / ASSESSMENT_JSON)
    overall = doc["overall"]["score"]
    print(
        f"level {doc['level']} ({doc['level_title']}); overall "
        f"{'inconclusive' if overall is None else f'{overall:.1f} / 10'}, "
        f"{doc['overall']['coverage']:.0%} of practices scored"
    )
    if doc.get("kind"):
        print(f"project kind: {kind_text(doc['kind'])}")
    if doc["next_steps"]:
        step = doc["next_steps"][0]
        print(f"next step: rung {step['rung']}, {step['title']}: {where_to(step)}")
    else:
        print("next step: none; every scored practice is at or above the pass mark")
    print(f"  run:        {outcome.run_id}")
    print(f"  notebook:   {shown(outcome.notebook)}")
    print(f"  report:     {shown(outcome.report)}")
    print(f"  assessment: {shown(outcome.run_dir / ASSESSMENT_JSON)}")
    print(f"  answers:    {outcome.summary['figures']['answers']}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write index.html over the runs home: every run and assessment, the level over time, the latest DORA figures."""
    from ..assess.runs_index import write_index

    print(f"index: {shown(write_index(args.config, args.out))}")
    return 0
