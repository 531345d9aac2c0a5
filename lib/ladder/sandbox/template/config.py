"""Settings for the items app, read from the environment at startup."""

import os
import socket

DB_PATH = os.environ.get("APP_DB_PATH", "app.db")

# Never print or log this one.
SECRET_KEY = os.environ.get("APP_SECRET_KEY", "")

ENV = os.environ.get("APP_ENV", "development")

VERSION = os.environ.get("APP_VERSION", "")

# Where the worker processes of gunicorn or uWSGI share their Prometheus metrics (set by the start-up script).
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

# How long the "slow" fault of the FAULT file holds each request, in seconds.
SLOW_SECONDS = float(os.environ.get("APP_SLOW_SECONDS", "0.5"))
# One JSON line per request goes here (stderr when unset); its folder must exist.
LOG_FILE = os.environ.get("APP_LOG_FILE", "")

# The host's name in the logs (the machine's own name unless set).
HOST = os.environ.get("APP_HOST") or socket.gethostname()
