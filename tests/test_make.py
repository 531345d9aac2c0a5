"""The Makefile's commands a newcomer types: `make lab` opens JupyterLab, as root too (CI, containers)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from ladder.sandbox.sshd import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def test_make_lab_starts_jupyterlab_whoever_runs_it(tmp_path):
    port = free_port()
    args = f"--no-browser --ServerApp.port={port} --ServerApp.token= --ServerApp.root_dir={tmp_path}"
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_ARGS={args}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )
    try:
        deadline = time.monotonic() + 90  # a bound on waiting for the server, not a timing assertion
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-1500:] if proc.stderr else "make lab exited"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2) as page:
                    assert page.status == 200 and b"JupyterLab" in page.read()
                    break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab never answered"
                time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
