"""ladder.engine.runbooks: runbooks found on disk, by path, name, slug or rung, with their rung, title and parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.core.errors import RunbookError
from ladder.engine import runbooks

pytestmark = pytest.mark.unit

BOOKS = Path(__file__).parent / "notebooks"


def test_list_runbooks_reads_rung_title_and_parameters():
    books = runbooks.list_runbooks(BOOKS)
    assert [(b.rung, b.name, b.title) for b in books] == [
        ("1", "1-record-changes", "Record changes on every prod host"),
        ("2", "2-fail-on-host", "Fail on one host"),
        ("3", "3-wait", "Wait"),
        ("4", "4-register-secret", "Register a secret"),
        ("5", "5-journaled-anywhere", "A notebook that is journaled wherever it runs"),
        ("6", "6-hold", "Hold"),
    ]
    params = books[0].parameters
    assert (params["attempts"].type_name, params["attempts"].default) == ("int", "2")
    assert params["dry_run"].type_name == "bool" and params["dry_run"].help == "plan only; make no change"


@pytest.mark.parametrize("name", ["1-record-changes", "1-record-changes.ipynb", "record-changes", "1"])
def test_resolve_by_name_slug_or_rung(name):
    assert runbooks.resolve(name, BOOKS).name == "1-record-changes"


def test_resolve_by_path():
    assert runbooks.resolve(str(BOOKS / "2-fail-on-host.ipynb")).rung == "2"


def test_an_unknown_runbook_names_the_ones_there_are():
    with pytest.raises(RunbookError, match="unknown runbook 'nine'.*1-record-changes, 2-fail-on-host"):
        runbooks.resolve("nine", BOOKS)
