"""A page of the app fetched over real HTTP from its own host, where the app listens on loopback."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from ..core.errors import HostError
from ..core.hosts import Host

q = shlex.quote
MAX_BODY = 65536  # bytes of a page kept; a page a person reads is far smaller

# Runs on the host with its own Python: GET the URL until the app answers (any HTTP status) and, when
# `want` is given, until the body holds it; print one JSON line. No curl needed on the host.
_FETCH = """
import json, sys, time, urllib.request, urllib.error
url, timeout, want, limit = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
deadline = time.monotonic() + timeout
while True:
    out = {"status": None, "body": "", "error": ""}
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            out.update(status=r.status, body=r.read(limit).decode(errors="replace"))
    except urllib.error.HTTPError as e:
        out.update(status=e.code, body=e.read(limit).decode(errors="replace"))
    except Exception as e:
        out["error"] = str(getattr(e, "reason", e))
    done = out["status"] is not None and (not want or want in out["body"])
    if done or time.monotonic() >= deadline:
        if out["status"] is not None and not done:
            out["error"] = "the page does not show %r yet" % want
        print(json.dumps(out))
        break
    time.sleep(0.2)
"""


@dataclass(frozen=True)
class Page:
    """What one GET saw: the URL, the HTTP status (None when nothing answered), the body or the error."""

    url: str
    status: int | None
    body: str = ""
    error: str = ""
    host: str = ""

    @property
    def answered(self) -> bool:
        """True when the app answered with any HTTP status."""
        return self.status is not None

    def excerpt(self, *needles: str, width: int = 160) -> str:
        """The first line of the body holding one of needles (else its first line), cut to width characters."""
        lines = [line.strip() for line in self.body.splitlines() if line.strip()]
        found = next((line for line in lines if any(n and n in line for n in needles)), lines[0] if lines else "")
        return found if len(found) <= width else found[: width - 1] + "…"


def parse_fetch(output: str, url: str, host: str = "") -> Page:
    """Parse the fetch script's JSON line into a Page."""
    lines = [line for line in output.strip().splitlines() if line.startswith("{")]
    if not lines:
        return Page(url, None, "", f"no answer from the fetch script: {output.strip()[:200]}", host)
    data = json.loads(lines[-1])
    return Page(url, data.get("status"), data.get("body") or "", data.get("error") or "", host)


def fetch_on(
    host: Host, port: int, path: str = "/", *, python: str = "python3", want: str = "", timeout: float = 20
) -> Page:
    """GET path from the app on the host itself, polling until it answers (and shows `want`, if given) or timeout."""
    if not path.startswith("/"):
        raise ValueError(f"a page path must start with '/', got {path!r}")
    url = f"http://127.0.0.1:{int(port)}{path}"
    cmd = f"{q(python)} -c {q(_FETCH)} {q(url)} {timeout:g} {q(want)} {MAX_BODY}"
    result = host.run(cmd, timeout=timeout + 15, warn=True)
    if result.failed:
        raise HostError(f"the page fetch could not run with {python}: {result.stderr.strip()[-300:]}", host=host.name)
    return parse_fetch(result.stdout, url, host.name)
