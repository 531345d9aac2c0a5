"""Builds read from the CI server, journaled once each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ladder.app import ci_server
from ladder.engine import journal
from ladder.rungs import ci_builds

RECORDED = Path(__file__).parent / "ci"


@pytest.mark.local
def test_builds_journaled_once_however_often_they_are_read(tmp_path):
    answers = json.loads((RECORDED / "rest.json").read_text())
    builds = ci_server.parse_builds(answers["builders"], answers["builds"], answers["changes"])
    path = journal.journal_path(tmp_path)
    assert ci_builds.record(path, builds) == 2
    assert ci_builds.record(path, builds) == 0
    rows = journal.history(path, kind=journal.BUILD)
    assert [(r["id"], r["status"]) for r in rows] == [("build-ci-1", "ok"), ("build-ci-2", "failed")]
    for row, b in zip(rows, builds, strict=True):
        assert row["started"] == b.pushed.isoformat(timespec="milliseconds")
        assert row["ended"] == b.complete.isoformat(timespec="milliseconds")
        assert row["summary"]["revision"] == b.revision
