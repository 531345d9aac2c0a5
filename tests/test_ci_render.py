"""The text of the team's Buildbot: master.cfg (checked by Buildbot itself) and the post-receive hook."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ladder.app import ci_render
from ladder.app.ci_render import CISetup

SETUP = CISetup("shop", "/srv/git/shop", "master", "dev", "/srv/ci/venv/bin/python", 8010, 9989)


@pytest.mark.unit
def test_master_cfg_names_the_steps_the_workflow_runs():
    text = ci_render.master_cfg(SETUP)
    compile(text, "master.cfg", "exec")
    for needle in ("'lint'", "'test'", repr(ci_render.BUILD_STEP), "'merge trunk'", "'push to trunk'"):
        assert needle in text
    assert "tcp:8010:interface=127.0.0.1" in text and "tcp:9989:interface=127.0.0.1" in text
    assert "change_hook_dialects" in text and "PASSWORD" in text and "secret" not in SETUP.url


@pytest.mark.local
def test_rendered_master_cfg_passes_buildbot_checkconfig(tmp_path):
    (tmp_path / "master.cfg").write_text(ci_render.master_cfg(SETUP))
    (tmp_path / ci_render.SECRET).write_text("not-a-real-password\n")
    buildbot = Path(sys.executable).with_name("buildbot")
    done = subprocess.run([str(buildbot), "checkconfig", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Config file is good" in done.stdout


@pytest.mark.local
def test_post_receive_hook_is_valid_shell_and_quotes_the_repository(tmp_path):
    hook = tmp_path / "post-receive"
    hook.write_text(ci_render.post_receive("http://127.0.0.1:8010/", "/srv/it's here"))
    subprocess.run(["sh", "-n", str(hook)], check=True, timeout=30)
    assert "'repository=/srv/it'\"'\"'s here'" in hook.read_text()


@pytest.mark.local
def test_the_test_step_runs_pytest_in_a_venv_with_the_apps_requirements(tmp_path):
    command = ci_render.test_command("/srv/ci/venv/bin/python")
    subprocess.run(["sh", "-n", "-c", command], check=True, timeout=30)
    for needle in ("-m venv ../venv", "-r $r", "requirements-dev.txt", "../venv/bin/python -m pytest -q"):
        assert needle in command
    # No tests/ folder: nothing is installed, the step says why and passes.
    done = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "rung 2 adds tests" in done.stdout and not (tmp_path.parent / "venv").exists()


PIPELINE = ci_render.Pipeline(("/opt/ladder/bin/ladder",), (("LADDER_CONFIG", "/etc/ladder/ladder.yml"),), "auto")


@pytest.mark.unit
def test_the_pipeline_chains_build_staging_smoke_and_prod_on_trunk_only():
    auto = ci_render.master_cfg(replace(SETUP, pipeline=PIPELINE))
    compile(auto, "master.cfg", "exec")
    trunk, review = auto.split("review = util.BuildFactory")
    order = ["'build artifact'", "'version'", "'coverage gate'", "'migrate staging'", "'deploy staging'",
             "'smoke staging'", "'load staging'", "'ship: auto'", "'migrate prod'", "'deploy prod'"]  # fmt: skip
    assert [trunk.index(n) for n in order] == sorted(trunk.index(n) for n in order)
    assert "'deploy prod'" not in review and "'smoke staging'" not in review  # reviews never deploy
    # Trunk's tests run under coverage.py for the ratchet; a review's run plain pytest.
    assert "coverage run" in trunk and "coverage json" in trunk and "coverage run" not in review
    assert "'gate', 'load', '--env', 'staging'" in trunk and "'--duration', '10'" in trunk
    assert "'LADDER_CONFIG': '/etc/ladder/ladder.yml'" in trunk and "%(prop:version)s" in trunk
    gate = ci_render.master_cfg(replace(SETUP, pipeline=replace(PIPELINE, ship="gate")))
    assert "'wait for approval'" in gate and "'ship: auto'" not in gate and "'--wait', '3600'" in gate
    with pytest.raises(ValueError, match="ship"):
        ci_render.pipeline_steps(replace(PIPELINE, ship="sometimes"))


@pytest.mark.local
def test_the_gated_pipeline_passes_buildbot_checkconfig(tmp_path):
    gated = replace(PIPELINE, ship="gate")
    (tmp_path / "master.cfg").write_text(ci_render.master_cfg(replace(SETUP, pipeline=gated)))
    (tmp_path / ci_render.SECRET).write_text("not-a-real-password\n")
    buildbot = Path(sys.executable).with_name("buildbot")
    done = subprocess.run([str(buildbot), "checkconfig", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


CANARY = replace(PIPELINE, canary=(("interval", "10"), ("steps", "[10, 50]")))


@pytest.mark.unit
def test_with_a_canary_prods_stage_is_the_canary_runbook_failing_the_build_on_a_rollback():
    trunk = ci_render.master_cfg(replace(SETUP, pipeline=CANARY)).split("review = util.BuildFactory")[0]
    assert "'deploy prod'" not in trunk and trunk.index("'migrate prod'") < trunk.index("'canary prod'")
    run = "'run', '5a-canary-release', '--apply', '--config', '/etc/ladder/ladder.yml', '-p', 'version', "
    run += "util.Interpolate('%(prop:version)s')"
    assert run in trunk and "'-p', 'fail_on_rollback', 'true'" in trunk
    assert (
        "'-p', 'interval', '10', '-p', 'steps', '[10, 50]'" in trunk
        and "util.Interpolate('%(prop:approver)s')" in trunk
    )


@pytest.mark.unit
def test_the_pipeline_is_read_back_whole_from_the_master_cfg_ladder_wrote():
    for pipeline in (PIPELINE, CANARY, replace(CANARY, ship="gate", load_users=7)):
        assert ci_render.pipeline_of(ci_render.master_cfg(replace(SETUP, pipeline=pipeline))) == pipeline
    assert ci_render.pipeline_of(ci_render.master_cfg(SETUP)) is None  # rung 3b's CI: no pipeline yet
    assert ci_render.pipeline_of("") is None


@pytest.mark.local
def test_the_pipeline_with_a_canary_passes_buildbot_checkconfig(tmp_path):
    (tmp_path / "master.cfg").write_text(ci_render.master_cfg(replace(SETUP, pipeline=CANARY)))
    (tmp_path / ci_render.SECRET).write_text("not-a-real-password\n")
    buildbot = Path(sys.executable).with_name("buildbot")
    done = subprocess.run([str(buildbot), "checkconfig", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
