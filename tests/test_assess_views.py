"""How an assessment is shown: headline, tables, charts and the report's header."""

from __future__ import annotations

import nbformat
import pytest

from gitrepo import NOW
from ladder.assess import Answers, evidence_table, load_model, score, views
from ladder.assess.catalogue import CHECKS
from ladder.assess.checks import result
from ladder.assess.deploys import Deploy
from ladder.assess.dora import compute
from ladder.engine import report

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def model():
    return load_model()


def assessment(model, good: set[str], answers: Answers | None = None, when: float = NOW):
    checks = [
        result(cid, CHECKS[cid].source, 9 if p.rung in good else 1, f"{cid} seen", files=["a.py"])
        for p in model.practices
        for cid in p.checks
        if cid != "canary"
    ]
    dora = compute([Deploy(NOW - i * 86400, "tag", f"v{i}") for i in range(3)], now=NOW, source="tags")
    a = score(
        model,
        {c.id: c for c in checks}.values(),
        answers,
        repo={"path": "shop", "trunk": "master", "head": "abc1234def5678"},
        dora=dora,
    )
    a.generated = when
    return a


def test_evidence_text_is_one_short_line_without_empty_parts():
    text = evidence_table.evidence_text(
        {
            "hosts": [{"host": "prod1", "modified": ["app.py"], "errors": {}}],
            "found": [],
            "errors": {},
            "note": None,
            "ratio": 0.25,
            "shallow": False,
        }
    )
    assert text == "hosts: (host prod1, modified app.py); found: none; ratio: 0.25; shallow: no"
    long = evidence_table.evidence_text({"files": [f"src/module_{i}.py" for i in range(50)]}, limit=40)
    assert len(long) == 40 and long.endswith("...")
    assert evidence_table.evidence_text({"files": ["a", "b", "c", "d", "e"]}) == "files: a; b; c and 2 more"


def test_evidence_rows_follow_the_ladder(model):
    a = assessment(model, {"1"})
    frame = evidence_table.evidence_frame(a)
    owners = [p.id for p in model.practices for _ in p.checks]
    assert list(frame.columns) == ["rung", "practice", "check", "source", "score", "label", "reason", "evidence"]
    assert frame["rung"].tolist()[0] == "1" and frame["rung"].tolist()[-1] == "all"
    assert frame["rung"].tolist() == sorted(frame["rung"].tolist(), key=[r.id for r in model.rungs].index)
    assert len(frame) == len({c.id for c in a.checks}) and len(owners) >= len(frame)
    html = evidence_table.evidence_table(a).to_html()
    assert "background-color: #2b83ba;\n  color: white;" in html  # measured labels readable on their colour


def test_next_steps_name_runbooks_and_say_which_are_not_written_yet(model):
    frame = views.next_steps(assessment(model, {"1"})).data
    assert frame["#"].tolist() == list(range(1, len(frame) + 1))
    assert frame["rung"].iloc[0] == "1+"
    assert frame["runbook"].iloc[0] == 'runbooks/1-separate-dev-and-prod.ipynb, step "Route versions"'
    assert views.runbook_text("runbooks/1-separate-dev-and-prod.ipynb") == "runbooks/1-separate-dev-and-prod.ipynb"
    assert views.runbook_text("runbooks/9-nothing.ipynb") == "runbooks/9-nothing.ipynb (not yet available)"
    good = assessment(model, {r.id for r in model.rungs})
    assert "Nothing to fix" in repr(views.next_steps(good))


def test_next_steps_say_the_cost_of_each_and_the_dora_metrics_it_moves(model):
    frame = views.next_steps(assessment(model, {"1+", "2", "3a", "3b", "4", "5", "all"})).data
    rows = frame.set_index("practice")
    dev = rows.loc["A dev environment is made by one command"]
    assert (
        dev["cost"]
        == "~1 person-day: a compose file (app, database, uWSGI) and a make target, tried once on a fresh machine"
    )
    assert rows.loc["Dev and prod are separate environments", "cost"].startswith("~3 person-days: ")
    deploy = rows.loc["Code reaches prod by one repeatable step", "moves"]
    assert deploy == "deployment frequency, lead time, time to restore"
    assert views.cost_text({"effort_days": 0.5, "effort_why": "x"}) == "~0.5 person-days: x"
    assert views.cost_text({"effort_days": None}) == "not estimated (add effort: to the model)"
    assert views.moves_text({"moves": []}) == "none"


def test_headline_in_plain_words(model):
    lines = views.headline(assessment(model, {"1"})).lines
    assert lines[0] == "Level 1: Separate dev and prod."
    assert lines[2] == "Rungs met: 1." and lines[3].startswith("Next step: rung 1+, ")
    # Rung 1+ is climbed by one step of the rung-1 runbook: the next step names it, so it does not loop.
    assert lines[3].endswith('run runbooks/1-separate-dev-and-prod.ipynb, step "Route versions".')
    assert views.headline(assessment(model, set())).lines[2] == "No rung is met yet."


def test_the_headline_says_every_practice_at_full_coverage_and_names_the_rest_otherwise(model):
    a = assessment(model, {"1"})
    a.coverage = 1.0
    full = views.headline(a).lines[1]
    assert full.endswith("over every practice.") and "100%" not in full and "the rest" not in full
    a.coverage = 0.5
    assert "over 50% of the practices (the rest could be neither measured nor answered)" in views.headline(a).lines[1]


def test_contradictions_table_or_a_sentence(model):
    assert "No questions were answered" in repr(views.contradictions(assessment(model, set())))
    a = assessment(model, set(), Answers({"tests-present": "yes"}))
    frame = views.contradictions(a).data
    assert frame.to_dict("records")[0]["kept"] == "evidence" and frame["practice"].iloc[0] == "Tests exist"
    agreeing = assessment(model, set(), Answers({"tests-present": "no"}))
    assert repr(views.contradictions(agreeing)) == "No answer contradicts the evidence."


def test_changes_since_the_last_assessment(model):
    first, second = assessment(model, set(), when=NOW - 60), assessment(model, {"1"})
    assert "first assessment of this repository in x" in repr(views.changes([], first, " in x"))
    assert "Nothing changed" in repr(views.changes([first.to_dict()], assessment(model, set())))
    frame = views.changes([first.to_dict()], second).data
    assert frame["change"].iloc[0] == "level 0 -> 1"


def test_charts_are_embedded_svg(model):
    a = assessment(model, {"1"})
    for chart in (
        views.radar(a),
        views.bars(a),
        views.cost_benefit(a),
        views.trend([assessment(model, set(), when=NOW - 60)], a),
    ):
        assert chart._repr_svg_().lstrip().startswith("<?xml")


def test_dora_table_bands_and_source(model):
    html = views.dora_table(assessment(model, set()).dora).to_html()
    assert "from release tags and their commits" in html
    assert "inconclusive" in html and "#dddddd" in html  # three deploys: too few for the failure rate
    assert ">n/a<" in html  # its score is not a number


def summary_of(a, history, status="ok") -> dict:
    data = views.summary(a, history, hosts="dev: dev; prod: prod1", answers="none given", saved="x/assessment.json")
    return {
        "status": status,
        "title": "Delivery maturity assessment",
        "run_id": "r1",
        "duration_s": 2.0,
        "result": {"assessment": data},
    }


def test_report_header_tells_level_next_step_and_what_changed(model):
    first, second = assessment(model, set(), when=NOW - 60), assessment(model, {"1"})
    head = views.report_header(summary_of(second, [first.to_dict()]))
    assert "<b>Level 1: Separate dev and prod.</b>" in head
    assert "Next step: rung 1+" in head and "level 0 -&gt; 1" in head and "x/assessment.json" in head
    assert "first assessment of this repository" in views.report_header(summary_of(first, []))
    assert views.report_header(summary_of(second, [], status="failed")) is None  # failures: standard header
    assert views.report_header({"status": "ok", "result": {}}) is None


def test_the_report_uses_the_header_and_keeps_the_show_code_button(model):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Assessment")])
    page = report.render(nb, summary_of(assessment(model, {"1"}), []), views.report_header)
    assert "<b>Level 1: Separate dev and prod.</b>" in page and "Show / hide code" in page
    assert "Hosts and steps" not in page
    failed = report.render(nb, summary_of(assessment(model, {"1"}), [], status="failed"), views.report_header)
    assert "Hosts and steps" in failed


def test_report_header_shows_the_last_activity_and_says_when_it_is_older_than_the_window(model):
    run = summary_of(assessment(model, set()), [])
    data = run["result"]["assessment"]
    last = {"date": "2024-03-01T10:00:00+00:00", "ref": "main"}
    data["as_of"] = {"date": data["generated"], "option": "", "window_days": 90, "last_activity": last}
    head = views.report_header(run)
    assert "last activity</th><td style='text-align:left'>2024-03-01 (newest commit, on main)" in head
    assert "as of</th>" not in head and "older than the 90-day window" in head and "--as-of last-commit" in head
    data["as_of"].update(date=last["date"], option="last-commit")
    head = views.report_header(run)
    assert "as of</th><td style='text-align:left'>2024-03-01 (--as-of last-commit)" in head
    assert "older than" not in head


def test_report_header_says_how_many_objects_a_partial_clone_lacks_and_which_checks_are_partial(model):
    run = summary_of(assessment(model, set()), [])
    data = run["result"]["assessment"]
    data["repo"] = {"path": "shop", "trunk": "main", "head": "a" * 40, "missing_objects": 12}
    data["partial_checks"] = ["secrets-in-repo", "ci-runs-tests"]
    head = views.report_header(run)
    assert "12 objects missing from the clone (nothing was fetched)" in head
    assert "these checks are partial: secrets-in-repo, ci-runs-tests." in head
    data["partial_checks"] = []
    assert "12 objects missing from the clone (nothing was fetched); no check needed them." in views.report_header(run)
    data["repo"]["missing_objects"] = 0
    assert "objects missing" not in views.report_header(run)
