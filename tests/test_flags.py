"""ladder.app.flags: a host's flags file parsed, planned and written atomically."""

from __future__ import annotations

import subprocess

import pytest

from ladder.app import flags
from ladder.app.layout import layout_of
from ladder.core.errors import OptionError
from ladder.core.hosts import LocalHost


@pytest.mark.unit
def test_parse_and_render_round_trip_sorted():
    text = flags.render({"zeta": False, "alpha": True})
    assert text == '{\n  "alpha": true,\n  "zeta": false\n}\n'
    assert flags.parse_flags(text) == {"alpha": True, "zeta": False}
    assert flags.parse_output("missing\n") is None
    assert flags.parse_output("present\n" + text) == {"alpha": True, "zeta": False}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "says"),
    [("{", "not JSON"), ("[true]", "JSON object"), ('{"a": "yes"}', "flags a are not"), ('{"Bad Name": true}', "Bad")],
)
def test_parse_names_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        flags.parse_flags(text)


@pytest.mark.unit
def test_names_and_values_are_checked():
    assert flags.check_name("new-home_2") == "new-home_2"
    assert [flags.parse_value(v) for v in ("on", "OFF", "true", False)] == [True, False, True, False]
    for bad in ("", "Upper", "has space", "x;rm -rf /"):
        with pytest.raises(OptionError, match="NAME"):
            flags.check_name(bad)
    with pytest.raises(OptionError, match="VALUE 'maybe': a flag is turned on or off: pass on or off"):
        flags.parse_value("maybe")


@pytest.mark.unit
def test_write_command_quotes_and_renames(tmp_path):
    path = str(tmp_path / "it's" / "flags.json")
    cmd = flags.write_command(path, {"a": True})
    assert cmd.endswith("mv -f -- " + flags.q(path + ".ladder-new") + " " + flags.q(path))
    subprocess.run(["bash", "-c", cmd], check=True, timeout=10)
    assert (tmp_path / "it's" / "flags.json").read_text() == flags.render({"a": True})


@pytest.mark.local
def test_set_plans_then_changes_only_what_differs(tmp_path):
    host = LocalHost("h", tmp_path)
    path = flags.flags_path(layout_of(host))
    assert flags.install(host, {"a": True, "b": False}).outcome == "planned"
    assert flags.get_flags(host) is None
    assert flags.install(host, {"a": True, "b": False}, dry_run=False).outcome == "changed"
    before = (tmp_path / "shared" / "flags.json").read_bytes()
    plan = flags.set_flag(host, "b", True)
    assert (plan.old, plan.new, plan.change.outcome, plan.change.reason) == (False, True, "planned", "b: off -> on")
    assert (tmp_path / "shared" / "flags.json").read_bytes() == before
    assert flags.set_flag(host, "b", True, dry_run=False).change.outcome == "changed"
    assert flags.get_flags(host) == {"a": True, "b": True}
    assert flags.set_flag(host, "b", True, dry_run=False).change.outcome == "ok"
    assert flags.install(host, {"a": False, "c": True}, dry_run=False).reason == "add c=on"  # a keeps its value
    assert flags.get_flags(host) == {"a": True, "b": True, "c": True}
    assert not list((tmp_path / "shared").glob("*.ladder-new")) and path.endswith("shared/flags.json")


@pytest.mark.local
def test_set_everywhere_refuses_an_unknown_flag_before_writing(tmp_path):
    hosts = [LocalHost(n, tmp_path / n) for n in ("p1", "p2")]
    for h in hosts:
        (tmp_path / h.name).mkdir()
    flags.install(hosts[0], {"a": False}, dry_run=False)
    with pytest.raises(OptionError, match="no flag of that name on p2 \\(known: a\\)"):
        flags.set_everywhere(hosts, "a", "on", dry_run=False)
    assert flags.get_flags(hosts[0]) == {"a": False} and flags.get_flags(hosts[1]) is None
    (tmp_path / "p2" / "shared").mkdir()
    (tmp_path / "p2" / "shared" / "flags.json").write_text("{oops")
    with pytest.raises(Exception, match="p2: .*flags.json: not JSON"):
        flags.set_everywhere(hosts, "a", "on")
