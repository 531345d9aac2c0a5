"""Health checks over real HTTP: from here (check) or from the host itself (check_on)."""

from __future__ import annotations

import json
import shlex
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from ..core.errors import HostError
from ..core.hosts import Host

q = shlex.quote


@dataclass(frozen=True)
class HealthResult:
    """What one health check saw: the URL, HTTP status, JSON body or the error."""

    url: str
    ok: bool
    status: int | None = None
    body: dict = field(default_factory=dict)
    error: str = ""
    host: str = ""

    @property
    def version(self) -> str | None:
        """The version the app reports in its health body, if any."""
        value = self.body.get("version") if isinstance(self.body, dict) else None
        return str(value) if value is not None else None

    def to_dict(self) -> dict:
        """A plain dict for tables and the record."""
        return {
            "host": self.host,
            "url": self.url,
            "ok": self.ok,
            "status": self.status,
            "version": self.version,
            "error": self.error,
        }


def parse_body(raw: bytes | str) -> dict:
    """The health body as a dict ({} when it is empty or not a JSON object)."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def check(url: str, timeout: float = 5) -> HealthResult:
    """One GET of a health URL from this machine: ok when it answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return HealthResult(url, resp.status == 200, resp.status, parse_body(resp.read()))
    except urllib.error.HTTPError as exc:
        return HealthResult(url, False, exc.code, parse_body(exc.read()), f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        return HealthResult(url, False, None, {}, str(getattr(exc, "reason", exc)))


def wait(url: str, timeout: float = 20, interval: float = 0.2) -> HealthResult:
    """Poll a health URL until it answers 200 or the timeout passes; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = check(url, timeout=min(5.0, max(0.5, timeout)))
        if result.ok or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


# Runs on the host with its own Python: poll the URL and print one JSON line; no curl needed.
_PROBE = """
import json, sys, time, urllib.request, urllib.error
url, timeout, want = sys.argv[1], float(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + timeout
while True:
    out = {"status": None, "body": "", "error": ""}
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            out.update(status=r.status, body=r.read().decode(errors="replace"))
    except urllib.error.HTTPError as e:
        out.update(status=e.code, body=e.read().decode(errors="replace"), error="HTTP %d" % e.code)
    except Exception as e:
        out["error"] = str(getattr(e, "reason", e))
    good = out["status"] == 200
    if good and want:
        try:
            good = json.loads(out["body"] or "{}").get("version") == want
        except Exception:
            good = False
        if not good:
            out["error"] = "waiting for version " + want
    if good or time.monotonic() >= deadline:
        print(json.dumps(out))
        break
    time.sleep(0.2)
"""


def parse_probe(output: str, url: str, host: str = "") -> HealthResult:
    """Parse the probe's JSON line into a HealthResult."""
    lines = [line for line in output.strip().splitlines() if line.startswith("{")]
    if not lines:
        return HealthResult(url, False, None, {}, f"no answer from the probe: {output.strip()[:200]}", host)
    data = json.loads(lines[-1])
    status = data.get("status")
    return HealthResult(
        url,
        status == 200 and not data.get("error"),
        status,
        parse_body(data.get("body")),
        data.get("error") or "",
        host,
    )


def probe_command(
    port: int, path: str = "/health", *, python: str = "python3", timeout: float = 20, version: str | None = None
) -> tuple[str, str]:
    """The shell that polls the app's health on the host until 200 (and version) or timeout, and the URL it asks."""
    if not path.startswith("/"):
        raise ValueError(f"health path must start with '/', got {path!r}")
    url = f"http://127.0.0.1:{int(port)}{path}"
    return f"{q(python)} -c {q(_PROBE)} {q(url)} {timeout:g} {q(version or '')}", url


def check_on(
    host: Host,
    port: int,
    path: str = "/health",
    *,
    python: str = "python3",
    timeout: float = 20,
    version: str | None = None,
) -> HealthResult:
    """Check the app over HTTP from the host itself, polling until 200 (and `version`, if given) or timeout."""
    cmd, url = probe_command(port, path, python=python, timeout=timeout, version=version)
    result = host.run(cmd, timeout=timeout + 15, warn=True)
    if result.failed:
        raise HostError(f"health probe could not run with {python}: {result.stderr.strip()[-300:]}", host=host.name)
    return parse_probe(result.stdout, url, host.name)
