"""The runs home's index page: real runs and assessments, newest first, linked, charted, escaped, in a browser."""

from __future__ import annotations

import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from browser import open_page, overflow
from gitrepo import GitRepo
from ladder import cli
from ladder.assess import load_model, record_assessment, score
from ladder.assess.catalogue import CHECKS
from ladder.assess.checks import result
from ladder.assess.repo_facts import describe_repo
from ladder.assess.runs_index import CSP, INDEX, entries, find_report, write_index
from ladder.engine import journal, runner

BOOKS = Path(__file__).parent / "notebooks"
HOSTILE = "<img src=x onerror=alert(1)>"
DAY = 86400


class Page(HTMLParser):
    """What a test reads off the index: the runs table's rows, links, tags that must not be there, the chart."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: list[dict] = []  # {"id", "cells": [text], "links": [href]}
        self.tags: list[str] = []
        self.csp: str | None = None
        self.svg_in_figure = False
        self._runs_depth = 0  # tables open inside the runs table, itself included
        self._in_figure = False
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a.get("content")
        elif tag == "table" and (self._runs_depth or a.get("class") == "runs"):
            self._runs_depth += 1
        elif tag == "figure":
            self._in_figure = True
        elif tag == "svg" and self._in_figure:
            self.svg_in_figure = True
        elif self._runs_depth and tag == "tr" and a.get("id"):
            self.rows.append({"id": a["id"].removeprefix("run-"), "cells": [], "links": []})
        elif self._runs_depth == 1 and tag == "td" and self.rows:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif self._runs_depth and tag == "a" and self.rows:
            self.rows[-1]["links"].append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._runs_depth:
            self._runs_depth -= 1
        elif tag == "figure":
            self._in_figure = False
        elif tag == "td" and self._cell is not None and self._runs_depth == 1:
            self.rows[-1]["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def site(tmp_path: Path) -> Path:
    """A ladder.yml and a runbook with a hostile name; runs go to runs/.

    Host names and app.repo cannot be hostile: ladder.yml's models refuse markup there (tests/test_config.py).
    """
    repo = GitRepo(tmp_path / "shop")
    repo.commit({"app.py": "print('shop')\n"}, "start", days_ago=30)
    repo.commit({"app.py": "print('shop v2')\n"}, "change", days_ago=2)
    (tmp_path / "hosts" / "prod1").mkdir(parents=True)
    (tmp_path / "ladder.yml").write_text(
        "app: {name: shop, repo: shop}\n"
        "environments: {prod: {hosts: [{name: prod1, address: local, base: hosts/prod1}]}}\n"
        "runs: runs\n"
    )
    books = tmp_path / "books"
    books.mkdir()
    shutil.copy(BOOKS / "1-record-changes.ipynb", books / f"1-{HOSTILE}.ipynb")
    shutil.copy(BOOKS / "2-fail-on-host.ipynb", books / "2-fail-on-host.ipynb")
    return tmp_path


def earlier_assessment(model, repo: Path, met: set[str], days_ago: float) -> dict:
    """An assessment of repo scored by the real scorer, as if made days ago, with rungs met."""
    checks = {c: result(c, CHECKS[c].source, 9 if p.rung in met else 2, "t") for p in model.practices for c in p.checks}
    a = score(model, checks.values(), repo=describe_repo(repo))
    a.generated = time.time() - days_ago * DAY
    return a.to_dict()


@pytest.mark.e2e
def test_the_index_lists_every_run_newest_first_linked_charted_and_escaped(tmp_path, capsys):
    home = site(tmp_path)
    config = home / "ladder.yml"
    books = home / "books"
    runs = home / "runs"
    model = load_model()
    # Two assessments kept in the journal weeks ago, exactly as the assessment notebook's save step keeps them.
    for met, days in ((set(), 20), ({"1"}, 10)):
        record_assessment(earlier_assessment(model, home / "shop", met, days), journal.journal_path(runs))
    dry = runner.run(books / f"1-{HOSTILE}.ipynb", config=config, text_params={"folder": HOSTILE})
    # Applies of a rung-1 runbook that change something: deploys, for DORA.
    applies = [
        runner.run(books / f"1-{HOSTILE}.ipynb", config=config, apply=True, text_params={"folder": folder})
        for folder in ("releases/a", "releases/b")
    ]
    failed = runner.run(books / "2-fail-on-host.ipynb", config=config, text_params={"fail_host": "prod1"})
    assert (
        dry.ok
        and all(a.ok for a in applies)
        and not failed.ok
        and "prod1" in (failed.error.describe() if failed.error else "")
    )
    dry.report.unlink()  # a report cleaned away: the index says so instead of linking nowhere
    assert cli.main(["assess", "--config", str(config)]) == 0
    running = journal.new_run_id()
    journal.start(journal.journal_path(runs), run_id=running, runbook="3-wait", rung="3", params={"seconds": 60})
    capsys.readouterr()

    assert cli.main(["report", "--config", str(config)]) == 0
    printed = capsys.readouterr().out.strip()
    index = runs / INDEX
    assert printed == f"index: {index}"
    text = index.read_text()
    page = Page(text)

    # Escaped everywhere: the runbook, host, parameter, error and repository names stay text.
    assert HOSTILE not in text and "<script" not in text and "img" not in page.tags
    assert text.count("&lt;img src=x onerror=alert(1)&gt;") >= 4  # runbook names and the folder parameter
    assert page.csp == CSP and "default-src 'none'" in CSP and "script-src" not in CSP

    # Every run and assessment once, newest first; an assessment's own row folds into its run.
    rows = journal.history(journal.journal_path(runs))
    folded = {
        r["id"]
        for r in rows
        if r["kind"] == "assessment" and r["id"].removeprefix("assessment-") in {x["id"] for x in rows}
    }
    started = {r["id"]: r["started"] for r in rows if r["id"] not in folded}
    assert [r["id"] for r in page.rows] == sorted(started, key=lambda i: started[i], reverse=True)
    assert len(page.rows) == 8  # 2 kept assessments, 4 runs, 1 assessment run, 1 running
    by_id = {r["id"]: r for r in page.rows}
    kinds = [r["cells"][1] for r in page.rows]
    assert kinds.count("assessment") == 3 and kinds.count("runbook") == 5

    # Links resolve to the reports on disk; a missing report, a running run and a kept assessment have none.
    for row in page.rows:
        for href in row["links"]:
            assert (index.parent / unquote(href)).is_file(), href
    assert by_id[failed.run_id]["links"] == [f"{failed.run_id}/report.html"]
    assert "failed" in by_id[failed.run_id]["cells"][3] and "prod1" in by_id[failed.run_id]["cells"][-1]
    assert by_id[dry.run_id]["links"] == [] and "no report" in by_id[dry.run_id]["cells"]
    assert by_id[running]["links"] == [] and "no report yet" in by_id[running]["cells"]
    newest_assessment = next(r for r in page.rows if r["cells"][1] == "assessment")
    assert newest_assessment["links"][0].endswith("/assessment.html")
    assert [r["cells"][4].split()[0] for r in page.rows if r["cells"][1] == "assessment"][1:] == ["1", "0"]
    assert by_id[dry.run_id]["cells"][2] == f"1-{HOSTILE} rung 1, dry run"
    assert all(by_id[a.run_id]["cells"][2].endswith("rung 1, apply") for a in applies)

    # The level over time as an inline chart, and DORA measured now from the journal's deploys.
    assert page.svg_in_figure and "data:image" not in text.split("<h2>Runs")[0]
    dora = text[text.index("Delivery performance (DORA)") : text.index("<h2>Runs")]
    assert "Measured now from deploys recorded in Ladder&#x27;s journal" in dora
    frequency = dora[dora.index("deployment frequency") : dora.index("lead time for changes")]
    assert "per week" in frequency and "inconclusive" not in frequency

    # A real browser draws it within 1000 px, runs nothing the policy refuses, and shows the chart.
    with open_page(index, width=1000) as viewed:
        assert overflow(viewed.page) == {"page": 0, "table": 0}
        viewed.page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert overflow(viewed.page) == {"page": 0, "table": 0}  # every run's parameters shown too
        assert viewed.page.evaluate("document.querySelectorAll('img, script').length") == 0
        assert viewed.page.locator("figure svg").bounding_box()["height"] > 100
        assert not [m for m in viewed.console if m.startswith("error")], viewed.console

    # Written elsewhere, its links still lead to the reports.
    elsewhere = tmp_path / "share" / "ladder.html"
    assert cli.main(["report", "--config", str(config), "--out", str(elsewhere)]) == 0
    links = [h for r in Page(elsewhere.read_text()).rows for h in r["links"]]
    assert links and all(h.startswith("../runs/") and (elsewhere.parent / unquote(h)).is_file() for h in links)


@pytest.mark.local
def test_entries_fold_an_assessment_into_its_run_and_never_look_outside_the_runs_home(tmp_path):
    runs = tmp_path / "runs"
    path = journal.journal_path(runs)
    journal.start(path, run_id="r1", runbook="assessment", params={}, started="2025-01-01T10:00:00.000+00:00")
    journal.finish(path, "r1", status="ok", changes=0, ended="2025-01-01T10:00:05.500+00:00")
    journal.add(path, run_id="assessment-r1", kind="assessment", summary={"schema": "other"})
    journal.add(path, run_id="../r1", kind="runbook", runbook="x", started="2025-01-02T10:00:00.000+00:00")
    (runs / "r1").mkdir()
    (runs / "r1" / "assessment.html").write_text("<html></html>")
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "report.html").write_text("<html></html>")  # outside the runs home, where "../r1" leads
    found = entries(journal.history(path), runs)
    assert [(e.id, e.kind) for e in found] == [("../r1", "runbook"), ("r1", "assessment")]
    assert found[1].report == runs / "r1" / "assessment.html" and found[1].seconds == pytest.approx(5.5)
    assert found[1].assessment is None  # a summary of another schema is not read as an assessment
    assert found[0].report is None and find_report(runs, "..") is None and find_report(runs, "") is None


@pytest.mark.local
def test_an_empty_runs_home_says_how_to_fill_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LADDER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LADDER_CONFIG", raising=False)
    page = write_index()
    text = page.read_text()
    assert page == tmp_path / "home" / "runs" / INDEX
    assert "No runs yet" in text and "No assessment yet" in text and "No DORA figures yet" in text


@pytest.mark.local
def test_a_missing_config_is_one_error_and_exit_2(tmp_path, capsys):
    assert cli.main(["report", "--config", str(tmp_path / "nope.yml")]) == 2
    err = capsys.readouterr().err
    assert "nope.yml" in err and not (tmp_path / INDEX).exists()


@pytest.mark.local
def test_a_run_folder_that_is_a_symlink_out_of_the_runs_home_has_no_report(tmp_path):
    runs, outside = tmp_path / "runs", tmp_path / "elsewhere"
    runs.mkdir()
    outside.mkdir()
    (outside / "report.html").write_text("<html>not ours</html>")
    (runs / "r1").symlink_to(outside)
    assert find_report(runs, "r1") is None
