"""DORA metrics: bands at their edges, the 0-10 scale, journal and tag sources, too-few-events notes."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from gitrepo import DAY, NOW, GitRepo
from ladder.assess.deploys import Deploy
from ladder.assess.dora import (
    HOUR,
    MONTH,
    WEEK,
    band_change_fail_rate,
    band_deploy_frequency,
    band_lead_time,
    band_recovery,
    compute,
    dora_metrics,
    scale_change_fail_rate,
    scale_deploy_frequency,
    scale_lead_time,
    scale_recovery,
)
from ladder.assess.evidence import dora_evidence

EPS = 1e-9


# ---- bands at their edges --------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    "per_day, band",
    [
        (3.0, "elite"),
        (1.0, "elite"),
        (1.0 - EPS, "high"),
        (1 / 7, "high"),
        (1 / 7 - EPS, "medium"),
        (1 / 30, "medium"),
        (1 / 30 - EPS, "low"),
        (0.0, "low"),
    ],
)
def test_deploy_frequency_bands(per_day, band):
    assert band_deploy_frequency(per_day) == band


@pytest.mark.unit
@pytest.mark.parametrize(
    "seconds, band",
    [
        (0, "elite"),
        (DAY - 1, "elite"),
        (DAY, "high"),
        (WEEK - 1, "high"),
        (WEEK, "medium"),
        (MONTH - 1, "medium"),
        (MONTH, "low"),
        (365 * DAY, "low"),
    ],
)
def test_lead_time_bands(seconds, band):
    assert band_lead_time(seconds) == band


@pytest.mark.unit
@pytest.mark.parametrize(
    "rate, band",
    [
        (0.0, "elite"),
        (0.075, "elite"),
        (0.075 + EPS, "medium"),
        (0.15, "medium"),
        (0.15 + EPS, "high"),
        (0.30, "high"),
        (0.30 + EPS, "low"),
        (1.0, "low"),
    ],
)
def test_change_fail_rate_bands_nearest_cluster(rate, band):
    assert band_change_fail_rate(rate) == band


@pytest.mark.unit
@pytest.mark.parametrize(
    "seconds, band",
    [
        (60, "elite"),
        (HOUR - 1, "elite"),
        (HOUR, "high"),
        (DAY - 1, "high"),
        (DAY, "medium"),
        (WEEK - 1, "medium"),
        (WEEK, "low"),
        (MONTH, "low"),
    ],
)
def test_recovery_bands(seconds, band):
    assert band_recovery(seconds) == band


@pytest.mark.unit
def test_scales_hit_their_anchors_and_fall_monotonically():
    assert scale_deploy_frequency(1) == 10 and scale_deploy_frequency(1 / 7) == pytest.approx(7.5)
    assert scale_deploy_frequency(1 / 30) == pytest.approx(5) and scale_deploy_frequency(0) == 0
    assert scale_lead_time(HOUR) == 10 and scale_lead_time(DAY) == pytest.approx(7.5)
    assert scale_lead_time(WEEK) == pytest.approx(5) and scale_lead_time(400 * DAY) == 0
    assert scale_recovery(HOUR) == pytest.approx(7.5) and scale_recovery(2 * MONTH) == 0
    assert scale_change_fail_rate(0) == 10 and scale_change_fail_rate(0.5) == 0
    freqs = [scale_deploy_frequency(x) for x in (0, 0.001, 0.01, 0.05, 0.2, 0.9, 5)]
    assert freqs == sorted(freqs)
    leads = [scale_lead_time(x) for x in (10, HOUR * 2, DAY * 2, WEEK * 2, MONTH * 2)]
    assert leads == sorted(leads, reverse=True)


# ---- compute ---------------------------------------------------------------------------------


@pytest.mark.unit
def test_too_few_events_are_said_not_guessed():
    report = compute([Deploy(NOW - DAY, "tag", "v1")], now=NOW)
    for m in report.metrics:
        assert m.band is None and m.score is None
    assert "too few deploys (1)" in report.metric("deploy_frequency").note
    assert "need 5" in report.metric("change_fail_rate").note


@pytest.mark.unit
def test_compute_all_four_metrics():
    deploys = [
        Deploy(
            NOW - i * DAY,
            "journal",
            f"d{i}",
            lead_times=(2 * HOUR, 4 * HOUR),
            failed=i == 3,
            recovery=30 * 60 if i == 3 else None,
        )
        for i in range(10)
    ]
    report = compute(deploys, now=NOW, window_days=90)
    freq = report.metric("deploy_frequency")
    assert freq.value == pytest.approx(10 / 90) and freq.band == "medium"
    lead = report.metric("lead_time")
    assert lead.value == 3 * HOUR and lead.band == "elite" and lead.samples == 20
    cfr = report.metric("change_fail_rate")
    assert cfr.value == pytest.approx(0.1) and cfr.band == "medium"
    rec = report.metric("recovery_time")
    assert rec.value == 1800 and rec.band == "elite"


@pytest.mark.unit
def test_a_record_younger_than_the_window_counts_its_deploys_over_the_days_it_covers():
    deploys = [Deploy(NOW - i * DAY / 4, "journal", f"d{i}") for i in range(7)]  # 7 deploys in 2 days
    whole = compute(deploys, now=NOW, window_days=90).metric("deploy_frequency")
    young = compute(deploys, now=NOW, window_days=90, since=NOW - 2 * DAY).metric("deploy_frequency")
    month = compute(deploys, now=NOW, window_days=90, since=NOW - 30 * DAY).metric("deploy_frequency")
    old = compute(deploys, now=NOW, window_days=90, since=NOW - 400 * DAY).metric("deploy_frequency")
    assert whole.value == pytest.approx(7 / 90) and old.value == whole.value and "last 90 days" in old.note
    assert young.value == pytest.approx(1.0) and young.band == "elite"  # read as a week, never as 2 days
    assert "counted over 7 days" in young.note
    assert month.value == pytest.approx(7 / 30) and month.band == "high"


@pytest.mark.unit
def test_table_and_dict():
    report = compute([Deploy(NOW - i * DAY, "tag", f"v{i}") for i in range(3)], now=NOW)
    table = report.table()
    assert list(table.index) == [
        "deployment frequency",
        "lead time for changes",
        "change fail rate",
        "failed deployment recovery time",
    ]
    assert list(table.columns) == ["value", "band", "score (0-10)", "samples", "note"]
    assert table.loc["change fail rate", "band"] == "inconclusive"
    assert "background-color" in report.styled().to_html()
    json.dumps(report.to_dict())


# ---- tags ------------------------------------------------------------------------------------


@pytest.mark.local
def test_release_tags_give_lead_times_and_failures(tmp_path):
    repo = GitRepo(tmp_path / "r")
    repo.commit({"a": "0"}, days_ago=40)
    repo.tag("v1.0.0", days_ago=40)
    for i, ago in enumerate((30, 20, 10, 5)):
        repo.commit({"a": str(i)}, "add thing", days_ago=ago + 2)
        if i == 2:
            repo.commit({"a": "fix"}, 'Revert "add thing"', days_ago=ago + 1)
        repo.tag(f"v1.{i + 1}.0", days_ago=ago)
    report = dora_metrics(repo.path, now=NOW)
    assert report.source == "tags" and len(report.deploys) == 5
    lead = report.metric("lead_time")
    assert lead.band == "high" and lead.samples == 5
    failed = [d for d in report.deploys if d.failed]
    assert [d.name for d in failed] == ["v1.2.0"]  # the release after it shipped the revert
    assert failed[0].recovery == pytest.approx(10 * DAY)
    assert report.metric("change_fail_rate").value == pytest.approx(1 / 5)


@pytest.mark.local
def test_no_tags_no_journal(tmp_path):
    repo = GitRepo(tmp_path / "r")
    repo.commit({"a": "0"})
    report = dora_metrics(repo.path, tmp_path / "no-journal.sqlite", now=NOW)
    assert report.source == "tags" and report.metric("deploy_frequency").score is None
    checks = {c.id: c for c in dora_evidence(report)}
    assert checks["deploy-frequency"].inconclusive and checks["deploys-recorded"].inconclusive


# ---- journal ---------------------------------------------------------------------------------


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def make_journal(path, rows):
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE runs (id TEXT, runbook TEXT, rung TEXT, params TEXT, started TEXT, ended TEXT, "
        "status TEXT, changes INTEGER, hosts TEXT)"
    )
    for i, (runbook, rung, params, ended, status, changes) in enumerate(rows):
        db.execute(
            "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?)",
            (f"r{i}", runbook, rung, json.dumps(params), _iso(ended - 60), _iso(ended), status, changes, "[]"),
        )
    db.commit()
    db.close()


@pytest.mark.local
def test_journal_deploys_rollbacks_and_lead_times(tmp_path):
    repo = GitRepo(tmp_path / "r")
    shas = [repo.commit({"a": str(i)}, days_ago=30 - i * 5) for i in range(6)]
    journal = tmp_path / "journal.sqlite"
    rows = []
    for i, sha in enumerate(shas):
        ended = NOW - (30 - i * 5) * DAY + 2 * HOUR
        rows.append(("runbooks/4-continuous-delivery.ipynb", "4", {"commit": sha}, ended, "ok", 3))
    rows.append(
        (
            "runbooks/5-canary-rollback-observability.ipynb",
            "5",
            {"action": "rollback"},
            NOW - 10 * DAY + 3 * HOUR,
            "ok",
            1,
        )
    )
    rows.append(("runbooks/1-separate-dev-and-prod.ipynb", "1", {}, NOW - DAY, "failed", 2))  # not a deploy
    rows.append(("runbooks/2-trunk-based-development.ipynb", "2", {}, NOW - DAY, "ok", 5))  # rung 2 never deploys
    rows.append(("runbooks/1-separate-dev-and-prod.ipynb", "1", {}, NOW - DAY, "ok", 0))  # nothing changed
    make_journal(journal, rows)
    report = dora_metrics(repo.path, journal, now=NOW)
    assert report.source == "journal" and len(report.deploys) == 6
    assert report.metric("lead_time").value == pytest.approx(2 * HOUR)
    failed = [d for d in report.deploys if d.failed]
    assert len(failed) == 1 and failed[0].recovery == pytest.approx(HOUR)
    assert report.metric("recovery_time").band == "high"
    checks = {c.id: c for c in dora_evidence(report)}
    assert checks["deploys-recorded"].score == 10 and "6 deploy" in checks["deploys-recorded"].reason
    assert checks["deploy-frequency"].score is not None


@pytest.mark.local
def test_journal_without_commits_takes_lead_times_from_tags(tmp_path):
    repo = GitRepo(tmp_path / "r")
    for i, ago in enumerate((40, 30, 20, 10)):
        repo.commit({"a": str(i)}, days_ago=ago + 1)
        repo.tag(f"v1.{i}.0", days_ago=ago)
    journal = tmp_path / "journal.sqlite"
    make_journal(
        journal, [("runbooks/1-separate-dev-and-prod.ipynb", "1", {}, NOW - d * DAY, "ok", 2) for d in (9, 6, 3)]
    )
    report = dora_metrics(repo.path, journal, now=NOW)
    assert report.source == "journal" and len(report.deploys) == 3
    lead = report.metric("lead_time")
    assert lead.value == pytest.approx(DAY) and lead.note.endswith("(from release tags)")
