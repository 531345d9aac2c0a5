"""ladder.rungs.release_report: the releases table per prod host and the per-host switch-time chart."""

import pytest

from ladder.app.release import Release, Releases
from ladder.core.errors import ParameterError
from ladder.core.ops import Change
from ladder.rungs import rung3a
from ladder.rungs.release_report import ReleaseReport


def report() -> ReleaseReport:
    kept = Releases((Release("0.1.0", True, 100), Release("0.1.1", True, 200)), "0.1.1")
    moved = rung3a.HostSwitch(
        Change("prod1", "switch", "current", ("ln",), True, True), None, 7.52, "restart", drained="drained"
    )
    reloaded = rung3a.HostSwitch(Change("prod2", "switch", "current", ("ln",), True, True), "0.1.0", 0.81, "hup")
    return ReleaseReport("0.1.1", {"prod2": kept, "prod1": kept}, {"prod1": moved, "prod2": reloaded}, 5)


@pytest.mark.unit
def test_the_table_has_a_row_per_host_with_its_releases_and_switch():
    frame = report().table()
    assert list(frame["host"]) == ["prod1", "prod2"]
    assert frame.iloc[0].to_dict() == {
        "host": "prod1",
        "current": "0.1.1",
        "releases kept": "0.1.0, 0.1.1",
        "previous": "checkout",
        "switch": "changed",
        "how": "restart",
        "seconds": 7.52,
        "users during a restart": "drained",
    }
    assert report().summary() == "2 of 2 prod host(s) on 0.1.1; up to 5 release(s) kept on each for rollback"


@pytest.mark.unit
def test_the_html_marks_the_current_version_and_the_chart_has_a_bar_per_host():
    shown = report()._repr_html_()
    assert "background-color: #c8e6c9" in shown and "7.52" in shown
    ax = report().chart().figure.axes[0]
    assert [p.get_width() for p in ax.patches] == [7.52, 0.81]


@pytest.mark.unit
@pytest.mark.parametrize("keep", [0, -2])
def test_the_runbook_refuses_keep_releases_below_one_before_reading_the_config(keep):
    with pytest.raises(ParameterError, match="keep_releases must be an integer of at least 1"):
        rung3a.begin("no-such-config.yml", "HEAD", keep)
