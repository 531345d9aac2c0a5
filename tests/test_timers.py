"""ladder.engine.timers: systemd user timer and service files, rendered.

No test here starts them: this machine and CI run no systemd user manager (`systemctl --user` fails
with "Failed to connect to bus"), so installing, listing and removing a timer is not exercised.
"""

from __future__ import annotations

import pytest

from ladder.engine import timers
from ladder.engine.interval import parse_every
from scheduling import example

pytestmark = pytest.mark.unit


def sections(text: str) -> dict[str, list[str]]:
    """A unit file's lines by section (the marker comment is under '')."""
    found: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
            found[current] = []
        elif line:
            found[current].append(line)
    return found


def test_a_timer_runs_on_the_clock_as_cron_would_and_catches_up_after_downtime(monkeypatch):
    files = timers.render(example(every=parse_every("6h")))
    assert sorted(files) == ["ladder-1-separate-dev-and-prod.service", "ladder-1-separate-dev-and-prod.timer"]
    timer = sections(files["ladder-1-separate-dev-and-prod.timer"])
    assert timer[""] == ["# ladder-schedule name=1-separate-dev-and-prod every=6h"]
    (calendar, persistent) = timer["Timer"]
    assert calendar.startswith("OnCalendar=*-*-* ") and calendar.split()[1].split(":")[0].endswith("/6")
    assert persistent == "Persistent=true" and timer["Install"] == ["WantedBy=timers.target"]


def test_an_interval_cron_cant_say_becomes_a_monotonic_timer():
    timer = sections(timers.render(example(every=parse_every("90m")))["ladder-1-separate-dev-and-prod.timer"])
    assert timer["Timer"] == ["OnActiveSec=5400", "OnUnitActiveSec=5400"]


def test_the_service_runs_ladder_once_with_its_environment_and_appends_to_the_log(monkeypatch):
    monkeypatch.setenv("LADDER_HOME", "/srv/ladder-home")
    service = sections(timers.render(example(apply=True))["ladder-1-separate-dev-and-prod.service"])
    assert service[""] == ["# ladder-schedule name=1-separate-dev-and-prod every=1h"]
    assert service["Service"] == [
        "Type=oneshot",
        'Environment="LADDER_HOME=/srv/ladder-home" '
        '"PATH=/opt/ladder/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
        'ExecStart="/opt/ladder/bin/ladder" "run" "/srv/team/runbooks/1-separate-dev-and-prod.ipynb" "--scheduled" '
        '"--config" "/srv/team/ladder.yml" "-p" "ref" "v1.2" "--apply"',
        "StandardOutput=append:/srv/team/runs/schedule/1-separate-dev-and-prod.log",
        "StandardError=inherit",
    ]


def test_systemd_specifiers_quotes_and_variables_stay_literal():
    assert timers.quote('50% of "$HOME" \\ x') == '"50%% of \\"$$HOME\\" \\\\ x"'
    service = timers.render(example(params=(("note", "100%"),)))["ladder-1-separate-dev-and-prod.service"]
    assert '"note" "100%%"' in service


def test_a_unit_name_escapes_what_systemd_does_not_allow():
    assert timers.unit_name("1-separate-dev-and-prod") == "ladder-1-separate-dev-and-prod"
    assert timers.unit_name("my book/é") == "ladder-my\\x20book\\x2f\\xc3\\xa9"


def test_units_go_in_the_users_config_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert timers.unit_dir() == tmp_path / "systemd" / "user"
