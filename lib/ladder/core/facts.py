"""Read-only facts about a host: get_x(host) runs one command, parse_x(output) is pure."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from .hosts import Host

_KINDS = {"regular file": "file", "regular empty file": "file", "directory": "directory", "symbolic link": "link"}


@dataclass(frozen=True)
class PathInfo:
    """What is at a path: its kind, mode, link target and (for files) content hash."""

    kind: str
    mode: int
    target: str | None = None
    sha256: str | None = None

    @property
    def is_file(self) -> bool:
        """True for a regular file."""
        return self.kind == "file"

    @property
    def is_directory(self) -> bool:
        """True for a directory (not a link to one)."""
        return self.kind == "directory"

    @property
    def is_link(self) -> bool:
        """True for a symbolic link."""
        return self.kind == "link"


def parse_path(output: str) -> PathInfo | None:
    """Parse the output of get_path's command; None when nothing is there."""
    lines = output.strip().splitlines()
    if not lines or lines[0] == "missing":
        return None
    kind, mode = lines[0].rsplit("|", 1)
    extra = dict(line.partition(":")[::2] for line in lines[1:])
    return PathInfo(_KINDS.get(kind, "other"), int(mode, 8), extra.get("target"), extra.get("sha256"))


def get_path(host: Host, path: str, timeout: float | None = None) -> PathInfo | None:
    """What is at a path on the host, without following a final symlink."""
    p = shlex.quote(path)
    cmd = (
        f"if [ -L {p} ] || [ -e {p} ]; then stat -c '%F|%a' -- {p}; "
        f"if [ -L {p} ]; then printf 'target:%s\\n' \"$(readlink -- {p})\"; "
        f"elif [ -f {p} ]; then printf 'sha256:%s\\n' \"$(sha256sum -- {p} | cut -d' ' -f1)\"; fi; "
        "else echo missing; fi"
    )
    return parse_path(host.run(cmd, timeout=timeout).stdout)


def has_line(text: str, line: str) -> bool:
    """True when text holds line as a whole line."""
    return line in text.splitlines()


def parse_os_release(output: str) -> dict[str, str]:
    """Parse /etc/os-release into a dict (quotes removed)."""
    out = {}
    for raw in output.splitlines():
        key, sep, value = raw.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def get_os_release(host: Host) -> dict[str, str]:
    """The host's operating system, from /etc/os-release."""
    return parse_os_release(host.run("cat /etc/os-release", warn=True).stdout)
