"""ladder.rungs.steps: what every rung's steps share, on a sandbox's hosts."""

from __future__ import annotations

import pytest

from ladder import load_config
from ladder.core.config import DEV, PROD
from ladder.core.errors import FleetError, PathOutside
from ladder.rungs import steps


@pytest.mark.local
def test_config_of_loads_a_path_and_passes_a_config_through(local_sandbox):
    cfg = steps.config_of(local_sandbox.config_path)
    assert cfg.path == load_config(local_sandbox.config_path).path
    assert steps.config_of(cfg) is cfg


@pytest.mark.local
def test_on_hosts_calls_fn_on_each_host_of_the_environment_by_name(local_sandbox):
    cfg = load_config(local_sandbox.config_path)
    assert steps.on_hosts(cfg, PROD, lambda h: h.run("echo $0").ok, deadline=30) == {"prod1": True}
    assert steps.on_hosts(cfg, DEV, lambda h: h.base, deadline=30) == {"dev": str(local_sandbox.dir / "hosts/dev")}


@pytest.mark.local
def test_on_hosts_names_every_host_that_failed(local_sandbox):
    cfg = load_config(local_sandbox.config_path)

    def refuse(host):
        raise RuntimeError(f"no thanks from {host.name}")

    with pytest.raises(FleetError) as err:
        steps.on_hosts(cfg, PROD, refuse, deadline=30)
    assert set(err.value.failed) == {"prod1"} and "no thanks from prod1" in str(err.value)


@pytest.mark.ssh
def test_on_hosts_closes_every_connection_even_when_a_host_fails(ssh_sandbox):
    cfg = load_config(ssh_sandbox.config_path)
    opened = []

    def use(host):
        opened.append(host.connection)
        return host.run("echo hi").stdout.strip()

    assert steps.on_hosts(cfg, PROD, use, deadline=60) == {"prod1": "hi"}

    def use_then_fail(host):
        use(host)
        raise RuntimeError("broke after connecting")

    with pytest.raises(FleetError, match="broke after connecting"):
        steps.on_hosts(cfg, DEV, use_then_fail, deadline=60)
    assert len(opened) == 2 and not any(conn.is_connected for conn in opened)


@pytest.mark.unit
def test_table_has_exactly_the_columns_asked_for_even_without_rows():
    rows = [{"host": "prod1", "ok": True, "extra": "dropped"}, {"host": "prod2"}]
    table = steps.table(rows, ["host", "ok"])
    assert list(table.columns) == ["host", "ok"] and table["host"].tolist() == ["prod1", "prod2"]
    assert list(steps.table([], ["host", "ok"]).columns) == ["host", "ok"]


@pytest.mark.unit
def test_a_table_can_name_its_rows_by_a_column_instead_of_0_1_2():
    table = steps.table([{"host": "prod1", "ok": True}, {"host": "prod2", "ok": False}], ["host", "ok"], index="host")
    assert table.index.tolist() == ["prod1", "prod2"] and list(table.columns) == ["ok"]
    assert ">0<" not in table.to_html()


@pytest.mark.local
def test_run_folder_is_the_runner_s_else_a_new_one_under_runs_dir(local_sandbox, tmp_path):
    cfg = load_config(local_sandbox.config_path)
    assert steps.run_folder(cfg, str(tmp_path / "given")) == tmp_path / "given"
    assert steps.run_folder(cfg, "", "run-42") == cfg.runs_dir / "run-42"
    assert steps.run_folder(cfg).parent == cfg.runs_dir
    assert steps.run_folder(cfg) == steps.run_folder(cfg)  # the run's own folder, made once
    assert steps.run_folder(local_sandbox.config_path, "", "run-7") == cfg.runs_dir / "run-7"


@pytest.mark.unit
def test_a_choice_headless_is_its_parameter_and_says_so():
    choice = steps.choice("Change", {"a": "First", "b": "Second"}, "b", "change", interactive=False)
    assert choice.value == "b" and choice.widget is None
    assert repr(choice) == "Change: Second (parameter change)"
    with pytest.raises(ValueError, match="change='c' is not one of a, b"):
        steps.choice("Change", {"a": "First", "b": "Second"}, "c", "change", interactive=False)


@pytest.mark.unit
def test_a_choice_in_jupyterlab_is_a_menu_whose_value_wins():
    choice = steps.choice("Change", {"a": "First", "b": "Second"}, "a", "change", interactive=True)
    assert choice.widget.options == (("First", "a"), ("Second", "b")) and choice.value == "a"
    choice.widget.value = "b"
    assert choice.value == "b"


@pytest.mark.unit
def test_left_table_and_pairs_are_left_aligned_html_without_an_index():
    table = steps.left_table(steps.table([{"stage": "push", "this run": "<planned>"}], ["stage", "this run"]))
    assert "text-align: left" in table and "&lt;planned&gt;" in table and ">0<" not in table
    assert steps.pairs({"folder": "<x>"}) == (
        "<table><tr><th style='text-align:left'>folder</th><td style='text-align:left'>&lt;x&gt;</td></tr></table>"
    )


@pytest.mark.local
@pytest.mark.parametrize("run_id", ["../../../../tmp/x", "/tmp/x", ".."])
def test_a_run_id_that_leads_out_of_the_runs_home_is_refused(local_sandbox, run_id):
    cfg = load_config(local_sandbox.config_path)
    with pytest.raises(PathOutside, match="run id"):
        steps.run_folder(cfg, run_id=run_id)
    assert steps.run_folder(cfg, run_id="r1") == cfg.runs_dir / "r1"
