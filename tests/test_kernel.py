"""The kernel of a headless run: its kernelspec, and papermill I/O kept in memory for one run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from papermill.iorw import papermill_io

from ladder.engine import kernel

pytestmark = pytest.mark.unit


def test_the_kernel_runs_this_interpreter():
    name = kernel.kernel_name()
    spec = KernelSpecManager().get_kernel_spec(name)
    assert spec.argv[0] in ("python", "python3", sys.executable) and spec.language == "python"


def test_a_runs_notebook_stays_in_memory_and_goes_with_the_run():
    with kernel.in_memory("run-1") as memory:
        url = f"{memory.scheme}runbook.ipynb"
        papermill_io.write("{}", url)
        assert papermill_io.read(url) == "{}" and memory.store == {url: "{}"}
    assert memory.store == {}
    assert not isinstance(papermill_io.get_handler(url), kernel.MemoryIO)


def test_runs_at_the_same_time_keep_their_notebooks_apart():
    with kernel.in_memory("run-1") as one, kernel.in_memory("run-10") as other:
        papermill_io.write("one", f"{one.scheme}runbook.ipynb")
        papermill_io.write("other", f"{other.scheme}runbook.ipynb")
        assert list(one.store.values()) == ["one"] and list(other.store.values()) == ["other"]


def test_a_failed_run_still_removes_its_handler():
    with pytest.raises(RuntimeError), kernel.in_memory("run-2") as memory:
        papermill_io.write("{}", f"{memory.scheme}runbook.ipynb")
        raise RuntimeError("the kernel died")
    assert memory.store == {}
    assert not isinstance(papermill_io.get_handler(f"{memory.scheme}runbook.ipynb"), kernel.MemoryIO)


def test_a_socket_path_too_long_for_unix_goes_to_a_private_temp_folder(tmp_path):
    short = kernel.socket_path(str(tmp_path / "rt"), "ab12")
    assert short == str(tmp_path / "rt" / "ladder-ab12-ipc") and (tmp_path / "rt").is_dir()
    deep = tmp_path / ("x" * 120)
    moved = kernel.socket_path(str(deep), "ab12")
    assert len(moved.encode()) <= kernel.MAX_SOCKET_PATH and not deep.exists()
    folder = Path(moved).parent
    assert folder.stat().st_mode & 0o777 == 0o700  # mkdtemp's: only this user reaches the sockets
    folder.rmdir()
