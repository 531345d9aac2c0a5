"""Import a release's WSGI callable as its running server would, before any switch: a release that cannot load
is refused while the old code still serves.

A server cannot always keep its old code when the new code fails to import: gunicorn's master halts when a
HUP's new workers fail to boot ("Worker failed to boot"), and uWSGI's new workers come up with no app. So the
check runs first, in a process of its own with the master's environment and working folder (read from /proc),
and changes nothing.
"""

from __future__ import annotations

import shlex

from ..core.errors import HostError
from ..core.hosts import Host

q = shlex.quote
OUTPUT_LINES = 20
IMPORT_TIMEOUT = 60.0

# Run by the server's own interpreter on the host: argv is master pid (or ""), site folder, module, attribute.
CHECK_CODE = """
import importlib, os, sys, traceback
pid, site, module, attr = sys.argv[1:5]
if pid:
    try:
        raw = open(f"/proc/{pid}/environ", "rb").read()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        pass
    else:
        os.environ.clear()
        os.environ.update(kv.decode(errors="replace").split("=", 1) for kv in raw.split(b"\\0") if b"=" in kv)
        os.chdir(cwd)
sys.path.insert(0, site)
try:
    obj = importlib.import_module(module)
    for name in attr.split("."):
        obj = getattr(obj, name)
except BaseException as exc:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename[:1] != "<" and "importlib" not in f.filename]
    where = "".join(traceback.format_list(frames[-3:]))
    sys.exit(where + "".join(traceback.format_exception_only(type(exc), exc)).strip())
if not callable(obj):
    sys.exit(f"{module}:{attr} is not callable")
print("loaded", module + ":" + attr)
"""


def split_wsgi(wsgi: str) -> tuple[str, str]:
    """Module and attribute of a `module:attr` WSGI name (attr defaults to `application`, as uWSGI's)."""
    module, _, attr = wsgi.partition(":")
    return module, attr or "application"


def command(python: str, site: str, wsgi: str, pid: int | None = None, *, pid_from: str | None = None) -> str:
    """Shell that imports `wsgi` from `site` with the master's environment; prints the error's last lines if not.

    The master is `pid`, or what the shell `pid_from` prints when the command runs (nothing: this shell's own).
    """
    module, attr = split_wsgi(wsgi)
    master = f'"$( {pid_from} 2>/dev/null )"' if pid_from else q(str(int(pid)) if pid else "")
    args = " ".join([master, *(q(a) for a in (site, module, attr))])
    return (
        f"out=$({q(python)} -c {q(CHECK_CODE)} {args} 2>&1) || "
        f'{{ printf "%s\\n" "$out" | tail -n {OUTPUT_LINES}; exit 1; }}; printf "%s\\n" "$out" | tail -n 1'
    )


def check(host: Host, python: str, site: str, wsgi: str, pid: int | None = None) -> None:
    """Raise HostError with the import's last output lines when the app in `site` does not load."""
    result = host.run(command(python, site, wsgi, pid), timeout=IMPORT_TIMEOUT, warn=True)
    if result.failed:
        raise HostError(
            f"{wsgi} from {site} does not load: {(result.stdout + result.stderr).strip()[-1500:]}", host=host.name
        )
