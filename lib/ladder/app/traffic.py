"""Requests sent to the app from its own host, with known request ids: to prove where their log lines go."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core.errors import HostError
from ..core.hosts import Host

q = shlex.quote
SEND_TIMEOUT = 60

# Runs on the host with its own Python (no curl needed): one request per path, one JSON line per answer.
_SENDER = """
import json, sys, time, urllib.request, urllib.error
base, headers, sends = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
for path, rid in sends:
    req = urllib.request.Request(base + path, headers=dict(headers, **{"X-Request-Id": rid}))
    at = time.time()
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, echoed = r.status, r.headers.get("X-Request-Id", "")
    except urllib.error.HTTPError as e:
        status, echoed = e.code, e.headers.get("X-Request-Id", "")
    print(json.dumps({"path": path, "request_id": rid, "status": status, "echoed": echoed, "sent_at": at}))
"""


@dataclass(frozen=True)
class Sent:
    """One request sent: its path, the id it carried, the status and id it got back, and when (host's clock)."""

    path: str
    request_id: str
    status: int
    echoed: str
    sent_at: float


def parse_sent(output: str) -> list[Sent]:
    """The sender's JSON lines as Sent records."""
    return [Sent(**json.loads(line)) for line in output.splitlines() if line.startswith("{")]


def send(
    host: Host,
    port: int,
    requests: Sequence[tuple[str, str]],
    *,
    python: str = "python3",
    headers: Mapping[str, str] | None = None,
) -> list[Sent]:
    """GET each (path, request id) from the app on the host's loopback; headers are added to every request."""
    if any(not path.startswith("/") for path, _ in requests):
        raise ValueError("every path must start with '/'")
    base = f"http://127.0.0.1:{int(port)}"
    cmd = (
        f"{q(python)} -c {q(_SENDER)} {q(base)} {q(json.dumps(dict(headers or {})))} "
        f"{q(json.dumps([list(r) for r in requests]))}"
    )
    result = host.run(cmd, timeout=SEND_TIMEOUT, warn=True)
    if result.failed:
        raise HostError(f"could not send requests with {python}: {result.stderr.strip()[-300:]}", host=host.name)
    return parse_sent(result.stdout)
