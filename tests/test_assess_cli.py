"""`ladder assess`: the assessment notebook run headless through the runner, on a real sandbox."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
from pathlib import Path

import jsonschema
import pytest

from gitrepo import GitRepo
from hostile import BRANCH, ROUTE, assert_inert, plant
from ladder import cli
from ladder.assess import load_assessment
from ladder.assess.inputs import notebook_path
from ladder.assess.model import DEFAULT_MODEL
from ladder.engine import runner

pytestmark = pytest.mark.e2e

SCORE = {"type": ["number", "null"], "minimum": 0, "maximum": 10}
LABEL = {"enum": ["measured", "inferred", "self-reported", "inconclusive", "n/a"]}


def obj(props: dict, **extra) -> dict:
    """A JSON-schema object whose listed keys are all required."""
    return {"type": "object", "required": list(props), "properties": props, **extra}


# ladder.assessment/1, as documented in ladder.assess.result (and the README).
SCHEMA = obj(
    {
        "schema": {"const": "ladder.assessment/1"},
        "generated": {"type": "string"},
        "model_version": {"type": "integer"},
        "pass_mark": {"type": "number"},
        "repo": {
            "oneOf": [
                {"type": "null"},
                obj(
                    {
                        "path": {"type": "string"},
                        "trunk": {"type": ["string", "null"]},
                        "head": {"type": ["string", "null"]},
                        "detached_head": {"type": "boolean"},
                        "shallow": {"type": "boolean"},
                        "empty": {"type": "boolean"},
                        "bare": {"type": "boolean"},
                        "root": {"type": ["string", "null"]},
                        "remote": {"type": ["string", "null"]},
                    }
                ),
            ]
        },
        "as_of": obj(
            {
                "date": {"type": "string"},
                "option": {"type": "string"},
                "window_days": {"type": "integer"},
                "last_activity": {
                    "oneOf": [{"type": "null"}, obj({"date": {"type": "string"}, "ref": {"type": "string"}})]
                },
            }
        ),
        "level": {"enum": ["0", "1", "1+", "2", "3a", "3b", "3", "4", "5"]},
        "level_title": {"type": "string"},
        "kind": obj(
            {
                "kind": {"enum": ["service", "library", "self-hosted"]},
                "confidence": {"enum": ["high", "medium", "low", "set"]},
                "evidence": {"type": "array", "items": {"type": "string"}},
                "overridden": {"type": "boolean"},
            }
        ),
        "unconfirmed": {"type": "array", "items": {"type": "string"}},
        "overall": obj({"score": SCORE, "coverage": {"type": "number", "minimum": 0, "maximum": 1}}),
        "rungs": {
            "type": "array",
            "items": obj(
                {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "score": SCORE,
                    "coverage": {"type": "number"},
                    "met": {"type": "boolean"},
                    "reached": {"type": "boolean"},
                    "runbook": {"type": "string"},
                    "practices": {"type": "array", "items": {"type": "string"}},
                    "status": {"enum": ["met", "failed", "unconfirmed", "n/a"]},
                    "unanswered": {"type": "integer"},
                }
            ),
        },
        "practices": {
            "type": "array",
            "items": obj(
                {
                    "id": {"type": "string"},
                    "rung": {"type": "string"},
                    "title": {"type": "string"},
                    "why": {"type": "string"},
                    "score": SCORE,
                    "met": {"type": "boolean"},
                    "label": LABEL,
                    "answer": {"enum": ["yes", "partly", "no", None]},
                    "question": {"type": "string"},
                    "reason": {"type": "string"},
                    "runbook": {"type": "string"},
                    "checks": {"type": "array", "items": {"type": "string"}},
                }
            ),
        },
        "checks": {
            "type": "array",
            "items": obj(
                {
                    "id": {"type": "string"},
                    "source": {"enum": ["repo", "host", "dora"]},
                    "score": SCORE,
                    "label": {"enum": ["measured", "inferred", "inconclusive"]},
                    "reason": {"type": "string"},
                    "evidence": {"type": "object"},
                }
            ),
        },
        "contradictions": {
            "type": "array",
            "items": obj(
                {
                    "practice": {"type": "string"},
                    "answer": {"type": "string"},
                    "answer_score": {"type": "number"},
                    "evidence_score": {"type": "number"},
                    "evidence_label": {"type": "string"},
                    "kept": {"enum": ["evidence", "answer"]},
                    "note": {"type": "string"},
                }
            ),
        },
        "next_steps": {
            "type": "array",
            "items": obj(
                {
                    "order": {"type": "integer"},
                    "rung": {"type": "string"},
                    "practice": {"type": "string"},
                    "title": {"type": "string"},
                    "runbook": {"type": "string"},
                    "score": SCORE,
                    "reason": {"type": "string"},
                    "effort_days": {"type": ["number", "null"], "exclusiveMinimum": 0},
                    "effort_why": {"type": "string"},
                    "moves": {
                        "type": "array",
                        "items": {"enum": ["deployment-frequency", "lead-time", "change-fail-rate", "time-to-restore"]},
                    },
                    "benefit": {"type": "number", "minimum": 0, "maximum": 10},
                }
            ),
        },
        "dora": {
            "oneOf": [
                {"type": "null"},
                obj(
                    {
                        "source": {"enum": ["journal", "tags", "none"]},
                        "window_days": {"type": "integer"},
                        "deploys": {"type": "integer"},
                        "metrics": {
                            "type": "array",
                            "items": obj(
                                {
                                    "key": {
                                        "enum": ["deploy_frequency", "lead_time", "change_fail_rate", "recovery_time"]
                                    },
                                    "name": {"type": "string"},
                                    "value": {"type": ["number", "null"]},
                                    "display": {"type": "string"},
                                    "band": {"enum": ["elite", "high", "medium", "low", None]},
                                    "score": SCORE,
                                    "samples": {"type": "integer"},
                                    "note": {"type": "string"},
                                }
                            ),
                        },
                    }
                ),
            ]
        },
    }
)


def assess(capsys, *args: str) -> tuple[int, str, str]:
    """Run `ladder assess ...` in this process (the notebook runs in its own kernel); exit code and output."""
    code = cli.main(["assess", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def printed_path(stdout: str, name: str) -> Path:
    """A path the CLI printed on a line `  name: path`."""
    line = next(x for x in stdout.splitlines() if x.strip().startswith(f"{name}:"))
    return Path.cwd() / line.split(":", 1)[1].strip()  # relative to the working folder when under it


def test_sandbox_assessed_twice_with_a_secret_in_the_environment(local_sandbox, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # A webhook route with a token in it: the route shows up as evidence, so redaction must catch it.
    secret = "whk-" + secrets.token_hex(12)
    monkeypatch.setenv("SHOP_WEBHOOK_TOKEN", secret)
    (local_sandbox.repo / "hooks.py").write_text(f'HOOKS = [("POST", "/hooks/{secret}", None)]\n')
    git = ["git", "-C", str(local_sandbox.repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    subprocess.run([*git, "add", "hooks.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "add the shop webhook"], check=True)
    runs = tmp_path / "runs"

    code, out, err = assess(capsys, "--config", str(local_sandbox.config_path), "--out", str(runs))
    assert code == 0, err
    assert out.splitlines()[0].startswith("level 0 (not yet on the ladder)")
    assert "next step: rung 1, " in out and "runbooks/1-separate-dev-and-prod.ipynb" in out
    report, notebook, doc_path = (printed_path(out, n) for n in ("report", "notebook", "assessment"))
    run_dir = report.parent
    assert {p.name for p in run_dir.iterdir()} == {
        "assessment.ipynb",
        "assessment.html",
        "assessment.json",
        "answers.yml",
        "result.json",
    }
    assert notebook.parent == doc_path.parent == run_dir
    doc = load_assessment(doc_path)
    jsonschema.validate(doc, SCHEMA)
    assert doc["level"] == "0"
    first = doc["next_steps"][0]
    assert first["rung"] == "1" and first["runbook"] == "runbooks/1-separate-dev-and-prod.ipynb"
    assert all(p["answer"] is None for p in doc["practices"])  # no answers file: nothing answered
    kept = runs / "answers" / f"app-{doc['repo']['root'][:12]}.yml"
    assert f"answers:    none: every question not answered (fill in {kept} after this run)" in out
    page = report.read_text()
    for part in (
        "Level 0: not yet on the ladder",
        "data:image/svg+xml",
        "Evidence per check",
        "Next steps",
        "inconclusive",
        "Delivery performance (DORA)",
        "first assessment of this repository",
    ):
        assert part in page, part
    assert "injected-parameters" not in page and 'repo = "' not in page  # injected cell removed
    assert "No host changes were recorded" not in page and "Result: ok" not in page  # its own header says it
    body = page[page.index("<body") :]
    assert body.count("Delivery maturity assessment") == 1 and body.count("Level 0: not yet on the ladder") == 1
    assert "[redacted]" in doc_path.read_text()  # the webhook route was evidence, with its token replaced

    answers = tmp_path / "answers.yml"
    answers.write_text("answers:\n  canary: yes\n  dev-setup: yes\n")  # the other 25 questions left out
    code, out, err = assess(
        capsys, "--config", str(local_sandbox.config_path), "--out", str(runs), "--answers", str(answers)
    )
    assert code == 0, err
    second = load_assessment(printed_path(out, "assessment"))
    by_id = {p["id"]: p for p in second["practices"]}
    assert by_id["canary"]["answer"] == "yes" and by_id["canary"]["label"] == "self-reported"
    assert by_id["dev-setup"]["label"] == "measured"  # measured beats the contradicting answer
    # No canary config in the repository is no evidence against one (a platform may do it): nothing to contradict.
    assert {c["practice"]: c["kept"] for c in second["contradictions"]} == {"dev-setup": "evidence"}
    assert by_id["tests-present"]["answer"] is None
    page = printed_path(out, "report").read_text()
    assert "not answered" in page and "2 of 29 questions answered" in page
    assert "Canary deploys with automatic analysis: inconclusive -&gt; 10" in page  # what changed since the first
    assert "Since the last assessment" in page
    assert f"answers:    {answers} (given)" in out

    code, out, err = assess(capsys, "--config", str(local_sandbox.config_path), "--out", str(runs))  # none given
    assert code == 0, err
    assert f"answers:    {kept} (kept for this repository)" in out  # the answers used last time
    third = {p["id"]: p["answer"] for p in load_assessment(printed_path(out, "assessment"))["practices"]}
    assert (third["canary"], third["dev-setup"], third["tests-present"]) == ("yes", "yes", None)

    history = [
        json.loads(row[0])
        for row in sqlite3.connect(runs / "journal.sqlite").execute(
            "SELECT summary FROM runs WHERE kind = 'assessment' ORDER BY started"
        )
    ]
    assert len(history) == 3 and history[0]["generated"] < history[1]["generated"] < history[2]["generated"]
    for path in (p for p in runs.rglob("*") if p.is_file()):
        assert secret.encode() not in path.read_bytes(), path


def test_a_repository_without_a_config(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    repo = GitRepo(tmp_path / "tool")
    repo.commit(
        {
            "pyproject.toml": "[build-system]\nrequires = ['hatchling']\n",
            "tests/test_a.py": "def test(): pass\n",
            "src/tool.py": "X = 1\n",
        },
        "start",
        days_ago=3,
    )
    code, out, err = assess(capsys, str(repo.path))
    assert code == 0, err
    report = printed_path(out, "report")
    assert report.parent.parent == tmp_path / "home" / "runs"  # no config: the runs home, $LADDER_HOME/runs
    doc = load_assessment(report.parent / "assessment.json")
    jsonschema.validate(doc, SCHEMA)
    hosts = [c for c in doc["practices"] if c["id"] == "prod-unmodified"][0]
    assert hosts["score"] is None and "no ladder.yml given" in hosts["reason"]
    assert "hosts</th><td style='text-align:left'>not read: no ladder.yml given" in report.read_text()


def test_an_old_repository_assessed_as_of_its_last_commit(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    repo = GitRepo(tmp_path / "archived")
    for i in range(12):  # a year ago, one commit a day for twelve days, then a last one
        repo.commit({"src/app.py": f"X = {i}\n"}, f"change {i}", days_ago=420 - i)
    repo.commit({"src/last.py": "X = 1\n"}, "last", days_ago=400)
    code, out, err = assess(capsys, str(repo.path), "--as-of", "last-commit")
    assert code == 0, err
    report = printed_path(out, "report")
    doc = load_assessment(report.parent / "assessment.json")
    jsonschema.validate(doc, SCHEMA)
    last = doc["as_of"]["last_activity"]
    assert doc["as_of"]["option"] == "last-commit" and doc["as_of"]["date"] == last["date"] and last["ref"] == "main"
    frequency = next(c for c in doc["checks"] if c["id"] == "trunk-frequency")
    assert frequency["evidence"]["active_days"] == 13  # the windows end at the last commit, 400 days ago
    page = report.read_text()
    assert f"as of</th><td style='text-align:left'>{last['date'][:10]} (--as-of last-commit)" in page
    assert f"last activity</th><td style='text-align:left'>{last['date'][:10]} (newest commit, on main)" in page
    assert "older than the 90-day window" not in page


def test_kind_set_on_the_command_line_is_shown_and_decides_what_applies(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    repo = GitRepo(tmp_path / "lib")
    repo.commit({"pyproject.toml": "[project]\nname = 'lib'\n", "src/lib/__init__.py": "X = 1\n"}, "start")
    code, out, err = assess(capsys, str(repo.path), "--kind", "library")
    assert code == 0, err
    assert "project kind: library (set by --kind)" in out
    report = printed_path(out, "report")
    doc = load_assessment(report.parent / "assessment.json")
    jsonschema.validate(doc, SCHEMA)
    assert doc["kind"]["overridden"] and doc["kind"]["evidence"][0] == "set by --kind"
    labels = {p["id"]: p["label"] for p in doc["practices"]}
    assert labels["one-step-deploy"] == "n/a" and labels["release-pipeline"] == "inconclusive"
    assert "Project kind: library (set by --kind); practices that do not fit it are n/a." in report.read_text()


def test_a_bad_kind_is_one_error_naming_the_option_and_nothing_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    repo = GitRepo(tmp_path / "app")
    repo.commit({"app.py": "X = 1\n"})
    code, out, err = assess(capsys, str(repo.path), "--kind", "webapp", "--out", str(tmp_path / "runs"))
    assert code == 2 and out == ""
    assert "--kind 'webapp': use one of service, library, self-hosted, or leave it out to detect the kind" in err
    assert not (tmp_path / "runs").exists()


def test_a_folder_that_is_not_a_repository_is_one_error_and_nothing_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain").mkdir()
    code, out, err = assess(capsys, str(tmp_path / "plain"), "--out", str(tmp_path / "runs"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "plain: not a git repository (no .git here)" in err
    assert not (tmp_path / "runs").exists()


def test_a_bad_answers_file_names_the_file_the_field_and_the_fix(local_sandbox, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    answers = tmp_path / "answers.yml"
    answers.write_text("answers:\n  canary: maybe\n")
    code, _, err = assess(capsys, "--config", str(local_sandbox.config_path), "--answers", str(answers))
    assert code == 2
    assert f"{answers}: answers.canary: answer 'maybe' is not one of yes, partly, no or null" in err
    answers.write_text("answers:\n  canarie: yes\n")
    code, _, err = assess(capsys, "--config", str(local_sandbox.config_path), "--answers", str(answers))
    assert code == 2 and "answers.canarie: unknown practice; use one of:" in err
    assert not (tmp_path / "runs").exists()


def test_a_bad_model_file_names_the_file_the_key_and_the_fix_and_nothing_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    repo = GitRepo(tmp_path / "tool")
    repo.commit({"src/tool.py": "X = 1\n"}, "start", days_ago=3)
    model = tmp_path / "model.yml"
    model.write_text(DEFAULT_MODEL.read_text().replace("moves: [lead-time]", "moves: [mttr]", 1))
    code, out, err = assess(capsys, str(repo.path), "--model", str(model), "--out", str(tmp_path / "runs"))
    assert code == 2 and out == ""
    assert f"{model}: rungs[1].practices[dev-setup].moves: unknown DORA metric 'mttr'; use one of" in err
    code, _, err = assess(capsys, str(repo.path), "--model", str(tmp_path / "nope.yml"))
    assert code == 2 and "nope.yml: file not found; pass the path of a model.yml" in err
    assert not (tmp_path / "runs").exists()


def test_a_teams_own_model_sets_the_cost_of_its_next_steps(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    repo = GitRepo(tmp_path / "shop")
    repo.commit({"app.py": "SECRET_KEY = 'x'\n"}, "start", days_ago=3)
    model = tmp_path / "model.yml"
    ours = 'days: 0.5\n          why: "our compose file only needs the database added"'
    text = DEFAULT_MODEL.read_text()
    line = '          days: 1\n          why: "a compose file (app, database, uWSGI) and a make target, tried once on a fresh machine"'
    assert line in text
    model.write_text(text.replace(line, "          " + ours))
    answers = tmp_path / "answers.yml"
    answers.write_text("answers:\n  dev-setup: no\n")  # no file shows there is none: the team says so
    code, out, err = assess(capsys, str(repo.path), "--model", str(model), "--answers", str(answers))
    assert code == 0, err
    report = printed_path(out, "report")
    doc = load_assessment(report.parent / "assessment.json")
    jsonschema.validate(doc, SCHEMA)
    step = next(s for s in doc["next_steps"] if s["practice"] == "dev-setup")
    assert step["effort_days"] == 0.5 and step["moves"] == ["lead-time"] and step["benefit"] > 0
    page = report.read_text()
    assert "~0.5 person-days: our compose file only needs the database added" in page
    section = page.split('<h2 id="Cost-and-benefit"')[1].split("<h2")[0]
    assert "<img" in section and "data:image/svg+xml" in section  # the chart, embedded


def test_running_without_a_config_injects_an_empty_config_and_uses_the_runs_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    plan = runner.prepare(notebook_path(), {"repo": str(tmp_path)}, config="", report_name="assessment.html")
    assert plan.config is None and plan.parameters["config"] == ""
    assert plan.runs_dir == tmp_path / "home" / "runs" and plan.report_name == "assessment.html"
    assert not (tmp_path / "home" / "runs").exists() and not (tmp_path / "runs").exists()


@pytest.fixture(autouse=True)
def _isolated_journal(monkeypatch):
    """Runs and journals land in each test's folder, never the user's."""
    monkeypatch.delenv("LADDER_CONFIG", raising=False)
    monkeypatch.delenv("LADDER_RUNS", raising=False)


def test_hostile_branch_route_commit_and_file_names_stay_text_in_the_assessment_and_the_index(
    local_sandbox, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))  # the runs home the index reads holds this run only
    box = plant(local_sandbox)
    assert cli.main(["assess", "--config", str(box.config_path)]) == 0
    (report,) = (tmp_path / "home" / "runs").glob("*/assessment.html")
    assert_inert(report, (BRANCH, ROUTE))
    assert cli.main(["report", "--config", str(box.config_path)]) == 0
    assert_inert(tmp_path / "home" / "runs" / "index.html", ())
