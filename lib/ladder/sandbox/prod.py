"""The sandbox's prod as the story has it: a git checkout edited in place, with its own venv, served as a team would."""

from __future__ import annotations

import secrets
import shlex
import sys
from importlib import metadata
from pathlib import Path

from ..app.devenv import PIP_TIMEOUT, VENV_TIMEOUT
from ..app.layout import Layout, layout_of
from ..core.hosts import Host
from . import balancer as lb
from .servers import Serving, serve

q = shlex.quote


def legacy_prod(host: Host, origin: Path, entry: dict, serving: Serving, program: str) -> None:
    """Prod as the story has it: a git checkout, edited in place, served by gunicorn or uWSGI (staging: unedited)."""
    env = lb.STAGING if entry["name"] == lb.STAGING else "prod"
    lay = layout_of(host)
    host.run(f"git clone -q {q(str(origin))} {q(lay.app)} && mkdir -p {q(lay.data)} {q(lay.logs)}")
    prod_venv(host, lay, ["pyuwsgi==" + metadata.version("pyuwsgi")] if serving.server == "uwsgi" else [])
    host.write_text(
        lay.env_file,
        "\n".join(
            [
                f"APP_ENV={env}",
                f"APP_DB_PATH={lay.data}/app.db",
                f"APP_LOG_FILE={lay.logs}/app.log",
                f"APP_SECRET_KEY={secrets.token_hex(16)}",
                f"PROMETHEUS_MULTIPROC_DIR={lay.metrics}",
                "",
            ]
        ),
        mode=0o600,
    )
    # The edit made in vim on the server, never committed; and the backup vim's user left behind.
    if env == "prod":
        host.run(
            "cp app.py app.py.bak && printf '\\n# HOTFIX (edited on prod): allow bigger pages\\nMAX_PAGE = 500\\n' >> app.py",
            cwd=lay.app,
        )
    serve(
        host,
        lay,
        python=entry["python"],
        port=entry["app_port"],
        wsgi="app:application",
        program=program,
        serving=serving,
    )


def prod_venv(host: Host, lay: Layout, extra: list[str]) -> None:
    """Prod's own environment: a plain venv with only the app's requirements (and the app server, when extra).

    Made without pip and filled by Ladder's pip (`pip --python`) from the local index and cache:
    ensurepip would add pip and setuptools, about ten times the cost, to a venv that only serves.
    """
    host.run(f"{q(sys.executable)} -m venv --without-pip {q(lay.venv)}", timeout=VENV_TIMEOUT)
    host.run(
        f"{q(sys.executable)} -m pip --python {q(lay.venv_python)} install --quiet --disable-pip-version-check "
        f"-r {q(lay.app + '/requirements.txt')} {' '.join(q(e) for e in extra)}",
        timeout=PIP_TIMEOUT,
    )
