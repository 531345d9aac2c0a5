"""The kernel of a headless run: a kernelspec for this interpreter, a manager per run, output kept in memory."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

# Loaded into each kernel the runner starts: the run begins there with the error hook installed.
KERNEL_EXTENSION = "ladder.engine.record"
# The terminal (a path like /dev/pts/3) where a kernel draws progress bars; set only when the runner's stderr is one.
PROGRESS_TTY_VAR = "LADDER_PROGRESS_TTY"
MAX_SOCKET_PATH = 100  # sun_path holds 107 bytes; zmq appends "-N" per channel


def kernel_name() -> str:
    """A kernelspec that runs this interpreter, installing one into sys.prefix if needed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    # jupyter_client runs a spec whose argv[0] is 'python' / 'python3' / 'python3.X' with sys.executable.
    same = {"python", f"python{sys.version_info[0]}", "python%d.%d" % sys.version_info[:2], sys.executable}
    try:
        if ksm.get_kernel_spec("python3").argv[0] in same:
            return "python3"
    except NoSuchKernel:
        pass
    import hashlib
    import tempfile

    name = "ladder-" + hashlib.sha1(sys.executable.encode()).hexdigest()[:10]
    if name not in ksm.find_kernel_specs():
        with tempfile.TemporaryDirectory() as tmp:
            spec = {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": f"Python {sys.version_info[0]}.{sys.version_info[1]} (ladder)",
                "language": "python",
            }
            Path(tmp, "kernel.json").write_text(json.dumps(spec))
            ksm.install_kernel_spec(tmp, name, prefix=sys.prefix)
    return name


class MemoryIO:
    """A papermill I/O handler for one run: it keeps the run's notebook in memory, so nothing unredacted reaches disk."""

    def __init__(self, run_id: str) -> None:
        self.scheme = f"ladder-memory://{run_id}/"
        self.store: dict[str, str] = {}

    def read(self, path: str) -> str:
        return self.store[path]

    def write(self, buf: str, path: str) -> None:
        self.store[path] = buf

    def listdir(self, path: str) -> list[str]:
        return [p for p in self.store if p.startswith(path)]

    def pretty_path(self, path: str) -> str:
        return path

    def take(self, path: str) -> Any:
        import nbformat

        buf = self.store.pop(path, None)
        return None if buf is None else nbformat.reads(buf, as_version=4)


@contextlib.contextmanager
def in_memory(run_id: str) -> Iterator[MemoryIO]:
    """A memory handler registered with papermill for one run; afterwards it is emptied and removed."""
    from papermill.iorw import papermill_io

    io = MemoryIO(run_id)
    papermill_io.register(io.scheme, io)
    try:
        yield io
    finally:
        io.store.clear()
        # papermill offers no way to unregister: remove ours, or handlers would pile up run after run.
        with contextlib.suppress(ValueError):
            papermill_io._handlers.remove((io.scheme, io))


def socket_path(runtime: str, name: str) -> str:
    """The kernel's Unix socket path prefix: in Jupyter's runtime folder, or a private temp folder when that is too deep.

    A socket path holds 107 bytes and zmq appends "-N": a deep $HOME (a CI job's, a test's) overflowed it.
    """
    path = os.path.join(runtime, f"ladder-{name}-ipc")
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        os.makedirs(runtime, exist_ok=True)
        return path
    return os.path.join(tempfile.mkdtemp(prefix="ladder-kernel-"), "ipc")


def kernel_manager_class(env: Mapping[str, str]) -> type:
    """A kernel manager for one run: Unix sockets, the run's environment, and the run begun in the kernel."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir

    class RunKernelManager(AsyncKernelManager):
        """Talk to the kernel over Unix sockets rather than open TCP ports on localhost."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"
            # Left to default, the socket files are ./kernel-ipc-N: two runs started from one folder would
            # pick the same files and talk to each other's kernel. A name of its own keeps each run apart.
            self.ip = socket_path(jupyter_runtime_dir(), uuid.uuid4().hex)

        # jupyter_client types AsyncKernelManager.start_kernel as KernelManager's synchronous one.
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            # Only this kernel gets env (a restart reuses it): concurrent runs in one process stay apart.
            kw["env"] = {**(kw.get("env") or os.environ), **env}
            kw["extra_arguments"] = [
                *kw.get("extra_arguments", []),
                f"--IPKernelApp.extra_extensions={KERNEL_EXTENSION}",
            ]
            await super().start_kernel(**kw)

    return RunKernelManager


def start(env: Mapping[str, str], cwd: str) -> Any:
    """The run's kernel, started now: it boots while the runner loads papermill and the notebook, then papermill uses it."""
    from jupyter_core.utils import run_sync

    if sys.stderr is not None and sys.stderr.isatty():
        env = {**env, PROGRESS_TTY_VAR: os.ttyname(sys.stderr.fileno())}
    km = kernel_manager_class(env)(kernel_name=kernel_name())
    run_sync(km.start_kernel)(cwd=cwd)
    return km


def stop(km: Any) -> None:
    """Kill the run's kernel if it still runs (papermill leaves a kernel it did not start running)."""
    from jupyter_core.utils import run_sync

    if km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)
