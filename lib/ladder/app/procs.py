"""A process as /proc shows it, and what its command line says: which server, which config, which supervisord."""

from __future__ import annotations

import base64
import posixpath
from dataclasses import dataclass

# gunicorn options that take no value, so the word after them may be the app.
GUNICORN_FLAGS = frozenset(
    {"-D", "--daemon", "--reload", "--preload", "-R", "--enable-stdio-inheritance", "--capture-output", "--spew"}
)
UWSGI_CONFIG_OPTIONS = ("--ini", "--yaml", "--yml", "--json", "--xml")


@dataclass(frozen=True)
class Proc:
    """One process: pid, parent, executable, working folder, argv and cgroup lines."""

    pid: int
    ppid: int
    exe: str
    cwd: str
    argv: tuple[str, ...]
    cgroup: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        """The basenames of argv's first two words (a script run by an interpreter is the second)."""
        return tuple(posixpath.basename(a) for a in self.argv[:2])

    @property
    def python(self) -> str | None:
        """The interpreter running this process when it is a Python program (argv[0] names python)."""
        first = self.argv[0] if self.argv else ""
        return first if posixpath.basename(first).startswith("python") else None

    @property
    def is_supervisord(self) -> bool:
        """True for supervisord, run as a script or as `python -m supervisor.supervisord`."""
        return "supervisord" in self.words or "supervisor.supervisord" in self.argv[:3]

    @property
    def is_emperor(self) -> bool:
        """True for a uWSGI emperor (which starts vassals rather than serving)."""
        return (
            "--emperor" in self.argv
            or any(a.startswith("--emperor=") for a in self.argv)
            or (bool(self.argv) and self.argv[0].startswith("uWSGI Emperor"))
        )

    @property
    def systemd_unit(self) -> str | None:
        """The innermost `*.service` of the process's cgroup path, when systemd started it."""
        for line in self.cgroup:
            parts = line.split(":", 2)
            if len(parts) == 3 and parts[1] in ("", "name=systemd"):
                units = [p for p in parts[2].split("/") if p.endswith(".service")]
                if units:
                    return units[-1]
        return None


def _decode(text: str) -> str:
    try:
        return base64.b64decode(text).decode(errors="replace")
    except ValueError:
        return ""


def parse_chain(output: str) -> list[Proc]:
    """Parse the chain command's blocks ('== pid', then stat/exe/cwd/cmdline/cgroup lines) into Procs."""
    procs = []
    for block in output.split("== ")[1:]:
        lines = block.splitlines()
        fields = {k: v for k, _, v in (line.partition(" ") for line in lines[1:])}
        try:
            ppid = int(fields.get("stat", "").rsplit(")", 1)[1].split()[1])
        except (IndexError, ValueError):
            continue
        argv = tuple(a for a in _decode(fields.get("cmdline", "")).split("\0") if a)
        cgroup = tuple(line for line in _decode(fields.get("cgroup", "")).splitlines() if line)
        procs.append(Proc(int(lines[0]), ppid, fields.get("exe", ""), fields.get("cwd", ""), argv, cgroup))
    return procs


def kind_of(proc: Proc) -> str:
    """uwsgi, gunicorn or unknown, from the command line (also as renamed by procname or setproctitle)."""
    first = proc.argv[0] if proc.argv else ""
    words = proc.words
    if (
        first.startswith("uWSGI")
        or any(w.startswith(("uwsgi", "pyuwsgi")) for w in words)
        or "pyuwsgi" in proc.argv[:3]
    ):
        return "uwsgi"
    if posixpath.basename(proc.exe).startswith("uwsgi"):
        return "uwsgi"
    # gunicorn's USR2 re-exec runs `python .../site-packages/gunicorn/__main__.py`.
    main = any(a.endswith("/gunicorn/__main__.py") for a in proc.argv[:2])
    if first.startswith("gunicorn:") or "gunicorn" in words or "gunicorn" in proc.argv[:3] or main:
        return "gunicorn"
    return "unknown"


def option(argv: tuple[str, ...], name: str) -> str | None:
    """The value of --name in argv ('--name value' or '--name=value'); the last one wins."""
    found = None
    flag = f"--{name}"
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith(flag + "="):
            found = arg[len(flag) + 1 :]
    return found


def absolute(path: str, cwd: str) -> str:
    return path if path.startswith("/") or not cwd else posixpath.normpath(posixpath.join(cwd, path))


def config_file(proc: Proc, kind: str) -> str | None:
    """The server's config file from its command line, made absolute against its working folder."""
    argv = proc.argv
    if kind == "uwsgi":
        for opt in UWSGI_CONFIG_OPTIONS:
            value = option(argv, opt[2:])
            if value:
                return absolute(value.split(":", 1)[0], proc.cwd)
        # `uwsgi app.ini`: a lone argument is a config file.
        lone = [a for a in argv[1:] if a.endswith((".ini", ".yaml", ".yml", ".json", ".xml"))]
        return absolute(lone[0], proc.cwd) if lone else None
    value = option(argv, "config")
    start = 2 if proc.python else 1  # `python -c` is not gunicorn's -c
    for i in range(start, len(argv) - 1):
        if argv[i] == "-c":
            value = argv[i + 1]
    return absolute(value, proc.cwd) if value else None


def gunicorn_app(argv: tuple[str, ...]) -> str | None:
    """gunicorn's app ('module:callable'): its last argument, when that is no option's value."""
    if argv and argv[-1].endswith("]") and "[" in argv[-1]:  # renamed by setproctitle: 'gunicorn: master [app]'
        return argv[-1].rsplit("[", 1)[1][:-1]
    if len(argv) < 2 or argv[-1].startswith("-"):
        return None
    before = argv[-2]
    if before.startswith("-") and "=" not in before and before not in GUNICORN_FLAGS:
        return None
    return argv[-1]


def supervisorctl_argv(supervisord: Proc) -> list[str]:
    """The supervisorctl that talks to this supervisord: beside it (or its module), with its config."""
    argv = list(supervisord.argv)
    if "supervisor.supervisord" in argv[:3]:
        ctl = [argv[0], "-m", "supervisor.supervisorctl"]
    else:
        script = next((a for a in argv[:2] if posixpath.basename(a) == "supervisord"), "supervisord")
        sibling = posixpath.join(posixpath.dirname(script), "supervisorctl") if "/" in script else "supervisorctl"
        ctl = [sibling]
    conf = option(supervisord.argv, "configuration")
    for i, arg in enumerate(argv):
        if arg == "-c" and i + 1 < len(argv):
            conf = argv[i + 1]
    return ctl + (["-c", absolute(conf, supervisord.cwd)] if conf else [])
