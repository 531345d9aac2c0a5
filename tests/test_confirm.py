"""Confirmation before changing prod: --apply headless, a one-shot button in JupyterLab."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

from ladder.core.errors import ConfigError, LadderError, RunbookError
from ladder.engine import confirm as cf
from ladder.engine import record, state

pytestmark = pytest.mark.unit


@pytest.fixture
def shell():
    config = Config()
    config.HistoryManager.enabled = False
    sh = InteractiveShell.instance(config=config)
    state.end()
    yield sh
    sh.set_custom_exc((), None)
    InteractiveShell.clear_instance()
    state.end()


@pytest.mark.parametrize(
    "environment, dry_run, prod_confirmed, needed",
    [
        ("prod", False, False, True),
        ("prod", True, False, False),
        ("prod", False, True, False),
        ("dev", False, False, False),
        ("staging", False, False, False),
    ],
)
def test_only_an_unconfirmed_apply_to_prod_needs_confirmation(environment, dry_run, prod_confirmed, needed):
    assert cf.needed(environment, dry_run, prod_confirmed) is needed


def test_dry_runs_headless_apply_and_other_environments_go_on():
    assert cf.confirm("prod", dry_run=True)
    assert cf.confirm("prod", dry_run=False, prod_confirmed=True)
    assert cf.confirm("dev", dry_run=False)


def test_an_unconfirmed_apply_shows_the_button_and_stops(shell):
    with capture_output() as cap, pytest.raises(cf.ConfirmationRequired) as err:
        cf.confirm("prod", dry_run=False)
    assert isinstance(err.value, RunbookError) and err.value.environment == "prod"
    assert "--apply" in str(err.value) and "click" in str(err.value)
    (out,) = cap.outputs
    assert "application/vnd.jupyter.widget-view+json" in out.data


def test_a_click_confirms_one_apply(shell):
    box = cf.button("prod")
    note, btn = box.children
    assert btn.description == "Apply to prod"
    btn.click()
    assert btn.disabled and "Confirmed" in note.value
    assert cf.confirm("prod", dry_run=False)
    with capture_output(), pytest.raises(cf.ConfirmationRequired):
        cf.confirm("prod", dry_run=False)


def test_the_reason_to_go_on_is_shown():
    assert repr(cf.confirm("prod", dry_run=True)) == "may go on with prod: dry run, nothing will change"
    assert "--apply" in repr(cf.confirm("prod", dry_run=False, prod_confirmed=True))
    assert "not a prod" in repr(cf.confirm("dev", dry_run=False))


@pytest.mark.parametrize("environment", ["production", "development", "Prod", " prod"])
def test_an_environment_config_does_not_allow_is_an_error_not_a_pass(environment):
    with pytest.raises(ConfigError, match="use one of dev, staging, prod"):
        cf.confirm(environment, dry_run=False)
    with pytest.raises(ConfigError):
        cf.needed(environment, dry_run=True)


def test_a_click_confirms_only_the_run_that_showed_the_button(shell):
    btn = cf.button("prod").children[1]
    btn.click()
    with capture_output():
        record.record()  # the run ends unapplied
    with capture_output(), pytest.raises(cf.ConfirmationRequired):
        cf.confirm("prod", dry_run=False)  # the next run asks again
    with capture_output():
        record.record()
    btn.click()  # a button left from an ended run
    with capture_output(), pytest.raises(cf.ConfirmationRequired):
        cf.confirm("prod", dry_run=False)


def test_confirm_installs_the_error_hook(shell):
    assert shell.custom_exceptions == ()
    cf.confirm("prod", dry_run=True)
    assert shell.custom_exceptions == (LadderError,)
